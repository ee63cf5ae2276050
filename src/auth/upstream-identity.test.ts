import { describe, expect, it } from 'vitest';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import {
  HEADERS_ONLY_IDENTITY,
  IDENTITY_JWT_TYPE,
  createIdentitySigner,
  generateIdentityKey,
  identityHeaders,
  isStrippedInboundHeader,
  parseIdentityKey,
  signedUpstreamIdentity,
} from './upstream-identity.js';

const alice = { userId: 'alice', roles: ['mcp.engineer', 'mcp.admin'] };

describe('identity headers', () => {
  it('sends the reference headers: X-Mcp-UserId and comma-joined X-Mcp-Roles', () => {
    expect(identityHeaders(alice)).toEqual({
      'X-Mcp-UserId': 'alice',
      'X-Mcp-Roles': 'mcp.engineer,mcp.admin',
    });
    expect(identityHeaders({ userId: 'bob', roles: [] })).toEqual({
      'X-Mcp-UserId': 'bob',
      'X-Mcp-Roles': '',
    });
  });

  it('percent-encodes what a header cannot carry and leaves out roles containing commas', () => {
    const headers = identityHeaders({ userId: 'jürgen@example.com', roles: ['a,b', 'c'] });
    expect(headers).toEqual({ 'X-Mcp-UserId': 'j%C3%BCrgen%40example.com', 'X-Mcp-Roles': 'c' });
    expect(() => new Headers(headers)).not.toThrow();
  });

  it('headers-only identity adds no JWT and publishes no keys', async () => {
    expect(await HEADERS_ONLY_IDENTITY.headersFor(alice, 'https://up')).toEqual(identityHeaders(alice));
    expect(HEADERS_ONLY_IDENTITY.jwks).toBeUndefined();
  });
});

describe('inbound headers to strip', () => {
  it.each([
    ['Authorization', true],
    ['proxy-authorization', true],
    ['Cookie', true],
    ['X-Gateway-Secret', true],
    ['X-Mcp-UserId', true],
    ['x-mcp-roles', true],
    ['X-Mcp-Identity', true],
    ['X-Dev-UserId', true],
    ['x-dev-roles', true],
    ['Mcp-Session-Id', false],
    ['MCP-Protocol-Version', false],
    ['Mcp-Method', false],
    ['content-type', false],
    ['accept', false],
    ['last-event-id', false],
  ])('%s → %s', (name, stripped) => {
    expect(isStrippedInboundHeader(name)).toBe(stripped);
  });
});

describe('identity JWT (X-Mcp-Identity)', () => {
  it('is a short-lived ES256 JWT an upstream verifies with the published JWKS', async () => {
    let now = new Date('2026-01-01T00:00:00Z');
    const signer = await createIdentitySigner({
      issuer: 'https://gw.example.com',
      privateJwk: await generateIdentityKey(),
      clock: () => now,
    });
    const identity = signedUpstreamIdentity(signer);
    const headers = await identity.headersFor(alice, 'https://gw.example.com/adapters/weather');
    expect(headers['X-Mcp-UserId']).toBe('alice');
    const token = headers['X-Mcp-Identity']!;
    expect(decodeProtectedHeader(token)).toMatchObject({ alg: 'ES256', typ: IDENTITY_JWT_TYPE });

    const { payload } = await jwtVerify(token, createLocalJWKSet(identity.jwks!), {
      issuer: 'https://gw.example.com',
      audience: 'https://gw.example.com/adapters/weather',
      typ: IDENTITY_JWT_TYPE,
      algorithms: ['ES256'],
      currentDate: now,
    });
    expect(payload).toMatchObject({ sub: 'alice', roles: ['mcp.engineer', 'mcp.admin'] });
    expect(payload.exp! - payload.iat!).toBe(60);

    // Reused for half its life, then renewed.
    now = new Date(now.getTime() + 29_000);
    expect(
      (await identity.headersFor(alice, 'https://gw.example.com/adapters/weather'))['X-Mcp-Identity'],
    ).toBe(token);
    now = new Date(now.getTime() + 2_000);
    expect(
      (await identity.headersFor(alice, 'https://gw.example.com/adapters/weather'))['X-Mcp-Identity'],
    ).not.toBe(token);
    // Another audience or other roles never share a token.
    expect(await signer.sign(alice, 'https://other')).not.toBe(
      await signer.sign(alice, 'https://gw.example.com/x'),
    );
    expect(await signer.sign({ userId: 'alice', roles: [] }, 'https://other')).not.toBe(
      await signer.sign(alice, 'https://other'),
    );
  });

  it('a stored key round-trips through JSON; bad keys are refused', async () => {
    const key = await generateIdentityKey();
    expect(parseIdentityKey(JSON.stringify(key))).toEqual(key);
    expect(key.kid).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(() => parseIdentityKey('{')).toThrow(/not valid JSON/);
    const { d: _d, ...publicOnly } = key;
    expect(() => parseIdentityKey(JSON.stringify(publicOnly))).toThrow(/private EC P-256 JWK/);
  });
});
