/**
 * @module server-request-relay: the caller's side of an upstream's server-to-client requests (`elicitation/create`,
 * `sampling/createMessage`) made during a federated `tools/call`. The router hands such a request to the client
 * whose call caused it, as a request related to that call (so it travels on that call's response stream), and
 * gives the client's answer back (`federation.ts` is the upstream's side).
 *
 * The router serves 2025 requests without sessions, so two things a session would hold travel with the client
 * instead. What it declared at `initialize` (elicitation, sampling) is written into an `Mcp-Session-Id` the
 * router gives a client that declared any of them: a label, not a secret (a client that claims a capability it
 * lacks only fails its own requests), and any instance reads it. The client's answer comes back in a POST of its
 * own, which the SDK's stateless serving would drop: {@link ServerRequestRelay.answer} takes it first, matched by
 * the id the router chose — unique, and only accepted from the same principal and session the request went to.
 * Answers reach only the instance that sent the request (it holds the waiting call anyway).
 *
 * A 2026-07-28 request has no channel for server requests (its revision uses multi round-trip requests, not
 * relayed here): such callers get none, and the upstream is told so.
 */
import { ProtocolError, ProtocolErrorCode } from '@modelcontextprotocol/server';
import type { ClientCapabilities, JSONRPCMessage, Server, ServerContext } from '@modelcontextprotocol/server';
import { smallBodyOf } from './request-body.js';

/** The server-to-client requests the router relays. */
export type RelayedMethod = 'elicitation/create' | 'sampling/createMessage';

/** What a caller declared that the router can relay to it. */
export interface RelayCapabilities {
  /** Form-mode elicitation (a bare `elicitation: {}` means form, as MCP says). */
  readonly elicitation: boolean;
  readonly sampling: boolean;
  /** `sampling.tools`: sampling requests with `tools`/`toolChoice`. */
  readonly samplingTools: boolean;
}

/** A caller that can be asked nothing. */
export const NO_RELAY: RelayCapabilities = Object.freeze({
  elicitation: false,
  sampling: false,
  samplingTools: false,
});

/** The relayable part of a client's declared capabilities. */
export function relayCapabilitiesOf(capabilities: ClientCapabilities | undefined): RelayCapabilities {
  const elicitation = capabilities?.elicitation as { form?: unknown; url?: unknown } | undefined;
  const sampling = capabilities?.sampling as { tools?: unknown } | undefined;
  const form =
    typeof elicitation === 'object' &&
    elicitation !== null &&
    (elicitation.form !== undefined || elicitation.url === undefined);
  const canSample = typeof sampling === 'object' && sampling !== null;
  return {
    elicitation: form,
    sampling: canSample,
    samplingTools: canSample && sampling.tools !== undefined,
  };
}

/** A short stable name of a capability set (the upstream client pool keys on it). */
export function relayKeyOf(capabilities: RelayCapabilities): string {
  return `${capabilities.elicitation ? 'e' : ''}${capabilities.sampling ? 's' : ''}${capabilities.samplingTools ? 't' : ''}`;
}

const anyRelay = (c: RelayCapabilities) => c.elicitation || c.sampling;

/** The channel to the client of one call: what it can be asked, and how. */
export interface CallerChannel {
  readonly capabilities: RelayCapabilities;
  /** Sends `method` to the client as part of its call; resolves with its result, rejects with its error. */
  request(
    method: RelayedMethod,
    params: Record<string, unknown>,
    signal: AbortSignal,
  ): Promise<Record<string, unknown>>;
}

/** Makes the channel for the call `ctx` is handling on `server`, or undefined when there is none. */
export type CallerChannels = (server: Server, ctx: ServerContext) => CallerChannel | undefined;

/** For callers that have no channel (2026-07-28 requests). */
export const noChannels: CallerChannels = () => undefined;

/** What an `initialize` request declared that can be relayed; undefined for any other body. */
export function initializeCapabilitiesOf(body: unknown): RelayCapabilities | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined;
  const { method, params } = body as { method?: unknown; params?: { capabilities?: ClientCapabilities } };
  if (method !== 'initialize' || typeof params !== 'object' || params === null) return undefined;
  return relayCapabilitiesOf(params.capabilities);
}

