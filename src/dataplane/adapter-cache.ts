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

type Found = Registered<'adapter'> | undefined;

/** Cached adapter lookups. */
export interface AdapterCache {
  /** The adapter, synchronously once a read settled (no promise hop on the per-request path). */
  get(name: string): Found | Promise<Found>;
  invalidate(name: string): void;
}

/** Builds the cache. Concurrent misses for one name share a single registry read. */
export function createAdapterCache(options: AdapterCacheOptions): AdapterCache {
  const now = options.now ?? Date.now;
  const entries = new Map<string, { value: Found | Promise<Found>; expires: number }>();
  return {
    get(name) {
      const hit = entries.get(name);
      if (hit && hit.expires > now()) return hit.value;
      const entry: { value: Found | Promise<Found>; expires: number } = {
        value: undefined,
        expires: now() + options.ttlMs,
      };
      const read = options.store.get('adapter', name).then(
        (row) => {
          const found = row ? asRegistered(row as typeof row & { kind: 'adapter' }) : undefined;
          entry.value = found;
          return found;
        },
        (err: unknown) => {
          if (entries.get(name) === entry) entries.delete(name);
          throw err;
        },
      );
      entry.value = read;
      entries.set(name, entry);
      return read;
    },
    invalidate(name) {
      entries.delete(name);
    },
  };
}
