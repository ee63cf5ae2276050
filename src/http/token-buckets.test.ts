import { describe, expect, it } from 'vitest';
import { TokenBuckets } from './token-buckets.js';

function clock(start = 0) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe('TokenBuckets', () => {
  it('grants a full burst, then one request per refill interval, and says how long to wait', () => {
    const time = clock();
    const buckets = new TokenBuckets({ perSecond: 2, burst: 3, now: time.now });
    expect([buckets.take('a'), buckets.take('a'), buckets.take('a')]).toEqual([0, 0, 0]);
    expect(buckets.take('a')).toBe(500);
    time.advance(499);
    expect(buckets.take('a')).toBe(1);
    time.advance(1);
    expect(buckets.take('a')).toBe(0);
    expect(buckets.take('a')).toBe(500);
    // Another key has its own bucket.
    expect(buckets.take('b')).toBe(0);
  });

  it('never refills past the burst', () => {
    const time = clock();
    const buckets = new TokenBuckets({ perSecond: 10, burst: 2, now: time.now });
    time.advance(60_000);
    expect([buckets.take('a'), buckets.take('a')]).toEqual([0, 0]);
    expect(buckets.take('a')).toBeGreaterThan(0);
  });

  it('forgets buckets that have refilled, so idle keys cost no memory', () => {
    const time = clock();
    const buckets = new TokenBuckets({ perSecond: 1, burst: 1, now: time.now });
    for (let i = 0; i < 100; i++) buckets.take(`user-${i}`);
    expect(buckets.size).toBe(100);
    time.advance(1000);
    buckets.take('late');
    expect(buckets.size).toBe(1);
  });

  it('stays within maxKeys under many busy keys, forgetting the oldest first', () => {
    const time = clock();
    const buckets = new TokenBuckets({ perSecond: 1, burst: 1, maxKeys: 50, now: time.now });
    for (let i = 0; i < 1000; i++) buckets.take(`k${i}`);
    expect(buckets.size).toBeLessThanOrEqual(50);
    // The newest key is still limited; the oldest was forgotten and starts full again (fails open).
    expect(buckets.take('k999')).toBeGreaterThan(0);
    expect(buckets.take('k0')).toBe(0);
  });

  it('refuses nonsense limits when built', () => {
    expect(() => new TokenBuckets({ perSecond: 0, burst: 1 })).toThrow(RangeError);
    expect(() => new TokenBuckets({ perSecond: 1, burst: 0 })).toThrow(RangeError);
  });
});
