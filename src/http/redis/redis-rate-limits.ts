/**
 * @module redis-rate-limits: connects the Redis limiter (`MCP_GATEWAY_REDIS_URL`) and puts this instance's buckets
 * behind it. The client never queues a check while disconnected and bounds each call by a short timeout, so a dead
 * or slow Redis costs a request nothing: the check answers from the local buckets. ioredis reconnects with its
 * backoff; the failover store logs once per outage and reports the backend in use.
 */
import { Redis } from 'ioredis';
import type { GatewayMetrics, Logger } from '../../observability/index.js';
import { createFailoverRateLimiterStore } from '../failover-rate-limiter-store.js';
import type { FailoverRateLimiterStore } from '../failover-rate-limiter-store.js';
import type { RateLimiterStore } from '../rate-limiter.js';
import { redisRateLimiterStore } from './redis-rate-limiter-store.js';

/** Options for {@link connectRedisRateLimits}. */
export interface RedisRateLimitsOptions {
  /** `redis://` or `rediss://` (TLS); validated by the configuration. Never logged: it may hold a password. */
  readonly url: string;
  /** Longest a check waits for Redis before it is answered locally, in ms. */
  readonly timeoutMs: number;
  /** This instance's buckets, used while Redis is away. */
  readonly local: RateLimiterStore;
  readonly logger: Logger;
  readonly metrics?: GatewayMetrics;
  /** Key prefix (tests); default `mcp-gateway:rl:`. */
  readonly prefix?: string;
}

/** The limiter store to give the app, and its connection's end. */
export interface RedisRateLimits {
  readonly store: FailoverRateLimiterStore;
  close(): Promise<void>;
}

/** Starts connecting (it does not wait for Redis: until it is ready, limits hold per instance). */
export function connectRedisRateLimits(options: RedisRateLimitsOptions): RedisRateLimits {
  const client = new Redis(options.url, {
    commandTimeout: options.timeoutMs,
    // A check while disconnected fails at once rather than waiting in a queue for the reconnect.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    // Checks go to the local buckets while connecting, so a patient connect costs requests nothing.
    connectTimeout: 5000,
  });
  const store = createFailoverRateLimiterStore({
    shared: redisRateLimiterStore({ client, prefix: options.prefix }),
    local: options.local,
    probe: () => client.ping(),
    logger: options.logger,
    onBackend: (backend) => options.metrics?.rateLimitBackend(backend),
  });
  client.on('ready', () => store.up());
  // ioredis emits `error` on every failed reconnect; the store logs only the first of an outage.
  client.on('error', (err: Error) => store.down(err));
  client.on('close', () => store.down(new Error('connection closed')));
  return {
    store,
    async close() {
      client.removeAllListeners('close');
      client.disconnect();
    },
  };
}
