/** @module claims: maps a verified token's claims to a {@link Principal}. */
import type { Principal } from '../core/index.js';

/** Options for {@link principalFromClaims}. */
export interface ClaimMappingOptions {
  /** Claim holding the user id (`sub`, `oid`, …); a dotted path is allowed. */
  readonly userClaim: string;
  /** Claim holding the roles (`roles`, `realm_access.roles`, `https://example.com/roles`). */
  readonly rolesClaim: string;
}

/** Why a set of claims cannot name a principal; the message is safe to show the caller. */
export class ClaimMappingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ClaimMappingError';
  }
}

/** Longest accepted user id: ids end up in headers, logs and sealed session ids. */
export const MAX_USER_ID_LENGTH = 256;
const MAX_ROLES = 200;
const MAX_ROLE_LENGTH = 256;
// Control characters would break headers and log lines.
const CONTROL = /\p{Cc}/u;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Reads a claim by name or dotted path. A claim whose full name exists at the top level wins, so namespaced
 * claims such as Auth0's `https://example.com/roles` work although they contain dots.
 */
export function readClaim(claims: Record<string, unknown>, path: string): unknown {
  if (Object.hasOwn(claims, path)) return claims[path];
  let current: unknown = claims;
  for (const segment of path.split('.')) {
    if (!isRecord(current) || !Object.hasOwn(current, segment)) return undefined;
    current = current[segment];
  }
  return current;
}

/** A list claim as strings: an array of strings, or one space-separated string (as `scope` is). */
function stringList(value: unknown): string[] {
  if (typeof value === 'string') return value.split(/\s+/).filter(Boolean);
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  return [];
}

/** The scopes of a token: `scope` (RFC 8693/9068, space-separated) or `scp` (Entra, Okta). */
export function scopesOf(claims: Record<string, unknown>): string[] {
  return [...new Set([...stringList(claims['scope']), ...stringList(claims['scp'])])];
}

/** Builds the principal; throws {@link ClaimMappingError} when the user claim is missing or unusable. */
export function principalFromClaims(
  claims: Record<string, unknown>,
  options: ClaimMappingOptions,
): Principal {
  const rawUser = readClaim(claims, options.userClaim);
  const userId = typeof rawUser === 'number' ? String(rawUser) : rawUser;
  if (typeof userId !== 'string' || userId.trim() === '') {
    throw new ClaimMappingError(`The token has no "${options.userClaim}" claim naming the user.`);
  }
  if (userId.length > MAX_USER_ID_LENGTH || CONTROL.test(userId)) {
    throw new ClaimMappingError(`The token's "${options.userClaim}" claim is not a usable user id.`);
  }
  const roles = [
    ...new Set(
      stringList(readClaim(claims, options.rolesClaim))
        .map((r) => r.trim())
        .filter((r) => r !== '' && r.length <= MAX_ROLE_LENGTH && !CONTROL.test(r)),
    ),
  ].slice(0, MAX_ROLES);
  const principal: Principal = { userId, roles, scopes: scopesOf(claims) };
  // Readable by tool-policy rules, but not enumerable: a principal that is logged or serialized (a log line, a
  // test echo) never carries the token's claims (e-mail, names, tenant ids) along.
  Object.defineProperty(principal, 'claims', { value: Object.freeze({ ...claims }), enumerable: false });
  return principal;
}