/**
 * The JSON body of `request` when it is at most `maxBytes`, read from a copy (the SDK reads the original);
 * undefined when it is larger (the SDK refuses it with 413) or not JSON (the SDK answers that).
 */
export async function smallJsonOf(request: Request, maxBytes: number): Promise<unknown> {
  const text = await smallBodyOf(request, maxBytes);
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** A request the client did not answer before its call ended. */
function callEnded(): ProtocolError {
  return new ProtocolError(
    ProtocolErrorCode.InternalError,
    'The caller of the tool call is gone (it cancelled the call or disconnected) before answering.',
  );
}

/**
 * The channel of a server that owns its connection (stdio): the SDK's own request path, with the capabilities
 * the client declared on it; none on a 2026-07-28 connection.
 */
export const connectionChannels: CallerChannels = (server, ctx) => {
  if (ctx.mcpReq.envelope !== undefined || server.getNegotiatedProtocolVersion() === '2026-07-28') {
    return undefined;
  }
  const capabilities = relayCapabilitiesOf(server.getClientCapabilities());
  if (!anyRelay(capabilities)) return undefined;
  return {
    capabilities,
    async request(method, params, signal) {
      const options = { relatedRequestId: ctx.mcpReq.id, signal, timeout: 2 ** 31 - 1 };
      // The upstream's own timeout bounds the wait; the SDK's default 60 s one would cut a slow human short.
      const result =
        method === 'elicitation/create'
          ? await server.request({ method, params: params as never }, options)
          : await server.request({ method, params: params as never }, options);
      return result as Record<string, unknown>;
    },
  };
};

interface Pending {
  readonly session: string;
  readonly userId: string;
  /** The caller's `tools/call` this request is part of (its JSON-RPC id). */
  readonly callId: string | number;
  readonly resolve: (result: Record<string, unknown>) => void;
  readonly reject: (error: Error) => void;
}

/** The `Mcp-Session-Id` prefix of sessions the router gave out. */
const SESSION_PREFIX = 'mcpgw1.';
const SESSION_PATTERN = /^mcpgw1\.([est]{0,3})\.[A-Za-z0-9_-]{22}$/;

function randomId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
}

/** What an HTTP request says about its session. */
export interface CallerSession {
  readonly id: string;
  readonly capabilities: RelayCapabilities;
}

/** The router's HTTP side of relaying. */
export interface ServerRequestRelay {
  /** A fresh session id for a client that declared `capabilities`; undefined when it can be asked nothing. */
  mint(capabilities: RelayCapabilities): string | undefined;
  /** The session a request names, when it is one the router gave out. */
  sessionOf(request: Request | undefined): CallerSession | undefined;
  /** The channels of one stateless 2025 HTTP request of `userId` in `session`. */
  channels(session: CallerSession | undefined, userId: string): CallerChannels;
  /** Whether any request waits for an answer here (only then is a POST worth reading for one). */
  readonly waiting: boolean;
  /**
   * Takes `messages` when every one is the answer to a request this instance sent to `userId` in `session` (or
   * that client's cancellation of the call such a request is part of); false (nothing taken) otherwise.
   */
  answer(messages: unknown, session: CallerSession, userId: string): boolean;
  /** Fails every waiting request (shutdown). */
  close(): void;
}

/** Whether `message` is a JSON-RPC response (result or error) with a string id. */
function isAnswer(message: unknown): message is { id: string; result?: unknown; error?: unknown } {
  if (typeof message !== 'object' || message === null) return false;
  const m = message as Record<string, unknown>;
  return (
    m.jsonrpc === '2.0' &&
    typeof m.id === 'string' &&
    m.method === undefined &&
    (typeof m.result === 'object' || typeof m.error === 'object')
  );
}

