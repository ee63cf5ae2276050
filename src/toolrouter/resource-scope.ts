/**
 * @module resource-scope: which federated adapters' resources one caller may reach on one endpoint — the one
 * place that rule lives, so listing and reading cannot disagree.
 *
 * An adapter is in scope when a tool of it is in the caller's list on that endpoint: the list already applies
 * read permissions, the tool policy, a toolset's membership, private upstream lists and pinning (held tools are
 * not in it), so whoever may not use any of an adapter's tools here cannot reach its resources here either. On
 * `/mcp`, a federated adapter that lists no tools at all (a resource server) is in scope for callers who may
 * read it. Either way the adapter must be runnable by a deployer this gateway has. The `ui://` views in scope are
 * only those a tool of the caller's list links to (MCP Apps: a view belongs to its tools).
 */
import { canRead } from '../auth/index.js';
import type { Principal } from '../auth/index.js';
import type { Registered } from '../registry/index.js';
import type { CatalogEntry, CatalogSnapshot } from './catalog.js';
import type { ResourceScope } from './federated-resources.js';
import { appUrisOf, isAppUri } from './resource-uris.js';
import { realEntryOf } from './toolset-scope.js';

/** Options for {@link resourceScopeOf}. */
export interface ResourceScopeInput {
  /** The caller's snapshot of the endpoint's catalog (every tool, before anyone's permissions). */
  readonly snapshot: CatalogSnapshot;
  /** The caller's tool list on the endpoint (what `tools/list` shows them, search mode or not). */
  readonly listed: readonly CatalogEntry[];
  readonly principal: Principal;
  /** Federated adapters that may serve resources without tools (`/mcp`: all of them; a toolset: none). */
  readonly toolless: readonly Registered<'adapter'>[];
  /** False for an adapter no deployer configured here runs. */
  readonly runs: (adapter: Registered<'adapter'>) => boolean;
}

/** The caller's {@link ResourceScope} on one endpoint. */
export function resourceScopeOf(input: ResourceScopeInput): ResourceScope {
  const adapters = new Map<string, Registered<'adapter'>>();
  const appUris = new Map<string, Set<string>>();
  for (const entry of input.listed) {
    if (entry.unavailable) continue;
    const { target } = realEntryOf(entry);
    if (target.kind !== 'federated' || !input.runs(target.adapter)) continue;
    adapters.set(target.adapter.name, target.adapter);
    // The upstream's own definition: its links name the upstream's own URIs.
    for (const uri of appUrisOf(target.upstream)) {
      if (!isAppUri(uri)) continue;
      let uris = appUris.get(target.adapter.name);
      if (!uris) appUris.set(target.adapter.name, (uris = new Set()));
      uris.add(uri);
    }
  }
  if (input.toolless.length > 0) {
    // Adapters with a tool in the snapshot (or one held by pinning) have tools: reached only through them.
    const withTools = new Set<string>();
    for (const entry of input.snapshot.entries) {
      const { target } = realEntryOf(entry);
      if (target.kind === 'federated') withTools.add(target.adapter.name);
    }
    for (const held of input.snapshot.held?.values() ?? []) withTools.add(held.owner.name);
    for (const adapter of input.toolless) {
      if (withTools.has(adapter.name) || adapters.has(adapter.name)) continue;
      if (canRead(input.principal, adapter) && input.runs(adapter)) adapters.set(adapter.name, adapter);
    }
  }
  return { adapters, appUris };
}
