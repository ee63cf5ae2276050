/**
 * @module upstream-identity: what an upstream learns about the caller. The caller's own credentials never go
 * upstream (MCP forbids token passthrough); instead the upstream gets `X-Mcp-UserId` and `X-Mcp-Roles` (the
 * reference's headers) and, when enabled, `X-Mcp-Identity`: a short-lived JWT signed by the gateway, verifiable
 * against the gateway's `/.well-known/jwks.json`.
 */
import { SignJWT, calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK } from 'jose';
import type { CryptoKey, JSONWebKeySet, JWK } from 'jose';
import type { Principal } from '../core/index.js';

/** Header names sent to upstreams. */
export const UPSTREAM_USER_HEADER = 'X-Mcp-UserId';
export const UPSTREAM_ROLES_HEADER = 'X-Mcp-Roles';
export const UPSTREAM_IDENTITY_HEADER = 'X-Mcp-Identity';
/**
 * `typ` of the identity JWT (RFC 8725 §3.11 explicit typing), so it cannot be mistaken for an access token
 * and vice versa. Upstreams verifying it should require this value.
 */
export const IDENTITY_JWT_TYPE = 'mcp-identity+jwt';
/** Signature algorithm of the identity JWT. */
export const IDENTITY_JWT_ALGORITHM = 'ES256';

/** Values sent byte for byte: visible ASCII without `%`, inner spaces allowed (no edge space: parsers trim it). */
const VERBATIM = /^(?:[\x21-\x24\x26-\x7e](?:[\x20-\x24\x26-\x7e]*[\x21-\x24\x26-\x7e])?)?$/;
/** The same for one role of the comma-joined `X-Mcp-Roles`: no comma either. */
const VERBATIM_ROLE =
  /^(?:[\x21-\x24\x26-\x2b\x2d-\x7e](?:[\x20-\x24\x26-\x2b\x2d-\x7e]*[\x21-\x24\x26-\x2b\x2d-\x7e])?)?$/;