/** Builds the HTTP side of relaying for one router (every endpoint of it shares it). */
export function createServerRequestRelay(): ServerRequestRelay {
  const pending = new Map<string, Pending>();

  function channels(session: CallerSession | undefined, userId: string): CallerChannels {
    return (server, ctx) => {
      // A 2026-07-28 request, or a client that declared nothing relayable: nothing to send on.
      if (!session || ctx.mcpReq.envelope !== undefined || !anyRelay(session.capabilities)) return undefined;
      return {
        capabilities: session.capabilities,
        async request(method, params, signal) {
          const transport = server.transport;
          if (!transport || signal.aborted) throw callEnded();
          const id = `mcp-gateway-${randomId()}`;
          const answered = new Promise<Record<string, unknown>>((resolve, reject) => {
            pending.set(id, { session: session.id, userId, callId: ctx.mcpReq.id, resolve, reject });
          });
          const onAbort = () => {
            const waiting = pending.get(id);
            if (!waiting) return;
            pending.delete(id);
            waiting.reject(callEnded());
            // The client may still be there (the upstream gave up): it can stop asking its user.
            void transport
              .send(
                { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: id } },
                { relatedRequestId: ctx.mcpReq.id },
              )
              .catch(() => undefined);
          };
          // `signal` ends with the call (the caller disconnected, a timeout) and when the upstream gives up.
          signal.addEventListener('abort', onAbort, { once: true });
          try {
            const message: JSONRPCMessage = { jsonrpc: '2.0', id, method, params };
            await transport.send(message, { relatedRequestId: ctx.mcpReq.id });
            return await answered;
          } catch (error) {
            pending.delete(id);
            throw error instanceof Error ? error : new Error(String(error));
          } finally {
            signal.removeEventListener('abort', onAbort);
          }
        },
      };
    };
  }

  return {
    mint: (capabilities) =>
      anyRelay(capabilities) ? `${SESSION_PREFIX}${relayKeyOf(capabilities)}.${randomId()}` : undefined,
    sessionOf(request) {
      const id = request?.headers.get('mcp-session-id');
      const match = id ? SESSION_PATTERN.exec(id) : null;
      if (!id || !match) return undefined;
      const flags = match[1]!;
      return {
        id,
        capabilities: {
          elicitation: flags.includes('e'),
          sampling: flags.includes('s'),
          samplingTools: flags.includes('s') && flags.includes('t'),
        },
      };
    },
    channels,
    get waiting() {
      return pending.size > 0;
    },
    answer(messages, session, userId) {
      const list = Array.isArray(messages) ? messages : [messages];
      if (list.length === 0) return false;
      const mine = (waiting: Pending | undefined): waiting is Pending =>
        waiting !== undefined && waiting.session === session.id && waiting.userId === userId;
      /** The requests waiting on the call a `notifications/cancelled` of this client names. */
      const cancelledBy = (m: unknown): string[] => {
        if (typeof m !== 'object' || m === null) return [];
        const { method, params } = m as { method?: unknown; params?: { requestId?: unknown } };
        if (method !== 'notifications/cancelled' || params?.requestId === undefined) return [];
        return [...pending].filter(([, w]) => mine(w) && w.callId === params.requestId).map(([id]) => id);
      };
      // Another principal's or another session's request is not this client's to answer.
      const owned = (m: unknown) => (isAnswer(m) ? mine(pending.get(m.id)) : cancelledBy(m).length > 0);
      if (!list.every(owned)) return false;
      for (const m of list as { id: string; result?: unknown; error?: unknown }[]) {
        if (!isAnswer(m)) {
          // Served statelessly, the call itself never hears of the cancellation: its server requests end here.
          for (const id of cancelledBy(m)) {
            const waiting = pending.get(id)!;
            pending.delete(id);
            waiting.reject(callEnded());
          }
          continue;
        }
        const waiting = pending.get(m.id)!;
        pending.delete(m.id);
        if (typeof m.error === 'object' && m.error !== null) {
          const { code, message, data } = m.error as { code?: unknown; message?: unknown; data?: unknown };
          waiting.reject(
            new ProtocolError(
              typeof code === 'number' ? code : ProtocolErrorCode.InternalError,
              typeof message === 'string' ? message : 'the caller refused the request',
              data,
            ),
          );
        } else {
          waiting.resolve((m.result ?? {}) as Record<string, unknown>);
        }
      }
      return true;
    },
    close() {
      for (const [id, waiting] of pending) {
        pending.delete(id);
        waiting.reject(callEnded());
      }
    },
  };
}
