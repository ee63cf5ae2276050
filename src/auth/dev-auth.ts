/**
 * @module devAuth: development authentication as in the reference — the caller names itself with
 * `X-Dev-UserId` (default `dev`) and `X-Dev-Roles` (comma-separated, default `mcp.dev`). Anyone who can reach
 * the gateway can claim any identity, so configuration allows it only on loopback or when forced.
 */
import { badRequest } from '../http/index.js';
import { MAX_USER_ID_LENGTH } from './claims.js';
import { identifyingMiddleware } from './identify.js';
import type { Identify, IdentifyingMiddleware } from './identify.js';
import type { Principal } from '../core/index.js';

/** Header carrying the development user id. */
export const DEV_USER_HEADER = 'X-Dev-UserId';
/** Header carrying the development roles, comma-separated. */
export const DEV_ROLES_HEADER = 'X-Dev-Roles';
/** The user id when no header names one. */
export const DEFAULT_DEV_USER = 'dev';
/** The role when no header names any; deliberately not `mcp.admin`, as in the reference. */
export const DEFAULT_DEV_ROLE = 'mcp.dev';

/** Options for {@link devAuth}. */
export interface DevAuthOptions {
  readonly defaultUserId?: string;
  readonly defaultRoles?: readonly string[];
}

const VISIBLE = /^[\x21-\x7e]+$/;

const USER_HEADER = DEV_USER_HEADER.toLowerCase();
const ROLES_HEADER = DEV_ROLES_HEADER.toLowerCase();

/** Builds the middleware; malformed headers get a 400 naming the header. */
export function devAuth(options: DevAuthOptions = {}): IdentifyingMiddleware {
  return identifyingMiddleware(devIdentify(options));
}

/** The caller as the development headers name it. */
export function devIdentify(options: DevAuthOptions = {}): Identify {
  const defaultUserId = options.defaultUserId ?? DEFAULT_DEV_USER;
  const defaultRoles = Object.freeze([...(options.defaultRoles ?? [DEFAULT_DEV_ROLE])]);
  return function devIdentity(request) {
    const rawUser = request.header(USER_HEADER)?.trim();
    const userId = rawUser || defaultUserId;
    if (userId.length > MAX_USER_ID_LENGTH || !VISIBLE.test(userId)) {
      throw badRequest(`${DEV_USER_HEADER}: must be 1–${MAX_USER_ID_LENGTH} visible ASCII characters.`, [
        { path: DEV_USER_HEADER, message: 'is not a usable user id' },
      ]);
    }
    const rawRoles = request.header(ROLES_HEADER);
    const roles =
      rawRoles === undefined
        ? defaultRoles
        : [
            ...new Set(
              rawRoles
                .split(',')
                .map((r) => r.trim())
                .filter(Boolean),
            ),
          ];
    const bad = roles.find((r) => !VISIBLE.test(r));
    if (bad !== undefined) {
      throw badRequest(`${DEV_ROLES_HEADER}: roles must be visible ASCII without spaces.`, [
        { path: DEV_ROLES_HEADER, message: 'contains an unusable role' },
      ]);
    }
    const principal: Principal = { userId, roles };
    return principal;
  };
}
