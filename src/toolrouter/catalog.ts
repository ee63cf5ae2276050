/**
 * @module catalog: the merged, name-ordered tool list of the tool router — every registered tool plus the tools
 * of every adapter with `federate: true` — cached, and rebuilt when the registry changes (this instance's writes,
 * and other instances' through the registry's change feed), when an upstream says its list changed, and when a
 * failed adapter is retried. An adapter whose listing fails or times out is left out (logged, and shown in its
 * status) while everything else is served. Listeners hear of a rebuild only when the result differs.
 */
import type { Tool } from '@modelcontextprotocol/server';
import { canRead } from '../auth/index.js';
import type { Principal } from '../auth/index.js';
import type { Logger } from '../observability/index.js';
import { asRegistered } from '../registry/index.js';
import type {
  RegistryChangeFeed,
  RegistryStore,
  Registered,
  ResourceKind,
  StoredResource,
} from '../registry/index.js';
import type { Hash64 } from '../routing/index.js';
import { NoReadyReplicaError } from './federation.js';
import type { Federation } from './federation.js';
import type { ToolNamer } from './tool-names.js';

/** Where a listed tool's calls go. */
export type ToolTarget =
  | { readonly kind: 'registered'; readonly resource: Registered<'tool'> }
  | {
      readonly kind: 'federated';
      readonly adapter: Registered<'adapter'>;
      /** The tool as the adapter lists it (its own name). */
      readonly upstream: Tool;
    };

/** One tool of the merged list. */
export interface CatalogEntry {
  /** The name clients see and call. */
  readonly name: string;
  /** The definition clients see (the upstream one renamed, for federated tools). */
  readonly tool: Tool;
  /** The resource whose read permission decides who sees and calls the tool. */
  readonly owner: Registered;
  readonly target: ToolTarget;
  /** 64-bit digest of everything that makes the entry look different to someone (definition and permissions). */
  readonly digest: bigint;
}

/** One immutable build of the merged list. */
export interface CatalogSnapshot {
  /** Ordered by name, byte order (names are ASCII). */
  readonly entries: readonly CatalogEntry[];
  readonly byName: ReadonlyMap<string, CatalogEntry>;
  /** Changes whenever anything in the list changes for anyone. */
  readonly fingerprint: string;
}

/** How the router currently sees a federated adapter's list. */
export interface FederationState {
  readonly state: 'listed' | 'failed' | 'pending';
  readonly tools: number;
  readonly error?: string;
  readonly checkedAt?: string;
}

/** Options for {@link createCatalog}. */
export interface CatalogOptions {
  readonly store: RegistryStore;
  readonly changes: RegistryChangeFeed;
  readonly federation: Federation;
  readonly namer: ToolNamer;
  readonly hash: Hash64;
  readonly logger: Logger;
  /** Longest delay before a failed adapter is listed again (1 s after the first failure, doubling). */
  readonly retryMs: number;
  /** A listed adapter is listed again after this long, for upstreams that never send `list_changed`. */
  readonly refreshMs: number;
  /** Registry reads are reused at most this long even without a change notice (a safety net). */
  readonly registryMaxAgeMs: number;
  readonly now?: () => number;
}

/** The tool router's view of every tool. */
export interface Catalog {
  /** The current merged list (building it, and waiting for adapters listed for the first time). */
  snapshot(): Promise<CatalogSnapshot>;
  /** The entries `principal` may read, in order. */
  visible(snapshot: CatalogSnapshot, principal: Principal): CatalogEntry[];
  /** A digest of what `principal` sees: changes exactly when their list changes. */
  fingerprintFor(snapshot: CatalogSnapshot, principal: Principal): string;
  /** The registry changed on this instance (a control-plane write): rebuild now. */
  invalidate(): void;
  /** Told of every rebuild whose result differs from the previous one. */
  onChange(listener: (snapshot: CatalogSnapshot) => void): () => void;
  federationStatus(adapter: string): FederationState | undefined;
  close(): void;
}

