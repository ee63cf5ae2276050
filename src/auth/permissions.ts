/** @module permissions: who may read and write a registered resource (the reference's model). */
import type { Principal } from '../core/index.js';
import { ADMIN_ROLE } from '../core/index.js';

/** What a permission check needs to know about a resource. */
export interface OwnedResource {
  readonly createdBy: string;
  readonly spec: { readonly requiredRoles: readonly string[] };
}

// Roles and user ids compare case-insensitively, as in the reference. Not localeCompare: it builds a collator
// per call, and this runs on every proxied request.
const same = (a: string, b: string): boolean => a === b || a.toLowerCase() === b.toLowerCase();
const hasRole = (principal: Principal, role: string): boolean => principal.roles.some((r) => same(r, role));

/** True for holders of `mcp.admin`. */
export const isAdmin = (principal: Principal): boolean => hasRole(principal, ADMIN_ROLE);

/** Read: the creator, an admin, or a holder of one of the resource's `requiredRoles`. */
export function canRead(principal: Principal, resource: OwnedResource): boolean {
  return (
    same(principal.userId, resource.createdBy) ||
    isAdmin(principal) ||
    resource.spec.requiredRoles.some((role) => hasRole(principal, role))
  );
}

/** Write (update, delete): the creator or an admin; `requiredRoles` never grants write. */
export function canWrite(principal: Principal, resource: OwnedResource): boolean {
  return same(principal.userId, resource.createdBy) || isAdmin(principal);
}

/**
 * Create: anyone authenticated when `creatorRoles` is empty (the reference); otherwise an admin or a holder of
 * one of `creatorRoles` (`MCP_GATEWAY_CREATOR_ROLES`).
 */
export function canCreate(principal: Principal, creatorRoles: readonly string[]): boolean {
  return (
    creatorRoles.length === 0 || isAdmin(principal) || creatorRoles.some((role) => hasRole(principal, role))
  );
}

/**
 * Process runtime (`command`, `args`, `transport`), which runs code on the gateway host: an admin or a holder of
 * one of `commandRoles` (`MCP_GATEWAY_COMMAND_ROLES`). Unlike {@link canCreate}, an empty list grants nobody
 * but admins.
 */
export function canRunCommands(principal: Principal, commandRoles: readonly string[]): boolean {
  return isAdmin(principal) || commandRoles.some((role) => hasRole(principal, role));
}

/**
 * Secrets (`/secrets`): an admin or a holder of one of `secretRoles` (`MCP_GATEWAY_SECRET_ROLES`). As with
 * {@link canRunCommands}, an empty list grants nobody but admins.
 */
export function canManageSecrets(principal: Principal, secretRoles: readonly string[]): boolean {
  return isAdmin(principal) || secretRoles.some((role) => hasRole(principal, role));
}
