/**
 * @module Benchmark of a rate-limit check: what one limit adds to a request with its buckets in this instance's
 * memory (synchronous) and in Redis (one EVALSHA round trip), checks made one after another as a request's are,
 * over many keys so the buckets stay busy without refusing. Prints the median and the 99th percentile per check.
 * Keys go under a prefix of this run's own, deleted at the end.
 *
 * Run: `REDIS_URL=redis://127.0.0.1:6379 npx tsx scripts/bench/rate-limit-redis.ts` (`CHECKS=20000`).
 * Figures vary with the machine and the Redis' distance; on loopback they are the floor.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { memoryRateLimiterStore } from '../../src/http/index.js';
import type { RateLimiter } from '../../src/http/index.js';
import { redisRateLimiterStore } from '../../src/http/redis/index.js';

const CHECKS = Number(process.env.CHECKS ?? 20_000);
const KEYS = 1000;
const SPEC = { perSecond: 1000, burst: 1000 };

async function timed(limiter: RateLimiter): Promise<{ median: number; p99: number }> {
  // Warm-up: the script is loaded, the JIT settles.
  for (let i = 0; i < 500; i++) await limiter.take(`user-${i % KEYS}`);
  const samples = new Float64Array(CHECKS);
  for (let i = 0; i < CHECKS; i++) {
    const started = performance.now();
    const answer = limiter.take(`user-${i % KEYS}\u0000adapter\u0000tool`);
    if (answer instanceof Promise) await answer;
    samples[i] = performance.now() - started;
  }
  samples.sort();
  return { median: samples[Math.floor(CHECKS / 2)]!, p99: samples[Math.floor(CHECKS * 0.99)]! };
}

const ms = (value: number) => `${value.toFixed(4)} ms`;

const memory = await timed(memoryRateLimiterStore().limiter('tool', SPEC));
console.log(`memory: median ${ms(memory.median)}, p99 ${ms(memory.p99)} per check`);

const url = process.env.REDIS_URL ?? process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const client = new Redis(url, { enableOfflineQueue: true, commandTimeout: 1000 });
const prefix = `mcp-gateway-bench:${randomUUID()}:`;
try {
  const redis = await timed(redisRateLimiterStore({ client, prefix }).limiter('tool', SPEC));
  console.log(`redis:  median ${ms(redis.median)}, p99 ${ms(redis.p99)} per check (${CHECKS} checks)`);
} finally {
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    if (keys.length > 0) await client.del(...keys);
    cursor = next;
  } while (cursor !== '0');
  await client.quit();
}
