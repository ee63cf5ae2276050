/**
 * @module http-tool-executor: `tools/call` of a registered tool — the arguments as JSON, POSTed to one of the
 * tool's ready replicas (rendezvous order on the caller's principal; the next replica only while nothing reached
 * the previous one, since a tool call need not be idempotent). Every outcome is a tool result: the answer of a
 * 2xx, or `isError` with a clear message for a non-2xx, a timeout, an unreachable server or a result that breaks
 * the declared `outputSchema`. A protocol error would end the model's turn; an `isError` result lets it react.
 */
import type { CallToolResult } from '@modelcontextprotocol/server';
import { UpstreamCredentialError } from '../auth/index.js';
import type { Principal, UpstreamCredential, UpstreamCredentials } from '../auth/index.js';
import { acceptingNew } from '../deploy/index.js';
import type { ReplicaEndpoint } from '../deploy/index.js';
import type { Logger } from '../observability/index.js';
import type { Registered } from '../registry/index.js';
import type { Rendezvous } from '../routing/index.js';
import type { IdentityHeadersFor, ToolRouterReplicas } from './federation.js';
import { OutboundError, isRefusal, readWholeBody } from './outbound.js';
import type { Outbound } from './outbound.js';
import type { ToolSchemas } from './tool-schemas.js';

/** Options for {@link createHttpToolExecutor}. */
export interface HttpToolExecutorOptions {
  readonly outbound: Outbound;
  readonly replicas: ToolRouterReplicas;
  readonly rendezvous: Rendezvous;
  readonly identityHeaders: IdentityHeadersFor;
  /** The tool's own credential for its server (`upstreamAuth`), read for every call. */
  readonly upstreamCredentials: UpstreamCredentials;
  readonly logger: Logger;
  readonly connectTimeoutMs: number;
  /** Used when the tool sets no `toolDefinition.timeoutMs`. */
  readonly defaultTimeoutMs: number;
  /** Largest answer body read; a larger one becomes an `isError` result. */
  readonly maxResultBytes: number;
  /** Compiled `outputSchema` checks (shared with the router, which checks federated results alike). */
  readonly outputSchemas: ToolSchemas;
}

/** Calls registered tools. */
export interface HttpToolExecutor {
  call(
    tool: Registered<'tool'>,
    args: Record<string, unknown> | undefined,
    principal: Principal,
    signal: AbortSignal,
  ): Promise<CallToolResult>;
}

/** Longest excerpt of an error body quoted in a result. */
const ERROR_EXCERPT = 1000;

const errorResult = (text: string): CallToolResult => ({ isError: true, content: [{ type: 'text', text }] });

class TooLargeError extends Error {}

/** One call, ready to send. */
interface PreparedCall {
  readonly tool: Registered<'tool'>;
  readonly name: string;
  /** Replicas in rendezvous order for the caller. */
  readonly ranked: readonly ReplicaEndpoint[];
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  /** The caller's own cancellation. */
  readonly cancelled: AbortSignal;
  /** Aborted by cancellation or the timeout. */
  readonly deadline: AbortSignal;
  timedOut(): boolean;
  readonly timeoutMs: number;
  readonly idempotent: boolean;
  /**
   * A token the gateway got itself for the tool's server (`oauth-client-credentials`, `token-exchange`): asked
   * for a new one once when the server answers 401 (which ran nothing), and the call sent again.
   */
  readonly renew?: (rejected: UpstreamCredential) => Promise<UpstreamCredential>;
  readonly credential?: UpstreamCredential;
}

function mediaType(contentType: string | null): string {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase();
}

const isJson = (type: string) => type === 'application/json' || type.endsWith('+json');

