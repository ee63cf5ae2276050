/** @module probeEndpoint: a reachability probe of one remote URL that has no side effects. */
import type { ReplicaState } from '../runtime-inspector.js';

/** Options for {@link probeEndpoint}. */
export interface ProbeOptions {
  readonly timeoutMs: number;
  readonly fetch?: typeof fetch;
  readonly clock?: () => Date;
}

function reasonOf(err: unknown, timeoutMs: number): string {
  if (err instanceof DOMException && (err.name === 'TimeoutError' || err.name === 'AbortError')) {
    return `no answer within ${timeoutMs} ms`;
  }
  const cause = (err as { cause?: { code?: unknown; message?: unknown } }).cause;
  if (typeof cause?.code === 'string') return cause.code;
  if (typeof cause?.message === 'string') return cause.message;
  return err instanceof Error ? err.message : String(err);
}

/**
 * Sends `OPTIONS` — safe by HTTP semantics, so it neither opens an MCP stream nor invokes a tool — and
 * counts any answer below 500 as reachable: a server that says 404 or 405 is up.
 */
export async function probeEndpoint(
  instance: number,
  endpoint: string,
  options: ProbeOptions,
): Promise<ReplicaState> {
  const doFetch = options.fetch ?? fetch;
  const clock = options.clock ?? (() => new Date());
  const started = performance.now();
  try {
    const response = await doFetch(endpoint, {
      method: 'OPTIONS',
      redirect: 'manual',
      signal: AbortSignal.timeout(options.timeoutMs),
    });
    await response.body?.cancel();
    const latencyMs = Math.round(performance.now() - started);
    const ready = response.status < 500;
    return {
      instance,
      endpoint,
      ready,
      state: ready ? 'Reachable' : 'Unhealthy',
      detail: `HTTP ${response.status}`,
      latencyMs,
      checkedAt: clock(),
    };
  } catch (err) {
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
