/**
 * @module federated-resources: the resources of federated adapters through the tool router — `resources/list`,
 * `resources/templates/list` and `resources/read` over the adapters of one caller's scope on one endpoint
 * ({@link ResourceScope}, which the router works out from what that caller sees there).
 *
 * Every URI is shown as the router names it (`resource-uris.ts`: the adapter in the authority), so two upstreams
 * never collide, and a caller's URI is resolved back only to an adapter of its scope: one naming no adapter, or
 * another's, is "not found" alike. An MCP App's view (`ui://`) is further listed and read only when a tool the
 * caller sees in the scope links to it (`_meta.ui.resourceUri`): a caller who may not use the tool does not see
 * its app either. `ui://` templates are never listed (no tool can vouch for what they expand to).
 *
 * Listings are kept as the tool lists are (SEP-2549): an adapter is listed once as the router and shared while
 * fresh (its `ttlMs` when positive, else `refreshMs`, and until its upstream announces a change of its resources
 * or tools), unless its upstream marks the list `private` — then, as for an `oauth-user` or `token-exchange`
 * adapter, each caller's list is asked as that caller and kept for them only. A listing that fails (unreachable,
 * slow) leaves that adapter out of the answer (logged) and is not kept;
 * a read that fails is a JSON-RPC error naming the adapter.
 */
import { ProtocolError, ProtocolErrorCode, ResourceNotFoundError } from '@modelcontextprotocol/server';
import type { ReadResourceResult, Resource, ResourceTemplateType } from '@modelcontextprotocol/server';
import { UpstreamCredentialError } from '../auth/index.js';
import type { Principal } from '../auth/index.js';
import type { Logger } from '../observability/index.js';
import type { Registered } from '../registry/index.js';
import { decodeKeyCursor, encodeKeyCursor } from './cursor.js';
import { freshForMs } from './federated-lists.js';
import { NoReadyReplicaError, perUser } from './federation.js';
import type { Federation, UpstreamResourceList } from './federation.js';
import { callerUriOf, isAppUri, resolveCallerUri } from './resource-uris.js';

/** What one caller may reach of the federated resources on one endpoint. */
export interface ResourceScope {
  /** The federated adapters whose resources the caller may list and read here, by name. */
  readonly adapters: ReadonlyMap<string, Registered<'adapter'>>;
  /** Per adapter, the upstream `ui://` URIs that a tool the caller sees here links to. */
  readonly appUris: ReadonlyMap<string, ReadonlySet<string>>;
}

/** Options for {@link createFederatedResources}. */
export interface FederatedResourcesOptions {
  readonly federation: Pick<
    Federation,
    'listResources' | 'readResource' | 'onListChanged' | 'onResourcesChanged'
  >;
  readonly logger: Logger;
  /** Freshness of a listing that came without a positive `ttlMs`. */
  readonly refreshMs: number;
  /** Longest wait for an upstream's `resources/read`. */
  readonly readTimeoutMs: number;
  /** Items per page of the router's lists. */
  readonly pageSize: number;
  readonly now?: () => number;
  /** At most this many listings are kept (the oldest goes first); default 10,000. */
  readonly maxEntries?: number;
}

/** One page of a merged list. */
export interface ResourcePage<T> {
  readonly items: T[];
  readonly nextCursor?: string;
}

/** The federated resources of the tool router. */
export interface FederatedResources {
  /** One page of the resources the caller may reach in `scope`, in URI order; `cursor` from a previous page. */
  resources(scope: ResourceScope, principal: Principal, cursor?: string): Promise<ResourcePage<Resource>>;
  /** One page of the resource templates of `scope`, in URI template order. */
  templates(
    scope: ResourceScope,
    principal: Principal,
    cursor?: string,
  ): Promise<ResourcePage<ResourceTemplateType>>;
  /** Reads `uri` (a URI the router showed) from its adapter, its contents' URIs shown as the router names them. */
  read(
    scope: ResourceScope,
    principal: Principal,
    uri: string,
    signal: AbortSignal,
  ): Promise<ReadResourceResult>;
  close(): void;
}

const RESOURCE_CURSOR = 'r1.';
const TEMPLATE_CURSOR = 'rt1.';

interface Held {
  readonly version: number;
  readonly listing: Promise<UpstreamResourceList>;
  /** Infinity while the listing runs. */
  expiresAt: number;
}

const callerKey = (principal: Principal) =>
  JSON.stringify([principal.userId, principal.roles, principal.scopes ?? []]);

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

