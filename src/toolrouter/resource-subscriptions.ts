/**
 * @module resource-subscriptions: the resources part of `subscriptions/listen` on a tool-router endpoint — a
 * {@link ListenSource} (`caller-subscriptions.ts`) that honors `resourcesListChanged` and `resourceSubscriptions`
 * per caller, over the caller's resource scope on that endpoint (`resource-scope.ts`, the rule reads use too).
 *
 * - `resourcesListChanged` is honored when some upstream in the caller's scope offers resources. A caller is told
 *   `notifications/resources/list_changed` when an upstream *in their scope* announces that its resources changed,
 *   or when their scope itself changed (an adapter, or a view of one, came or went for them); never for an
 *   upstream outside their scope.
 * - Each URI of `resourceSubscriptions` is accepted or refused on its own. It is refused when it names no
 *   adapter, an adapter outside the caller's scope, a `ui://` view no tool the caller sees links to, or an upstream
 *   that does not offer `resources.subscribe` — all alike, as for reads (no oracle). The rest are subscribed
 *   upstream, one upstream subscription per adapter and stream, on the caller's behalf (their identity, never their
 *   token: `Federation.subscribeResources`), and acknowledged only if that upstream accepted them. An upstream
 *   that does not answer within the timeout (the listing timeout) has its URIs refused: the acknowledgement never
 *   waits longer than that. At most {@link MAX_RESOURCE_SUBSCRIPTIONS} URIs of one stream are subscribed.
 * - An upstream's `notifications/resources/updated` is delivered with its URI shown as the router names it, only
 *   for an accepted URI, and only while the adapter (and, for a view, its tool) is still in the caller's scope.
 * - The caller's stream ending unsubscribes upstream. An upstream subscription that ends by itself (the upstream
 *   closed its stream or went away) is logged and ends the caller's stream gracefully (the `subscriptions/listen`
 *   result): the caller listens again, which subscribes again and checks their scope again — rather than the
 *   router resubscribing in the background with a scope it would have to keep re-checking.
 */
import type { ServerCapabilities, SubscriptionFilter } from '@modelcontextprotocol/server';
import type { Principal } from '../auth/index.js';
import type { Logger } from '../observability/index.js';
import type { Registered } from '../registry/index.js';
import type { ChangeNotification, ListenSource, OpenedListen } from './caller-subscriptions.js';
import type { ResourceScope } from './federated-resources.js';
import type { Federation, UpstreamResourceSubscription } from './federation.js';
import { callerUriOf, isAppUri, resolveCallerUri } from './resource-uris.js';

/** Options for {@link createResourceListenSource}. */
export interface ResourceListenOptions {
  readonly federation: Pick<Federation, 'subscribeResources' | 'onResourcesChanged'>;
  /** The caller's resource scope on this endpoint now (`resource-scope.ts`). */
  readonly scopeOf: (principal: Principal) => Promise<ResourceScope>;
  /** What an adapter's upstream offers, as the router's listing learnt it; undefined while unknown. */
  readonly capabilitiesOf: (adapter: Registered<'adapter'>) => ServerCapabilities | undefined;
  /** Told when the endpoint's catalog changed (someone's scope may have); returns the way to stop. */
  readonly onScopeMayChange: (listener: () => void) => () => void;
  /** Longest wait for an upstream to accept a subscription. */
  readonly timeoutMs: number;
  readonly logger: Logger;
}

/** The resources source, also told to stop watching. */
export interface ResourceListenSource extends ListenSource {
  /** Open streams with a resources part (for tests and metrics). */
  readonly size: number;
  close(): void;
}

interface Watcher {
  readonly principal: Principal;
  readonly listChanged: boolean;
  scope: ResourceScope;
  fingerprint: string;
  readonly deliver: (notification: ChangeNotification) => void;
  /** Per adapter: the upstream subscription and the caller URIs it accepted. */
  readonly subscriptions: Map<string, { upstream: UpstreamResourceSubscription; accepted: Set<string> }>;
  /** Scope checks run one at a time per stream, in order. */
  checking: Promise<void>;
  closed: boolean;
}

