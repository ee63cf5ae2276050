/**
 * @module probeEndpoint: a reachability probe of one remote URL that has no side effects, and the SSRF guard in
 * front of it: a probe is a request the gateway sends on its own, so an endpoint it must not contact is never
 * probed, whether its URL names a blocked address or its name resolves to one.
 */
import type { ReplicaState } from '../runtime-inspector.js';

/**
 * Sends one probe: `OPTIONS url`, no redirect followed, the body discarded. Resolves with the HTTP status;
 * rejects when nothing answered. A rejection carrying the code {@link BLOCKED_ADDRESS_CODE} (on the error or
 * its cause) means the SSRF guard refused the address the name resolved to; its message says which.
 */
export type ProbeSender = (url: string, signal: AbortSignal) => Promise<number>;

/** The error code of a connection the SSRF guard refused (as the Node agents' guarded lookup reports it). */
export const BLOCKED_ADDRESS_CODE = 'EADDRBLOCKED';

/**
 * A {@link ProbeSender} over the Fetch API. It resolves names however the runtime does, unguarded: the Node
 * gateway probes through its guarded agents instead (`createNodeProbeSender`); on the edge the platform resolves.
 */
export function fetchProbeSender(fetchImpl: typeof fetch = (input, init) => fetch(input, init)): ProbeSender {
  return async (url, signal) => {
    const response = await fetchImpl(url, { method: 'OPTIONS', redirect: 'manual', signal });
    await response.body?.cancel();
    return response.status;
  };
}

/**
 * Sends one probe of a 2024-11-05 SSE URL: `GET` with `Accept: text/event-stream`, no redirect followed, the stream
 * closed as soon as its head arrived (the server ends the session it opened). Resolves with the status and the
 * content type; rejects as {@link ProbeSender} does.
 */
export type SseProbeSender = (
  url: string,
  signal: AbortSignal,
) => Promise<{ readonly status: number; readonly contentType: string }>;

/** A {@link SseProbeSender} over the Fetch API (names resolved unguarded, as {@link fetchProbeSender}). */
export function fetchSseProbeSender(
  fetchImpl: typeof fetch = (input, init) => fetch(input, init),
): SseProbeSender {
  return async (url, signal) => {
    const response = await fetchImpl(url, {
      headers: { accept: 'text/event-stream' },
      redirect: 'manual',
      signal,
    });
    await response.body?.cancel();
    return { status: response.status, contentType: response.headers.get('content-type') ?? '' };
  };
}

/** Options for {@link probeEndpoint}. */
export interface ProbeOptions {
  readonly timeoutMs: number;
  /** How the probe is sent; default {@link fetchProbeSender} over the global `fetch`. */
  readonly send?: ProbeSender;
  /** How an `sse` endpoint is probed (with {@link sse}); default {@link fetchSseProbeSender}. */
  readonly sendSse?: SseProbeSender;
  /** The endpoint is a 2024-11-05 SSE URL: up when a GET opens an event stream, not when anything answers. */
  readonly sse?: boolean;
  readonly clock?: () => Date;
  /** Why a URL must not be contacted (literal addresses, metadata names); such a URL is never probed. */
  readonly refuseUrl?: (url: string) => string | undefined;
}

const DEFAULT_SENDER = fetchProbeSender();
const DEFAULT_SSE_SENDER = fetchSseProbeSender();

/**
 * An SSE URL is up when it answers 200 with an event stream, or refuses the probe's missing credentials; a 404,
 * a 405 or a JSON answer serves no session.
 */
async function sendSseProbe(
  send: SseProbeSender,
  endpoint: string,
  signal: AbortSignal,
): Promise<{ ready: boolean; detail: string }> {
  const { status, contentType } = await send(endpoint, signal);
  const stream = contentType.toLowerCase().startsWith('text/event-stream');
  if (status === 200 && stream) return { ready: true, detail: 'HTTP 200, an SSE stream' };
  // Up, and asking for the credentials (`upstreamAuth`) the data plane sends and a probe does not.
  if (status === 401 || status === 403)
    return { ready: true, detail: `HTTP ${status} (the probe sends no credentials)` };
  if (status === 200)
    return { ready: false, detail: `HTTP 200 ${contentType || 'without a content type'}, not an SSE stream` };
  return { ready: false, detail: `HTTP ${status} to GET (an SSE URL answers 200 with an event stream)` };
}

/** The error or the cause that carries a code (Node errors carry it themselves, Fetch puts it in `cause`). */
function codeAndMessage(err: unknown): { code?: string; message?: string } {
  for (let current = err, depth = 0; current instanceof Object && depth < 3; depth++) {
    const { code, message } = current as { code?: unknown; message?: unknown };
    if (typeof code === 'string') return { code, message: typeof message === 'string' ? message : undefined };
    current = (current as { cause?: unknown }).cause;
  }
  return {};
}

function reasonOf(err: unknown, timeoutMs: number): string {
  const name = (err as { name?: unknown }).name;
  if (name === 'TimeoutError' || name === 'AbortError') return `no answer within ${timeoutMs} ms`;
  const { code } = codeAndMessage(err);
  if (code !== undefined) return code;
  const cause = (err as { cause?: { message?: unknown } }).cause;
  if (typeof cause?.message === 'string') return cause.message;
  return err instanceof Error ? err.message : String(err);
}

/**
 * Probes `endpoint` — `OPTIONS`, safe by HTTP semantics, so it neither opens an MCP stream nor invokes a tool —
 * and counts any answer below 500 as reachable: a server that says 404 or 405 is up. An endpoint the SSRF guard
 * refuses is `Blocked`, with the reason, and is not contacted.
 */
export async function probeEndpoint(
  instance: number,
  endpoint: string,
  options: ProbeOptions,
): Promise<ReplicaState> {
  const send = options.send ?? DEFAULT_SENDER;
  const clock = options.clock ?? (() => new Date());
  const blocked = (detail: string): ReplicaState => ({
    instance,
    endpoint,
    ready: false,
    state: 'Blocked',
    detail,
    checkedAt: clock(),
  });
  const refused = options.refuseUrl?.(endpoint);
  if (refused) return blocked(refused);
  const started = performance.now();
  try {
    const signal = AbortSignal.timeout(options.timeoutMs);
    const { ready, detail } = options.sse
      ? await sendSseProbe(options.sendSse ?? DEFAULT_SSE_SENDER, endpoint, signal)
      : await send(endpoint, signal).then((status) => ({ ready: status < 500, detail: `HTTP ${status}` }));
    const latencyMs = Math.round(performance.now() - started);
    return {
      instance,
      endpoint,
      ready,
      state: ready ? 'Reachable' : 'Unhealthy',
      detail,
      latencyMs,
      checkedAt: clock(),
    };
  } catch (err) {
    const { code, message } = codeAndMessage(err);
    if (code === BLOCKED_ADDRESS_CODE) return blocked(message ?? 'a blocked address');
    return {
      instance,
      endpoint,
      ready: false,
      state: 'Unreachable',
      detail: reasonOf(err, options.timeoutMs),
      checkedAt: clock(),
    };
  }
}
