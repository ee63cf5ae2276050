/**
 * @module failover-rate-limiter-store: a shared {@link RateLimiterStore} (Redis) with this instance's buckets behind
 * it. While the shared store answers, every check goes there; when a call fails or times out, or the connection
 * drops, checks go to the local buckets at once (no request waits for a dead store) until the store is back — the
 * client reconnected, or a background probe answered. One warning per outage, and the backend in use is reported
 * (a gauge), so an operator sees that limits hold per instance for a while.
 */
import type { Logger, RateLimitBackend } from '../observability/index.js';
import type { RateLimiter, RateLimiterStore } from './rate-limiter.js';

/** Options for {@link createFailoverRateLimiterStore}. */
export interface FailoverRateLimiterStoreOptions {
  readonly shared: RateLimiterStore;
  readonly local: RateLimiterStore;
  /** Checks that the shared store answers (a PING); run in the background at most once per `retryMs` while down. */
  readonly probe: () => Promise<unknown>;
  /** Milliseconds between probes while down; default 1000. */
  readonly retryMs?: number;
  /** Milliseconds; injected for tests. */
  readonly now?: () => number;
  readonly logger: Logger;
  /** Told the backend in use at the start and at every change. */
  readonly onBackend?: (backend: RateLimitBackend) => void;
}

/** The store, and the switches its connection drives. */
export interface FailoverRateLimiterStore extends RateLimiterStore {
  /** Which buckets checks use now. */
  readonly backend: RateLimitBackend;
  /** The shared store is reachable (its client connected). */
  up(): void;
  /** It is not: the connection dropped, or a call failed or timed out. */
  down(reason: unknown): void;
}

const messageOf = (reason: unknown) => (reason instanceof Error ? reason.message : String(reason));

/** Builds the store; it starts on the local buckets until {@link FailoverRateLimiterStore.up} is called. */
export function createFailoverRateLimiterStore(
  options: FailoverRateLimiterStoreOptions,
): FailoverRateLimiterStore {
  const { logger } = options;
  const now = options.now ?? Date.now;
  const retryMs = options.retryMs ?? 1000;
  const report = options.onBackend ?? (() => undefined);
  let backend: RateLimitBackend = 'local';
  /** Whether this outage was logged (reset when the store is back), so a flapping client logs once per outage. */
  let warned = false;
  let everUp = false;
  let probedAt = Number.NEGATIVE_INFINITY;
  let probing = false;
  report(backend);

  function up(): void {
    if (backend === 'redis') return;
    backend = 'redis';
    report(backend);
    if (warned) logger.info({}, 'rate limits: Redis is back; limits hold across instances again');
    else if (!everUp) logger.info({}, 'rate limits: kept in Redis, shared by every instance');
    warned = false;
    everUp = true;
  }

  function down(reason: unknown): void {
    if (backend === 'redis') {
      backend = 'local';
      report(backend);
    }
    if (warned) return;
    warned = true;
    logger.warn(
      { err: messageOf(reason) },
      'rate limits: Redis unreachable; limits hold per instance until it is back',
    );
  }

  /** While down, asks the shared store now and then whether it answers again, never on a request's time. */
  function maybeProbe(): void {
    if (probing) return;
    const t = now();
    if (t - probedAt < retryMs) return;
    probedAt = t;
    probing = true;
    options.probe().then(
      () => {
        probing = false;
        up();
      },
      () => {
        probing = false;
      },
    );
  }

  return {
    get backend() {
      return backend;
    },
    up,
    down,
    limiter(scope, spec) {
      const shared = options.shared.limiter(scope, spec);
      const local = options.local.limiter(scope, spec);
      const fallBack = (key: string, reason: unknown) => {
        down(reason);
        return local.take(key);
      };
      const limiter: RateLimiter = {
        take(key) {
          if (backend !== 'redis') {
            maybeProbe();
            return local.take(key);
          }
          try {
            return Promise.resolve(shared.take(key)).then(
              (waitMs) => waitMs,
              (err: unknown) => fallBack(key, err),
            );
          } catch (err) {
            return fallBack(key, err);
          }
        },
      };
      return limiter;
    },
  };
}
