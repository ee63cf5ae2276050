/**
 * @module federated-lists: the catalog's per-adapter view of federated tool lists — what each federated adapter
 * last listed, whether a listing is running, and when it is due again (a failure is retried after 1 s, doubling
 * up to `retryMs`; a good list is refreshed when it goes stale, or at once when the upstream announces a change).
 * A list that worked stays served through a failed refresh. Listings run in the background; the catalog waits
 * only for an adapter's first one.
 *
 * Staleness follows the upstream's cache hint (2026-07-28, SEP-2549): a list it says is fresh for `ttlMs > 0`
 * is listed again after that long (at most a day, as the SDK client caps it); one without a hint (2025-era
 * upstreams) or with `ttlMs: 0` ("no freshness promised") after `refreshMs` — and any of them as soon as it
 * announces a change, which the router's listing client always hears. The hint's `cacheScope` is kept for the
 * router (`caller-lists.ts`): a `private` list is only the router's own view, never served to callers as it is.
 */
import type { Tool } from '@modelcontextprotocol/server';
import type { Logger } from '../observability/index.js';
import type { Registered } from '../registry/index.js';
import { NoReadyReplicaError } from './federation.js';
import type { Federation, UpstreamToolList } from './federation.js';

/** How the router currently sees a federated adapter's list. */
export interface FederationState {
  /**
   * `per-caller`: an `oauth-user` or `token-exchange` adapter, listed to each caller with their own credential
   * (`personal-lists.ts`).
   */
  readonly state: 'listed' | 'failed' | 'pending' | 'per-caller';
  readonly tools: number;
  readonly error?: string;
  readonly checkedAt?: string;
}

/** Options for {@link FederatedLists}. */
export interface FederatedListsOptions {
  readonly federation: Federation;
  readonly logger: Logger;
  /** Longest delay before a failed adapter is listed again. */
  readonly retryMs: number;
  /** A listed adapter is listed again after this long. */
  readonly refreshMs: number;
  readonly now: () => number;
  /** Told when a listing ended or a retry came due: the merged list may have changed. */
  readonly onChange: () => void;
  /**
   * Checks each fresh listing before it is served (tool-definition pinning); a rejection fails the listing like
   * an unreachable upstream. Nothing is checked when absent.
   */
  readonly review?: (adapter: Registered<'adapter'>, tools: readonly Tool[]) => Promise<void>;
  /** Told when an adapter's listing is dropped (removed, or its spec changed). */
  readonly forgotten?: (adapter: string) => void;
}

/** What the last good listing of an adapter said besides its tools. */
export type UpstreamListing = Omit<UpstreamToolList, 'tools'>;

/** The longest freshness an upstream's `ttlMs` buys (the SDK client's own cap, `MAX_CACHE_TTL_MS`). */
export const MAX_UPSTREAM_TTL_MS = 86_400_000;

/** How long a listing with this hint is fresh: its `ttlMs` when positive (capped), `refreshMs` otherwise. */
export function freshForMs(listing: Pick<UpstreamListing, 'ttlMs'> | undefined, refreshMs: number): number {
  const ttl = listing?.ttlMs;
  return ttl !== undefined && ttl > 0 ? Math.min(ttl, MAX_UPSTREAM_TTL_MS) : refreshMs;
}

/** First retry delay of a failed adapter; doubled per failure up to `retryMs`. */
const FIRST_RETRY_MS = 1000;

/** One federated adapter's listing, for one registry version of it. */
interface AdapterList {
  readonly version: number;
  state: FederationState['state'];
  tools: readonly Tool[];
  /** The last good listing's hint and upstream facts. */
  listing?: UpstreamListing;
  error?: string;
  checkedAt?: number;
  loading?: Promise<void>;
  /** Set when the upstream announced a change. */
  stale: boolean;
  /** Failed listings in a row: the retry delay doubles from 1 s up to `retryMs`. */
  failures: number;
  /** When a failed (or not yet ready) adapter is listed again. */
  retryAt: number;
  /** Wakes the catalog at `retryAt`, so a recovered adapter is announced without anyone asking. */
  retryTimer?: ReturnType<typeof setTimeout>;
}

/** The listings of every federated adapter the catalog knows of. */
export class FederatedLists {
  private readonly lists = new Map<string, AdapterList>();

  constructor(private readonly options: FederatedListsOptions) {}

