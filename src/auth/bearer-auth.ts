/**
 * @module bearerAuth: the OAuth 2.1 resource-server middleware. Reads `Authorization: Bearer`, verifies the
 * token for the resource being called, sets `principal`, and answers everything else with 401 and an RFC 9728
 * challenge pointing at the resource's metadata.
 */
import { HttpError } from '../http/index.js';
import type { Logger } from '../observability/index.js';
import { createSilentLogger } from '../observability/index.js';
import { bindCallerToken } from './caller-token.js';
import { unauthorized } from './challenge.js';
import { identifyingMiddleware } from './identify.js';
import type { Identify, IdentifyingMiddleware } from './identify.js';
import type { ProtectedResources } from './protected-resource.js';
import { InvalidTokenError, TokenVerifierUnavailableError } from './token-verifier.js';
import type { TokenVerifier } from './token-verifier.js';

/** Options for {@link bearerAuth}. */
export interface BearerAuthOptions {
  readonly verifier: TokenVerifier;
  /** Canonical resource URLs and metadata locations. */
  readonly resources: ProtectedResources;
  /** Where verifier outages are reported (never with the token). Silent by default. */
  readonly logger?: Logger;
  /** Seconds a client should wait after a 503 caused by an unreachable issuer. */
  readonly retryAfterSeconds?: number;
}

// RFC 6750 §2.1: `Bearer` (case-insensitive) then a b64token.
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;
const QUERY_TOKEN_PARAMS = ['access_token'];

/**
 * Builds the middleware.
 *
 * A token in the query string (`?access_token=`, RFC 6750 §2.3) is refused with **401** and
 * `error="invalid_request"`, whether or not a header is present too. MCP forbids that method outright, the
 * token has likely leaked into logs already, and a 401 with the challenge (rather than RFC 6750's suggested
 * 400) is what makes an MCP client start the sign-in flow that yields a header token.
 */
export function bearerAuth(options: BearerAuthOptions): IdentifyingMiddleware {
  return identifyingMiddleware(bearerIdentify(options));
}

/** The caller named by a verified bearer token; see {@link bearerAuth}. */
export function bearerIdentify(options: BearerAuthOptions): Identify {
  const { verifier, resources } = options;
  const logger = options.logger ?? createSilentLogger();
  const retryAfter = String(options.retryAfterSeconds ?? 5);

  return async function bearerIdentity(request) {
    const path = request.path;
    const base = {
      resourceMetadata: resources.metadataUrlFor(path),
      ...(resources.scope && { scope: resources.scope }),
    };
    const url = new URL(request.url);
    if (QUERY_TOKEN_PARAMS.some((name) => url.searchParams.has(name))) {
      throw unauthorized(
        'Access tokens are not accepted in the query string; send them in the Authorization header.',
        {
          ...base,
          error: 'invalid_request',
          errorDescription: 'Tokens in the query string are not accepted',
        },
      );
    }
    const header = request.header('authorization');
    if (header === undefined || !/^bearer(\s|$)/i.test(header.trim())) {
      // RFC 6750 §3.1: no error code when the request carried no bearer credentials at all.
      throw unauthorized(
        header === undefined
          ? 'Authentication required: send an OAuth access token as Authorization: Bearer <token>.'
          : 'Only Bearer tokens are accepted (Authorization: Bearer <token>).',
        base,
      );
    }
    const match = BEARER.exec(header.trim());
    if (!match) {
      throw unauthorized('The Authorization header is malformed; expected "Bearer <token>".', {
        ...base,
        error: 'invalid_token',
        errorDescription: 'Malformed Authorization header',
      });
    }
    try {
      const { principal } = await verifier.verify(match[1]!, { resource: resources.resourceFor(path) });
      // For `upstreamAuth` `token-exchange` only; never on the principal itself (see caller-token.ts).
      bindCallerToken(principal, match[1]!);
      return principal;
    } catch (err) {
      if (err instanceof InvalidTokenError) {
        throw unauthorized(err.message, { ...base, error: 'invalid_token', errorDescription: err.message });
      }
      if (err instanceof TokenVerifierUnavailableError) {
        logger.warn(
          { err: err.message, requestId: request.requestId },
          'cannot verify tokens: issuer keys unavailable',
        );
        throw new HttpError(
          503,
          'auth_unavailable',
          'Tokens cannot be verified right now; try again shortly.',
          {
            headers: { 'Retry-After': retryAfter },
          },
        );
      }
      throw err;
    }
  };
}