/** Rows read per registry page while loading everything. */
const PAGE = 1000;
/** Coalesces bursts of change notices (a reconcile pass, a script registering many tools) into one rebuild. */
const REBUILD_DELAY_MS = 25;
const MASK_64 = (1n << 64n) - 1n;

interface RegistryView {
  readonly tools: readonly Registered<'tool'>[];
  readonly federated: readonly Registered<'adapter'>[];
  readonly loadedAt: number;
}

interface AdapterList {
  readonly version: number;
  state: 'listed' | 'failed' | 'pending';
  tools: readonly Tool[];
  error?: string;
  checkedAt?: number;
  loading?: Promise<void>;
  /** Set when the upstream announced a change or a refresh is due. */
  stale: boolean;
  /** Failed listings in a row: the retry delay doubles from 1 s up to `retryMs`. */
  failures: number;
  /** When a failed (or not yet ready) adapter is listed again. */
  retryAt: number;
  /** Wakes the catalog at `retryAt`, so a recovered adapter is announced without anyone asking. */
  retryTimer?: ReturnType<typeof setTimeout>;
}

/** First retry delay of a failed adapter; doubled per failure up to `retryMs`. */
const FIRST_RETRY_MS = 1000;

async function readAll<K extends ResourceKind>(store: RegistryStore, kind: K): Promise<Registered<K>[]> {
  const all: Registered<K>[] = [];
  let after: string | undefined;
  for (;;) {
    const page: StoredResource[] = await store.list(kind, {
      limit: PAGE,
      ...(after !== undefined && { after }),
    });
    for (const row of page) all.push(asRegistered(row as StoredResource & { kind: K }));
    const last = page.at(-1);
    if (page.length < PAGE || !last) return all;
    after = last.name;
  }
}

