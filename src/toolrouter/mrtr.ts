/**
 * @module mrtr: multi round-trip requests (2026-07-28, SEP-2322) through the tool router.
 *
 * A federated upstream may answer `tools/call` with `input_required` (`inputRequests`, `requestState`) instead of
 * a result. Then:
 * - a **2026-07-28 caller** gets it unchanged, except that `requestState` is the router's sealed routing state
 *   (`routing-state.ts`): it names the adapter, the replica that asked, the caller and the tool, and carries the
 *   upstream's own state. The caller's retry (`inputResponses` + that `requestState`) is opened, checked and sent
 *   to that replica with the upstream's state; a tampered, expired, another caller's or another tool's state is
 *   refused (`Invalid or expired requestState`) and reported to `onRefused` (the audit log).
 * - a **2025 caller** cannot take an `input_required` result, so the router bridges: it asks the caller each
 *   embedded request (elicitation, sampling) as a server-to-client request on the caller's own call, and retries
 *   the upstream itself with the answers, until a result comes (at most {@link MAX_ROUNDS} rounds).
 *
 * The 2025 leg of `/mcp` is served statelessly (a fresh SDK server per HTTP request), so the caller's answer to a
 * bridged request arrives as a POST of its own that no SDK instance is waiting for: {@link LegacyInputBridge}
 * keeps the pending requests (by caller and an unguessable request id) and `deliver` hands such a POST's answers
 * to the waiting call. On a connection that stays open (stdio) the SDK's own request path is used.
 * The pending requests live in this gateway instance: behind several instances, a 2025 caller's answer must reach
 * the instance that asked (the bridged request's id says nothing else), which plain round-robin does not ensure.
 */
import { ProtocolError, ProtocolErrorCode, isInputRequiredResult } from '@modelcontextprotocol/server';
import type {
  CallToolResult,
  InputRequiredResult,
  JSONRPCMessage,
  Server,
  ServerContext,
} from '@modelcontextprotocol/server';
import type { Principal } from '../auth/index.js';
import type { Registered } from '../registry/index.js';
import type { RoutingStateRefusal, RoutingStateSealer } from './routing-state.js';

/** Most rounds the router bridges for a 2025 caller before it gives up (the SDK's own default cap). */
export const MAX_ROUNDS = 10;

/** A refused sealed value (routing state or task id), for the audit log. */
export interface RoutingRefusal {
  /** What was presented: a `tools/call` retry's `requestState`, or a task id of `tasks/*`. */
  readonly kind: 'request-state' | 'task';
  /** The method it came with. */
  readonly method: string;
  readonly principal: string;
  /** The adapter it was presented for (the called tool's, or the one a task id names). */
  readonly adapter: string | undefined;
  readonly reason: RoutingStateRefusal;
}

/** The retry fields of a caller's `tools/call` (2026-07-28), as the SDK lifted them off the request. */
export interface CallerRetry {
  readonly requestState: string | undefined;
  readonly inputResponses: Record<string, unknown> | undefined;
}

/** The retry fields of the request `ctx` serves. */
export function retryOf(ctx: ServerContext): CallerRetry {
  const state: unknown = ctx.mcpReq.requestState();
  const responses = ctx.mcpReq.inputResponses as unknown;
  return {
    requestState: typeof state === 'string' ? state : undefined,
    inputResponses:
      typeof responses === 'object' && responses !== null && !Array.isArray(responses)
        ? (responses as Record<string, unknown>)
        : undefined,
  };
}

/** Whether the request `ctx` serves came in the 2026-07-28 era (it carries the per-request envelope). */
export const isModernRequest = (ctx: ServerContext): boolean => ctx.mcpReq.envelope !== undefined;

/** A refusal of a presented `requestState`, the same for every reason (no oracle for which check failed). */
export const invalidRequestState = () =>
  new ProtocolError(ProtocolErrorCode.InvalidParams, 'Invalid or expired requestState', {
    reason: 'invalid_request_state',
  });

/** Asks 2025 callers for input on their own calls. */
export interface LegacyInputBridge {
  /**
   * Sends each request to the caller of `ctx` and returns its answers, keyed as `requests` are; a request the
   * caller did not answer (an error, a method the router does not bridge) is left out.
   */
  ask(
    server: Server,
    ctx: ServerContext,
    principal: Principal,
    requests: Record<string, unknown>,
    signal: AbortSignal,
  ): Promise<Record<string, unknown>>;
  /**
   * A POST of a 2025 caller that carries only answers to bridged requests of its own: hands them to the waiting
   * calls and returns the 202 to send; undefined for anything else (the SDK serves it).
   */
  deliver(request: Request, principal: Principal): Promise<Response | undefined>;
  /** Bridged requests waiting for an answer (for tests and shutdown). */
  readonly pending: number;
  close(): void;
}

