/**
 * @module personal-lists: the tool lists of `oauth-user` and `token-exchange` federated adapters, one per caller.
 * Such an upstream answers each user with a token of that user's (their own grant, or one exchanged from their
 * bearer token), so what it lists may differ per user, and the router's own identity (which lists every other
 * federated adapter once for everyone) has neither a grant nor a token to exchange. Each caller's list is made
 * with their own credential, through their own pooled client, and kept for that caller only.
 *
 * A list is used again while it is fresh and made with the same grant: every read first asks for the caller's
 * credential (the vault's row, so a grant revoked or connected on any instance counts at once), and a list whose
 * token hash differs (refreshed, reconnected, exchanged again) or which is older than `refreshMs`, or whose
 * upstream announced a change, is listed again in the background while the previous one of the same caller is
 * served. A caller with no usable grant (or whose token the authorization server will not exchange) gets no tools
 * of the adapter (and their cached list is dropped). The token itself is never kept here, only its 64-bit hash.
 */
import type { Tool } from '@modelcontextprotocol/server';
import { UpstreamCredentialError } from '../auth/index.js';
import type { Principal, UpstreamCredentials } from '../auth/index.js';
import type { Logger } from '../observability/index.js';
import type { Registered } from '../registry/index.js';
import type { Hash64 } from '../routing/index.js';
import type { Federation } from './federation.js';

/** Options for {@link PersonalLists}. */
export interface PersonalListsOptions {
  readonly federation: Federation;
  readonly upstreamCredentials: UpstreamCredentials;
  readonly hash: Hash64;
  readonly logger: Logger;
  /** A caller's list is made again after this long. */
  readonly refreshMs: number;
  /** A failed listing is tried again after this long (at most `refreshMs`). */
  readonly retryMs: number;
  readonly now: () => number;
  /** Checks each fresh listing before it is served (tool-definition pinning), as for shared listings. */
  readonly review?: (adapter: Registered<'adapter'>, tools: readonly Tool[]) => Promise<void>;
  /** Told when a caller's lists changed (a background listing ended differently, a grant went away). */
  readonly onChange: (userId: string) => void;
  /** Callers remembered at most; the least recently seen go first. Default 10 000. */
  readonly maxCallers?: number;
}

/** One caller's list of one adapter. */
interface PersonalList {
  /** The adapter's registry version it was listed for. */
  readonly version: number;
  /** Hash of the credential it was listed with. */
  grant: bigint;
  tools: readonly Tool[];
  /** Digest of `tools`, for the caller's list-change fingerprint. */
  digest: string;
  /** When it is due for a listing again. */
  dueAt: number;
  stale: boolean;
  loading?: Promise<void>;
}

/** Every caller's lists of the `oauth-user` and `token-exchange` adapters. */
export class PersonalLists {
  /** userId → adapter name → list; in order of last use. */
  private readonly byCaller = new Map<string, Map<string, PersonalList>>();
  private readonly maxCallers: number;

  constructor(private readonly options: PersonalListsOptions) {
    this.maxCallers = options.maxCallers ?? 10_000;
  }

  /**
   * The tools each of `adapters` lists to `principal` now (empty for an adapter the caller has no grant for, or
   * whose first listing failed). Waits only for a caller's first listing of an adapter.
   */
  async toolsFor(
    principal: Principal,
    adapters: readonly Registered<'adapter'>[],
  ): Promise<Map<string, readonly Tool[]>> {
    const lists = this.listsOf(principal.userId);
    const found = new Map<string, readonly Tool[]>();
    await Promise.all(
      adapters.map(async (adapter) => {
        found.set(adapter.name, await this.toolsOf(principal, adapter, lists));
      }),
    );
    return found;
  }

  /** The upstream announced a change: every caller's list of it is listed again on their next read. */
  markStale(adapter: string): void {
    for (const lists of this.byCaller.values()) {
      const list = lists.get(adapter);
      if (list) list.stale = true;
    }
  }