function base64(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const mintedByTheGateway = (tool: Registered<'tool'>) =>
  tool.spec.upstreamAuth?.type === 'oauth-client-credentials' ||
  tool.spec.upstreamAuth?.type === 'token-exchange';

/** Builds the executor. */
export function createHttpToolExecutor(options: HttpToolExecutorOptions): HttpToolExecutor {
  const { outbound, replicas, rendezvous, logger } = options;
  const decoder = new TextDecoder();

  /** The tool result for a 2xx answer. */
  function success(tool: Registered<'tool'>, type: string, bytes: Uint8Array): CallToolResult {
    const definition = tool.spec.toolDefinition.tool;
    const name = definition.name;
    if (!definition.outputSchema && (type.startsWith('image/') || type.startsWith('audio/'))) {
      const block = { data: base64(bytes), mimeType: type };
      return {
        content: [type.startsWith('image/') ? { type: 'image', ...block } : { type: 'audio', ...block }],
      };
    }
    const text = decoder.decode(bytes);
    let parsed: unknown;
    let json = false;
    if (isJson(type) || (type === '' && /^\s*[{[]/.test(text))) {
      try {
        parsed = JSON.parse(text);
        json = true;
      } catch {
        json = false;
      }
    }
    if (definition.outputSchema) {
      if (!json || !isPlainObject(parsed)) {
        const got = json ? 'JSON that is not an object' : `non-JSON content (${type || 'no content type'})`;
        return errorResult(`Tool '${name}' declares an outputSchema but answered ${got}.`);
      }
      const problem = options.outputSchemas.checkOf(name, definition.outputSchema)?.(parsed);
      if (problem !== undefined) {
        return errorResult(
          `Tool '${name}' returned a result that does not match its outputSchema: ${problem}`,
        );
      }
    }
    // MCP: a tool returning structured content SHOULD also return it serialised in a text block.
    if (json && isPlainObject(parsed))
      return { content: [{ type: 'text', text }], structuredContent: parsed };
    return { content: text === '' ? [] : [{ type: 'text', text }] };
  }

  /** Sends one prepared call to the ranked replicas in turn; see the module header for the rules. */
  async function send(call: PreparedCall): Promise<CallToolResult> {
    const { tool, name, ranked } = call;
    let lastError: OutboundError | undefined;
    let { headers, credential } = call;
    let renewed = false;
    for (let index = 0; index < ranked.length; index++) {
      const replica = ranked[index]!;
      try {
        const response = await outbound({
          url: replica.url,
          method: 'POST',
          headers,
          body: call.body,
          signal: call.deadline,
          connectTimeoutMs: options.connectTimeoutMs,
          wholeBody: true,
        });
        const bytes = await readWholeBody(response, options.maxResultBytes);
        if (bytes === undefined) throw new TooLargeError();
        const type = mediaType(response.headers.get('content-type'));
        if (response.status >= 200 && response.status < 300) return success(tool, type, bytes);
        if (response.status === 401 && renewed && credential)
          options.upstreamCredentials.refusedRenewal(credential);
        if (response.status === 401 && call.renew && credential && !renewed) {
          renewed = true;
          try {
            credential = await call.renew(credential);
          } catch (error) {
            if (error instanceof UpstreamCredentialError) return errorResult(error.message);
            throw error;
          }
          headers = { ...headers, [credential.header]: credential.value };
          index--; // The same replica again, with the new token.
          continue;
        }
        const excerpt = decoder.decode(bytes.subarray(0, ERROR_EXCERPT)).trim();
        logger.info(
          { tool: name, replica: replica.id, status: response.status },
          'tool server answered an error',
        );
        const status = `${response.status}${response.statusText ? ` ${response.statusText}` : ''}`;
        return errorResult(
          `Tool '${name}' failed: its server answered HTTP ${status}${excerpt ? `: ${excerpt}` : '.'}`,
        );
      } catch (error) {
        if (call.cancelled.aborted) throw error;
        if (call.timedOut()) {
          logger.warn({ tool: name, replica: replica.id, timeoutMs: call.timeoutMs }, 'tool call timed out');
          return errorResult(`Tool '${name}' did not answer within ${call.timeoutMs} ms.`);
        }
        if (error instanceof TooLargeError) {
          return errorResult(
            `Tool '${name}' answered more than ${options.maxResultBytes} bytes; the result was dropped.`,
          );
        }
        if (!(error instanceof OutboundError)) {
          logger.warn({ tool: name, replica: replica.id, err: String(error) }, 'tool call failed');
          return errorResult(`Tool '${name}' failed while its answer was read: ${String(error)}.`);
        }
        lastError = error;
        if (isRefusal(error)) replicas.reportUnreachable(tool, replica);
        // Once bytes may have reached the server, another replica could run the call a second time; only a
        // tool declared idempotent is tried again after a reset of a reused idle connection.
        if (error.sent && !(error.stale && call.idempotent)) {
          logger.warn({ tool: name, replica: replica.id, err: error.message }, 'tool call broke off');
          return errorResult(`Tool '${name}' failed: the connection to its server broke (${error.message}).`);
        }
      }
    }
    logger.warn({ tool: name, err: lastError?.message }, 'no tool replica reachable');
    return errorResult(
      `Tool '${name}' is unreachable (${lastError?.message ?? 'no answer'}); tried ${ranked.length} replica(s).`,
    );
  }

  return {
    async call(tool, args, principal, signal) {
      const name = tool.spec.toolDefinition.tool.name;
      const ranked = rendezvous.rank(acceptingNew(replicas.ready(tool)), principal.userId);
      if (ranked.length === 0) return errorResult(`Tool '${name}' has no ready replica; try again shortly.`);
      let credential: UpstreamCredential | undefined;
      try {
        credential = await options.upstreamCredentials.resolve(tool, principal);
      } catch (error) {
        if (error instanceof UpstreamCredentialError) return errorResult(error.message);
        throw error;
      }
      const timeoutMs = tool.spec.toolDefinition.timeoutMs ?? options.defaultTimeoutMs;
      // One controller and one timer per call: cheaper on Node 20 than AbortSignal.timeout + AbortSignal.any.
      const deadline = new AbortController();
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        deadline.abort();
      }, timeoutMs);
      const onCancel = () => deadline.abort();
      signal.addEventListener('abort', onCancel, { once: true });
      try {
        return await send({
          tool,
          name,
          ranked,
          headers: {
            'content-type': 'application/json',
            accept: 'application/json, text/plain;q=0.9, */*;q=0.8',
            ...(await options.identityHeaders(principal, tool)),
            // Last: nothing else may set the header the credential travels in.
            ...(credential && { [credential.header]: credential.value }),
          },
          body: JSON.stringify(args ?? {}),
          cancelled: signal,
          deadline: deadline.signal,
          timedOut: () => timedOut,
          timeoutMs,
          idempotent: tool.spec.toolDefinition.tool.annotations?.idempotentHint === true,
          ...(credential && { credential }),
          ...(mintedByTheGateway(tool) && {
            renew: (rejected: UpstreamCredential) =>
              options.upstreamCredentials.renew(tool, principal, rejected),
          }),
        });
      } finally {
        clearTimeout(timer);
        signal.removeEventListener('abort', onCancel);
      }
    },
  };
}
