/**
 * @module Tests of the Redis connection behind the limits: with Redis away (a closed loopback port) or stalling (a
 * server that accepts commands and never answers them), every check is answered from this instance's buckets and
 * nothing waits beyond the command timeout; with the real server (`TEST_REDIS_URL`), checks go to Redis.
 */
import { createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  REDIS_SKIP_REASON,
  TEST_REDIS_URL,
  deleteKeysUnder,
  testRedisClient,
  uniqueKeyPrefix,
} from '../../../test/redis-test-keys.js';
import { NO_METRICS, createLogger } from '../../observability/index.js';
import type { RateLimitBackend } from '../../observability/index.js';
import { memoryRateLimiterStore } from '../rate-limiter.js';
import { connectRedisRateLimits } from './redis-rate-limits.js';
import type { RedisRateLimits } from './redis-rate-limits.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Resolves once `matches` holds for something pushed to `list`. */
function watched<T>() {
  const items: T[] = [];
  let waiters: { matches: (item: T) => boolean; resolve: (item: T) => void }[] = [];
  return {
    items,
    push(item: T) {
      items.push(item);
      const ready = waiters.filter((w) => w.matches(item));
      waiters = waiters.filter((w) => !w.matches(item));
      for (const w of ready) w.resolve(item);
    },
    next(matches: (item: T) => boolean): Promise<T> {
      const found = items.find(matches);
      if (found !== undefined) return Promise.resolve(found);
      return new Promise((resolve) => waiters.push({ matches, resolve }));
    },
  };
}

/** `timeoutMs` short for the stalling server; long for the real one, whose answers a busy machine may delay. */
function connect(url: string, prefix?: string, timeoutMs = 30) {
  const lines = watched<Record<string, unknown>>();
  const backends = watched<RateLimitBackend>();
  const logger = createLogger({
    level: 'info',
    destination: { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) },
  });
  const redis: RedisRateLimits = connectRedisRateLimits({
    url,
    timeoutMs,
    local: memoryRateLimiterStore(),
    logger,
    metrics: { ...NO_METRICS, rateLimitBackend: (backend) => backends.push(backend) },
    prefix,
  });
  cleanups.push(() => redis.close());
  return { redis, lines, backends };
}

const listen = (server: Server) =>
  new Promise<number>((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)),
  );

async function closedPort(): Promise<number> {
  const server = createServer();
  const port = await listen(server);
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * A "Redis" that passes ioredis' ready check (INFO) and then reads every command without answering: what a Redis
 * stuck on a slow command looks like to a client.
 */
async function stallingRedis() {
  const sockets: Socket[] = [];
  const server = createServer((socket) => {
    sockets.push(socket);
    socket.on('data', (chunk) => {
      if (!chunk.toString().toUpperCase().includes('INFO')) return;
      const info = '# Server\r\nredis_version:7.0.0\r\nloading:0\r\n';
      socket.write(`$${Buffer.byteLength(info)}\r\n${info}\r\n`);
    });
  });
  const port = await listen(server);
  cleanups.push(
    () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(resolve);
      }),
  );
  return `redis://127.0.0.1:${port}`;
}

describe('Redis limits with Redis away', () => {
  it('start on the local buckets, answer every check at once, and warn once', async () => {
    const { redis, lines, backends } = connect(`redis://127.0.0.1:${await closedPort()}`);
    const warning = await lines.next((l) => l.level === 40);
    expect(warning.msg).toBe('rate limits: Redis unreachable; limits hold per instance until it is back');
    const limiter = redis.store.limiter('tool', { perSecond: 0.001, burst: 2 });
    // Not a promise: nothing on the request path waits for the reconnects.
    expect([limiter.take('alice'), limiter.take('alice')]).toEqual([0, 0]);
    expect(limiter.take('alice')).toBeGreaterThan(0);
    expect(redis.store.backend).toBe('local');
    expect(backends.items).toEqual(['local']);
  });

  it('answer from the local buckets when a connected Redis stops answering (command timeout)', async () => {
    const { redis, lines, backends } = connect(await stallingRedis());
    await backends.next((b) => b === 'redis');
    const limiter = redis.store.limiter('tool', { perSecond: 0.001, burst: 1 });
    const first = limiter.take('alice');
    expect(first).toBeInstanceOf(Promise);
    // The timeout (30 ms) ends the wait; the local bucket (full) grants it.
    expect(await first).toBe(0);
    expect(redis.store.backend).toBe('local');
    expect((await lines.next((l) => l.level === 40)).err).toMatch(/timed out/i);
    expect(limiter.take('alice')).toBeGreaterThan(0);
  });
});

describe.skipIf(!TEST_REDIS_URL)('Redis limits with Redis up', () => {
  it('go to Redis once connected, shared by two connections', async () => {
    const prefix = uniqueKeyPrefix();
    const admin = testRedisClient();
    cleanups.push(async () => {
      await deleteKeysUnder(admin, prefix);
      await admin.quit();
    });
    const a = connect(TEST_REDIS_URL!, prefix, 5000);
    const b = connect(TEST_REDIS_URL!, prefix, 5000);
    await a.backends.next((x) => x === 'redis');
    await b.backends.next((x) => x === 'redis');
    expect(a.lines.items.map((l) => l.msg)).toContain('rate limits: kept in Redis, shared by every instance');
    const spec = { perSecond: 0.001, burst: 2 };
    const onA = a.redis.store.limiter('tool', spec);
    const onB = b.redis.store.limiter('tool', spec);
    expect(await onA.take('alice')).toBe(0);
    expect(await onB.take('alice')).toBe(0);
    expect(await onA.take('alice')).toBeGreaterThan(0);
    expect(await onB.take('alice')).toBeGreaterThan(0);
  });
});

if (!TEST_REDIS_URL) process.stderr.write(`redis-up limit tests skipped: ${REDIS_SKIP_REASON}\n`);