  /** The adapter was removed or changed: every caller's list of it goes. */
  forget(adapter: string): void {
    for (const lists of this.byCaller.values()) lists.delete(adapter);
  }

  /** What the caller's lists hold now, as a digest: '' when nothing is cached for them. */
  fingerprint(userId: string): string {
    const lists = this.byCaller.get(userId);
    if (!lists || lists.size === 0) return '';
    return [...lists]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([name, list]) => `${name}:${list.digest}`)
      .join(',');
  }

  private listsOf(userId: string): Map<string, PersonalList> {
    let lists = this.byCaller.get(userId);
    if (lists) {
      // Most recently used last, so the first key is the one to drop.
      this.byCaller.delete(userId);
    } else {
      lists = new Map();
    }
    this.byCaller.set(userId, lists);
    if (this.byCaller.size > this.maxCallers) {
      const oldest = this.byCaller.keys().next().value;
      if (oldest !== undefined) this.byCaller.delete(oldest);
    }
    return lists;
  }

  private async toolsOf(
    principal: Principal,
    adapter: Registered<'adapter'>,
    lists: Map<string, PersonalList>,
  ): Promise<readonly Tool[]> {
    const { hash, now } = this.options;
    let grant: bigint;
    try {
      const credential = await this.options.upstreamCredentials.resolve(adapter, principal);
      if (!credential) return [];
      grant = hash(credential.value);
    } catch (error) {
      if (!(error instanceof UpstreamCredentialError)) throw error;
      // No usable grant (never connected, revoked, refresh refused): nothing of the adapter for this caller.
      this.drop(principal.userId, adapter.name, lists);
      return [];
    }
    let list = lists.get(adapter.name);
    if (list && list.version !== adapter.version) {
      lists.delete(adapter.name);
      list = undefined;
    }
    if (!list) {
      list = { version: adapter.version, grant, tools: [], digest: '', dueAt: 0, stale: false };
      lists.set(adapter.name, list);
      await this.load(principal, adapter, list, lists, false);
      return list.tools;
    }
    if (!list.loading && (list.stale || list.grant !== grant || now() >= list.dueAt)) {
      list.grant = grant;
      void this.load(principal, adapter, list, lists, true);
    }
    return list.tools;
  }

  private drop(userId: string, adapter: string, lists: Map<string, PersonalList>): void {
    const list = lists.get(adapter);
    if (!list) return;
    lists.delete(adapter);
    if (list.tools.length > 0) this.options.onChange(userId);
  }

  private load(
    principal: Principal,
    adapter: Registered<'adapter'>,
    list: PersonalList,
    lists: Map<string, PersonalList>,
    background: boolean,
  ): Promise<void> {
    const { federation, logger, now, review } = this.options;
    list.stale = false;
    const loading = federation
      .listToolsFor(adapter, principal)
      .then(async ({ tools }) => {
        if (review) await review(adapter, tools);
        return tools;
      })
      .then(
        (tools) => {
          if (lists.get(adapter.name) !== list) return;
          const digest = this.options.hash(JSON.stringify(tools)).toString(36);
          const changed = digest !== list.digest;
          list.tools = tools;
          list.digest = digest;
          list.dueAt = now() + this.options.refreshMs;
          if (changed && background) this.options.onChange(principal.userId);
        },
        (error: unknown) => {
          if (lists.get(adapter.name) !== list) return;
          if (error instanceof UpstreamCredentialError) {
            // The upstream refused the caller's renewed token: as if they had no grant.
            this.drop(principal.userId, adapter.name, lists);
            return;
          }
          // A list that worked stays served through a failed refresh; the next read after the delay tries again.
          list.dueAt = now() + Math.min(this.options.retryMs, this.options.refreshMs);
          logger.warn(
            { adapter: adapter.name, err: error instanceof Error ? error.message : String(error) },
            "federated adapter could not be listed with a caller's grant",
          );
        },
      )
      .finally(() => {
        list.loading = undefined;
      });
    list.loading = loading;
    return loading;
  }
}
