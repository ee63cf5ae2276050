/**
 * @module key-sources: where verification keys come from — an issuer's discovery document, a JWKS URL, a JWKS
 * document (from a file), or one PEM public key. Each is a resolver jose calls with the token's header.
 */
import { createLocalJWKSet, createRemoteJWKSet, customFetch, importSPKI, importX509 } from 'jose';
import type {
  CryptoKey,
  FlattenedJWSInput,
  JSONWebKeySet,
  JWK,
  JWSHeaderParameters,
  RemoteJWKSet,
} from 'jose';
import { discoverIssuer, isSecureKeyUrl } from './oidc-discovery.js';
import { InvalidTokenError } from './token-verifier.js';

/** Resolves the key for a token (jose's `JWTVerifyGetKey` shape) and can prefetch. */
export interface KeySource {
  getKey(header: JWSHeaderParameters, token: FlattenedJWSInput): Promise<CryptoKey>;
  /** Loads keys now; rejects when they cannot be had. */
  warmUp(): Promise<void>;
}

/** Options for remote key sources. */
export interface RemoteKeyOptions {
  readonly fetch?: typeof fetch;
  /** After a fetch, an unknown `kid` triggers another only after this long (default 30 s, jose's). */
  readonly cooldownMs?: number;
  /** Keys are refetched after this long even when every `kid` is known (default 10 min). */
  readonly cacheMaxAgeMs?: number;
  readonly timeoutMs?: number;
  /** Clock for the discovery retry back-off. */
  readonly now?: () => number;
}

function remoteSet(url: string, options: RemoteKeyOptions): RemoteJWKSet {
  return createRemoteJWKSet(new URL(url), {
    cooldownDuration: options.cooldownMs ?? 30_000,
    cacheMaxAge: options.cacheMaxAgeMs ?? 600_000,
    timeoutDuration: options.timeoutMs ?? 5000,
    ...(options.fetch && { [customFetch]: options.fetch as never }),
  });
}

/** Keys from a JWKS URL; unknown `kid`s refetch it (key rotation), at most once per cooldown. */
export function remoteJwksKeySource(url: string, options: RemoteKeyOptions = {}): KeySource {
  if (!isSecureKeyUrl(url))
    throw new TypeError(`remoteJwksKeySource: ${url} must be https (or loopback http)`);
  const set = remoteSet(url, options);
  return { getKey: (header, token) => set(header, token), warmUp: () => set.reload() };
}

/**
 * Keys of an OIDC/OAuth issuer, found through discovery on first use. A failed discovery is retried after a
 * short back-off rather than on every request, so an unreachable issuer does not get hammered.
 */
export function discoveryKeySource(issuer: string, options: RemoteKeyOptions = {}): KeySource {
  const now = options.now ?? Date.now;
  const retryAfterMs = 5000;
  let keys: Promise<RemoteJWKSet> | undefined;
  let failedAt = -Infinity;
  let failure: unknown;

  function resolve(): Promise<RemoteJWKSet> {
    if (keys) return keys;
    if (now() - failedAt < retryAfterMs) return Promise.reject(failure);
    keys = discoverIssuer(issuer, { fetch: options.fetch, timeoutMs: options.timeoutMs }).then(
      (found) => remoteSet(found.jwksUri, options),
      (err: unknown) => {
        keys = undefined;
        failedAt = now();
        failure = err;
        throw err;
      },
    );
    return keys;
  }

  return {
    getKey: async (header, token) => (await resolve())(header, token),
    warmUp: async () => (await resolve()).reload(),
  };
}

/** Parses and checks a JWKS document: public signature keys only. Throws TypeError naming the problem. */
export function parsePublicJwks(text: string): JSONWebKeySet {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new TypeError('the JWKS is not valid JSON');
  }
  const keys = (doc as { keys?: unknown })?.keys;
  if (!Array.isArray(keys) || keys.length === 0)
    throw new TypeError('the JWKS must be an object with a non-empty "keys" array');
  keys.forEach((key: JWK, i) => {
    if (typeof key !== 'object' || key === null) throw new TypeError(`keys[${i}] is not an object`);
    if (key.kty === 'oct')
      throw new TypeError(`keys[${i}] is a symmetric (oct) key; only public keys are accepted`);
    if ('d' in key || 'p' in key)
      throw new TypeError(`keys[${i}] contains private key material; publish only the public part`);
  });
  return { keys } as JSONWebKeySet;
}

/** Keys from a JWKS document held in memory (e.g. read from `MCP_GATEWAY_JWKS_FILE`). */
export function localJwksKeySource(jwks: JSONWebKeySet): KeySource {
  const set = createLocalJWKSet(jwks);
  return { getKey: (header, token) => set(header, token), warmUp: async () => undefined };
}

/**
 * One PEM public key (SPKI) or certificate. The key is imported per algorithm the token names (an RSA key
 * serves RS* and PS*) and only for the allowed algorithms.
 */
export async function pemKeySource(pem: string, algorithms: readonly string[]): Promise<KeySource> {
  const certificate = pem.includes('BEGIN CERTIFICATE');
  const imported = new Map<string, Promise<CryptoKey>>();
  const importFor = (alg: string): Promise<CryptoKey> => {
    let key = imported.get(alg);
    if (!key) {
      key = certificate ? importX509(pem, alg) : importSPKI(pem, alg);
      imported.set(alg, key);
    }
    return key;
  };
  const usable: string[] = [];
  for (const alg of algorithms) {
    try {
      await importFor(alg);
      usable.push(alg);
    } catch {
      imported.delete(alg);
    }
  }
  if (usable.length === 0) {
    throw new TypeError(`the PEM key cannot verify any of the allowed algorithms (${algorithms.join(', ')})`);
  }
  return {
    getKey: async (header) => {
      const alg = header.alg ?? '';
      // jose checks the allow-list first; this keeps key import away from algorithms the key cannot serve.
      if (!usable.includes(alg)) {
        throw new InvalidTokenError(
          'The token is signed with an algorithm the configured key does not serve.',
        );
      }
      return importFor(alg);
    },
    warmUp: async () => undefined,
  };
}