const invalidCursor = () =>
  new ProtocolError(ProtocolErrorCode.InvalidParams, 'Invalid cursor: use a nextCursor from this server.');

/** The page of `items` (sorted by `keyOf`, keys unique) after the cursor's key. */
function pageOf<T>(
  items: readonly T[],
  keyOf: (item: T) => string,
  prefix: string,
  pageSize: number,
  cursor: string | undefined,
): ResourcePage<T> {
  let start = 0;
  if (cursor !== undefined) {
    const after = decodeKeyCursor(prefix, cursor);
    if (after === undefined) throw invalidCursor();
    let low = 0;
    let high = items.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (keyOf(items[mid]!) <= after) low = mid + 1;
      else high = mid;
    }
    start = low;
  }
  const page = items.slice(start, start + pageSize);
  const last = page.at(-1);
  return {
    items: page,
    ...(last !== undefined &&
      start + page.length < items.length && { nextCursor: encodeKeyCursor(prefix, keyOf(last)) }),
  };
}

/** Sorted by key in byte order, the first of each key kept. */
function sortedUnique<T>(items: T[], keyOf: (item: T) => string): T[] {
  items.sort((a, b) => {
    const x = keyOf(a);
    const y = keyOf(b);
    return x < y ? -1 : x > y ? 1 : 0;
  });
  return items.filter((item, i) => i === 0 || keyOf(items[i - 1]!) !== keyOf(item));
}

