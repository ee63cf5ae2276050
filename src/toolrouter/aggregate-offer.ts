/**
 * @module aggregate-offer: what an endpoint of the tool router (`/mcp`, a toolset's) tells clients it offers —
 * the capabilities in `server/discover` (2026-07-28) and in `initialize` (2025-era clients: the same object),
 * and the cache hints of its own cacheable answers.
 *
 * Capabilities are those the aggregate really serves, not any upstream's:
 * - `tools` is the router's own: every tool is routed on its own (a registered tool or the adapter it belongs
 *   to), so the capability is the union over upstreams, which the router always has (`listChanged` unless in
 *   search mode, whose list never changes — the router announces registry and upstream changes itself).
 * - `extensions` are merged by name over the federated upstreams the endpoint offers tools of: an extension
 *   that lives in tool definitions, call `_meta` and results reaches each tool's caller through per-tool
 *   routing, so one upstream declaring it is enough. Settings are merged key by key (objects deeply, lists as a
 *   union); a key two upstreams set differently is left out rather than claimed for both. MCP Apps
 *   (`io.modelcontextprotocol/ui`) is merged so: its views are `ui://` resources, which the router relays per
 *   upstream (`federated-resources.ts`). Skills are left out: they need methods the router does not relay, and
 *   claiming them would be a lie. The Tasks extension is not merged either: the router claims it itself, with
 *   its own settings (`tool-router.ts`), as it routes `tasks/*` to the replica holding each task (`tasks.ts`).
 * - `resources` is offered when some federated upstream of the endpoint offers it (on `/mcp`, those with no
 *   tools count too): `resources/list` and `resources/templates/list` are the union over the upstreams the
 *   caller may reach, and `resources/read` is routed by the adapter its URI names. `subscribe` and `listChanged`
 *   are claimed, each when some upstream offers it, to 2026-07-28 callers only: the router delivers them through
 *   `subscriptions/listen`, per caller (`resource-subscriptions.ts`). A 2025-era caller has no session with the
 *   stateless router for `resources/subscribe`, and its GET stream carries only the tools list's changes, so it is
 *   told neither.
 * - Capabilities whose methods are server-wide rather than per tool (`logging/setLevel`, `completion/complete`,
 *   `prompts/*`, `tasks`) could only be offered as the intersection — every upstream able to answer — and only
 *   if the router relayed those methods. It relays none of them, so none is offered, and the SDK answers their
 *   methods "method not found", as `server/discover` promises.
 *
 * Protocol versions are the router's own (the SDK's, both eras): it is a client of each upstream in whatever
 * version that upstream speaks, so a 2025-era upstream does not narrow what its callers can speak.
 */
import type { ServerCapabilities } from '@modelcontextprotocol/server';
import type { UpstreamListing } from './federated-lists.js';
import { freshForMs } from './federated-lists.js';

/** The extensions not merged from upstreams: they need methods the router does not relay, or (tasks) it claims itself. */
export const UNCARRIED_EXTENSIONS: ReadonlySet<string> = new Set([
  'io.modelcontextprotocol/tasks',
  'io.modelcontextprotocol/skills',
]);

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

const isObject = (value: unknown): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Sentinel for "two upstreams disagree": the key is left out. */
const CONFLICT = Symbol('conflict');

function mergeValue(a: Json, b: Json): Json | typeof CONFLICT {
  if (isObject(a) && isObject(b)) return mergeObjects(a, b);
  if (Array.isArray(a) && Array.isArray(b)) {
    const seen = new Set(a.map((v) => JSON.stringify(v)));
    return [...a, ...b.filter((v) => !seen.has(JSON.stringify(v)))];
  }
  return JSON.stringify(a) === JSON.stringify(b) ? a : CONFLICT;
}

function mergeObjects(a: JsonObject, b: JsonObject): JsonObject {
  const merged: JsonObject = { ...a };
  for (const [key, value] of Object.entries(b)) {
    if (!(key in merged)) {
      merged[key] = value;
      continue;
    }
    const combined = mergeValue(merged[key]!, value);
    if (combined === CONFLICT) delete merged[key];
    else merged[key] = combined;
  }
  return merged;
}

