/**
 * @module token-issuer: a local token issuer for tests — Hono on 127.0.0.1 serving OIDC discovery, RFC 8414
 * metadata and a JWKS, with keys made by jose, a `mint()` helper and key rotation.
 */
import { Hono } from 'hono';
import { SignJWT, calculateJwkThumbprint, exportJWK, exportSPKI, generateKeyPair } from 'jose';
import type { CryptoKey, JSONWebKeySet, JWK, JWTPayload } from 'jose';
import { serveApp } from './serve-app.js';

/** Algorithms the issuer can sign with. */
export type IssuerAlgorithm = 'ES256' | 'RS256' | 'PS256' | 'EdDSA';

/** One signing key of the issuer. */
export interface IssuerKey {
  readonly kid: string;
  readonly alg: IssuerAlgorithm;
  readonly privateKey: CryptoKey;
  readonly publicKey: CryptoKey;
  readonly publicJwk: JWK;
}

/** Options for {@link startTokenIssuer}. */
export interface TokenIssuerOptions {
  readonly alg?: IssuerAlgorithm;
  /** Which metadata documents are served; default both. */
  readonly discovery?: 'oidc' | 'oauth' | 'both' | 'none';
  /** Issuer path below the origin (e.g. `/realms/test`), as Keycloak has. */
  readonly path?: string;
  /** Audience minted tokens carry by default. */
  readonly audience?: string;
  /** Overrides the `issuer` field of the metadata (to test issuer mismatch). */
  readonly advertisedIssuer?: string;
}

/** Options for one {@link TokenIssuer.mint} call. */
export interface MintOptions {
  /** Seconds until expiry (negative: already expired); default 300. `null` omits `exp`. */
  readonly expiresIn?: number | null;
  /** Seconds until `nbf` (positive: not yet valid); omitted by default. */
  readonly notBefore?: number;
  readonly audience?: string | string[] | null;
  readonly issuer?: string;
  /** Signing key; the current key by default. */
  readonly key?: IssuerKey;
  /** Extra or overriding protected-header fields (`kid`, `typ`, `jwk` …). */
  readonly header?: Record<string, unknown>;
  /** Current time for `iat`; default now. */
  readonly now?: Date;
}

/** A running issuer. */
export interface TokenIssuer {
  readonly url: string;
  /** The `iss` value (url + path). */
  readonly issuer: string;
  readonly jwksUri: string;
  /** The key tokens are signed with now. */
  readonly currentKey: IssuerKey;
  /** Every key published in the JWKS. */
  readonly publishedKeys: readonly IssuerKey[];
  /** How many times the JWKS was fetched. */
  readonly jwksRequests: number;
  /** A signed JWT with `sub`, `iss`, `aud`, `iat`, `exp` defaults plus the given claims. */
  mint(claims?: JWTPayload, options?: MintOptions): Promise<string>;
  /** Makes a key without publishing it (for the unknown-`kid` case). */
  createKey(alg?: IssuerAlgorithm): Promise<IssuerKey>;
  /** Makes a new current key and publishes it; `retireOld` removes the previous keys from the JWKS. */
  rotate(options?: { retireOld?: boolean }): Promise<IssuerKey>;
  /** The JWKS as served. */
  jwks(): JSONWebKeySet;
  /** The current key's public key as SPKI PEM. */
  publicKeyPem(): Promise<string>;
  close(): Promise<void>;
}

async function makeKey(alg: IssuerAlgorithm): Promise<IssuerKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = await exportJWK(publicKey);
  const kid = (await calculateJwkThumbprint(jwk)).slice(0, 16);
  return { kid, alg, privateKey, publicKey, publicJwk: { ...jwk, kid, alg, use: 'sig' } };
}

/** Starts an issuer on an ephemeral loopback port. */
export async function startTokenIssuer(options: TokenIssuerOptions = {}): Promise<TokenIssuer> {
  const alg = options.alg ?? 'ES256';
  const discovery = options.discovery ?? 'both';
  const path = options.path ?? '';
  let keys: IssuerKey[] = [await makeKey(alg)];
  let current = keys[0]!;
  let jwksRequests = 0;
  let base = '';

  const metadata = () => ({
    issuer: options.advertisedIssuer ?? base + path,
    jwks_uri: `${base}${path}/jwks`,
    authorization_endpoint: `${base}${path}/authorize`,
    token_endpoint: `${base}${path}/token`,
    response_types_supported: ['code'],
    id_token_signing_alg_values_supported: [alg],
    subject_types_supported: ['public'],
  });
  const jwks = (): JSONWebKeySet => ({ keys: keys.map((k) => k.publicJwk) });

  const app = new Hono();
  if (discovery === 'oidc' || discovery === 'both') {
    app.get(`${path}/.well-known/openid-configuration`, (c) => c.json(metadata()));
  }
  if (discovery === 'oauth' || discovery === 'both') {
    app.get(`/.well-known/oauth-authorization-server${path}`, (c) => c.json(metadata()));
  }
  app.get(`${path}/jwks`, (c) => {
    jwksRequests++;
    return c.json(jwks());
  });
  const served = await serveApp(app);
  base = served.url;
  const issuer = base + path;

  return {
    url: base,
    issuer,
    jwksUri: `${base}${path}/jwks`,
    get currentKey() {
      return current;
    },
    get publishedKeys() {
      return keys;
    },
    get jwksRequests() {
      return jwksRequests;
    },
    async mint(claims = {}, mintOptions = {}) {
      const key = mintOptions.key ?? current;
      const now = Math.floor((mintOptions.now ?? new Date()).getTime() / 1000);
      const expiresIn = mintOptions.expiresIn === undefined ? 300 : mintOptions.expiresIn;
      const audience = mintOptions.audience === undefined ? options.audience : mintOptions.audience;
      const payload: JWTPayload = {
        iss: mintOptions.issuer ?? issuer,
        sub: 'alice',
        iat: now,
        ...(audience !== undefined && audience !== null && { aud: audience }),
        ...(expiresIn !== null && { exp: now + expiresIn }),
        ...(mintOptions.notBefore !== undefined && { nbf: now + mintOptions.notBefore }),
        ...claims,
      };
      return new SignJWT(payload)
        .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT', ...mintOptions.header })
        .sign(key.privateKey);
    },
    createKey: (keyAlg = alg) => makeKey(keyAlg),
    async rotate(rotateOptions = {}) {
      const next = await makeKey(alg);
      keys = rotateOptions.retireOld ? [next] : [...keys, next];
      current = next;
      return next;
    },
    jwks,
    publicKeyPem: () => exportSPKI(current.publicKey),
    close: () => served.close(),
  };
}
