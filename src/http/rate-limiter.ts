/**
 * @module rate-limiter: the `RateLimiterStore` port — where the token buckets of each configured limit live — and
 * its in-memory implementation (this instance's {@link TokenBuckets}). A store shared by every replica (Redis,
 * `./redis/`) answers with a promise; the in-memory one answers at once, so a gateway without a shared store
 * keeps a synchronous check on its request path.
 */
import type { RateLimitScope } from '../observability/index.js';
import { TokenBuckets } from './token-buckets.js';

/** One limit: sustained requests per second and the burst a full bucket allows. */
export interface RateLimitSpec {
  readonly perSecond: number;
  readonly burst: number;
}

/** The buckets of one limit, by key (a caller, an adapter, a caller and a tool). */
export interface RateLimiter {
  /** Takes one token from `key`'s bucket: 0 when granted, else the milliseconds until one will be there. */
  take(key: string): number | Promise<number>;
}

/** Where buckets are kept: one {@link RateLimiter} per configured limit. */
export interface RateLimiterStore {
  /** The buckets of the limit named `scope`; called once per limit when the limits are built. */
  limiter(scope: RateLimitScope, spec: RateLimitSpec): RateLimiter;
}

/** Options for {@link memoryRateLimiterStore}. */
export interface MemoryRateLimiterStoreOptions {
  /** Most keys remembered per limit (default 10 000); idle buckets are dropped first. */
  readonly maxKeys?: number;
  /** Milliseconds; injected for tests. */
  readonly now?: () => number;
}

/** Buckets in this instance's memory: with N replicas a caller may get up to N times a limit. */
export function memoryRateLimiterStore(options: MemoryRateLimiterStoreOptions = {}): RateLimiterStore {
  return {
    limiter: (_scope, spec) =>
      new TokenBuckets({
        perSecond: spec.perSecond,
        burst: spec.burst,
        maxKeys: options.maxKeys,
        now: options.now,
      }),
  };
}
