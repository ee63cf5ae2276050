/**
 * @module JoseTokenVerifier: the {@link TokenVerifier} built on jose — signature against the issuer's keys, `iss`,
 * `aud` (RFC 8707: the token must be issued for this gateway or the endpoint called), `exp`/`nbf` with
 * tolerance, and an algorithm allow-list that never contains `none` or HMAC.
 */
import { errors, jwtVerify } from 'jose';
import type { JWTPayload } from 'jose';
import { ClaimMappingError, principalFromClaims } from './claims.js';
import type { ClaimMappingOptions } from './claims.js';
import type { KeySource } from './key-sources.js';
import { InvalidTokenError, TokenVerifierUnavailableError } from './token-verifier.js';
import type { TokenVerifier, VerifiedToken, VerifyTokenOptions } from './token-verifier.js';

/** Options for {@link createJoseTokenVerifier}. */
export interface JoseTokenVerifierOptions extends ClaimMappingOptions {
  /** Expected `iss`, compared exactly. */
  readonly issuer: string;
  readonly keys: KeySource;
  /** Accepted `aud` values; one match suffices. */
  readonly audiences: readonly string[];
  readonly algorithms: readonly string[];
  readonly clockToleranceSeconds: number;
  /** Current time; injected for tests. */
  readonly clock?: () => Date;
  /** Verified tokens remembered to skip signature checks on repeat calls (0 disables). Default 1000. */
  readonly cacheSize?: number;
  /** Longest time a verified token is remembered, so a key withdrawn by the issuer stops working soon. */
  readonly cacheTtlMs?: number;
}

/** Tokens longer than this are refused before any parsing. */
export const MAX_TOKEN_LENGTH = 16 * 1024;
const JWS_COMPACT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;
const FORBIDDEN_ALGORITHM = /^(none|HS\d+)$/i;

interface CacheEntry {
  readonly verified: VerifiedToken;
  readonly aud: readonly string[];
  /** Epoch ms after which the entry must not be used. */
  readonly until: number;
}

// One trailing slash does not make a different resource (`https://gw.example.com` vs `…/`).
const normaliseAudience = (value: string): string => value.replace(/\/$/, '');

function audiencesOf(payload: JWTPayload): string[] {
  if (typeof payload.aud === 'string') return [payload.aud];
  if (Array.isArray(payload.aud)) return payload.aud.filter((a): a is string => typeof a === 'string');
  return [];
}

/** Turns jose's errors into the port's two kinds; anything unexpected is rethrown (a 500 and a log line). */
function classify(err: unknown): Error {
  if (err instanceof InvalidTokenError || err instanceof TokenVerifierUnavailableError) return err;
  const invalid = (message: string) => new InvalidTokenError(message, { cause: err });
  if (err instanceof errors.JWTExpired) return invalid('The token has expired.');
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === 'nbf') return invalid('The token is not valid yet (nbf).');
    if (err.claim === 'iss') return invalid('The token was issued by an issuer this gateway does not trust.');
    if (err.claim === 'exp' && err.reason === 'missing') return invalid('The token has no expiry (exp).');
    return invalid(`The token's "${err.claim}" claim is invalid.`);
  }
  if (err instanceof errors.JWSSignatureVerificationFailed) return invalid('The token signature is invalid.');
  if (err instanceof errors.JOSEAlgNotAllowed || err instanceof errors.JOSENotSupported) {
    return invalid('The token is signed with an algorithm this gateway does not accept.');
  }
  if (err instanceof errors.JWKSNoMatchingKey)
    return invalid('The token is signed with a key the issuer does not publish.');
  if (err instanceof errors.JWKSMultipleMatchingKeys)
    return invalid('The token does not name a single signing key.');
  if (err instanceof errors.JWSInvalid || err instanceof errors.JWTInvalid)
    return invalid('The token is malformed.');
  // Timeouts, non-200 JWKS answers, unparsable key sets, fetch failures: the issuer side is the problem.
  if (err instanceof errors.JOSEError || err instanceof TypeError) {
    return new TokenVerifierUnavailableError(`Cannot load the issuer's signing keys: ${err.message}`, {
      cause: err,
    });
  }
  return err instanceof Error ? err : new Error(String(err));
}

