/**
 * @module catalog: the merged, name-ordered tool list of the tool router — every registered tool plus the tools
 * of every adapter with `federate: true` — cached, and rebuilt when the registry changes (this instance's writes,
 * and other instances' through the registry's change feed), when an upstream says its list changed, and when a
 * failed adapter is retried. An adapter whose listing fails or times out is left out (logged, and shown in its
 * status) while everything else is served. Listeners hear of a rebuild only when the result differs.
 *
 * The state sits in three pieces: the registry rows last read ({@link RegistryReader}), each federated adapter's
 * listing and retry schedule (`federated-lists.ts`), and the snapshot being served and rebuilt ({@link ToolCatalog}).
 *
 * Federated adapters with `upstreamAuth` `oauth-user` or `token-exchange` are not in the shared snapshot: each
 * caller's list of them is made with that caller's own credential (`personal-lists.ts`), and
 * `snapshot(principal)` is the shared snapshot with that caller's entries merged in — a snapshot of its own, for
 * that caller only, which everything downstream (visibility, tool policy, toolset scopes, pagination, calls,
 * search) reads as it reads the shared one.
 */
import type { Tool } from '@modelcontextprotocol/server';
import { canRead, isAdmin } from '../auth/index.js';
import type { Principal, UpstreamCredentials } from '../auth/index.js';
import type { Logger } from '../observability/index.js';
import { readAll } from '../registry/index.js';
import type { RegistryChangeFeed, RegistryStore, Registered } from '../registry/index.js';
import type { Hash64 } from '../routing/index.js';
import { perUser } from './federation.js';
import type { Federation } from './federation.js';
import { FederatedLists } from './federated-lists.js';
import { PersonalLists } from './personal-lists.js';
import type { FederationState, UpstreamListing } from './federated-lists.js';
import type { PinningGate } from './pinning-gate.js';
import type { ToolNamer } from './tool-names.js';
import { withAppUris } from './resource-uris.js';

export type { FederationState, UpstreamListing } from './federated-lists.js';

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
  /**
   * Set when no deployer this gateway runs serves the tool's runtime (an `image` tool under the process
   * deployer): the tool is then listed to admins only, as `tool` — its definition with the reason in `_meta`.
   */
  readonly unavailable?: { readonly reason: string; readonly tool: Tool };
  /** 64-bit digest of everything that makes the entry look different to someone (definition and permissions). */
  readonly digest: bigint;
}

/** A federated tool held back by pinning: not in the list, and its calls refused with `reason`. */
export interface HeldTool {
  readonly owner: Registered;
  readonly reason: string;
}

/** One immutable build of the merged list. */
export interface CatalogSnapshot {
  /** Ordered by name, byte order (names are ASCII). */
  readonly entries: readonly CatalogEntry[];
  readonly byName: ReadonlyMap<string, CatalogEntry>;
  /** Federated tools whose changed definitions await approval (`MCP_GATEWAY_TOOL_PINNING=enforce`), by name. */
  readonly held?: ReadonlyMap<string, HeldTool>;
  /** Changes whenever anything in the list changes for anyone. */
  readonly fingerprint: string;
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
  /** Why no configured deployer can run `resource`, or undefined when one can; all run when absent. */
  readonly unavailable?: (resource: Registered<'tool'>) => string | undefined;
  /** Tool-definition pinning of federated tools; nothing is pinned or held when absent. */
  readonly pinning?: PinningGate;
  /** Between an adapter's name and its tool's in federated names (`personalAdapterOf`); `__` by default. */
  readonly separator?: string;
  /**
   * Each caller's credential for `oauth-user` and `token-exchange` adapters (their lists are made with it); none
   * when absent.
   */
  readonly upstreamCredentials?: UpstreamCredentials;
  readonly now?: () => number;
}

/** The `_meta` key that tells an admin why a listed tool cannot be called here. */
export const UNAVAILABLE_META_KEY = 'mcp-gateway/unavailable';