/** Builds the router's federated resources. */
export function createFederatedResources(options: FederatedResourcesOptions): FederatedResources {
  const { federation, logger } = options;
  const now = options.now ?? Date.now;
  const maxEntries = options.maxEntries ?? 10_000;
  /** By `${adapter}\0` (the router's listing) or `${adapter}\0${caller}` (a caller's). */
  const held = new Map<string, Held>();

  // An upstream's announced change (of its resources, or of its tools, which may come with new views).
  const drop = (adapter: string) => {
    for (const key of [...held.keys()]) if (key.startsWith(`${adapter}\u0000`)) held.delete(key);
  };
  const stopTools = federation.onListChanged(drop);
  const stopResources = federation.onResourcesChanged(drop);

  function cached(
    key: string,
    adapter: Registered<'adapter'>,
    load: () => Promise<UpstreamResourceList>,
  ): Promise<UpstreamResourceList> {
    const found = held.get(key);
    if (found && found.version === adapter.version && now() < found.expiresAt) return found.listing;
    if (found) held.delete(key);
    if (held.size >= maxEntries) {
      const oldest = held.keys().next();
      if (!oldest.done) held.delete(oldest.value);
    }
    const entry: Held = {
      version: adapter.version,
      expiresAt: Number.POSITIVE_INFINITY,
      listing: load().then(
        (listing) => {
          entry.expiresAt = now() + freshForMs(listing, options.refreshMs);
          return listing;
        },
        (error: unknown) => {
          // Not kept: the next request asks again.
          if (held.get(key) === entry) held.delete(key);
          throw error;
        },
      ),
    };
    held.set(key, entry);
    return entry.listing;
  }

  /** What `adapter` lists to `principal`: the shared listing unless it is per caller or marked `private`. */
  async function listingFor(
    adapter: Registered<'adapter'>,
    principal: Principal,
  ): Promise<UpstreamResourceList> {
    const own = () =>
      cached(`${adapter.name}\u0000${callerKey(principal)}`, adapter, () =>
        federation.listResources(adapter, principal),
      );
    if (perUser(adapter)) return own();
    const shared = await cached(`${adapter.name}\u0000`, adapter, () => federation.listResources(adapter));
    return shared.cacheScope === 'private' ? own() : shared;
  }

  /** Each adapter's listing in the scope; one that cannot be had is left out (and logged). */
  async function listingsOf(scope: ResourceScope, principal: Principal) {
    return Promise.all(
      [...scope.adapters.values()].map(async (adapter) => {
        try {
          return { adapter: adapter.name, listing: await listingFor(adapter, principal) };
        } catch (error) {
          if (error instanceof NoReadyReplicaError)
            logger.debug({ adapter: adapter.name }, 'federated adapter has no ready replica yet');
          else
            logger.warn(
              { adapter: adapter.name, err: messageOf(error) },
              'federated adapter left out of the resource list',
            );
          return undefined;
        }
      }),
    );
  }

  /** A read's failure as the caller is told it: always naming the adapter, never another caller's detail. */
  function readFailure(adapter: string, uri: string, error: unknown): Error {
    if (error instanceof ProtocolError) {
      const data = error.data as { uri?: unknown } | undefined;
      if (
        error.code === ProtocolErrorCode.ResourceNotFound ||
        (error.code === ProtocolErrorCode.InvalidParams && typeof data?.uri === 'string')
      ) {
        return new ResourceNotFoundError(uri, `Resource not found: adapter '${adapter}' has no ${uri}.`);
      }
      return new ProtocolError(
        error.code,
        `Adapter '${adapter}' refused the read of ${uri}: ${error.message}`,
      );
    }
    // An `oauth-user` adapter without the caller's grant (the message names /connect), a refused exchange.
    if (error instanceof UpstreamCredentialError)
      return new ProtocolError(ProtocolErrorCode.InvalidRequest, error.message);
    if (error instanceof NoReadyReplicaError)
      return new ProtocolError(
        ProtocolErrorCode.InternalError,
        `Adapter '${adapter}' has no ready replica; try again shortly.`,
      );
    logger.warn({ adapter, err: messageOf(error) }, 'federated resource read failed');
    return new ProtocolError(
      ProtocolErrorCode.InternalError,
      `Adapter '${adapter}' did not answer the read of ${uri}: ${messageOf(error)}.`,
    );
  }

  return {
    async resources(scope, principal, cursor) {
      if (cursor !== undefined && decodeKeyCursor(RESOURCE_CURSOR, cursor) === undefined)
        throw invalidCursor();
      const items: Resource[] = [];
      for (const found of await listingsOf(scope, principal)) {
        if (!found) continue;
        const links = scope.appUris.get(found.adapter);
        for (const resource of found.listing.resources) {
          // An app's view only with a tool of it the caller sees.
          if (isAppUri(resource.uri) && links?.has(resource.uri) !== true) continue;
          const uri = callerUriOf(found.adapter, resource.uri);
          if (uri !== undefined) items.push({ ...resource, uri });
        }
      }
      const sorted = sortedUnique(items, (r) => r.uri);
      return pageOf(sorted, (r) => r.uri, RESOURCE_CURSOR, options.pageSize, cursor);
    },

    async templates(scope, principal, cursor) {
      if (cursor !== undefined && decodeKeyCursor(TEMPLATE_CURSOR, cursor) === undefined)
        throw invalidCursor();
      const items: ResourceTemplateType[] = [];
      for (const found of await listingsOf(scope, principal)) {
        if (!found) continue;
        for (const template of found.listing.resourceTemplates) {
          if (isAppUri(template.uriTemplate)) continue;
          const uriTemplate = callerUriOf(found.adapter, template.uriTemplate);
          if (uriTemplate !== undefined) items.push({ ...template, uriTemplate });
        }
      }
      const sorted = sortedUnique(items, (t) => t.uriTemplate);
      return pageOf(sorted, (t) => t.uriTemplate, TEMPLATE_CURSOR, options.pageSize, cursor);
    },

    async read(scope, principal, uri, signal) {
      const resolved = resolveCallerUri(uri, (adapter) => scope.adapters.has(adapter));
      // The same answer for a URI of no adapter, of another's, and a view whose tool the caller does not see.
      const notFound = () =>
        new ResourceNotFoundError(
          uri,
          `Resource not found: ${uri}. Read the URIs resources/list and tools/list of this endpoint show (scheme://{adapter}/...).`,
        );
      if (!resolved.ok) throw notFound();
      if (isAppUri(resolved.uri) && scope.appUris.get(resolved.adapter)?.has(resolved.uri) !== true)
        throw notFound();
      const adapter = scope.adapters.get(resolved.adapter)!;
      let result: ReadResourceResult;
      try {
        result = await federation.readResource(adapter, principal, resolved.uri, {
          signal,
          timeoutMs: options.readTimeoutMs,
        });
      } catch (error) {
        if (signal.aborted) throw error;
        throw readFailure(adapter.name, uri, error);
      }
      // The upstream's cache hint is not passed on: the router's answer is `private` (who may read it is scoped).
      const {
        ttlMs: _ttl,
        cacheScope: _scope,
        ...answer
      } = result as ReadResourceResult & {
        ttlMs?: unknown;
        cacheScope?: unknown;
      };
      return {
        ...answer,
        contents: result.contents.map((content) => ({
          ...content,
          uri: callerUriOf(adapter.name, content.uri) ?? content.uri,
        })),
      };
    },

    close() {
      stopTools();
      stopResources();
      held.clear();
    },
  };
}
