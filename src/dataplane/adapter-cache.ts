/**
 * @module AdapterCache: registry reads for the per-request path. A short TTL bounds how stale another gateway
 * instance's view can be; writes on this instance invalidate at once.
 */
import type { Registered, RegistryStore } from '../registry/index.js';
import { asRegistered } from '../registry/index.js';

/** Options for {@link createAdapterCache}. */
export interface AdapterCacheOptions {
  readonly store: RegistryStore;
  /** How long an entry (also "no such adapter") is reused. */
  readonly ttlMs: number;
  readonly now?: () => number;
}

/** Cached adapter lookups. */
export interface AdapterCache {
  get(name: string): Promise<Registered<'adapter'> | undefined>;
  invalidate(name: string): void;
}

/** Builds the cache. Concurrent misses for one name share a single registry read. */
export function createAdapterCache(options: AdapterCacheOptions): AdapterCache {
  const now = options.now ?? Date.now;
  const entries = new Map<string, { value: Promise<Registered<'adapter'> | undefined>; expires: number }>();
  return {
    get(name) {
      const hit = entries.get(name);
      if (hit && hit.expires > now()) return hit.value;
      const value = options.store.get('adapter', name).then(
        (row) => (row ? asRegistered(row as typeof row & { kind: 'adapter' }) : undefined),
        (err: unknown) => {
          entries.delete(name);
          throw err;
        },
      );
      entries.set(name, { value, expires: now() + options.ttlMs });
      return value;
    },
    invalidate(name) {
      entries.delete(name);
    },
  };
}