/** The tool router's view of every tool. */
export interface Catalog {
  /**
   * The current merged list (building it, and waiting for adapters listed for the first time). With a
   * principal: the same with that caller's own lists of `oauth-user` and `token-exchange` adapters merged in
   * (never shared).
   */
  snapshot(principal?: Principal): Promise<CatalogSnapshot>;
  /**
   * The `oauth-user` or `token-exchange` adapter a tool name of the caller's would belong to, when the caller may
   * read it and the name is not in their snapshot (so a call can ask them to connect, or say why their token was
   * not exchanged, instead of saying the tool is unknown).
   */
  personalAdapterOf?(name: string, principal: Principal): Registered<'adapter'> | undefined;
  /** The entries `principal` may read, in order. */
  visible(snapshot: CatalogSnapshot, principal: Principal): CatalogEntry[];
  /** A digest of what `principal` sees: changes exactly when their list changes. */
  fingerprintFor(snapshot: CatalogSnapshot, principal: Principal): string;
  /**
   * A digest of the caller's own lists (`oauth-user`, `token-exchange` adapters), which a shared snapshot leaves
   * out: '' when they have none. With the digest of a shared snapshot's list it makes a per-caller fingerprint.
   */
  ownListsFingerprint?(principal: Principal): string;
  /** The registry changed on this instance (a control-plane write): rebuild now. */
  invalidate(): void;
  /** Told of every rebuild whose result differs from the previous one. */
  onChange(listener: (snapshot: CatalogSnapshot) => void): () => void;
  federationStatus(adapter: string): FederationState | undefined;
  close(): void;
}

/** The router's own catalog (not a toolset's view of it): it also tells what each upstream's listing said. */
export interface RouterCatalog extends Catalog {
  /** The cache hint and upstream facts of the adapter's last good listing (this version of it). */
  upstreamListing(adapter: Registered<'adapter'>): UpstreamListing | undefined;
  /** True when some federated upstream marked its last listing `private` (cheap: one look per adapter). */
  anyPrivateListing(): boolean;
  /** Every federated adapter of the last build (those listed per caller too), tools or none. */
  federatedAdapters(): readonly Registered<'adapter'>[];
}

/** Rows read per registry page while loading everything. */
const PAGE = 1000;
/** Coalesces bursts of change notices (a reconcile pass, a script registering many tools) into one rebuild. */
const REBUILD_DELAY_MS = 25;
const MASK_64 = (1n << 64n) - 1n;
/** Distinct role sets remembered per snapshot: a snapshot lives until the next change, and callers are few. */
const MAX_VISIBILITY_ENTRIES = 10_000;

/** The registry rows the catalog is built from. */
interface RegistryView {
  readonly tools: readonly Registered<'tool'>[];
  /** Federated adapters listed once for everyone. */
  readonly federated: readonly Registered<'adapter'>[];
  /** Federated `oauth-user` and `token-exchange` adapters, listed per caller. */
  readonly personal: readonly Registered<'adapter'>[];
  readonly loadedAt: number;
}

/** The registry as the catalog last read it: one read shared by concurrent builds, dropped on a change. */
class RegistryReader {
  private view: Promise<RegistryView> | undefined;
  /** When the last read finished (0 before the first). */
  private loadedAt = 0;

  constructor(
    private readonly store: RegistryStore,
    private readonly maxAgeMs: number,
    private readonly now: () => number,
  ) {}

  /** The cached view, read again first when it is older than the max age. */
  async read(): Promise<RegistryView> {
    const view = await this.cachedOrLoad();
    if (this.now() - view.loadedAt <= this.maxAgeMs) return view;
    this.view = undefined;
    return this.cachedOrLoad();
  }

  /** The registry changed: the next read goes to the store. */
  invalidate(): void {
    this.view = undefined;
  }

  /** True when the registry is due for a read even without a change notice. */
  expired(): boolean {
    return this.now() - this.loadedAt > this.maxAgeMs;
  }

  private cachedOrLoad(): Promise<RegistryView> {
    const cached = this.view;
    if (cached) return cached;
    const loading = Promise.all([
      readAll(this.store, 'tool', { pageSize: PAGE }),
      readAll(this.store, 'adapter', { pageSize: PAGE }),
    ]).then(([tools, adapters]) => {
      this.loadedAt = this.now();
      const federated = adapters.filter((a) => a.spec.federate === true);
      return {
        tools,
        federated: federated.filter((a) => !perUser(a)),
        personal: federated.filter(perUser),
        loadedAt: this.loadedAt,
      };
    });
    this.view = loading;
    // A failed read is not cached: the next build tries again.
    loading.catch(() => {
      if (this.view === loading) this.view = undefined;
    });
    return loading;
  }
}

function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Sum of the entries' digests (order-independent) with their count: equal exactly when the lists are. */
function fingerprintOf(entries: readonly CatalogEntry[]): string {
  let sum = 0n;
  for (const entry of entries) sum = (sum + entry.digest) & MASK_64;
  return `${entries.length.toString(36)}-${sum.toString(36)}`;
}

const roleKey = (principal: Principal) => `${principal.userId}\u0000${principal.roles.join('\u0001')}`;

