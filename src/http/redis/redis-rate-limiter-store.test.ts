/**
 * @module Tests of the Redis RateLimiterStore: the shared contract against a real server (`TEST_REDIS_URL`), plus
 * what only a shared store does — two instances drawing from one bucket, keys that expire and reveal nothing, and
 * Redis' own clock. Each test writes under a prefix of its own and deletes it afterwards.
 */
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  REDIS_SKIP_REASON,
  TEST_REDIS_URL,
  deleteKeysUnder,
  keysUnder,
  testRedisClient,
  uniqueKeyPrefix,
} from '../../../test/redis-test-keys.js';
import { runRateLimiterStoreContract } from '../rate-limiter-store.contract.js';
import { redisRateLimiterStore } from './redis-rate-limiter-store.js';

if (!TEST_REDIS_URL) process.stderr.write(`redis rate-limit tests skipped: ${REDIS_SKIP_REASON}\n`);

describe.skipIf(!TEST_REDIS_URL)('RedisRateLimiterStore', () => {
  let client: Redis;
  let other: Redis;
  beforeAll(() => {
    client = testRedisClient();
    other = testRedisClient();
  });
  afterAll(async () => {
    await client.quit();
    await other.quit();
  });

  runRateLimiterStoreContract('redis', async (now) => {
    const prefix = uniqueKeyPrefix();
    return {
      store: redisRateLimiterStore({ client, prefix, now }),
      cleanup: () => deleteKeysUnder(client, prefix),
    };
  });

  it('shares one bucket between instances (two clients, as two gateways have)', async () => {
    const prefix = uniqueKeyPrefix();
    try {
      const spec = { perSecond: 0.001, burst: 3 };
      const a = redisRateLimiterStore({ client, prefix }).limiter('tool', spec);
      const b = redisRateLimiterStore({ client: other, prefix }).limiter('tool', spec);
      expect([await a.take('alice'), await b.take('alice'), await a.take('alice')]).toEqual([0, 0, 0]);
      // Redis' clock: about 1000 s to the next token, whichever instance asks.
      const wait = await b.take('alice');
      expect(wait).toBeGreaterThan(990_000);
      expect(wait).toBeLessThanOrEqual(1_000_000);
      expect(await a.take('bob')).toBe(0);
    } finally {
      await deleteKeysUnder(client, prefix);
    }
  });

  it('names keys by scope and a hash (no caller or tool readable) and lets them expire once refilled', async () => {
    const prefix = uniqueKeyPrefix();
    try {
      const limiter = redisRateLimiterStore({ client, prefix }).limiter('tool', { perSecond: 2, burst: 4 });
      await limiter.take('alice@example.com\u0000weather\u0000forecast');
      const keys = await keysUnder(client, prefix);
      expect(keys).toHaveLength(1);
      expect(keys[0]).toMatch(new RegExp(`^${prefix}tool:[A-Za-z0-9_-]{43}$`));
      expect(keys[0]).not.toMatch(/alice|weather|forecast/);
      // One token short of full: refilled in 500 ms, kept a second longer.
      const ttl = await client.pttl(keys[0]!);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(1500);
    } finally {
      await deleteKeysUnder(client, prefix);
    }
  });
});