/** Methods a 2025 caller can be asked (its server-to-client requests of that era). */
const BRIDGED_METHODS = new Set(['elicitation/create', 'sampling/createMessage', 'roots/list']);

interface Waiting {
  resolve(answer: { result?: unknown; error?: unknown }): void;
}

function isResponse(message: unknown): message is { id: string | number; result?: unknown; error?: unknown } {
  if (typeof message !== 'object' || message === null || Array.isArray(message)) return false;
  const m = message as Record<string, unknown>;
  return (
    m['method'] === undefined &&
    (typeof m['id'] === 'string' || typeof m['id'] === 'number') &&
    ('result' in m || 'error' in m)
  );
}

/** Options for {@link createLegacyInputBridge}. */
export interface LegacyInputBridgeOptions {
  /** Longest wait for one answer (a person reads and types): the router's call timeout. */
  readonly timeoutMs: number;
  /** Request ids; unguessable by default (another caller must not be able to answer for this one). */
  readonly newId?: () => string;
}

/** Builds the bridge and its table of pending requests. */
export function createLegacyInputBridge(options: LegacyInputBridgeOptions): LegacyInputBridge {
  const newId = options.newId ?? (() => `mcp-gateway-input-${crypto.randomUUID()}`);
  const waiting = new Map<string, Waiting>();
  const keyOf = (principal: Principal, id: string | number) => `${principal.userId}\u0000${String(id)}`;

  /** One request over the SDK's own path: the connection stays open, the SDK matches the answer. */
  async function viaSdk(ctx: ServerContext, method: string, params: unknown, signal: AbortSignal) {
    const requestOptions = { signal, timeout: options.timeoutMs };
    if (method === 'elicitation/create') {
      return ctx.mcpReq.elicitInput(params as Parameters<typeof ctx.mcpReq.elicitInput>[0], requestOptions);
    }
    if (method === 'sampling/createMessage') {
      return ctx.mcpReq.requestSampling(
        params as Parameters<typeof ctx.mcpReq.requestSampling>[0],
        requestOptions,
      );
    }
    return undefined;
  }

  /** One request on the call's own response stream, answered by a POST that `deliver` takes. */
  async function viaStream(
    server: Server,
    ctx: ServerContext,
    principal: Principal,
    method: string,
    params: unknown,
    signal: AbortSignal,
  ): Promise<unknown> {
    const transport = server.transport;
    if (!transport) return undefined;
    const id = newId();
    const key = keyOf(principal, id);
    const answer = new Promise<{ result?: unknown; error?: unknown }>((resolve) => {
      const timer = setTimeout(() => resolve({ error: 'timeout' }), options.timeoutMs);
      const abort = () => resolve({ error: 'aborted' });
      signal.addEventListener('abort', abort, { once: true });
      waiting.set(key, {
        resolve: (value) => {
          clearTimeout(timer);
          signal.removeEventListener('abort', abort);
          waiting.delete(key);
          resolve(value);
        },
      });
    });
    const message = {
      jsonrpc: '2.0',
      id,
      method,
      ...(params !== undefined && { params }),
    } as JSONRPCMessage;
    try {
      await transport.send(message, { relatedRequestId: ctx.mcpReq.id });
    } catch {
      waiting.get(key)?.resolve({ error: 'not sent' });
    }
    const { result } = await answer;
    // Whatever happened, nothing waits under this id any more (a late answer is not taken).
    waiting.get(key)?.resolve({ error: 'done' });
    return result;
  }

  return {
    async ask(server, ctx, principal, requests, signal) {
      const stateful = server.getClientCapabilities() !== undefined;
      const answers: Record<string, unknown> = {};
      await Promise.all(
        Object.entries(requests).map(async ([key, request]) => {
          if (typeof request !== 'object' || request === null) return;
          const { method, params } = request as { method?: unknown; params?: unknown };
          if (typeof method !== 'string' || !BRIDGED_METHODS.has(method)) return;
          try {
            const result = stateful
              ? await viaSdk(ctx, method, params, signal)
              : await viaStream(server, ctx, principal, method, params, signal);
            if (result !== undefined) answers[key] = result;
          } catch {
            // Not answered: the upstream is retried without it and asks again, or fails the call itself.
          }
        }),
      );
      return answers;
    },

    async deliver(request, principal) {
      if (waiting.size === 0 || request.method !== 'POST') return undefined;
      let body: unknown;
      try {
        body = JSON.parse(await request.clone().text());
      } catch {
        return undefined;
      }
      const messages = Array.isArray(body) ? body : [body];
      if (messages.length === 0 || !messages.every(isResponse)) return undefined;
      const found = messages.map((m) => waiting.get(keyOf(principal, m.id)));
      // Answers for requests this instance did not send (or another caller's): the SDK answers them as usual.
      if (found.some((w) => w === undefined)) return undefined;
      messages.forEach((m, i) =>
        found[i]!.resolve({
          ...('result' in m && { result: m.result }),
          ...('error' in m && { error: m.error }),
        }),
      );
      return new Response(null, { status: 202 });
    },

    get pending() {
      return waiting.size;
    },

    close() {
      for (const w of [...waiting.values()]) w.resolve({ error: 'closed' });
    },
  };
}

