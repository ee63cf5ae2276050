/**
 * @module well-known-routes: the public, unauthenticated documents — RFC 9728 protected-resource metadata
 * (root and per MCP endpoint) and the JWKS of the gateway's identity-signing key.
 */
import { Hono } from 'hono';
import { cors } from 'hono/cors';
import type { JSONWebKeySet } from 'jose';
import { notFound } from '../http/index.js';
import type { AppEnv } from '../http/index.js';
import { PROTECTED_RESOURCE_METADATA_PATH } from './protected-resource.js';
import type { ProtectedResources } from './protected-resource.js';

/** Where the identity JWT's public keys are served. */
export const IDENTITY_JWKS_PATH = '/.well-known/jwks.json';

/** Options for {@link createWellKnownRoutes}. */
export interface WellKnownRoutesOptions {
  /** Protected resources; absent (dev modes) means there is no metadata and its paths answer 404. */
  readonly resources?: ProtectedResources;
  /** Public keys of the identity signer; absent means `/.well-known/jwks.json` answers 404. */
  readonly identityJwks?: JSONWebKeySet;
  /** `Cache-Control: max-age` of the documents; default 300 s. */
  readonly maxAgeSeconds?: number;
}

/**
 * Builds the router (mount at `/`, before authentication). Metadata exists for the root and for syntactically
 * valid MCP endpoint paths, without asking the registry: the answer must not reveal which adapters exist to a
 * caller who has not signed in yet.
 */
export function createWellKnownRoutes(options: WellKnownRoutesOptions): Hono<AppEnv> {
  const router = new Hono<AppEnv>();
  const cacheControl = `public, max-age=${options.maxAgeSeconds ?? 300}`;
  // Browser-based MCP clients fetch these cross-origin, with MCP-Protocol-Version (hence a preflight).
  const publicCors = cors({ origin: '*', allowMethods: ['GET', 'HEAD', 'OPTIONS'], maxAge: 86400 });
  const { resources, identityJwks } = options;

  for (const path of [PROTECTED_RESOURCE_METADATA_PATH, `${PROTECTED_RESOURCE_METADATA_PATH}/*`]) {
    router.use(path, publicCors);
    router.get(path, (c) => {
      const suffix = c.req.path.slice(PROTECTED_RESOURCE_METADATA_PATH.length);
      const doc = resources?.metadataFor(suffix);
      if (!doc) {
        throw notFound(
          resources
            ? `No protected resource at ${suffix || '/'}: metadata exists for /mcp, /toolsets/{name}/mcp and /adapters/{name}/mcp.`
            : 'This gateway does not use OAuth (dev mode): there is no protected-resource metadata.',
        );
      }
      c.header('Cache-Control', cacheControl);
      return c.json(doc);
    });
  }

  router.use(IDENTITY_JWKS_PATH, publicCors);
  router.get(IDENTITY_JWKS_PATH, (c) => {
    if (!identityJwks) throw notFound('Identity JWTs are off (MCP_GATEWAY_IDENTITY_JWT); there is no JWKS.');
    c.header('Cache-Control', cacheControl);
    return c.json(identityJwks);
  });
  return router;
}
