/** @module proxy-headers: which headers cross the proxy, in each direction. */

// Hop-by-hop (RFC 9110 §7.6.1), the caller's credentials, identity headers only the gateway may set,
// headers the gateway recomputes, and browser headers that would trip upstream origin checks.
const DROPPED_REQUEST_HEADERS = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
  'content-length',
  'expect',
  'accept-encoding',
  'authorization',
  'cookie',
  'origin',
  'referer',
  'forwarded',
  'x-forwarded-for',
  'x-forwarded-host',
  'x-forwarded-proto',
  'x-forwarded-port',
  'x-real-ip',
  'x-gateway-secret',
  'mcp-session-id',
]);

const DROPPED_PREFIXES = ['x-mcp-', 'x-dev-'];

/** True when an inbound header must not be forwarded upstream. */
export function isDroppedRequestHeader(name: string, connectionTokens: ReadonlySet<string>): boolean {
  if (DROPPED_REQUEST_HEADERS.has(name) || connectionTokens.has(name)) return true;
  for (const prefix of DROPPED_PREFIXES) if (name.startsWith(prefix)) return true;
  return false;
}

/** Names listed in `Connection`, which are hop-by-hop too. */
export function connectionTokens(connection: string | null | undefined): ReadonlySet<string> {
  // What nearly every client sends; `keep-alive` and `close` are dropped anyway.
  if (!connection || connection === 'keep-alive' || connection === 'close') return EMPTY;
  return new Set(
    connection
      .split(',')
      .map((t) => t.trim().toLowerCase())
      .filter(Boolean),
  );
}
const EMPTY: ReadonlySet<string> = new Set();

/**
 * Response headers passed to the client. An allow-list, so upstream cookies, auth challenges meant for
 * the gateway's own credentials, and server internals stay behind. `mcp-session-id` is rewritten, not copied.
 */
export const PASSED_RESPONSE_HEADERS: readonly string[] = [
  'content-type',
  'content-length',
  'content-encoding',
  'content-language',
  'cache-control',
  'mcp-protocol-version',
  'retry-after',
  'allow',
  'vary',
  'etag',
  'last-modified',
  'x-accel-buffering',
];
