/**
 * @module token-buckets: one token bucket per key (a principal, an adapter) with bounded memory. A bucket that
 * has refilled is the same as no bucket, so idle buckets are dropped; past `maxKeys`, the oldest are forgotten
 * (they start again full — the limiter fails open rather than growing without bound).
 */

/** Options for {@link TokenBuckets}. */
export interface TokenBucketsOptions {
  /** Tokens added per second (> 0). */
  readonly perSecond: number;
  /** Bucket size (≥ 1): the burst a quiet key may send at once. */
  readonly burst: number;
  /** Most keys remembered at once (default 10 000). */
  readonly maxKeys?: number;
  /** Milliseconds; injected for tests. */
  readonly now?: () => number;
}

interface Bucket {
  tokens: number;
  at: number;
}

/** Token buckets by key. */
export class TokenBuckets {
  readonly #perMs: number;
  readonly #burst: number;
  readonly #maxKeys: number;
  readonly #now: () => number;
  /** How long an empty bucket takes to fill: after that long untouched, a bucket can go. */
  readonly #refillMs: number;
  readonly #buckets = new Map<string, Bucket>();
  #sweptAt: number;

  constructor(options: TokenBucketsOptions) {
    if (!(options.perSecond > 0)) throw new RangeError('TokenBuckets: perSecond must be > 0');
    if (!(options.burst >= 1)) throw new RangeError('TokenBuckets: burst must be ≥ 1');
    this.#perMs = options.perSecond / 1000;
    this.#burst = options.burst;
    this.#maxKeys = Math.max(1, options.maxKeys ?? 10_000);
    this.#now = options.now ?? Date.now;
    this.#refillMs = Math.max(1000, options.burst / this.#perMs);
    this.#sweptAt = this.#now();
  }

  /** Keys currently remembered. */
  get size(): number {
    return this.#buckets.size;
  }

  /** Takes one token for `key`: 0 when granted, else the milliseconds until one will be there. */
  take(key: string): number {
    const now = this.#now();
    if (now - this.#sweptAt >= this.#refillMs) this.#sweep(now);
    let bucket = this.#buckets.get(key);
    if (bucket) {
      bucket.tokens = Math.min(this.#burst, bucket.tokens + (now - bucket.at) * this.#perMs);
      bucket.at = now;
    } else {
      if (this.#buckets.size >= this.#maxKeys) this.#makeRoom(now);
      bucket = { tokens: this.#burst, at: now };
      this.#buckets.set(key, bucket);
    }
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    // The epsilon keeps floating-point dust (0.998 + 0.002 ≠ 1) from adding a millisecond.
    return Math.max(1, Math.ceil((1 - bucket.tokens) / this.#perMs - 1e-6));
  }

  /** Drops every bucket that is full by now. */
  #sweep(now: number): void {
    this.#sweptAt = now;
    for (const [key, bucket] of this.#buckets) {
      if (bucket.tokens + (now - bucket.at) * this.#perMs >= this.#burst) this.#buckets.delete(key);
    }
  }

  #makeRoom(now: number): void {
    this.#sweep(now);
    // Still full of busy keys: forget the oldest-created ones (a tenth, so this stays rare).
    if (this.#buckets.size < this.#maxKeys) return;
    let drop = Math.max(1, Math.floor(this.#maxKeys / 10));
    for (const key of this.#buckets.keys()) {
      this.#buckets.delete(key);
      if (--drop === 0) break;
    }
  }
}