/** One federated call as `tool-router.ts` makes it, with the retry fields and replica pin of a round. */
export type FederatedRound = (round: {
  readonly replica: string | undefined;
  readonly retry: { inputResponses?: Record<string, unknown>; requestState?: string } | undefined;
  readonly onAnswered: (replica: string) => void;
}) => Promise<CallToolResult | InputRequiredResult>;

/** Options for {@link createMultiRoundTrip}. */
export interface MultiRoundTripOptions {
  readonly sealer: RoutingStateSealer;
  readonly bridge: LegacyInputBridge;
  /** Told of every refused routing state (the audit log); must not throw. */
  readonly onRefused?: (refusal: RoutingRefusal) => void;
}

/** What a federated `tools/call` of the router goes through. */
export interface MultiRoundTrip {
  call(
    target: { readonly adapter: Registered<'adapter'>; readonly tool: string },
    principal: Principal,
    server: Server,
    ctx: ServerContext,
    round: FederatedRound,
  ): Promise<CallToolResult | InputRequiredResult>;
}

const errorResult = (text: string): CallToolResult => ({ isError: true, content: [{ type: 'text', text }] });

/** Builds the multi-round-trip side of federated calls. */
export function createMultiRoundTrip(options: MultiRoundTripOptions): MultiRoundTrip {
  const { sealer, bridge } = options;

  return {
    async call({ adapter, tool }, principal, server, ctx, round) {
      const caller = retryOf(ctx);
      let replica: string | undefined;
      let retry: { inputResponses?: Record<string, unknown>; requestState?: string } | undefined;
      if (caller.requestState !== undefined) {
        const opened = await sealer.openRequestState(caller.requestState, adapter, principal, tool);
        if (!opened.ok) {
          options.onRefused?.({
            kind: 'request-state',
            method: 'tools/call',
            principal: principal.userId,
            adapter: adapter.name,
            reason: opened.reason,
          });
          throw invalidRequestState();
        }
        replica = opened.replica;
        retry = {
          ...(caller.inputResponses && { inputResponses: caller.inputResponses }),
          ...(opened.upstreamState !== undefined && { requestState: opened.upstreamState }),
        };
      }
      // Without the router's state an `inputResponses` answers nothing the router asked for: not forwarded.
      const modern = isModernRequest(ctx);
      for (let rounds = 0; ; rounds++) {
        let answeredBy: string | undefined;
        const result = await round({ replica, retry, onAnswered: (id) => (answeredBy = id) });
        if (!isInputRequiredResult(result) || answeredBy === undefined) return result;
        const upstreamState = typeof result.requestState === 'string' ? result.requestState : undefined;
        if (modern) {
          let sealed: string;
          try {
            sealed = await sealer.sealRequestState(adapter, answeredBy, principal, tool, upstreamState);
          } catch {
            return errorResult(
              `Adapter '${adapter.name}' sent a requestState too large for the router to carry.`,
            );
          }
          return {
            resultType: 'input_required',
            ...(result.inputRequests && { inputRequests: result.inputRequests }),
            requestState: sealed,
          };
        }
        // A 2025 caller: ask it on its own call, then retry the same replica with the answers.
        if (rounds >= MAX_ROUNDS) {
          return errorResult(
            `Adapter '${adapter.name}' still asked for input after ${MAX_ROUNDS} rounds; the call was given up.`,
          );
        }
        const requests = (result.inputRequests ?? {}) as Record<string, unknown>;
        const answers = await bridge.ask(server, ctx, principal, requests, ctx.mcpReq.signal);
        if (ctx.mcpReq.signal.aborted) return errorResult(`The call of '${tool}' was cancelled.`);
        if (Object.keys(requests).length > 0 && Object.keys(answers).length === 0) {
          return errorResult(
            `The tool '${tool}' needs input the client did not give (it asked: ${Object.values(requests)
              .map((r) => String((r as { method?: unknown }).method))
              .join(', ')}).`,
          );
        }
        replica = answeredBy;
        retry = {
          inputResponses: answers,
          ...(upstreamState !== undefined && { requestState: upstreamState }),
        };
      }
    },
  };
}