const hex = (byte: number) => `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;

/**
 * Percent-encodes every character of `value` that `keep` refuses, as the bytes of its UTF-8 form. A lone surrogate
 * (possible in a JSON claim) becomes its three generalized UTF-8 bytes (WTF-8), which no well-formed character
 * produces, so it cannot be confused with U+FFFD or anything else.
 */
function percentEncode(value: string, keep: (char: string, index: number, last: number) => boolean): string {
  let out = '';
  let index = 0;
  const last = value.length - 1;
  for (const char of value) {
    const at = index;
    index += char.length;
    if (keep(char, at, last)) {
      out += char;
      continue;
    }
    const cp = char.codePointAt(0)!;
    if (cp < 0x80) out += hex(cp);
    else if (cp < 0x800) out += hex(0xc0 | (cp >> 6)) + hex(0x80 | (cp & 63));
    else if (cp < 0x10000)
      out += hex(0xe0 | (cp >> 12)) + hex(0x80 | ((cp >> 6) & 63)) + hex(0x80 | (cp & 63));
    else {
      out +=
        hex(0xf0 | (cp >> 18)) +
        hex(0x80 | ((cp >> 12) & 63)) +
        hex(0x80 | ((cp >> 6) & 63)) +
        hex(0x80 | (cp & 63));
    }
  }
  return out;
}

/**
 * The one encoding of identity header values, injective so that two different ids never reach an upstream as the
 * same header: visible ASCII passes as it is, and so does a space between other characters; `%` itself, control
 * characters, a leading or trailing space and everything outside ASCII are percent-encoded (UTF-8), always.
 * Decoding is plain percent-decoding. A plain ASCII id without `%` is sent byte for byte, as the reference does.
 * In a role, `,` (the list separator) is encoded too.
 */
export function encodeIdentityValue(value: string, role = false): string {
  if ((role ? VERBATIM_ROLE : VERBATIM).test(value)) return value;
  return percentEncode(value, (char, at, last) => {
    const code = char.charCodeAt(0);
    if (char.length !== 1 || code > 0x7e || code < 0x20 || char === '%') return false;
    if (role && char === ',') return false;
    return code !== 0x20 || (at !== 0 && at !== last);
  });
}

/**
 * The reference's identity headers: `X-Mcp-UserId` and `X-Mcp-Roles` (comma-joined), each value encoded by
 * {@link encodeIdentityValue}; the raw values are in the identity JWT.
 */
export function identityHeaders(principal: Principal): Record<string, string> {
  return {
    [UPSTREAM_USER_HEADER]: encodeIdentityValue(principal.userId),
    [UPSTREAM_ROLES_HEADER]: principal.roles.map((role) => encodeIdentityValue(role, true)).join(','),
  };
}

/** Signs identity JWTs for upstreams. */
export interface IdentitySigner {
  /** A JWT for `audience` (the upstream resource) naming the principal; cached while well within its life. */
  sign(principal: Principal, audience: string): Promise<string>;
  /** The public keys, as served at `/.well-known/jwks.json`. */
  readonly jwks: JSONWebKeySet;
}

/** Options for {@link createIdentitySigner}. */
export interface IdentitySignerOptions {
  /** `iss`: the gateway's public URL. */
  readonly issuer: string;
  /** Private ES256 JWK with `kid`; see {@link generateIdentityKey}. */
  readonly privateJwk: JWK;
  /** Lifetime of each JWT; default 60 s. */
  readonly ttlSeconds?: number;
  readonly clock?: () => Date;
  /** Signed tokens kept for reuse; default 1000. */
  readonly cacheSize?: number;
}

/** A fresh ES256 private JWK with `kid` (its RFC 7638 thumbprint), `alg` and `use`; store it as JSON. */
export async function generateIdentityKey(): Promise<JWK> {
  const { privateKey } = await generateKeyPair(IDENTITY_JWT_ALGORITHM, { extractable: true });
  const jwk = await exportJWK(privateKey);
  return { ...jwk, kid: await calculateJwkThumbprint(jwk), alg: IDENTITY_JWT_ALGORITHM, use: 'sig' };
}

/** Parses a stored identity key (JSON of a private ES256 JWK); throws TypeError naming the problem. */
export function parseIdentityKey(json: string): JWK {
  let jwk: JWK;
  try {
    jwk = JSON.parse(json) as JWK;
  } catch {
    throw new TypeError('the identity signing key is not valid JSON');
  }
  if (jwk.kty !== 'EC' || jwk.crv !== 'P-256' || typeof jwk.d !== 'string' || typeof jwk.kid !== 'string') {
    throw new TypeError('the identity signing key must be a private EC P-256 JWK with a kid');
  }
  return jwk;
}

/** Builds the signer; the public half of the key is what {@link IdentitySigner.jwks} publishes. */
export async function createIdentitySigner(options: IdentitySignerOptions): Promise<IdentitySigner> {
  const { issuer } = options;
  const jwk = options.privateJwk;
  if (!jwk.kid || typeof jwk.d !== 'string')
    throw new TypeError('createIdentitySigner: a private JWK with kid is required');
  const key = (await importJWK({ ...jwk, alg: IDENTITY_JWT_ALGORITHM }, IDENTITY_JWT_ALGORITHM)) as CryptoKey;
  const ttlSeconds = options.ttlSeconds ?? 60;
  const clock = options.clock ?? (() => new Date());
  const cacheSize = options.cacheSize ?? 1000;
  const { d: _d, ...publicJwk } = jwk;
  const jwks: JSONWebKeySet = { keys: [{ ...publicJwk, alg: IDENTITY_JWT_ALGORITHM, use: 'sig' }] };
  const cache = new Map<string, { token: string; reuseUntil: number }>();

  return {
    jwks,
    async sign(principal, audience) {
      const now = clock().getTime();
      const cacheKey = JSON.stringify([principal.userId, principal.roles, audience]);
      const hit = cache.get(cacheKey);
      if (hit && now < hit.reuseUntil) return hit.token;
      const iat = Math.floor(now / 1000);
      const token = await new SignJWT({ roles: [...principal.roles] })
        .setProtectedHeader({ alg: IDENTITY_JWT_ALGORITHM, kid: jwk.kid!, typ: IDENTITY_JWT_TYPE })
        .setIssuer(issuer)
        .setSubject(principal.userId)
        .setAudience(audience)
        .setIssuedAt(iat)
        .setExpirationTime(iat + ttlSeconds)
        .sign(key);
      if (cache.size >= cacheSize) cache.clear();
      // Reused for half its life, so an upstream always gets at least ttl/2 of validity.
      cache.set(cacheKey, { token, reuseUntil: now + (ttlSeconds * 1000) / 2 });
      return token;
    },
  };
}

/** What the data plane calls to build an upstream request's identity headers. */
export interface UpstreamIdentity {
  /** `X-Mcp-UserId`, `X-Mcp-Roles` and, when signing is on, `X-Mcp-Identity` with `aud` = `audience`. */
  headersFor(
    principal: Principal,
    audience: string,
  ): Record<string, string> | Promise<Record<string, string>>;
  /** Public keys to serve at `/.well-known/jwks.json`; undefined when signing is off. */
  readonly jwks: JSONWebKeySet | undefined;
}

const sameRoles = (a: readonly string[], b: readonly string[]) =>
  a === b || (a.length === b.length && a.every((role, i) => role === b[i]));

/**
 * {@link identityHeaders} remembered per user: the data plane asks once per request, and a caller's roles
 * rarely change between requests. The headers returned are shared, so frozen.
 */
function rememberedIdentityHeaders(maxUsers = 10_000) {
  const byUser = new Map<string, { roles: readonly string[]; headers: Record<string, string> }>();
  return (principal: Principal): Record<string, string> => {
    const known = byUser.get(principal.userId);
    if (known && sameRoles(known.roles, principal.roles)) return known.headers;
    const headers = Object.freeze(identityHeaders(principal));
    if (byUser.size >= maxUsers) byUser.clear();
    byUser.set(principal.userId, { roles: principal.roles, headers });
    return headers;
  };
}

/** Headers only, no JWT. */
export const HEADERS_ONLY_IDENTITY: UpstreamIdentity = Object.freeze({
  // Synchronous: the data plane calls this per request and skips the promise hop for plain headers.
  headersFor: rememberedIdentityHeaders(),
  jwks: undefined,
});

/** Headers plus a signed identity JWT. */
export function signedUpstreamIdentity(signer: IdentitySigner): UpstreamIdentity {
  return {
    headersFor: async (principal, audience) => ({
      ...identityHeaders(principal),
      [UPSTREAM_IDENTITY_HEADER]: await signer.sign(principal, audience),
    }),
    jwks: signer.jwks,
  };
}