/** Who sees what of one snapshot, computed once per distinct caller. */
class Visibility {
  private readonly bySnapshot = new WeakMap<CatalogSnapshot, Map<string, CatalogEntry[]>>();

  of(snapshot: CatalogSnapshot, principal: Principal): CatalogEntry[] {
    let byPrincipal = this.bySnapshot.get(snapshot);
    if (!byPrincipal) {
      byPrincipal = new Map();
      this.bySnapshot.set(snapshot, byPrincipal);
    }
    const key = roleKey(principal);
    let found = byPrincipal.get(key);
    if (!found) {
      // Each resource is checked once, however many of its tools are listed.
      const verdicts = new Map<Registered, boolean>();
      const admin = isAdmin(principal);
      found = snapshot.entries.filter((entry) => {
        let ok = verdicts.get(entry.owner);
        if (ok === undefined) {
          // A tool nothing here can run is not offered; an admin sees it, marked, to repair the setup.
          ok = canRead(principal, entry.owner) && (entry.unavailable === undefined || admin);
          verdicts.set(entry.owner, ok);
        }
        return ok;
      });
      if (byPrincipal.size < MAX_VISIBILITY_ENTRIES) byPrincipal.set(key, found);
    }
    return found;
  }
}

/**
 * The catalog: builds snapshots from the {@link RegistryReader} and the {@link FederatedLists}, one build at a
 * time, again whenever either says something changed (coalesced over {@link REBUILD_DELAY_MS}).
 */
class ToolCatalog implements RouterCatalog {
  private readonly registry: RegistryReader;
  private readonly lists: FederatedLists;
  private readonly personal: PersonalLists | undefined;
  /** The `oauth-user` and `token-exchange` adapters of the last build. */
  private personalAdapters: readonly Registered<'adapter'>[] = [];
  /** Every federated adapter of the last build. */
  private federated: readonly Registered<'adapter'>[] = [];
  /** Each caller's merged snapshot, reused while the shared one and their lists are the same. */
  private readonly merged = new Map<
    string,
    { base: CatalogSnapshot; key: string; snapshot: CatalogSnapshot }
  >();
  /** The snapshots made for one caller (their fingerprints hold their own lists already). */
  private readonly callerSnapshots = new WeakSet<CatalogSnapshot>();
  private readonly visibility = new Visibility();
  private readonly listeners = new Set<(snapshot: CatalogSnapshot) => void>();
  private readonly stopWatching: () => void;
  private readonly stopUpstream: () => void;
  private readonly stopPinning: () => void;
  /** The last build. */
  private current: CatalogSnapshot | undefined;
  /** The build running now, which every caller joins. */
  private building: Promise<CatalogSnapshot> | undefined;
  /** Something changed since the last build started. */
  private dirty = true;
  private rebuildTimer: ReturnType<typeof setTimeout> | undefined;
  private closed = false;

  constructor(private readonly options: CatalogOptions) {
    const now = options.now ?? Date.now;
    this.registry = new RegistryReader(options.store, options.registryMaxAgeMs, now);
    this.lists = new FederatedLists({
      federation: options.federation,
      logger: options.logger,
      retryMs: options.retryMs,
      refreshMs: options.refreshMs,
      now,
      onChange: () => this.scheduleRebuild(),
      ...(options.pinning && {
        review: options.pinning.review.bind(options.pinning),
        forgotten: options.pinning.forget.bind(options.pinning),
      }),
    });
    this.personal = options.upstreamCredentials
      ? new PersonalLists({
          federation: options.federation,
          upstreamCredentials: options.upstreamCredentials,
          hash: options.hash,
          logger: options.logger,
          refreshMs: options.refreshMs,
          retryMs: options.retryMs,
          now,
          // Pins are per tool name: each caller's listing is checked against the same pins, and adds to them.
          ...(options.pinning && {
            review: (adapter, tools) => options.pinning!.review(adapter, tools, { partial: true }),
          }),
          onChange: () => this.personalChanged(),
        })
      : undefined;
    this.stopWatching = options.changes.watchChanges(() => this.invalidate());
    this.stopUpstream = options.federation.onListChanged((adapter) => {
      this.personal?.markStale(adapter);
      if (this.lists.markStale(adapter)) this.scheduleRebuild();
    });
    this.stopPinning = options.pinning?.onRelease(() => this.scheduleRebuild()) ?? (() => undefined);
  }

