/**
 * @module resource-uris: how the tool router names the resources of federated adapters. Every upstream names its
 * resources in its own space, so two upstreams can use the same URI; the router shows each under its adapter's
 * name, in the authority, keeping the scheme (MCP Apps hosts read only `ui://` URIs as apps):
 *
 * - `scheme://rest` (a URI with an authority) is shown as `scheme://{adapter}/rest`;
 * - `scheme:rest` (no authority: `urn:`, `mailto:`) as `scheme://{adapter}:/rest` — the empty port marks it, so
 *   `x:y` and `x://y` of one upstream never meet.
 *
 * The rewrite is textual, so it works alike on URIs and on URI templates (RFC 6570) whose scheme is literal, and
 * it is exactly reversible: {@link upstreamUriOf} gives back the adapter and the upstream's own URI, which is all a
 * read — or a resource subscription (`resource-subscriptions.ts`) — needs to route a caller's URI and to name an upstream's answer back.
 * Adapter names are DNS labels, which never hold `:`, `/`, `%` or upper case, so a crafted authority
 * (`%61dapter`, `a:b@adapter`) names no adapter and is refused; which adapters a caller may reach is decided by
 * the caller of {@link resolveCallerUri}, never by the URI.
 */

/** An upstream's own URI (or URI template) and the adapter it belongs to. */
export interface UpstreamUri {
  readonly adapter: string;
  readonly uri: string;
}

const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):([\s\S]*)$/;
/** `scheme://{adapter}` then `:` for a URI without an authority, then `/` and the rest. */
const NAMESPACED = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/:?#]*)(:?)\/([\s\S]*)$/;
/** Registry resource names (DNS-1123 labels). */
const ADAPTER_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** The MCP Apps scheme: resources rendered as apps. */
export const APP_SCHEME = 'ui';

/** True for a `ui://` URI (an MCP App's view), upstream or namespaced. */
export function isAppUri(uri: string): boolean {
  return SCHEME.exec(uri)?.[1]?.toLowerCase() === APP_SCHEME;
}

/** The URI the router shows for `uri` of `adapter`; undefined when `uri` has no scheme (not a URI to show). */
export function callerUriOf(adapter: string, uri: string): string | undefined {
  const match = SCHEME.exec(uri);
  if (!match || !ADAPTER_NAME.test(adapter)) return undefined;
  const [, scheme, rest] = match as unknown as [string, string, string];
  return rest.startsWith('//')
    ? `${scheme}://${adapter}/${rest.slice(2)}`
    : `${scheme}://${adapter}:/${rest}`;
}

/** The adapter and upstream URI a URI the router showed stands for; undefined when it names no adapter. */
export function upstreamUriOf(callerUri: string): UpstreamUri | undefined {
  const match = NAMESPACED.exec(callerUri);
  if (!match) return undefined;
  const [, scheme, adapter, opaque, rest] = match as unknown as [string, string, string, string, string];
  if (!ADAPTER_NAME.test(adapter)) return undefined;
  return { adapter, uri: opaque === ':' ? `${scheme}:${rest}` : `${scheme}://${rest}` };
}

/** What a caller's URI resolves to on one endpoint. */
export type UriResolution =
  | ({ readonly ok: true } & UpstreamUri)
  | { readonly ok: false; readonly reason: 'no-adapter' | 'out-of-scope' };

/**
 * The adapter and upstream URI of a caller's URI, when it names an adapter `inScope` says the caller may reach.
 * An adapter that does not exist and one the caller may not reach are the same refusal to them (no oracle).
 */
export function resolveCallerUri(callerUri: string, inScope: (adapter: string) => boolean): UriResolution {
  const upstream = upstreamUriOf(callerUri);
  if (!upstream) return { ok: false, reason: 'no-adapter' };
  if (!inScope(upstream.adapter)) return { ok: false, reason: 'out-of-scope' };
  return { ok: true, ...upstream };
}

type Meta = Record<string, unknown>;
const isObject = (value: unknown): value is Meta =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The `_meta` key of the MCP Apps link before `_meta.ui.resourceUri` (deprecated by the spec, still sent). */
export const LEGACY_RESOURCE_URI_KEY = 'ui/resourceUri';

/** The `ui://` URIs a tool definition links to (`_meta.ui.resourceUri`, and the older flat key). */
export function appUrisOf(tool: { _meta?: unknown }): string[] {
  const meta = tool._meta;
  if (!isObject(meta)) return [];
  const uris: string[] = [];
  const nested = isObject(meta.ui) ? meta.ui.resourceUri : undefined;
  if (typeof nested === 'string') uris.push(nested);
  const flat = meta[LEGACY_RESOURCE_URI_KEY];
  if (typeof flat === 'string' && flat !== nested) uris.push(flat);
  return uris;
}

/** A tool definition of `adapter` with its app links shown as the router names them (the same object if none). */
export function withAppUris<T extends { _meta?: unknown }>(adapter: string, tool: T): T {
  const meta = tool._meta;
  if (appUrisOf(tool).length === 0 || !isObject(meta)) return tool;
  const shown = (uri: unknown) => (typeof uri === 'string' ? (callerUriOf(adapter, uri) ?? uri) : uri);
  const next: Meta = { ...meta };
  if (isObject(meta.ui) && typeof meta.ui.resourceUri === 'string') {
    next.ui = { ...meta.ui, resourceUri: shown(meta.ui.resourceUri) };
  }
  if (typeof meta[LEGACY_RESOURCE_URI_KEY] === 'string') {
    next[LEGACY_RESOURCE_URI_KEY] = shown(meta[LEGACY_RESOURCE_URI_KEY]);
  }
  return { ...tool, _meta: next };
}

/**
 * A federated tool's result with the URIs in its content (`resource_link`, embedded `resource`) shown as the
 * router names them, so the caller can read them through the router. The same object when it names none.
 */
export function withResultUris<T extends { content?: unknown }>(adapter: string, result: T): T {
  if (!Array.isArray(result.content)) return result;
  let changed = false;
  const content = (result.content as unknown[]).map((block) => {
    if (!isObject(block)) return block;
    if (block.type === 'resource_link' && typeof block.uri === 'string') {
      const uri = callerUriOf(adapter, block.uri);
      if (uri === undefined) return block;
      changed = true;
      return { ...block, uri };
    }
    if (block.type === 'resource' && isObject(block.resource) && typeof block.resource.uri === 'string') {
      const uri = callerUriOf(adapter, block.resource.uri);
      if (uri === undefined) return block;
      changed = true;
      return { ...block, resource: { ...block.resource, uri } };
    }
    return block;
  });
  return changed ? { ...result, content } : result;
}
