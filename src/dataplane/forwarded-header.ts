/**
 * @module forwarded-header: the RFC 7239 `Forwarded` header the gateway sets for the upstream, beside the
 * de-facto `X-Forwarded-For/Host/Proto`. The caller's own `Forwarded` never travels on (`core/upstream-headers.ts`):
 * the gateway is where the chain starts, so the upstream learns only what the gateway itself saw.
 */

// RFC 7230 `token`: a value made of these needs no quotes (RFC 7239 §4).
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** A `forwarded-pair` value: as it is when it is a token, else a quoted-string with `"` and `\` escaped. */
function value(text: string): string {
  return TOKEN.test(text) ? text : `"${text.replace(/["\\]/g, '\\$&')}"`;
}

/**
 * The node of the client (RFC 7239 §6): an IPv4 address as it is, an IPv6 address in brackets and quotes
 * (`"[::1]"`, §6 — `:` is not a token character), `unknown` when the socket did not say.
 */
function nodeOf(address: string | undefined): string {
  if (!address) return 'unknown';
  return address.includes(':') ? `"[${address}]"` : value(address);
}

/** `for=…;proto=…;host=…` for a request from `remoteAddress` to the gateway at `host` over `proto`. */
export function forwardedHeader(remoteAddress: string | undefined, proto: string, host: string): string {
  return `for=${nodeOf(remoteAddress)};proto=${proto};host=${value(host)}`;
}
