import { describe, expect, it } from 'vitest';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { isDroppedRequestHeader } from '../core/index.js';
import {
  HEADERS_ONLY_IDENTITY,
  IDENTITY_JWT_TYPE,
  createIdentitySigner,
  generateIdentityKey,
  identityHeaders,
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

  it('percent-encodes what a header cannot carry, and a comma inside a role', () => {
    const headers = identityHeaders({ userId: 'jürgen@example.com', roles: ['a,b', 'c'] });
    expect(headers).toEqual({ 'X-Mcp-UserId': 'j%C3%BCrgen@example.com', 'X-Mcp-Roles': 'a%2Cb,c' });
    expect(() => new Headers(headers)).not.toThrow();
  });

  it.each([
    ['alice', 'alice'],
    ['alice@example.com', 'alice@example.com'],
    ['https://issuer.example.com|user-42', 'https://issuer.example.com|user-42'],
    ['John Doe', 'John Doe'],
    ['a,b;c=d', 'a,b;c=d'],
    ['', ''],
    ['ümlaut', '%C3%BCmlaut'],
    ['%C3%BCmlaut', '%25C3%25BCmlaut'],
    ['100%', '100%25'],
    [' alice', '%20alice'],
    ['alice ', 'alice%20'],
    [' ', '%20'],
    ['a\tb', 'a%09b'],
    ['a\r\nb', 'a%0D%0Ab'],
    ['nul\u0000', 'nul%00'],
    ['del\u007f', 'del%7F'],
    ['日本', '%E6%97%A5%E6%9C%AC'],
    ['👩‍💻', '%F0%9F%91%A9%E2%80%8D%F0%9F%92%BB'],
    ['\ufffd', '%EF%BF%BD'],
    ['lone\ud800', 'lone%ED%A0%80'],
  ])('X-Mcp-UserId of %j is %j', (userId, header) => {
    expect(identityHeaders({ userId, roles: [] })['X-Mcp-UserId']).toBe(header);
  });

  it('never sends two different user ids or role lists as one header value', () => {
    const ids = [
      'ümlaut',
      '%C3%BCmlaut',
      '%25C3%25BCmlaut',
      'alice',
      ' alice',
      'alice ',
      '%20alice',
      'a b',
      'a%20b',
      '\ufffd',
      '\ud800',
      '\udc00',
      '%ED%A0%80',
      'a,b',
      'a%2Cb',
    ];
    const encoded = ids.map((userId) => identityHeaders({ userId, roles: [] })['X-Mcp-UserId'] ?? 'missing');
    expect(new Set(encoded).size).toBe(ids.length);
    // Plain percent-decoding gives the id back (for well-formed strings).
    for (const [i, id] of ids.entries()) {
      if (!/[\ud800-\udfff]/.test(id)) expect(decodeURIComponent(encoded[i]!)).toBe(id);
    }
    expect(() => new Headers(encoded.map((value, i): [string, string] => [`x-${i}`, value]))).not.toThrow();

    const roleLists = [['a,b'], ['a', 'b'], ['a%2Cb'], ['a', ' b'], ['a', 'b ']];
    const roles = roleLists.map(
      (r) => identityHeaders({ userId: 'u', roles: r })['X-Mcp-Roles'] ?? 'missing',
    );
    expect(roles).toEqual(['a%2Cb', 'a,b', 'a%252Cb', 'a,%20b', 'a,b%20']);
    expect(new Set(roles).size).toBe(roleLists.length);
  });

  it('headers-only identity adds no JWT and publishes no keys', async () => {
    expect(await HEADERS_ONLY_IDENTITY.headersFor(alice, 'https://up')).toEqual(identityHeaders(alice));
    expect(HEADERS_ONLY_IDENTITY.jwks).toBeUndefined();
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

describe('headers only the gateway sets', () => {
  it('cannot be forged: every identity header it sends is one the proxy drops when a caller sends it', async () => {
    const signer = await createIdentitySigner({
      issuer: 'https://gw.example.com',
      privateJwk: await generateIdentityKey(),
    });
    const headers = await signedUpstreamIdentity(signer).headersFor(alice, 'https://gw.example.com/mcp');
    expect(Object.keys(headers).sort()).toEqual(['X-Mcp-Identity', 'X-Mcp-Roles', 'X-Mcp-UserId']);
    for (const name of Object.keys(headers))
      expect(isDroppedRequestHeader(name.toLowerCase()), name).toBe(true);
  });
});
