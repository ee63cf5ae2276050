/**
 * @module proxy-headers: which upstream response headers reach the client. Request headers go through the
 * gateway's one list of dropped headers, `core/upstream-headers.ts`.
 */

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
