/**
 * @module tasks: the Tasks extension (`io.modelcontextprotocol/tasks`, SEP-2663, on 2026-07-28) through the tool
 * router. A caller that declares the extension in its per-request capabilities may get a task handle
 * (`resultType: "task"`) for a federated `tools/call`, then polls `tasks/get`, answers `tasks/update` and stops
 * it with `tasks/cancel`.
 *
 * - Task ids are the router's, never the upstream's: `{adapter}.{sealed}` (`routing-state.ts`) sealing the
 *   adapter, the replica that created the task, the caller and the upstream's task id. Two upstreams minting the
 *   same id give the caller two different ids, and every `tasks/*` goes to the replica that holds the task.
 * - A task id that does not open for this caller (another user's, tampered, of an adapter the caller may not use
 *   any more) is refused and reported to `onRefused` (the audit log): `tasks/get` answers an error; `tasks/update`
 *   and `tasks/cancel` are acknowledged as the extension requires for any task id, and nothing goes upstream.
 * - An upstream's task `requestState` is sealed like a multi-round-trip one (bound to the task).
 *
 * The SDK 2.x client (2.4) cannot take a `resultType: "task"` answer (it fails it as an unsupported result type)
 * and offers no `tasks/*` methods on 2026-07-28, so this module speaks JSON-RPC over HTTP to the upstream itself,
 * with the same identity headers, credentials and guarded connection pools as the SDK client of `federation.ts`.
 * Only 2026-07-28 upstreams are asked so; a call that is not task-capable goes through `federation.ts` as before.
 */
import {
  CLIENT_CAPABILITIES_META_KEY,
  CLIENT_INFO_META_KEY,
  PROTOCOL_VERSION_META_KEY,
  ProtocolError,
  ProtocolErrorCode,
} from '@modelcontextprotocol/server';
import type { CallToolResult, InputRequiredResult, ServerContext } from '@modelcontextprotocol/server';
import type { Principal, UpstreamCredentials } from '../auth/index.js';
import { acceptingNew } from '../deploy/index.js';
import type { ReplicaEndpoint } from '../deploy/index.js';
import type { Logger } from '../observability/index.js';
import type { Registered } from '../registry/index.js';
import type { Rendezvous } from '../routing/index.js';
import { mcpNameValue } from './mcp-name.js';
import type { IdentityHeadersFor, ToolRouterReplicas } from './federation.js';
import { retryOf } from './mrtr.js';
import type { RoutingRefusal } from './mrtr.js';
import { OutboundError, outboundFetch } from './outbound.js';
import type { Outbound } from './outbound.js';
import type { RoutingStateSealer } from './routing-state.js';

/** The extension's identifier, as capabilities name it. */
export const TASKS_EXTENSION = 'io.modelcontextprotocol/tasks';

const MODERN_VERSION = '2026-07-28';

/** A task handle as a `tools/call` answers it (`CreateTaskResult`). */
export interface TaskResult {
  readonly resultType: 'task';
  readonly taskId: string;
  readonly status: string;
  readonly requestState?: string;
  readonly [key: string]: unknown;
}

/** Whether `value` is a task handle. */
export const isTaskResult = (value: unknown): value is TaskResult =>
  typeof value === 'object' &&
  value !== null &&
  (value as { resultType?: unknown }).resultType === 'task' &&
  typeof (value as { taskId?: unknown }).taskId === 'string';

/** The capabilities the caller declared on this request (2026-07-28 envelope); undefined on 2025 requests. */
export function callerCapabilities(ctx: ServerContext): Record<string, unknown> | undefined {
  const envelope = ctx.mcpReq.envelope as Record<string, unknown> | undefined;
  const capabilities = envelope?.[CLIENT_CAPABILITIES_META_KEY];
  return typeof capabilities === 'object' && capabilities !== null
    ? (capabilities as Record<string, unknown>)
    : undefined;
}

/** Whether the caller of `ctx` declared the Tasks extension on this request. */
export function callerTakesTasks(ctx: ServerContext): boolean {
  const extensions = callerCapabilities(ctx)?.['extensions'];
  return typeof extensions === 'object' && extensions !== null && TASKS_EXTENSION in extensions;
}

/** The JSON-RPC answer with `id` in a JSON or SSE body. */
async function answerOf(response: Response, id: number): Promise<Record<string, unknown> | undefined> {
  const text = await response.text();
  const type = response.headers.get('content-type') ?? '';
  const candidates: unknown[] = [];
  if (type.includes('text/event-stream')) {
    for (const event of text.split(/\r?\n\r?\n/)) {
      const data = event
        .split(/\r?\n/)
        .filter((line) => line.startsWith('data:'))
        .map((line) => line.slice(5).replace(/^ /, ''))
        .join('\n');
      if (data) candidates.push(JSON.parse(data));
    }
  } else if (text) {
    candidates.push(JSON.parse(text));
  }
  for (const message of candidates.flat()) {
    if (typeof message === 'object' && message !== null && (message as { id?: unknown }).id === id) {
      return message as Record<string, unknown>;
    }
  }
  return undefined;
}

