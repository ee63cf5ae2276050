/**
 * @module The RateLimiterStore contract: one suite every place buckets can live must pass (this instance's memory,
 * Redis). Not a `*.test.ts` file itself; each implementation's test file calls {@link runRateLimiterStoreContract}.
 * Time is injected, so no case waits or measures.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RateLimiterStore } from './rate-limiter.js';

/** A fresh store reading `now`, and how to remove what it wrote. */
export type RateLimiterStoreFactory = (
  now: () => number,
) => Promise<{ readonly store: RateLimiterStore; cleanup(): Promise<void> }>;

/** Runs the contract for the implementation `name`; `make` is called once per case. */
export function runRateLimiterStoreContract(name: string, make: RateLimiterStoreFactory): void {
  describe(`RateLimiterStore contract: ${name}`, () => {
    let t = 1_750_000_000_000;
    const now = () => t;
    const advance = (ms: number) => (t += ms);
    let store: RateLimiterStore;
    let cleanup: () => Promise<void>;

    beforeEach(async () => {
      t = 1_750_000_000_000;
      ({ store, cleanup } = await make(now));
    });
    afterEach(() => cleanup());

    const takes = async (take: (key: string) => number | Promise<number>, key: string, n: number) => {
      const waits: number[] = [];
      for (let i = 0; i < n; i++) waits.push(await take(key));
      return waits;
    };

    it('grants a full burst, then says how long until the next token, and grants it then', async () => {
      const limiter = store.limiter('principal', { perSecond: 2, burst: 3 });
      expect(await takes((k) => limiter.take(k), 'alice', 4)).toEqual([0, 0, 0, 500]);
      advance(499);
      expect(await limiter.take('alice')).toBe(1);
      advance(1);
      expect(await limiter.take('alice')).toBe(0);
      expect(await limiter.take('alice')).toBe(500);
    });

    it('keeps one bucket per key and per limit', async () => {
      const tools = store.limiter('tool', { perSecond: 1, burst: 1 });
      const callers = store.limiter('principal', { perSecond: 1, burst: 1 });
      expect(await tools.take('alice\u0000\u0000echo')).toBe(0);
      expect(await tools.take('alice\u0000\u0000echo')).toBe(1000);
      expect(await tools.take('alice\u0000\u0000other')).toBe(0);
      expect(await tools.take('bob\u0000\u0000echo')).toBe(0);
      // Another limit with the same key is another bucket.
      expect(await callers.take('alice\u0000\u0000echo')).toBe(0);
    });

    it('never refills past the burst', async () => {
      const limiter = store.limiter('adapter', { perSecond: 10, burst: 2 });
      await limiter.take('a');
      advance(3_600_000);
      expect(await takes((k) => limiter.take(k), 'a', 3)).toEqual([0, 0, 100]);
    });

    it('counts slow rates in whole milliseconds', async () => {
      const limiter = store.limiter('tool', { perSecond: 0.5, burst: 1 });
      expect(await limiter.take('k')).toBe(0);
      expect(await limiter.take('k')).toBe(2000);
      advance(1500);
      expect(await limiter.take('k')).toBe(500);
    });

    it('grants exactly the burst to concurrent checks', async () => {
      const limiter = store.limiter('tool', { perSecond: 1, burst: 5 });
      const waits = await Promise.all(Array.from({ length: 12 }, () => limiter.take('busy')));
      expect(waits.filter((w) => w === 0)).toHaveLength(5);
      expect(waits.filter((w) => w > 0)).toHaveLength(7);
    });
  });
}
