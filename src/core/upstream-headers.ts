/**
 * @module upstream-headers: which of a caller's request headers never travel upstream. One list for every path
 * that sends a caller's request on (the data plane copies headers through it; the tool router copies none; the
 * identity module relies on it so that no caller can forge the identity headers only the gateway may set).
 */

/** The caller's credentials for the gateway itself: never forwarded (MCP authorization: no token passthrough). */
export const CALLER_CREDENTIAL_HEADERS: readonly string[] = Object.freeze([
  'authorization',
  'proxy-authorization',
  'cookie',
  'x-gateway-secret',
]);

/** Prefixes of the identity headers only the gateway sets (`X-Mcp-UserId`, `X-Mcp-Identity`, dev mode's `X-Dev-*`). */
export const GATEWAY_ONLY_HEADER_PREFIXES: readonly string[] = Object.freeze(['x-mcp-', 'x-dev-']);

/** Every header name (lower case) dropped from a forwarded request, besides those the two lists above name. */
export const DROPPED_REQUEST_HEADERS: ReadonlySet<string> = new Set([
  ...CALLER_CREDENTIAL_HEADERS,
  // Hop-by-hop (RFC 9110 §7.6.1).
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  // Recomputed for the upstream connection.
  'host',
  'content-length',
  'expect',
  'accept-encoding',
  // Browser headers that would trip the upstream's own origin checks.
  'origin',
  'referer',
  // Set by the gateway from what it saw, never taken from the caller (RFC 7239 and the de-facto X-Forwarded-*).
  'forwarded',
  'x-forwarded-for',
  'x-forwarded-host',
  'x-forwarded-proto',
  'x-forwarded-port',
  'x-real-ip',
  // The gateway's sealed session id; the upstream gets its own id back instead.
  'mcp-session-id',
]);

const NONE: ReadonlySet<string> = new Set();

/**
 * True when an inbound header must not be forwarded upstream. `name` in lower case, as `Headers` yields it (the
 * proxy calls this per header, per request); `connectionTokens` from {@link connectionTokens}.
 */
export function isDroppedRequestHeader(name: string, connectionTokens: ReadonlySet<string> = NONE): boolean {
  if (DROPPED_REQUEST_HEADERS.has(name) || connectionTokens.has(name)) return true;
  for (const prefix of GATEWAY_ONLY_HEADER_PREFIXES) if (name.startsWith(prefix)) return true;
  return false;
}

/** Names listed in `Connection`, which are hop-by-hop too. */
export function connectionTokens(connection: string | null | undefined): ReadonlySet<string> {
  // What nearly every client sends; `keep-alive` and `close` are dropped anyway.
  if (!connection || connection === 'keep-alive' || connection === 'close') return NONE;
  return new Set(
    connection
      .split(',')
      .map((t) => t.trim().toLowerCase())
      .filter(Boolean),
  );
}

/**
 * Request headers the gateway itself sets or reads on the way upstream besides those dropped above: the MCP
 * protocol's own headers, content negotiation, resumption and the gateway's trace context. A credential of an
 * adapter's `upstreamAuth` may not take one of these names (nor a dropped one other than `authorization`).
 */
const GATEWAY_MANAGED_REQUEST_HEADERS: ReadonlySet<string> = new Set([
  'mcp-protocol-version',
  'mcp-method',
  'mcp-name',
  'last-event-id',
  'accept',
  'content-type',
  'content-encoding',
  'traceparent',
  'tracestate',
  'baggage',
]);

/** Dropped from callers' requests, yet the very header a credential is usually sent in. */
const CREDENTIAL_HEADERS_ALLOWED: ReadonlySet<string> = new Set(['authorization', 'cookie']);

/**
 * Why `name` (lower case) cannot carry an upstream credential, or undefined when it can: hop-by-hop headers,
 * headers recomputed per connection (`Host`, `Content-Length`), the MCP session and protocol headers, the
 * forwarding headers and the identity headers only the gateway sets are its own to manage.
 */
export function credentialHeaderRefusal(name: string): string | undefined {
  if (CREDENTIAL_HEADERS_ALLOWED.has(name)) return undefined;
  if (GATEWAY_MANAGED_REQUEST_HEADERS.has(name) || DROPPED_REQUEST_HEADERS.has(name))
    return 'is a header the gateway manages itself (hop-by-hop, per-connection, MCP protocol, forwarding or tracing)';
  if (name.startsWith('x-forwarded-')) return 'is a forwarding header the gateway sets itself';
  for (const prefix of GATEWAY_ONLY_HEADER_PREFIXES)
    if (name.startsWith(prefix))
      return `starts with "${prefix}", which only the gateway's identity headers may`;
  return undefined;
}
