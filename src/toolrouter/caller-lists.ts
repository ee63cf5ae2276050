/**
 * @module caller-lists: federated tool lists that are private to who asks (2026-07-28 caching, SEP-2549).
 *
 * The catalog lists every federated adapter once, as the router itself, and shares that list among callers.
 * That is right for a list its upstream marks `cacheScope: "public"` (or, on 2025-era upstreams, does not mark:
 * they have no notion of it, and the router has always shared their lists). An upstream that answers
 * `cacheScope: "private"` says its list depends on the authorization context — the router's own view is not
 * what a caller may see. For such an adapter each caller's list is asked of the upstream as that caller (their
 * identity headers, never their token), kept per (adapter version, caller) for as long as the answer is fresh
 * (its `ttlMs` when positive, else `refreshMs`, and until the upstream announces a change), and the caller is
 * offered only the adapter's tools that list names: in `tools/list`, in search and in `tools/call` alike.
 *
 * A caller's list narrows the shared one, it never adds to it: a tool the upstream lists to a caller but not to
 * the router is not offered (its definition was never reviewed against its pin, nor named), and the definition
 * shown is the shared, reviewed one. A caller whose list cannot be had (the upstream fails, times out) gets none
 * of that adapter's tools — nothing of another's list is ever served in its place.
 */
import type { Principal } from '../auth/index.js';
import type { Logger } from '../observability/index.js';
import type { Registered } from '../registry/index.js';
import type { CatalogEntry, RouterCatalog } from './catalog.js';
import { freshForMs } from './federated-lists.js';
import type { Federation } from './federation.js';
import { realEntryOf } from './toolset-scope.js';

/** Options for {@link createCallerLists}. */
export interface CallerListsOptions {
  readonly federation: Pick<Federation, 'listToolsFor' | 'onListChanged'>;
  readonly catalog: Pick<RouterCatalog, 'upstreamListing' | 'anyPrivateListing'>;
  /** Freshness of a caller's list that came without a positive `ttlMs`. */
  readonly refreshMs: number;
  readonly logger: Logger;
  readonly now?: () => number;
  /** At most this many caller lists are kept (the oldest goes first); default 10,000. */
  readonly maxEntries?: number;
}

/** Callers' private lists of federated adapters. */
export interface CallerLists {
  /**
   * `entries` (of a snapshot, maybe a toolset's) without the tools of `private` upstreams that do not list them
   * to `principal`; `entries` itself when no entry is of such an upstream.
   */
  narrow(entries: readonly CatalogEntry[], principal: Principal): Promise<readonly CatalogEntry[]>;
  /** Whether `principal` may see and call `entry`: false only for a tool its private upstream does not list them. */
  allows(entry: CatalogEntry, principal: Principal): Promise<boolean>;
  close(): void;
}

/** One caller's list of one adapter. */
interface CallerList {
  /** Upstream tool names listed to the caller; undefined while the first listing runs or after it failed. */
  names: ReadonlySet<string> | undefined;
  expiresAt: number;
  loading: Promise<void> | undefined;
}

const callerKey = (principal: Principal) =>
  JSON.stringify([principal.userId, principal.roles, principal.scopes ?? []]);

/** Builds the store of callers' private lists; the upstreams' `list_changed` drops an adapter's. */
export function createCallerLists(options: CallerListsOptions): CallerLists {
  const { federation, catalog, logger } = options;
  const now = options.now ?? Date.now;
  const maxEntries = options.maxEntries ?? 10_000;
  /** By adapter name, then `${version}\0${caller}`. */
  const lists = new Map<string, Map<string, CallerList>>();
  let size = 0;

  const stopListening = federation.onListChanged((adapter) => {
    const dropped = lists.get(adapter);
    if (!dropped) return;
    size -= dropped.size;
    lists.delete(adapter);
  });

  function privateAdapterOf(entry: CatalogEntry): Registered<'adapter'> | undefined {
    const { target } = realEntryOf(entry);
    if (target.kind !== 'federated') return undefined;
    return catalog.upstreamListing(target.adapter)?.cacheScope === 'private' ? target.adapter : undefined;
  }

  function evictOldest() {
    for (const [adapter, byCaller] of lists) {
      const first = byCaller.keys().next();
      if (first.done) continue;
      byCaller.delete(first.value);
      size--;
      if (byCaller.size === 0) lists.delete(adapter);
      return;
    }
  }

  /** The upstream tool names `adapter` lists to `principal` (listing it when stale), or undefined. */
  async function namesFor(
    adapter: Registered<'adapter'>,
    principal: Principal,
  ): Promise<ReadonlySet<string> | undefined> {
    let byCaller = lists.get(adapter.name);
    if (!byCaller) {
      byCaller = new Map();
      lists.set(adapter.name, byCaller);
    }
    const key = `${adapter.version}\u0000${callerKey(principal)}`;
    let list = byCaller.get(key);
    if (list && !list.loading && now() >= list.expiresAt) {
      byCaller.delete(key);
      size--;
      list = undefined;
    }
    if (!list) {
      if (size >= maxEntries) evictOldest();
      const fresh: CallerList = { names: undefined, expiresAt: 0, loading: undefined };
      const owner = byCaller;
      fresh.loading = federation.listToolsFor(adapter, principal).then(
        (listing) => {
          fresh.names = new Set(listing.tools.map((t) => t.name));
          fresh.expiresAt = now() + freshForMs(listing, options.refreshMs);
        },
        (error: unknown) => {
          // Not kept: the caller's next request asks again; meanwhile none of the adapter's tools are theirs.
          fresh.names = undefined;
          if (owner.get(key) === fresh) {
            owner.delete(key);
            size--;
          }
          logger.warn(
            { adapter: adapter.name, err: error instanceof Error ? error.message : String(error) },
            'private federated list could not be had for a caller; its tools are left out for them',
          );
        },
      );
      void fresh.loading.finally(() => {
        fresh.loading = undefined;
      });
      byCaller.set(key, fresh);
      size++;
      list = fresh;
    }
    if (list.loading) await list.loading;
    return list.names;
  }

  return {
    async narrow(entries, principal) {
      // The common case, no upstream marking its list private, costs one look per adapter, not per entry.
      if (!catalog.anyPrivateListing()) return entries;
      const adapters = new Map<string, Registered<'adapter'>>();
      for (const entry of entries) {
        const adapter = privateAdapterOf(entry);
        if (adapter) adapters.set(adapter.name, adapter);
      }
      if (adapters.size === 0) return entries;
      const names = new Map<string, ReadonlySet<string> | undefined>();
      await Promise.all(
        [...adapters.values()].map(async (adapter) =>
          names.set(adapter.name, await namesFor(adapter, principal)),
        ),
      );
      return entries.filter((entry) => {
        const real = realEntryOf(entry);
        if (real.target.kind !== 'federated' || !adapters.has(real.target.adapter.name)) return true;
        return names.get(real.target.adapter.name)?.has(real.target.upstream.name) === true;
      });
    },

    async allows(entry, principal) {
      if (!catalog.anyPrivateListing()) return true;
      const adapter = privateAdapterOf(entry);
      if (!adapter) return true;
      const real = realEntryOf(entry);
      if (real.target.kind !== 'federated') return true;
      return (await namesFor(adapter, principal))?.has(real.target.upstream.name) === true;
    },

    close() {
      stopListening();
      lists.clear();
      size = 0;
    },
  };
}
