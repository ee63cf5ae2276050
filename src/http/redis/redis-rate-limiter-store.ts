/**
 * @module redis-rate-limiter-store: token buckets in Redis, shared by every gateway replica. One check is one
 * round trip: a Lua script (sent once, then run by its SHA through ioredis' `defineCommand`) refills the bucket,
 * takes a token or says how long to wait, and sets the key to expire once the bucket would be full again, so idle
 * keys go by themselves. Keys are `mcp-gateway:rl:<scope>:<sha-256 of the key>`: no caller id or tool name is
 * readable in Redis, and a key's length does not depend on what the caller sent.
 *
 * Time: by default the script reads Redis' own clock (`TIME`), so every replica refills by one clock and a skewed
 * host cannot hand out tokens early; an injected `now` (tests) is passed in instead. The in-memory buckets use the
 * same arithmetic, so both pass one contract suite.
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { RateLimiter, RateLimiterStore } from '../rate-limiter.js';

/** The prefix of every key the limiter writes. */
export const RATE_LIMIT_KEY_PREFIX = 'mcp-gateway:rl:';

const COMMAND = 'mcpGatewayTakeToken';

/**
 * KEYS[1] the bucket; ARGV[1] tokens per millisecond, ARGV[2] burst, ARGV[3] now in ms or '' for Redis' clock.
 * Returns 0 when a token was taken, else the milliseconds until one will be there. Fields: tokens, at (ms).
 */
const TAKE_TOKEN_LUA = `
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
if now == nil then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local bucket = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(bucket[1])
local at = tonumber(bucket[2])
if tokens == nil or at == nil then
  tokens = burst
  at = now
elseif now > at then
  tokens = math.min(burst, tokens + (now - at) * rate)
  at = now
end
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
else
  wait = math.max(1, math.ceil((1 - tokens) / rate - 1e-6))
end
redis.call('HSET', KEYS[1], 'tokens', tokens, 'at', at)
redis.call('PEXPIRE', KEYS[1], math.ceil((burst - tokens) / rate) + 1000)
return wait
`;

type TakeToken = (key: string, perMs: string, burst: string, now: string) => Promise<number>;

/** Options for {@link redisRateLimiterStore}. */
export interface RedisRateLimiterStoreOptions {
  /** A connected (or connecting) client; its `commandTimeout` bounds how long a check may wait. */
  readonly client: Redis;
  /** Default {@link RATE_LIMIT_KEY_PREFIX}; tests use one of their own. */
  readonly prefix?: string;
  /** Milliseconds; injected for tests. Absent: Redis' clock. */
  readonly now?: () => number;
}

/** A stable, fixed-length name for `key` that does not reveal it. */
const hashed = (key: string) => createHash('sha256').update(key).digest('base64url');

/** Buckets in Redis; a check rejects when Redis fails or times out (the failover store then answers locally). */
export function redisRateLimiterStore(options: RedisRateLimiterStoreOptions): RateLimiterStore {
  const { client, now } = options;
  const prefix = options.prefix ?? RATE_LIMIT_KEY_PREFIX;
  const commands = client as unknown as Record<string, TakeToken | undefined>;
  if (typeof commands[COMMAND] !== 'function') {
    client.defineCommand(COMMAND, { numberOfKeys: 1, lua: TAKE_TOKEN_LUA });
  }
  const take = (commands[COMMAND] as TakeToken).bind(client);
  return {
    limiter(scope, spec): RateLimiter {
      const perMs = String(spec.perSecond / 1000);
      const burst = String(spec.burst);
      const keyPrefix = `${prefix}${scope}:`;
      return {
        take: (key) => take(keyPrefix + hashed(key), perMs, burst, now ? String(now()) : ''),
      };
    },
  };
}
