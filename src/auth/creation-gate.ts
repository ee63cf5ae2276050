/**
 * @module creationGate: limits registering adapters, tools and toolsets to `MCP_GATEWAY_CREATOR_ROLES` (plus
 * `mcp.admin`). A middleware so the control plane's handlers stay unaware of it.
 */
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../http/index.js';
import { insufficientRole } from './challenge.js';
import { canCreate } from './permissions.js';
import { ADMIN_ROLE } from '../core/index.js';

/** Options for {@link creationGate}. */
export interface CreationGateOptions {
  /** Empty: everyone authenticated may create (the reference's behaviour). */
  readonly creatorRoles: readonly string[];
  /** Collection paths whose POST creates something. */
  readonly collections?: readonly string[];
  /** RFC 9728 metadata URL for the challenge; none by default (the control plane is not an MCP endpoint). */
  readonly metadataUrlFor?: (path: string) => string;
}

/**
 * Must run after authentication. Answers a create (`POST` on a collection) by a caller without a creator role
 * with 403 and `WWW-Authenticate: Bearer error="insufficient_scope"`; everything else passes.
 */
export function creationGate(options: CreationGateOptions): MiddlewareHandler<AppEnv> {
  const creatorRoles = [...options.creatorRoles];
  const collections = new Set(options.collections ?? ['/adapters', '/tools', '/toolsets']);
  const allowed = [...creatorRoles, ADMIN_ROLE].join(', ');
  return async function creationGateMiddleware(c, next) {
    const path = c.req.path.replace(/\/$/, '');
    if (c.req.method === 'POST' && collections.has(path) && !canCreate(c.get('principal'), creatorRoles)) {
      throw insufficientRole(`Creating ${path.slice(1)} requires one of the roles: ${allowed}.`, {
        ...(options.metadataUrlFor && { resourceMetadata: options.metadataUrlFor(path) }),
      });
    }
    await next();
  };
}
