/**
 * @module secret-gate: who may manage secrets. Every `/secrets` route — reading the list included, since the
 * names alone say which upstreams hold credentials — needs a role in `MCP_GATEWAY_SECRET_ROLES` (`mcp.admin`
 * always qualifies). A middleware, like the creation gate, so the routes stay unaware of it.
 *
 * The same roles decide who may *reference* a secret from an adapter or tool ({@link secretReferenceGate}): a
 * reference puts the value into a process or pod whose image, command and arguments the writer chooses, so it is
 * as good as reading the value. Without this gate any user allowed to register a resource could name another
 * user's secret and have the gateway hand it to a server that prints it.
 */
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../http/index.js';
import { insufficientRole } from './challenge.js';
import { canManageSecrets } from './permissions.js';
import { ADMIN_ROLE } from '../core/index.js';
import type { Principal } from '../core/index.js';

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

/** Checks the secret references of create and replace bodies of `/adapters` and `/tools`. */
export interface SecretReferenceGate {
  /**
   * Throws 403 (`insufficient_scope`) naming the first referencing field when `references` is not empty and
   * `principal` holds none of the secret roles. `path` is the request path, for the challenge.
   */
  check(principal: Principal, references: readonly { readonly field: string }[], path: string): void;
}

/** Builds the reference gate over the roles of {@link secretGate}; validates its options. */
export function secretReferenceGate(options: SecretGateOptions): SecretReferenceGate {
  const secretRoles = [...options.secretRoles];
  const roles = [...new Set([ADMIN_ROLE, ...secretRoles])].join(', ');
  return {
    check(principal, references, path) {
      const first = references[0];
      if (!first || canManageSecrets(principal, secretRoles)) return;
      throw insufficientRole(
        `${first.field}: referencing a secret hands its value to the server, so it requires one of the roles in MCP_GATEWAY_SECRET_ROLES: ${roles}.`,
        { ...(options.metadataUrlFor && { resourceMetadata: options.metadataUrlFor(path) }) },
      );
    },
  };
}
