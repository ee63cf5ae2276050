/** @module Tests of the in-memory RateLimiterStore: the shared contract. */
import { runRateLimiterStoreContract } from './rate-limiter-store.contract.js';
import { memoryRateLimiterStore } from './rate-limiter.js';

runRateLimiterStoreContract('memory', async (now) => ({
  store: memoryRateLimiterStore({ now }),
  cleanup: async () => undefined,
}));
