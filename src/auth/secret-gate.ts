/**
 * @module secret-gate: who may manage secrets. Every `/secrets` route — reading the list included, since the
 * names alone say which upstreams hold credentials — needs a role in `MCP_GATEWAY_SECRET_ROLES` (`mcp.admin`
 * always qualifies). A middleware, like the creation gate, so the routes stay unaware of it.
 */
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../http/index.js';
import { insufficientRole } from './challenge.js';
import { canManageSecrets } from './permissions.js';
import { ADMIN_ROLE } from '../core/index.js';

/** Options for {@link secretGate}. */
export interface SecretGateOptions {
  /** `MCP_GATEWAY_SECRET_ROLES`; holders of `mcp.admin` qualify whatever it lists. */
  readonly secretRoles: readonly string[];
  /** RFC 9728 metadata URL for the challenge; none by default. */
  readonly metadataUrlFor?: (path: string) => string;
}

/**
 * Must run after authentication. Answers a caller without a secret role with 403 and
 * `WWW-Authenticate: Bearer error="insufficient_scope"`, the shape of the command gate's refusal.
 */
export function secretGate(options: SecretGateOptions): MiddlewareHandler<AppEnv> {
  const secretRoles = [...options.secretRoles];
  const roles = [...new Set([ADMIN_ROLE, ...secretRoles])].join(', ');
  return async function secretGateMiddleware(c, next) {
    if (!canManageSecrets(c.get('principal'), secretRoles)) {
      throw insufficientRole(
        `Managing secrets requires one of the roles in MCP_GATEWAY_SECRET_ROLES: ${roles}.`,
        { ...(options.metadataUrlFor && { resourceMetadata: options.metadataUrlFor(c.req.path) }) },
      );
    }
    await next();
  };
}