/** Options for {@link createTaskRouting}. */
export interface TaskRoutingOptions {
  readonly outbound: Outbound;
  readonly replicas: ToolRouterReplicas;
  readonly rendezvous: Rendezvous;
  readonly identityHeaders: IdentityHeadersFor;
  readonly upstreamCredentials: UpstreamCredentials;
  readonly sealer: RoutingStateSealer;
  readonly logger: Logger;
  readonly connectTimeoutMs: number;
  readonly callTimeoutMs: number;
  readonly clientInfo: { readonly name: string; readonly version: string };
  /** The adapter a task id names, if `principal` may still use it. */
  readonly adapterFor: (name: string, principal: Principal) => Promise<Registered<'adapter'> | undefined>;
  /** Told of every refused task id (the audit log); must not throw. */
  readonly onRefused?: (refusal: RoutingRefusal) => void;
}

/** The router's side of the Tasks extension. */
export interface TaskRouting {
  /**
   * A federated `tools/call` of a caller that takes tasks, sent as the caller's capabilities say: the upstream's
   * result, its `input_required` (state sealed) or its task handle (id sealed). Undefined when the upstream does
   * not speak 2026-07-28 (the caller then goes the ordinary way).
   */
  callTool(
    adapter: Registered<'adapter'>,
    upstreamTool: string,
    shownName: string,
    args: Record<string, unknown> | undefined,
    principal: Principal,
    ctx: ServerContext,
  ): Promise<CallToolResult | InputRequiredResult | TaskResult | undefined>;
  /** `tasks/get`, `tasks/update` or `tasks/cancel` of `principal`. */
  handle(
    method: 'tasks/get' | 'tasks/update' | 'tasks/cancel',
    params: Record<string, unknown>,
    principal: Principal,
    ctx: ServerContext,
  ): Promise<Record<string, unknown>>;
}

