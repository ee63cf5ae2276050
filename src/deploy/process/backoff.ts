/** @module backoff: how long to wait before restarting a process that exited or failed to start. */

/** Restart delays: `initialMs · 2^(n−1)` for the n-th consecutive failure, capped, with ±20 % jitter. */
export interface BackoffPolicy {
  /** Delay after the first failure (default 500 ms). */
  readonly initialMs: number;
  /** Longest delay (default 30 s), so a broken command costs one spawn per `maxMs`, not a hot loop. */
  readonly maxMs: number;
  /**
   * A process that stayed ready this long before it exited counts as healthy: the failure count starts over,
   * so one crash after a day of service restarts quickly (default 30 s).
   */
  readonly resetAfterMs: number;
}

/** The defaults documented in `docs/deployers.md`. */
export const DEFAULT_BACKOFF: BackoffPolicy = Object.freeze({
  initialMs: 500,
  maxMs: 30_000,
  resetAfterMs: 30_000,
});

/**
 * The delay before restart number `failures` (1 for the first failure in a row). `random` in [0, 1) spreads
 * restarts of many replicas that failed together (e.g. a shared dependency went down).
 */
export function backoffDelay(
  policy: BackoffPolicy,
  failures: number,
  random: () => number = Math.random,
): number {
  const exponent = Math.max(0, failures - 1);
  // 2^30 already exceeds any sane cap; clamping the exponent keeps the arithmetic finite.
  const base = Math.min(policy.maxMs, policy.initialMs * 2 ** Math.min(exponent, 30));
  const jitter = 0.8 + 0.4 * random();
  return Math.round(Math.min(policy.maxMs, base * jitter));
}
