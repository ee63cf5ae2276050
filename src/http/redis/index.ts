/**
 * @module redis: rate-limit buckets shared by every gateway replica through Redis. Node only (ioredis): imported
 * by the Node runtime, never by code the edge build loads.
 */
export { RATE_LIMIT_KEY_PREFIX, redisRateLimiterStore } from './redis-rate-limiter-store.js';
export type { RedisRateLimiterStoreOptions } from './redis-rate-limiter-store.js';
export { connectRedisRateLimits } from './redis-rate-limits.js';
export type { RedisRateLimits, RedisRateLimitsOptions } from './redis-rate-limits.js';
