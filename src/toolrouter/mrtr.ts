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
 *   embedded request (elicitation, sampling) through the caller's {@link CallerChannel} — the same channel an
 *   upstream's own server requests are relayed on (`server-request-relay.ts`), which knows what the caller
 *   declared at `initialize` — and retries the upstream itself with the answers, until a result comes (at most
 *   {@link MAX_ROUNDS} rounds). A request the caller did not declare it can answer is not sent: the call ends
 *   with a tool error naming what the tool needed.
 *
 * Over HTTP the caller's answer is a POST of its own that the relay takes (matched by the id it chose, the
 * caller's principal and its router-minted session); on stdio the SDK's own request path is used. Either way
 * the pending request lives in the gateway instance that asked.
 */
import { ProtocolError, ProtocolErrorCode, isInputRequiredResult } from '@modelcontextprotocol/server';
import type { CallToolResult, InputRequiredResult, ServerContext } from '@modelcontextprotocol/server';
import type { Principal } from '../auth/index.js';
import type { Registered } from '../registry/index.js';
import type { RoutingStateRefusal, RoutingStateSealer } from './routing-state.js';
import type { CallerChannel, RelayedMethod } from './server-request-relay.js';

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

/** Why a 2025 caller cannot be asked `request`, or undefined when it can (over `channel`). */
function unanswerable(channel: CallerChannel | undefined, request: unknown): string | undefined {
  const { method, params } = (typeof request === 'object' && request !== null ? request : {}) as {
    method?: unknown;
    params?: Record<string, unknown>;
  };
  if (method === 'elicitation/create') {
    if (params?.['mode'] === 'url') return 'elicitation/create in URL mode (not bridged by the tool router)';
    return channel?.capabilities.elicitation ? undefined : 'elicitation/create';
  }
  if (method === 'sampling/createMessage') {
    const tools = params?.['tools'] !== undefined || params?.['toolChoice'] !== undefined;
    if (!channel?.capabilities.sampling) return 'sampling/createMessage';
    return tools && !channel.capabilities.samplingTools ? 'sampling/createMessage with tools' : undefined;
  }
  return `${typeof method === 'string' ? method : 'an unknown request'} (not bridged by the tool router)`;
}

/**
 * Asks a 2025 caller each of `requests` over its channel; the answers, keyed as `requests` are, or a refusal
 * naming what the caller cannot answer (nothing is sent then). A request the caller answers with an error
 * is left out: the upstream is retried without it and asks again, or fails the call itself.
 */
export async function askCaller(
  channel: CallerChannel | undefined,
  requests: Record<string, unknown>,
  signal: AbortSignal,
): Promise<{ answers: Record<string, unknown> } | { missing: string[] }> {
  const missing = [...new Set(Object.values(requests).flatMap((r) => unanswerable(channel, r) ?? []))];
  if (missing.length > 0 || !channel) return { missing };
  const answers: Record<string, unknown> = {};
  await Promise.all(
    Object.entries(requests).map(async ([key, request]) => {
      const { method, params } = request as { method: RelayedMethod; params?: Record<string, unknown> };
      try {
        answers[key] = await channel.request(method, params ?? {}, signal);
      } catch {
        // Not answered (declined by error, the caller left): see above.
      }
    }),
  );
  return { answers };
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
  /** Told of every refused routing state (the audit log); must not throw. */
  readonly onRefused?: (refusal: RoutingRefusal) => void;
}

/** What a federated `tools/call` of the router goes through. */
export interface MultiRoundTrip {
  call(
    target: { readonly adapter: Registered<'adapter'>; readonly tool: string },
    principal: Principal,
    ctx: ServerContext,
    /** The 2025 caller's channel (absent: a 2026-07-28 caller, or one that declared nothing it can be asked). */
    channel: CallerChannel | undefined,
    round: FederatedRound,
  ): Promise<CallToolResult | InputRequiredResult>;
}

const errorResult = (text: string): CallToolResult => ({ isError: true, content: [{ type: 'text', text }] });

/** Builds the multi-round-trip side of federated calls. */
export function createMultiRoundTrip(options: MultiRoundTripOptions): MultiRoundTrip {
  const { sealer } = options;

  return {
    async call({ adapter, tool }, principal, ctx, channel, round) {
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
        const asked = await askCaller(channel, requests, ctx.mcpReq.signal);
        if (ctx.mcpReq.signal.aborted) return errorResult(`The call of '${tool}' was cancelled.`);
        if ('missing' in asked) {
          return errorResult(
            `The tool '${tool}' needs input the client cannot give: it asked for ${asked.missing.join(', ')}, ` +
              'which the client did not declare at initialize.',
          );
        }
        const answers = asked.answers;
        if (Object.keys(requests).length > 0 && Object.keys(answers).length === 0) {
          return errorResult(
            `The tool '${tool}' needs input the client did not give (it declined every request).`,
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
