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

/** Options for {@link probeEndpoint}. */
export interface ProbeOptions {
  readonly timeoutMs: number;
  /** How the probe is sent; default {@link fetchProbeSender} over the global `fetch`. */
  readonly send?: ProbeSender;
  readonly clock?: () => Date;
  /** Why a URL must not be contacted (literal addresses, metadata names); such a URL is never probed. */
  readonly refuseUrl?: (url: string) => string | undefined;
}

const DEFAULT_SENDER = fetchProbeSender();

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
    const status = await send(endpoint, AbortSignal.timeout(options.timeoutMs));
    const latencyMs = Math.round(performance.now() - started);
    const ready = status < 500;
    return {
      instance,
      endpoint,
      ready,
      state: ready ? 'Reachable' : 'Unhealthy',
      detail: `HTTP ${status}`,
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