/** Builds the jose-backed verifier; validates its options (never `none`, never HMAC). */
export function createJoseTokenVerifier(options: JoseTokenVerifierOptions): TokenVerifier {
  const { issuer, keys, userClaim, rolesClaim } = options;
  if (!issuer) throw new TypeError('createJoseTokenVerifier: issuer is required');
  if (options.audiences.length === 0)
    throw new TypeError('createJoseTokenVerifier: at least one audience is required');
  if (options.algorithms.length === 0)
    throw new TypeError('createJoseTokenVerifier: at least one algorithm is required');
  const bad = options.algorithms.find((alg) => FORBIDDEN_ALGORITHM.test(alg));
  if (bad) throw new TypeError(`createJoseTokenVerifier: algorithm ${bad} is never accepted`);
  const algorithms = [...options.algorithms];
  const configured = options.audiences.map(normaliseAudience);
  const clock = options.clock ?? (() => new Date());
  const toleranceMs = options.clockToleranceSeconds * 1000;
  const cacheSize = options.cacheSize ?? 1000;
  const cacheTtlMs = options.cacheTtlMs ?? 60_000;
  const cache = new Map<string, CacheEntry>();

  async function verifySignatureAndClaims(token: string): Promise<CacheEntry> {
    const { payload } = await jwtVerify(token, keys.getKey, {
      issuer,
      algorithms,
      clockTolerance: options.clockToleranceSeconds,
      currentDate: clock(),
      // A token without an expiry would be valid forever.
      requiredClaims: ['exp'],
    });
    let principal;
    try {
      principal = principalFromClaims(payload, { userClaim, rolesClaim });
    } catch (err) {
      if (err instanceof ClaimMappingError) throw new InvalidTokenError(err.message);
      throw err;
    }
    const now = clock().getTime();
    const expiresAt = (payload.exp ?? 0) * 1000 + toleranceMs;
    return {
      verified: { principal, claims: payload },
      aud: audiencesOf(payload).map(normaliseAudience),
      until: Math.min(expiresAt, now + cacheTtlMs),
    };
  }

  function remember(token: string, entry: CacheEntry): void {
    if (cacheSize <= 0) return;
    if (cache.size >= cacheSize) {
      const oldest = cache.keys().next();
      if (!oldest.done) cache.delete(oldest.value);
    }
    cache.set(token, entry);
  }

  return {
    async verify(token: string, verifyOptions: VerifyTokenOptions = {}): Promise<VerifiedToken> {
      if (token.length > MAX_TOKEN_LENGTH || !JWS_COMPACT.test(token)) {
        throw new InvalidTokenError('The token is malformed (expected a signed JWT).');
      }
      let entry = cache.get(token);
      if (entry && clock().getTime() >= entry.until) {
        cache.delete(token);
        entry = undefined;
      }
      if (!entry) {
        try {
          entry = await verifySignatureAndClaims(token);
        } catch (err) {
          throw classify(err);
        }
        remember(token, entry);
      }
      // Audience is checked per request: which values are acceptable depends on the endpoint called.
      const accepted = verifyOptions.resource
        ? [...configured, normaliseAudience(verifyOptions.resource)]
        : configured;
      if (!entry.aud.some((aud) => accepted.includes(aud))) {
        throw new InvalidTokenError(
          entry.aud.length === 0
            ? 'The token has no audience (aud); it must be issued for this gateway.'
            : 'The token was issued for another audience, not for this gateway (RFC 8707).',
        );
      }
      return entry.verified;
    },
    warmUp: () => keys.warmUp().catch((err: unknown) => Promise.reject(classify(err))),
  };
}
