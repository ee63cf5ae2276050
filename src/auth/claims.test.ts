import { describe, expect, it } from 'vitest';
import { ClaimMappingError, principalFromClaims, readClaim, scopesOf } from './claims.js';

const DEFAULTS = { userClaim: 'sub', rolesClaim: 'roles' };

describe('readClaim', () => {
  const claims = {
    sub: 'u',
    realm_access: { roles: ['a', 'b'] },
    resource_access: { gw: { roles: ['c'] } },
    'https://example.com/roles': ['ns'],
  };

  it('reads top-level names, dotted paths, and namespaced claims containing dots', () => {
    expect(readClaim(claims, 'sub')).toBe('u');
    expect(readClaim(claims, 'realm_access.roles')).toEqual(['a', 'b']);
    expect(readClaim(claims, 'resource_access.gw.roles')).toEqual(['c']);
    expect(readClaim(claims, 'https://example.com/roles')).toEqual(['ns']);
  });

  it('returns undefined for missing paths and never walks the prototype', () => {
    expect(readClaim(claims, 'realm_access.groups')).toBeUndefined();
    expect(readClaim(claims, 'sub.length')).toBeUndefined();
    expect(readClaim(claims, 'constructor')).toBeUndefined();
    expect(readClaim(claims, '__proto__.toString')).toBeUndefined();
  });
});

describe('principalFromClaims', () => {
  it('maps sub and roles; keeps scopes apart', () => {
    expect(principalFromClaims({ sub: 'alice', roles: ['r1'], scope: 'mcp openid' }, DEFAULTS)).toEqual({
      userId: 'alice',
      roles: ['r1'],
      scopes: ['mcp', 'openid'],
    });
  });

  it('keeps the claims for tool-policy rules, out of any serialization of the principal', () => {
    const principal = principalFromClaims(
      { sub: 'alice', email: 'alice@example.com', org: { id: 7 } },
      DEFAULTS,
    );
    expect(principal.claims).toEqual({ sub: 'alice', email: 'alice@example.com', org: { id: 7 } });
    expect(JSON.stringify(principal)).not.toContain('alice@example.com');
  });

  it('uses the configured claims (Entra oid, Keycloak realm roles)', () => {
    const claims = {
      sub: 'pairwise',
      oid: 'object-id',
      realm_access: { roles: ['mcp.admin'] },
      scp: 'mcp.read',
    };
    expect(principalFromClaims(claims, { userClaim: 'oid', rolesClaim: 'realm_access.roles' })).toEqual({
      userId: 'object-id',
      roles: ['mcp.admin'],
      scopes: ['mcp.read'],
    });
  });

  it('accepts a single role as a string, drops non-strings, blanks and duplicates', () => {
    expect(principalFromClaims({ sub: 'a', roles: 'mcp.admin' }, DEFAULTS).roles).toEqual(['mcp.admin']);
    expect(
      principalFromClaims({ sub: 'a', roles: ['x', 1, null, ' ', 'x', 'bad\nrole'] }, DEFAULTS).roles,
    ).toEqual(['x']);
    expect(principalFromClaims({ sub: 'a' }, DEFAULTS).roles).toEqual([]);
  });

  it('merges scope and scp (array or string)', () => {
    expect(scopesOf({ scope: 'a b', scp: ['b', 'c'] })).toEqual(['a', 'b', 'c']);
  });

  it('refuses a missing, empty or unusable user id', () => {
    expect(() => principalFromClaims({}, DEFAULTS)).toThrow(ClaimMappingError);
    expect(() => principalFromClaims({ sub: '' }, DEFAULTS)).toThrow(/"sub"/);
    expect(() => principalFromClaims({ sub: { id: 1 } }, DEFAULTS)).toThrow(ClaimMappingError);
    expect(() => principalFromClaims({ sub: 'a\r\nX-Evil: 1' }, DEFAULTS)).toThrow(/not a usable user id/);
    expect(() => principalFromClaims({ sub: 'a'.repeat(257) }, DEFAULTS)).toThrow(ClaimMappingError);
  });
});