/** Builds the task routing. */
export function createTaskRouting(options: TaskRoutingOptions): TaskRouting {
  const { sealer, replicas } = options;
  const base = outboundFetch(options.outbound, options.connectTimeoutMs);
  let nextId = 1;

  /** One JSON-RPC request to `replica`; a JSON-RPC error is thrown as a ProtocolError. */
  async function post(
    adapter: Registered<'adapter'>,
    replica: ReplicaEndpoint,
    principal: Principal,
    method: string,
    name: string | undefined,
    params: Record<string, unknown>,
    capabilities: Record<string, unknown>,
    signal: AbortSignal,
  ): Promise<Record<string, unknown>> {
    const id = nextId++;
    const headers = new Headers({
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': MODERN_VERSION,
      'mcp-method': method,
    });
    if (name !== undefined) headers.set('mcp-name', mcpNameValue(name));
    for (const [header, value] of Object.entries(await options.identityHeaders(principal, adapter))) {
      headers.set(header, value);
    }
    const credential = await options.upstreamCredentials.resolve(adapter, principal);
    if (credential) headers.set(credential.header, credential.value);
    const body = JSON.stringify({
      jsonrpc: '2.0',
      id,
      method,
      params: {
        ...params,
        _meta: {
          [PROTOCOL_VERSION_META_KEY]: MODERN_VERSION,
          [CLIENT_INFO_META_KEY]: options.clientInfo,
          [CLIENT_CAPABILITIES_META_KEY]: capabilities,
        },
      },
    });
    const response = await base(replica.url, {
      method: 'POST',
      headers,
      body,
      signal: AbortSignal.any([signal, AbortSignal.timeout(options.callTimeoutMs)]),
    });
    const answer = await answerOf(response, id).catch(() => undefined);
    if (!answer) throw new UpstreamNotModern(response.status);
    const error = answer['error'] as { code?: unknown; message?: unknown; data?: unknown } | undefined;
    if (error) {
      throw new ProtocolError(
        typeof error.code === 'number' ? error.code : ProtocolErrorCode.InternalError,
        typeof error.message === 'string' ? error.message : 'upstream error',
        error.data,
      );
    }
    const result = answer['result'];
    if (typeof result !== 'object' || result === null) throw new UpstreamNotModern(response.status);
    return result as Record<string, unknown>;
  }

  /** The task as the caller sees it: the router's id, the upstream's state sealed. */
  async function callerTask(
    task: Record<string, unknown>,
    callerTaskId: string,
    adapter: Registered<'adapter'>,
    replica: string,
    principal: Principal,
  ): Promise<Record<string, unknown>> {
    const { requestState, resultType: _stampedByTheServer, ...rest } = task;
    const upstreamTaskId = String(task['taskId']);
    return {
      ...rest,
      taskId: callerTaskId,
      ...(typeof requestState === 'string' && {
        requestState: await sealer.sealRequestState(
          adapter,
          replica,
          principal,
          `tasks/${upstreamTaskId}`,
          requestState,
        ),
      }),
    };
  }

  function refuse(
    method: string,
    principal: Principal,
    adapter: string | undefined,
    reason: RoutingRefusal['reason'],
  ) {
    options.onRefused?.({ kind: 'task', method, principal: principal.userId, adapter, reason });
  }

  return {
    async callTool(adapter, upstreamTool, shownName, args, principal, ctx) {
      const capabilities = callerCapabilities(ctx) ?? {};
      const ranked = options.rendezvous.rank(acceptingNew(replicas.ready(adapter)), principal.userId);
      for (const replica of ranked) {
        let result: Record<string, unknown>;
        try {
          result = await post(
            adapter,
            replica,
            principal,
            'tools/call',
            upstreamTool,
            { name: upstreamTool, ...(args !== undefined && { arguments: args }) },
            capabilities,
            ctx.mcpReq.signal,
          );
        } catch (error) {
          if (error instanceof UpstreamNotModern) return undefined;
          // Nothing reached this replica: the next may take it.
          if (error instanceof OutboundError && !error.sent) continue;
          if (error instanceof ProtocolError) throw error;
          options.logger.warn({ adapter: adapter.name, err: String(error) }, 'task-capable call failed');
          return {
            isError: true,
            content: [{ type: 'text', text: `Adapter '${adapter.name}' failed the call.` }],
          };
        }
        if (isTaskResult(result)) {
          const taskId = await sealer.sealTaskId(adapter, replica.id, principal, result.taskId);
          // `content: []`: the SDK server checks a tools/call answer as a CallToolResult, and stops adding the
          // empty content itself once a `requestState` is there.
          return {
            content: [],
            ...(await callerTask(result, taskId, adapter, replica.id, principal)),
            resultType: 'task',
          } as unknown as TaskResult;
        }
        if (result['resultType'] === 'input_required') {
          const state = typeof result['requestState'] === 'string' ? result['requestState'] : undefined;
          return {
            resultType: 'input_required',
            ...(typeof result['inputRequests'] === 'object' && {
              inputRequests: result['inputRequests'] as InputRequiredResult['inputRequests'],
            }),
            requestState: await sealer.sealRequestState(adapter, replica.id, principal, shownName, state),
          };
        }
        const { resultType: _complete, ...complete } = result;
        return complete as CallToolResult;
      }
      return undefined;
    },

    async handle(method, params, principal, ctx) {
      const taskId = params['taskId'];
      if (typeof taskId !== 'string')
        throw new ProtocolError(ProtocolErrorCode.InvalidParams, 'taskId is required');
      const opened = await sealer.openTaskId(taskId, principal, (name) =>
        options.adapterFor(name, principal),
      );
      const acknowledge = method !== 'tasks/get';
      if (!opened.ok) {
        refuse(
          method,
          principal,
          taskId.slice(0, Math.max(0, taskId.indexOf('.'))) || undefined,
          opened.reason,
        );
        // The extension acknowledges an update or cancel of any id; nothing of it goes anywhere.
        if (acknowledge) return {};
        throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Unknown task: ${taskId}`);
      }
      const adapter = (await options.adapterFor(opened.adapter, principal))!;
      const replica = replicas.ready(adapter).find((r) => r.id === opened.replica);
      if (!replica) {
        if (acknowledge) return {};
        throw new ProtocolError(
          ProtocolErrorCode.InvalidParams,
          `Task ${taskId} is gone: the replica of adapter '${adapter.name}' that ran it is no longer there.`,
        );
      }
      let upstreamState: string | undefined;
      // The SDK lifts the retry fields (`requestState`, `inputResponses`) off every request's params.
      const { requestState: presented, inputResponses } = retryOf(ctx);
      if (typeof presented === 'string') {
        const state = await sealer.openRequestState(
          presented,
          adapter,
          principal,
          `tasks/${opened.upstreamTaskId}`,
        );
        if (!state.ok) {
          refuse(method, principal, adapter.name, state.reason);
          throw new ProtocolError(ProtocolErrorCode.InvalidParams, 'Invalid or expired requestState', {
            reason: 'invalid_request_state',
          });
        }
        upstreamState = state.upstreamState;
      }
      const forwarded = {
        taskId: opened.upstreamTaskId,
        ...(method === 'tasks/update' && { inputResponses: inputResponses ?? {} }),
        ...(upstreamState !== undefined && { requestState: upstreamState }),
      };
      const result = await post(
        adapter,
        replica,
        principal,
        method,
        opened.upstreamTaskId,
        forwarded,
        callerCapabilities(ctx) ?? { extensions: { [TASKS_EXTENSION]: {} } },
        ctx.mcpReq.signal,
      );
      if (method !== 'tasks/get') return {};
      return callerTask(result, taskId, adapter, replica.id, principal);
    },
  };
}

/** The upstream answered nothing a 2026-07-28 server would (a 2025-only server refusing the request). */
class UpstreamNotModern extends Error {
  constructor(readonly status: number) {
    super(`the upstream did not answer as a 2026-07-28 server (HTTP ${status})`);
    this.name = 'UpstreamNotModern';
  }
}