  /**
   * Brings the listings in line with the federated adapters the registry holds: forgets removed or changed
   * ones, starts what is due, and returns the first listings a build must wait for.
   */
  sync(federated: readonly Registered<'adapter'>[]): Promise<void>[] {
    const waits: Promise<void>[] = [];
    const names = new Set(federated.map((a) => a.name));
    for (const name of [...this.lists.keys()]) if (!names.has(name)) this.forget(name);
    const t = this.options.now();
    for (const adapter of federated) {
      let list = this.lists.get(adapter.name);
      if (list && list.version !== adapter.version) {
        this.forget(adapter.name);
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
        this.lists.set(adapter.name, list);
        waits.push(this.load(adapter, list));
        continue;
      }
      if (list.loading) {
        if (list.state === 'pending') waits.push(list.loading);
        continue;
      }
      if (this.isDue(list, t)) void this.load(adapter, list);
    }
    return waits;
  }

  /** The tools `adapter` lists, when its listing is of this version of it. */
  toolsOf(adapter: Registered<'adapter'>): readonly Tool[] | undefined {
    const list = this.lists.get(adapter.name);
    return list && list.version === adapter.version ? list.tools : undefined;
  }

  /** What the last good listing of `adapter` (this version of it) said besides its tools. */
  listingOf(adapter: Registered<'adapter'>): UpstreamListing | undefined {
    const list = this.lists.get(adapter.name);
    return list && list.version === adapter.version ? list.listing : undefined;
  }

  /** True when some adapter's last good listing was marked `private` by its upstream. */
  anyPrivate(): boolean {
    for (const list of this.lists.values()) if (list.listing?.cacheScope === 'private') return true;
    return false;
  }

  /** The upstream announced a change: list it again. False when the adapter is not federated here. */
  markStale(name: string): boolean {
    const list = this.lists.get(name);
    if (!list) return false;
    list.stale = true;
    return true;
  }

  /** True when some adapter is due for a listing (announced, retry or refresh) that is not running yet. */
  anyDue(): boolean {
    const t = this.options.now();
    for (const list of this.lists.values()) if (this.isDue(list, t)) return true;
    return false;
  }

  /** What an adapter's status shows of its federation, or undefined when it is not federated here. */
  status(name: string): FederationState | undefined {
    const list = this.lists.get(name);
    if (!list) return undefined;
    return {
      state: list.state,
      tools: list.tools.length,
      ...(list.error !== undefined && list.state !== 'listed' && { error: list.error }),
      ...(list.checkedAt !== undefined && { checkedAt: new Date(list.checkedAt).toISOString() }),
    };
  }

  /** Stops the retry timers. */
  close(): void {
    for (const list of this.lists.values()) clearTimeout(list.retryTimer);
  }

  private isDue(list: AdapterList, t: number): boolean {
    if (list.loading) return false;
    if (list.stale) return true;
    if (list.state !== 'listed') return t >= list.retryAt;
    return t - (list.checkedAt ?? 0) >= freshForMs(list.listing, this.options.refreshMs);
  }

  private forget(name: string): void {
    const list = this.lists.get(name);
    if (list) clearTimeout(list.retryTimer);
    this.lists.delete(name);
    this.options.federation.forget(name);
    this.options.forgotten?.(name);
  }

  private load(adapter: Registered<'adapter'>, list: AdapterList): Promise<void> {
    const { federation, logger, now } = this.options;
    list.stale = false;
    const review = this.options.review;
    const listed = review
      ? federation.listTools(adapter).then(async (listing) => {
          await review(adapter, listing.tools);
          return listing;
        })
      : federation.listTools(adapter);
    const loading = listed.then(
      ({ tools, ...listing }) => {
        if (this.lists.get(adapter.name) !== list) return;
        list.state = 'listed';
        list.tools = tools;
        list.listing = listing;
        list.error = undefined;
        list.checkedAt = now();
        list.failures = 0;
        logger.debug({ adapter: adapter.name, tools: tools.length }, 'federated adapter listed');
      },
      (error: unknown) => {
        if (this.lists.get(adapter.name) !== list) return;
        this.failed(adapter, list, error);
      },
    );
    list.loading = loading.finally(() => {
      list.loading = undefined;
    });
    // Background loads (refresh, retry) change the list when they finish.
    void list.loading.then(() => this.options.onChange());
    return list.loading;
  }

  private failed(adapter: Registered<'adapter'>, list: AdapterList, error: unknown): void {
    const { logger, now } = this.options;
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
    const delay = Math.min(this.options.retryMs, FIRST_RETRY_MS * 2 ** (list.failures - 1));
    list.retryAt = list.checkedAt + delay;
    clearTimeout(list.retryTimer);
    list.retryTimer = setTimeout(() => this.options.onChange(), delay);
    (list.retryTimer as { unref?: () => void }).unref?.();
    if (unready) logger.debug({ adapter: adapter.name }, 'federated adapter has no ready replica yet');
    else logger.warn({ adapter: adapter.name, err: message }, 'federated adapter left out of the tool list');
  }
}