/** The upstreams' extensions merged by name, without those the router cannot carry. */
export function mergeExtensions(
  upstreams: readonly (ServerCapabilities | undefined)[],
): Record<string, JsonObject> | undefined {
  const merged: Record<string, JsonObject> = {};
  for (const capabilities of upstreams) {
    const extensions = capabilities?.extensions;
    if (!isObject(extensions)) continue;
    for (const [name, settings] of Object.entries(extensions)) {
      if (UNCARRIED_EXTENSIONS.has(name)) continue;
      const own = isObject(settings) ? settings : {};
      merged[name] = name in merged ? mergeObjects(merged[name]!, own) : own;
    }
  }
  return Object.keys(merged).length > 0 ? merged : undefined;
}

/** What one endpoint offers, for one request's server instance. */
export interface EndpointOffer {
  readonly capabilities: ServerCapabilities;
  /** `ttlMs` of the endpoint's `tools/list` and `server/discover` answers (always `cacheScope: "private"`). */
  readonly ttlMs: number;
  /**
   * What 2026-07-28 callers are told besides {@link capabilities} of resources: `subscribe` and `listChanged`,
   * each when some upstream offers it, delivered through `subscriptions/listen` (`resource-subscriptions.ts`).
   * 2025-era callers are not told: the router is stateless for them (no session for `resources/subscribe`), and
   * their GET stream carries only the tools list's changes.
   */
  readonly listenResources?: { readonly subscribe?: true; readonly listChanged?: true };
}

/** Options for {@link offerOf}. */
export interface OfferOptions {
  /** Search mode: the list is two fixed tools, never announced as changed. */
  readonly searchMode: boolean;
  /** The listings of the federated adapters the endpoint offers tools of. */
  readonly upstreams: readonly UpstreamListing[];
  /** Federated adapters the endpoint serves the resources of without offering tools of them (on `/mcp`). */
  readonly resourceOnly?: readonly UpstreamListing[];
  /**
   * The longest the router vouches for its own answer: its registry reads are reused that long
   * (`registryMaxAgeMs`), so a list is never promised fresher than that.
   */
  readonly maxTtlMs: number;
  /** Freshness of an upstream listing without a positive `ttlMs` (the router re-lists it then). */
  readonly refreshMs: number;
}

/**
 * The capabilities and cache lifetime of an endpoint. Its `tools/list` is filtered by identity (permissions,
 * tool policy, toolsets' roles, private upstream lists), so its answers are always `private`; their `ttlMs` is
 * the shortest freshness any upstream in it promised, bounded by the router's own registry max age. Clients
 * that listen (`subscriptions/listen`, the GET stream) are told of a change at once whatever the TTL.
 */
export function offerOf(options: OfferOptions): EndpointOffer {
  const extensions = mergeExtensions(options.upstreams.map((u) => u.capabilities));
  let ttlMs = options.maxTtlMs;
  for (const upstream of options.upstreams) {
    if (upstream.ttlMs !== undefined && upstream.ttlMs > 0) {
      ttlMs = Math.min(ttlMs, freshForMs(upstream, options.refreshMs));
    }
  }
  const offering = [...options.upstreams, ...(options.resourceOnly ?? [])].flatMap(
    (u) => u.capabilities?.resources ?? [],
  );
  const subscribe = offering.some((r) => r.subscribe === true);
  const listChanged = offering.some((r) => r.listChanged === true);
  return {
    capabilities: {
      tools: { listChanged: !options.searchMode },
      ...(offering.length > 0 && { resources: {} }),
      ...(extensions && { extensions }),
    },
    ttlMs,
    ...((subscribe || listChanged) && {
      listenResources: { ...(subscribe && { subscribe: true }), ...(listChanged && { listChanged: true }) },
    }),
  };
}
