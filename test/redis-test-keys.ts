/**
 * @module redis-test-keys: the Redis the tests share (`TEST_REDIS_URL`; `.ci/run` starts one on 127.0.0.1:6379) and
 * a key prefix of each test's own, whose keys are deleted at the end, so tests running at once never meet.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';

/** The server URL, or undefined (tests that need it skip, saying so). */
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL;

/** Why Redis tests are skipped without it. */
export const REDIS_SKIP_REASON = 'set TEST_REDIS_URL to a Redis server URL (e.g. redis://127.0.0.1:6379)';

/** A prefix no other test uses. */
export const uniqueKeyPrefix = (): string => `mcp-gateway-test:${randomUUID()}:`;

/** The keys under `prefix` on `client`. */
export async function keysUnder(client: Redis, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    keys.push(...batch);
    cursor = next;
  } while (cursor !== '0');
  return keys;
}

/** Deletes every key under `prefix`. */
export async function deleteKeysUnder(client: Redis, prefix: string): Promise<void> {
  const keys = await keysUnder(client, prefix);
  if (keys.length > 0) await client.del(...keys);
}

/** A client of the test server (callers `quit` it). */
export const testRedisClient = (): Redis => new Redis(TEST_REDIS_URL!, { maxRetriesPerRequest: 1 });