  async snapshot(principal?: Principal): Promise<CatalogSnapshot> {
    const base = await this.sharedSnapshot();
    if (!principal || !this.personal || this.personalAdapters.length === 0) return base;
    const readable = this.personalAdapters.filter((a) => canRead(principal, a));
    if (readable.length === 0) return base;
    const tools = await this.personal.toolsFor(principal, readable);
    const key = `${this.personal.fingerprint(principal.userId)}\u0000${readable.map((a) => `${a.name}.${a.version}`).join(',')}`;
    const cached = this.merged.get(principal.userId);
    if (cached && cached.base === base && cached.key === key) return cached.snapshot;
    const snapshot = this.mergedSnapshot(base, readable, tools);
    this.callerSnapshots.add(snapshot);
    this.merged.delete(principal.userId);
    this.merged.set(principal.userId, { base, key, snapshot });
    if (this.merged.size > MAX_VISIBILITY_ENTRIES) {
      const oldest = this.merged.keys().next().value;
      if (oldest !== undefined) this.merged.delete(oldest);
    }
    return snapshot;
  }

  personalAdapterOf(name: string, principal: Principal): Registered<'adapter'> | undefined {
    return this.personalAdapters.find(
      (a) => name.startsWith(`${a.name}${this.options.separator ?? '__'}`) && canRead(principal, a),
    );
  }

  private sharedSnapshot(): Promise<CatalogSnapshot> {
    if (this.building) return this.building;
    const { current } = this;
    if (current && !this.dirty && !this.lists.anyDue() && !this.registry.expired()) {
      return Promise.resolve(current);
    }
    const started = this.build().finally(() => {
      if (this.building === started) this.building = undefined;
    });
    this.building = started;
    return started;
  }

  visible(snapshot: CatalogSnapshot, principal: Principal): CatalogEntry[] {
    return this.visibility.of(snapshot, principal);
  }

  fingerprintFor(snapshot: CatalogSnapshot, principal: Principal): string {
    const shared = fingerprintOf(this.visible(snapshot, principal));
    // A shared snapshot (what list-change streams are told of): the caller's own lists count too.
    const own = this.callerSnapshots.has(snapshot)
      ? ''
      : (this.personal?.fingerprint(principal.userId) ?? '');
    return own === '' ? shared : `${shared}-${this.options.hash(own).toString(36)}`;
  }

  ownListsFingerprint(principal: Principal): string {
    const own = this.personal?.fingerprint(principal.userId) ?? '';
    return own === '' ? '' : this.options.hash(own).toString(36);
  }

  invalidate(): void {
    this.registry.invalidate();
    this.scheduleRebuild();
  }

  onChange(listener: (snapshot: CatalogSnapshot) => void): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  federationStatus(adapter: string): FederationState | undefined {
    if (this.personalAdapters.some((a) => a.name === adapter)) return { state: 'per-caller', tools: 0 };
    return this.lists.status(adapter);
  }

  upstreamListing(adapter: Registered<'adapter'>): UpstreamListing | undefined {
    return this.lists.listingOf(adapter);
  }

  anyPrivateListing(): boolean {
    return this.lists.anyPrivate();
  }