/** At most this many URIs of one stream are subscribed; the rest are refused (each costs upstream work). */
export const MAX_RESOURCE_SUBSCRIPTIONS = 256;

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** Builds the resources source of one endpoint. */
export function createResourceListenSource(options: ResourceListenOptions): ResourceListenSource {
  const { federation, logger } = options;
  const watchers = new Set<Watcher>();

  const offersResources = (adapter: Registered<'adapter'>) =>
    options.capabilitiesOf(adapter)?.resources !== undefined;

  /** What a caller's resource list depends on in their scope: the adapters offering resources, and their views. */
  const fingerprintOf = (scope: ResourceScope) =>
    JSON.stringify(
      [...scope.adapters.values()]
        .filter(offersResources)
        .map((adapter) => [
          adapter.name,
          adapter.version,
          [...(scope.appUris.get(adapter.name) ?? [])].sort(),
        ])
        .sort((a, b) => (a[0]! < b[0]! ? -1 : 1)),
    );

  /** Whether `scope` still lets the caller hear of `uri` (the upstream's own) of `adapter`. */
  const reaches = (scope: ResourceScope, adapter: string, uri: string) =>
    scope.adapters.has(adapter) && (!isAppUri(uri) || scope.appUris.get(adapter)?.has(uri) === true);

  // An upstream announced its resources changed: only callers with it in their scope hear of it.
  const stopResources = federation.onResourcesChanged((adapter) => {
    for (const watcher of watchers) {
      if (watcher.listChanged && watcher.scope.adapters.has(adapter)) {
        watcher.deliver({ method: 'notifications/resources/list_changed' });
      }
    }
  });

  /** The caller's scope again: told if their list changed, and subscriptions of adapters they lost closed. */
  async function recheck(watcher: Watcher) {
    if (watcher.closed) return;
    let scope: ResourceScope;
    try {
      scope = await options.scopeOf(watcher.principal);
    } catch (error) {
      logger.warn({ err: messageOf(error) }, 'resource scope check failed');
      return;
    }
    if (watcher.closed) return;
    watcher.scope = scope;
    for (const [adapter, subscription] of [...watcher.subscriptions]) {
      if (scope.adapters.has(adapter)) continue;
      watcher.subscriptions.delete(adapter);
      void subscription.upstream.close();
    }
    const fingerprint = fingerprintOf(scope);
    if (fingerprint === watcher.fingerprint) return;
    watcher.fingerprint = fingerprint;
    if (watcher.listChanged) watcher.deliver({ method: 'notifications/resources/list_changed' });
  }

  const stopScope = options.onScopeMayChange(() => {
    for (const watcher of watchers) {
      watcher.checking = watcher.checking.then(() => recheck(watcher));
    }
  });

  function closeWatcher(watcher: Watcher) {
    if (watcher.closed) return;
    watcher.closed = true;
    watchers.delete(watcher);
    for (const { upstream } of watcher.subscriptions.values()) void upstream.close();
    watcher.subscriptions.clear();
  }

  /** The upstream URIs to subscribe per adapter, each with the caller's URI; refused ones are left out. */
  function wantedOf(scope: ResourceScope, requested: readonly string[]) {
    const byAdapter = new Map<string, { adapter: Registered<'adapter'>; uris: Map<string, string> }>();
    const distinct = [...new Set(requested)];
    if (distinct.length > MAX_RESOURCE_SUBSCRIPTIONS) {
      logger.warn(
        { requested: distinct.length, max: MAX_RESOURCE_SUBSCRIPTIONS },
        'resource subscriptions beyond the limit refused',
      );
    }
    for (const callerUri of distinct.slice(0, MAX_RESOURCE_SUBSCRIPTIONS)) {
      const resolved = resolveCallerUri(callerUri, (adapter) => scope.adapters.has(adapter));
      if (!resolved.ok || !reaches(scope, resolved.adapter, resolved.uri)) continue;
      const adapter = scope.adapters.get(resolved.adapter)!;
      if (options.capabilitiesOf(adapter)?.resources?.subscribe !== true) continue;
      // Shown back exactly as the router names the upstream's URI (what its updates will carry).
      if (callerUriOf(adapter.name, resolved.uri) !== callerUri) continue;
      let group = byAdapter.get(adapter.name);
      if (!group) byAdapter.set(adapter.name, (group = { adapter, uris: new Map() }));
      group.uris.set(resolved.uri, callerUri);
    }
    return byAdapter;
  }

  return {
    async open(principal, requested, deliver, end): Promise<OpenedListen> {
      const listChanged = requested.resourcesListChanged === true;
      const requestedUris = requested.resourceSubscriptions ?? [];
      if (!listChanged && requestedUris.length === 0) return { honored: {}, close: () => undefined };
      const scope = await options.scopeOf(principal);
      const watcher: Watcher = {
        principal,
        listChanged: listChanged && [...scope.adapters.values()].some(offersResources),
        scope,
        fingerprint: fingerprintOf(scope),
        deliver,
        subscriptions: new Map(),
        checking: Promise.resolve(),
        closed: false,
      };
      watchers.add(watcher);
      await Promise.all(
        [...wantedOf(scope, requestedUris).values()].map(async ({ adapter, uris }) => {
          const accepted = new Set<string>();
          try {
            const upstream = await federation.subscribeResources(adapter, principal, [...uris.keys()], {
              timeoutMs: options.timeoutMs,
              onUpdated: (uri) => {
                const shown = callerUriOf(adapter.name, uri);
                if (watcher.closed || shown === undefined || !accepted.has(shown)) return;
                if (!reaches(watcher.scope, adapter.name, uri)) return;
                deliver({ method: 'notifications/resources/updated', params: { uri: shown } });
              },
              onEnded: () => {
                if (watcher.closed) return;
                logger.info(
                  { adapter: adapter.name, user: principal.userId },
                  'upstream resource subscription ended: closing the caller stream (they listen again)',
                );
                end();
              },
            });
            for (const uri of upstream.accepted) {
              const shown = uris.get(uri);
              if (shown !== undefined) accepted.add(shown);
            }
            if (watcher.closed || accepted.size === 0) void upstream.close();
            else watcher.subscriptions.set(adapter.name, { upstream, accepted });
          } catch (error) {
            logger.warn(
              { adapter: adapter.name, err: messageOf(error) },
              'upstream refused or did not answer the resource subscription: its URIs are refused',
            );
          }
        }),
      );
      const acceptedUris = [...watcher.subscriptions.values()].flatMap(({ accepted }) => [...accepted]);
      const honored: SubscriptionFilter = {
        ...(watcher.listChanged && { resourcesListChanged: true }),
        ...(acceptedUris.length > 0 && { resourceSubscriptions: acceptedUris }),
      };
      if (Object.keys(honored).length === 0) {
        closeWatcher(watcher);
        return { honored, close: () => undefined };
      }
      return { honored, close: () => closeWatcher(watcher) };
    },
    get size() {
      return watchers.size;
    },
    close() {
      stopResources();
      stopScope();
      for (const watcher of [...watchers]) closeWatcher(watcher);
    },
  };
}