function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Builds the catalog and subscribes it to the registry's change feed and the upstreams' list changes. */
export function createCatalog(options: CatalogOptions): Catalog {
  const { store, federation, namer, hash, logger } = options;
  const now = options.now ?? Date.now;
  const lists = new Map<string, AdapterList>();
  const listeners = new Set<(snapshot: CatalogSnapshot) => void>();
  let view: Promise<RegistryView> | undefined;
  let viewLoadedAt = 0;
  let current: CatalogSnapshot | undefined;
  let building: Promise<CatalogSnapshot> | undefined;
  let dirty = true;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let closed = false;

  const digestOf = (parts: string) => hash(parts);

  function registryView(): Promise<RegistryView> {
    const cached = view;
    if (cached) return cached;
    const loading = Promise.all([readAll(store, 'tool'), readAll(store, 'adapter')]).then(
      ([tools, adapters]) => {
        viewLoadedAt = now();
        return {
          tools,
          federated: adapters.filter((a) => a.spec.federate === true),
          loadedAt: viewLoadedAt,
        };
      },
    );
    view = loading;
    loading.catch(() => {
      if (view === loading) view = undefined;
    });
    return loading;
  }

  function load(adapter: Registered<'adapter'>, list: AdapterList): Promise<void> {
    list.stale = false;
    const loading = federation.listTools(adapter).then(
      (tools) => {
        if (lists.get(adapter.name) !== list) return;
        list.state = 'listed';
        list.tools = tools;
        list.error = undefined;
        list.checkedAt = now();
        list.failures = 0;
        logger.debug({ adapter: adapter.name, tools: tools.length }, 'federated adapter listed');
      },
      (error: unknown) => {
        if (lists.get(adapter.name) !== list) return;
        const message = error instanceof Error ? error.message : String(error);
        const unready = error instanceof NoReadyReplicaError;
        // A list that worked before stays served through a failed refresh; otherwise the adapter is left out,
        // `pending` while it has no ready replica (just registered, starting), `failed` when it was tried.
        if (list.state !== 'listed') {
          list.state = unready ? 'pending' : 'failed';
          list.tools = [];
        }
        list.error = message;
        list.checkedAt = now();
        list.failures++;
        const delay = Math.min(options.retryMs, FIRST_RETRY_MS * 2 ** (list.failures - 1));
        list.retryAt = list.checkedAt + delay;
        clearTimeout(list.retryTimer);
        list.retryTimer = setTimeout(() => scheduleRebuild(), delay);
        (list.retryTimer as { unref?: () => void }).unref?.();
        if (unready) logger.debug({ adapter: adapter.name }, 'federated adapter has no ready replica yet');
        else
          logger.warn({ adapter: adapter.name, err: message }, 'federated adapter left out of the tool list');
      },
    );
    list.loading = loading.finally(() => {
      list.loading = undefined;
    });
    // Background loads (refresh, retry) change the list when they finish.
    void list.loading.then(() => scheduleRebuild());
    return list.loading;
  }

  function forgetList(name: string) {
    const list = lists.get(name);
    if (list) clearTimeout(list.retryTimer);
    lists.delete(name);
    federation.forget(name);
  }

  /** Starts what is due for each federated adapter; returns the first listings a build must wait for. */
  function startLoads(federated: readonly Registered<'adapter'>[]): Promise<void>[] {
    const waits: Promise<void>[] = [];
    const names = new Set(federated.map((a) => a.name));
    for (const name of [...lists.keys()]) if (!names.has(name)) forgetList(name);
    const t = now();
    for (const adapter of federated) {
      let list = lists.get(adapter.name);
      if (list && list.version !== adapter.version) {
        forgetList(adapter.name);
        list = undefined;
      }
      if (!list) {
        list = {
          version: adapter.version,
          state: 'pending',
          tools: [],
          stale: false,
          failures: 0,
          retryAt: 0,
        };
        lists.set(adapter.name, list);
        waits.push(load(adapter, list));
        continue;
      }
      if (list.loading) {
        if (list.state === 'pending') waits.push(list.loading);
        continue;
      }
      const age = t - (list.checkedAt ?? 0);
      const due =
        list.stale ||
        (list.state !== 'listed' && t >= list.retryAt) ||
        (list.state === 'listed' && age >= options.refreshMs);
      if (due) void load(adapter, list);
    }
    return waits;
  }

  function entriesOf(v: RegistryView): CatalogEntry[] {
    const entries: CatalogEntry[] = [];
    const seen = new Set<string>();
    const add = (entry: Omit<CatalogEntry, 'digest'>) => {
      if (seen.has(entry.name)) {
        logger.warn(
          { tool: entry.name },
          'two tools share a name on the tool router; the second is left out',
        );
        return;
      }
      seen.add(entry.name);
      const owner = entry.owner;
      const digest = digestOf(
        `${entry.name}\u0000${JSON.stringify(entry.tool)}\u0000${owner.createdBy}\u0000${owner.spec.requiredRoles.join('\u0001')}`,
      );
      entries.push({ ...entry, digest });
    };
    for (const resource of v.tools) {
      const tool = resource.spec.toolDefinition.tool as Tool;
      add({ name: tool.name, tool, owner: resource, target: { kind: 'registered', resource } });
    }
    for (const adapter of v.federated) {
      const list = lists.get(adapter.name);
      if (!list || list.version !== adapter.version) continue;
      for (const upstream of list.tools) {
        const name = namer(adapter.name, upstream.name);
        add({
          name,
          tool: { ...upstream, name },
          owner: adapter,
          target: { kind: 'federated', adapter, upstream },
        });
      }
    }
    entries.sort((a, b) => compareNames(a.name, b.name));
    return entries;
  }

  function fingerprintOf(entries: readonly CatalogEntry[]): string {
    let sum = 0n;
    for (const entry of entries) sum = (sum + entry.digest) & MASK_64;
    return `${entries.length.toString(36)}-${sum.toString(36)}`;
  }

  async function build(): Promise<CatalogSnapshot> {
    dirty = false;
    let v = await registryView();
    if (now() - v.loadedAt > options.registryMaxAgeMs) {
      view = undefined;
      v = await registryView();
    }
    await Promise.all(startLoads(v.federated));
    const entries = entriesOf(v);
    const snapshot: CatalogSnapshot = {
      entries,
      byName: new Map(entries.map((e) => [e.name, e])),
      fingerprint: fingerprintOf(entries),
    };
    const previous = current;
    current = snapshot;
    if (previous && previous.fingerprint !== snapshot.fingerprint) {
      for (const listener of [...listeners]) {
        try {
          listener(snapshot);
        } catch (error) {
          logger.error({ err: error }, 'tool list change listener failed');
        }
      }
    }
    return snapshot;
  }

  function snapshot(): Promise<CatalogSnapshot> {
    if (building) return building;
    const fresh =
      current && !dirty && ![...lists.values()].some((l) => l.stale && !l.loading) && !needsTimedReload();
    if (fresh && current) return Promise.resolve(current);
    const started = build().finally(() => {
      if (building === started) building = undefined;
    });
    building = started;
    return started;
  }

  /** A refresh, a retry or the registry safety net has come due. */
  function needsTimedReload(): boolean {
    const t = now();
    if (t - viewLoadedAt > options.registryMaxAgeMs) return true;
    for (const list of lists.values()) {
      if (list.loading) continue;
      const age = t - (list.checkedAt ?? 0);
      if (list.state !== 'listed' && t >= list.retryAt) return true;
      if (list.state === 'listed' && age >= options.refreshMs) return true;
    }
    return false;
  }

  function scheduleRebuild() {
    if (closed) return;
    dirty = true;
    if (timer) return;
    timer = setTimeout(() => {
      timer = undefined;
      if (closed) return;
      snapshot().then(
        // A notice that arrived during the build it joined needs one more.
        () => {
          if (dirty) scheduleRebuild();
        },
        (error: unknown) => logger.warn({ err: error }, 'tool list rebuild failed'),
      );
    }, REBUILD_DELAY_MS);
  }

  function invalidate() {
    view = undefined;
    scheduleRebuild();
  }

  const stopWatching = options.changes.watchChanges(() => invalidate());
  const stopUpstream = federation.onListChanged((adapter) => {
    const list = lists.get(adapter);
    if (!list) return;
    list.stale = true;
    scheduleRebuild();
  });

  const roleKey = (principal: Principal) => `${principal.userId}\u0000${principal.roles.join('\u0001')}`;
  const visibleCache = new WeakMap<CatalogSnapshot, Map<string, CatalogEntry[]>>();

  function visible(snap: CatalogSnapshot, principal: Principal): CatalogEntry[] {
    let byPrincipal = visibleCache.get(snap);
    if (!byPrincipal) {
      byPrincipal = new Map();
      visibleCache.set(snap, byPrincipal);
    }
    const key = roleKey(principal);
    let found = byPrincipal.get(key);
    if (!found) {
      // Each resource is checked once, however many of its tools are listed.
      const verdicts = new Map<Registered, boolean>();
      found = snap.entries.filter((entry) => {
        let ok = verdicts.get(entry.owner);
        if (ok === undefined) {
          ok = canRead(principal, entry.owner);
          verdicts.set(entry.owner, ok);
        }
        return ok;
      });
      // Bounded: a snapshot lives until the next change, and callers are few distinct role sets.
      if (byPrincipal.size < 10_000) byPrincipal.set(key, found);
    }
    return found;
  }

  return {
    snapshot,
    visible,
    fingerprintFor: (snap, principal) => fingerprintOf(visible(snap, principal)),
    invalidate,
    onChange(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    federationStatus(adapter) {
      const list = lists.get(adapter);
      if (!list) return undefined;
      return {
        state: list.state,
        tools: list.tools.length,
        ...(list.error !== undefined && list.state !== 'listed' && { error: list.error }),
        ...(list.checkedAt !== undefined && { checkedAt: new Date(list.checkedAt).toISOString() }),
      };
    },
    close() {
      closed = true;
      clearTimeout(timer);
      for (const list of lists.values()) clearTimeout(list.retryTimer);
      stopWatching();
      stopUpstream();
      listeners.clear();
    },
  };
}