  federatedAdapters(): readonly Registered<'adapter'>[] {
    return this.federated;
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.rebuildTimer);
    this.lists.close();
    this.stopWatching();
    this.stopUpstream();
    this.stopPinning();
    this.listeners.clear();
  }

  private async build(): Promise<CatalogSnapshot> {
    this.dirty = false;
    const view = await this.registry.read();
    await Promise.all(this.lists.sync(view.federated));
    const kept = new Map(view.personal.map((a) => [a.name, a.version]));
    for (const adapter of this.personalAdapters) {
      if (kept.get(adapter.name) !== adapter.version) this.personal?.forget(adapter.name);
    }
    this.personalAdapters = view.personal;
    this.federated = [...view.federated, ...view.personal];
    const held = new Map<string, HeldTool>();
    const entries = this.entriesOf(view, held);
    const snapshot: CatalogSnapshot = {
      entries,
      byName: new Map(entries.map((e) => [e.name, e])),
      held,
      fingerprint: fingerprintOf(entries),
    };
    const previous = this.current;
    this.current = snapshot;
    if (previous && previous.fingerprint !== snapshot.fingerprint) {
      for (const listener of [...this.listeners]) {
        try {
          listener(snapshot);
        } catch (error) {
          this.options.logger.error({ err: error }, 'tool list change listener failed');
        }
      }
    }
    return snapshot;
  }

  /** The merged list: registered tools, then federated ones; a name taken twice keeps its first owner. */
  private entriesOf(view: RegistryView, held: Map<string, HeldTool>): CatalogEntry[] {
    const entries: CatalogEntry[] = [];
    const seen = new Set<string>();
    const add = (entry: Omit<CatalogEntry, 'digest'>) => this.addEntry(entries, seen, entry);
    for (const resource of view.tools) {
      const tool = resource.spec.toolDefinition.tool as Tool;
      const reason = this.options.unavailable?.(resource);
      add({
        name: tool.name,
        tool,
        owner: resource,
        target: { kind: 'registered', resource },
        ...(reason !== undefined && {
          unavailable: {
            reason,
            tool: { ...tool, _meta: { ...tool._meta, [UNAVAILABLE_META_KEY]: reason } },
          },
        }),
      });
    }
    for (const adapter of view.federated)
      this.addFederated(entries, seen, held, adapter, this.lists.toolsOf(adapter));
    entries.sort((a, b) => compareNames(a.name, b.name));
    return entries;
  }

  /** Adds `entry` with its digest, unless its name is taken. */
  private addEntry(entries: CatalogEntry[], seen: Set<string>, entry: Omit<CatalogEntry, 'digest'>): void {
    if (seen.has(entry.name)) {
      this.options.logger.warn(
        { tool: entry.name },
        'two tools share a name on the tool router; the second is left out',
      );
      return;
    }
    seen.add(entry.name);
    const owner = entry.owner;
    const digest = this.options.hash(
      `${entry.name}\u0000${JSON.stringify(entry.tool)}\u0000${owner.createdBy}\u0000${owner.spec.requiredRoles.join('\u0001')}\u0000${entry.unavailable?.reason ?? ''}`,
    );
    entries.push({ ...entry, digest });
  }

  /** Adds an adapter's listed tools, renamed; a changed definition awaiting approval goes to `held` instead. */
  private addFederated(
    entries: CatalogEntry[],
    seen: Set<string>,
    held: Map<string, HeldTool>,
    adapter: Registered<'adapter'>,
    tools: readonly Tool[] | undefined,
  ): void {
    for (const upstream of tools ?? []) {
      const name = this.options.namer(adapter.name, upstream.name);
      // A changed definition awaiting approval is left out of everything built on the list; calls are refused.
      const reason = this.options.pinning?.heldReason(adapter.name, upstream);
      if (reason !== undefined) {
        held.set(name, { owner: adapter, reason });
        continue;
      }
      this.addEntry(entries, seen, {
        name,
        // Its MCP Apps link names the adapter's `ui://` resource as the router shows it (`resource-uris.ts`).
        tool: withAppUris(adapter.name, { ...upstream, name }),
        owner: adapter,
        target: { kind: 'federated', adapter, upstream },
      });
    }
  }

  /** The shared snapshot with one caller's lists of `adapters` merged in; a shared name keeps its owner. */
  private mergedSnapshot(
    base: CatalogSnapshot,
    adapters: readonly Registered<'adapter'>[],
    tools: ReadonlyMap<string, readonly Tool[]>,
  ): CatalogSnapshot {
    const own: CatalogEntry[] = [];
    const seen = new Set(base.byName.keys());
    const held = new Map(base.held);
    for (const adapter of adapters) this.addFederated(own, seen, held, adapter, tools.get(adapter.name));
    if (own.length === 0 && held.size === (base.held?.size ?? 0)) return base;
    const entries = [...base.entries, ...own].sort((a, b) => compareNames(a.name, b.name));
    return {
      entries,
      byName: new Map(entries.map((e) => [e.name, e])),
      held,
      fingerprint: fingerprintOf(entries),
    };
  }

  /** A caller's own lists changed: their list-change streams are told (the shared list is the same). */
  private personalChanged(): void {
    const current = this.current;
    if (!current || this.closed) return;
    for (const listener of [...this.listeners]) {
      try {
        listener(current);
      } catch (error) {
        this.options.logger.error({ err: error }, 'tool list change listener failed');
      }
    }
  }

  private scheduleRebuild(): void {
    if (this.closed) return;
    this.dirty = true;
    if (this.rebuildTimer) return;
    this.rebuildTimer = setTimeout(() => {
      this.rebuildTimer = undefined;
      if (this.closed) return;
      this.snapshot().then(
        // A notice that arrived during the build it joined needs one more.
        () => {
          if (this.dirty) this.scheduleRebuild();
        },
        (error: unknown) => this.options.logger.warn({ err: error }, 'tool list rebuild failed'),
      );
    }, REBUILD_DELAY_MS);
  }
}

/** Builds the catalog and subscribes it to the registry's change feed and the upstreams' list changes. */
export function createCatalog(options: CatalogOptions): RouterCatalog {
  return new ToolCatalog(options);
}
