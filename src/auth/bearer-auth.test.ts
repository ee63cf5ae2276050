/**
 * The attack table: every way a request can try to get past the bearer middleware, each one a 401 through
 * the real middleware, for three key sources (OIDC discovery, static JWKS URL, PEM public key).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Hono } from 'hono';
import { SignJWT, base64url, exportJWK, exportSPKI, generateKeyPair } from 'jose';
import { extractWWWAuthenticateParams } from '@modelcontextprotocol/sdk/client/auth.js';
import { parseAuthConfig } from '../config/auth-config.js';
import { createErrorHandler, requestId } from '../http/index.js';
import type { AppEnv } from '../http/index.js';
import { createSilentLogger } from '../observability/index.js';
import { closedPort } from '../../test/http-fixture.js';
import { startTokenIssuer } from '../../test/token-issuer.js';
import type { IssuerAlgorithm, TokenIssuer } from '../../test/token-issuer.js';
import { createAuthenticator } from './authenticator.js';
import type { Authenticator } from './authenticator.js';

const PUBLIC_URL = 'https://gw.example.com';
const MCP_PATH = '/adapters/weather/mcp';
const METADATA = `${PUBLIC_URL}/.well-known/oauth-protected-resource${MCP_PATH}`;

/** A tiny protected app: the well-known routes and one MCP-ish endpoint, as the real app will mount them. */
function protectedApp(authenticator: Authenticator) {
  const app = new Hono<AppEnv>();
  app.onError(createErrorHandler({ logger: createSilentLogger() }));
  app.use(requestId());
  app.route('/', authenticator.wellKnownRoutes);
  app.use('/adapters/*', authenticator.authenticate);
  app.use('/adapters', authenticator.authenticate);
  app.post('/adapters/:name/mcp', (c) => c.json({ principal: c.get('principal') }));
  app.get('/adapters', (c) => c.json({ principal: c.get('principal') }));
  return app;
}

const call = (app: Hono<AppEnv>, token?: string, path = MCP_PATH, init: RequestInit = {}) =>
  app.request(path, {
    method: path.endsWith('/mcp') ? 'POST' : 'GET',
    ...init,
    headers: { ...(token !== undefined && { authorization: `Bearer ${token}` }), ...init.headers },
  });

interface Setup {
  readonly name: string;
  readonly alg: IssuerAlgorithm;
  env(issuer: TokenIssuer): Promise<Record<string, string>>;
}

const SETUPS: Setup[] = [
  {
    name: 'oidc (discovery, ES256)',
    alg: 'ES256',
    env: async (issuer) => ({ MCP_GATEWAY_AUTH: 'oidc', MCP_GATEWAY_OIDC_ISSUER: issuer.issuer }),
  },
  {
    name: 'jwt (JWKS URL, RS256)',
    alg: 'RS256',
    env: async (issuer) => ({
      MCP_GATEWAY_AUTH: 'jwt',
      MCP_GATEWAY_JWKS_URL: issuer.jwksUri,
      MCP_GATEWAY_JWT_ISSUER: issuer.issuer,
    }),
  },
  {
    name: 'jwt (PEM public key, RS256)',
    alg: 'RS256',
    env: async (issuer) => ({
      MCP_GATEWAY_AUTH: 'jwt',
      MCP_GATEWAY_JWT_PUBLIC_KEY: await issuer.publicKeyPem(),
      MCP_GATEWAY_JWT_ISSUER: issuer.issuer,
    }),
  },
];

describe.each(SETUPS)('bearerAuth attack table — $name', (setup) => {
  let issuer: TokenIssuer;
  let app: Hono<AppEnv>;

  beforeAll(async () => {
    issuer = await startTokenIssuer({ alg: setup.alg, audience: PUBLIC_URL, path: '/realms/test' });
    const config = parseAuthConfig(await setup.env(issuer), { host: '127.0.0.1', publicUrl: PUBLIC_URL });
    app = protectedApp(await createAuthenticator(config));
  });
  afterAll(() => issuer.close());

  async function expect401(res: Response, error: string | null = 'invalid_token') {
    expect(res.status).toBe(401);
    const params = extractWWWAuthenticateParams(res);
    expect(params.resourceMetadataUrl?.href).toBe(METADATA);
    expect(params.error).toBe(error ?? undefined);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe(error ?? 'unauthorized');
    return body.error.message;
  }

  it('accepts a valid token and sets the principal from sub and roles', async () => {
    const res = await call(app, await issuer.mint({ sub: 'alice', roles: ['mcp.engineer'], scope: 'mcp a' }));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      principal: { userId: 'alice', roles: ['mcp.engineer'], scopes: ['mcp', 'a'] },
    });
  });

  it('accepts a token issued for the endpoint itself (RFC 8707 resource = endpoint URL)', async () => {
    const token = await issuer.mint({}, { audience: PUBLIC_URL + MCP_PATH });
    expect((await call(app, token)).status).toBe(200);
  });

  it('tolerates clock skew within the configured tolerance', async () => {
    expect((await call(app, await issuer.mint({}, { expiresIn: -10 }))).status).toBe(200);
    expect((await call(app, await issuer.mint({}, { notBefore: 10 }))).status).toBe(200);
  });

  it('no token → 401 with resource_metadata and no error code', async () => {
    const res = await call(app);
    expect(res.headers.get('www-authenticate')).toBe(`Bearer resource_metadata="${METADATA}"`);
    expect(await expect401(res, null)).toMatch(/Authorization: Bearer/);
  });

  it('another scheme (Basic) → 401 without error code', async () => {
    await expect401(await call(app, undefined, MCP_PATH, { headers: { authorization: 'Basic YTpi' } }), null);
  });

  it('malformed: not a JWT → 401', async () => {
    expect(await expect401(await call(app, 'not-a-jwt'))).toMatch(/malformed/);
    await expect401(await call(app, 'a.b'));
  });

  it('malformed: a header that is not "Bearer <token>" → 401', async () => {
    await expect401(await call(app, undefined, MCP_PATH, { headers: { authorization: 'Bearer a b c' } }));
    await expect401(await call(app, undefined, MCP_PATH, { headers: { authorization: 'Bearer' } }));
  });

  it('alg: none → 401', async () => {
    const header = base64url.encode(JSON.stringify({ alg: 'none', typ: 'JWT' }));
    const now = Math.floor(Date.now() / 1000);
    const payload = base64url.encode(
      JSON.stringify({
        iss: issuer.issuer,
        aud: PUBLIC_URL,
        sub: 'mallory',
        exp: now + 300,
        roles: ['mcp.admin'],
      }),
    );
    await expect401(await call(app, `${header}.${payload}.`));
  });

  it('HS256 signed with the issuer public key as the secret → 401', async () => {
    const pem = await exportSPKI(issuer.currentKey.publicKey);
    const jwkSecret = JSON.stringify(issuer.currentKey.publicJwk);
    for (const secret of [pem, jwkSecret]) {
      const forged = await new SignJWT({ sub: 'mallory', roles: ['mcp.admin'] })
        .setProtectedHeader({ alg: 'HS256', kid: issuer.currentKey.kid })
        .setIssuer(issuer.issuer)
        .setAudience(PUBLIC_URL)
        .setExpirationTime('5m')
        .sign(new TextEncoder().encode(secret));
      expect(await expect401(await call(app, forged))).toMatch(/algorithm/);
    }
  });

  it('expired (beyond the tolerance) → 401', async () => {
    expect(await expect401(await call(app, await issuer.mint({}, { expiresIn: -120 })))).toMatch(/expired/);
  });

  it('no exp at all → 401', async () => {
    expect(await expect401(await call(app, await issuer.mint({}, { expiresIn: null })))).toMatch(/exp/);
  });

  it('not yet valid (nbf beyond the tolerance) → 401', async () => {
    expect(await expect401(await call(app, await issuer.mint({}, { notBefore: 120 })))).toMatch(
      /not valid yet/,
    );
  });

  it('wrong issuer → 401', async () => {
    const token = await issuer.mint({}, { issuer: 'https://evil.example.com/realms/test' });
    expect(await expect401(await call(app, token))).toMatch(/issuer/);
    // A trailing slash is a different issuer (compared exactly, as OIDC requires).
    await expect401(await call(app, await issuer.mint({}, { issuer: `${issuer.issuer}/` })));
  });

  it('wrong audience, or none → 401', async () => {
    expect(
      await expect401(await call(app, await issuer.mint({}, { audience: 'https://other.example.com' }))),
    ).toMatch(/audience/);
    await expect401(await call(app, await issuer.mint({}, { audience: null })));
  });

  it('a token for another MCP endpoint → 401 (audience bound to the endpoint)', async () => {
    const token = await issuer.mint({}, { audience: `${PUBLIC_URL}/adapters/other/mcp` });
    await expect401(await call(app, token));
    // … and it does not open the control plane either.
    const res = await call(app, token, '/adapters');
    expect(res.status).toBe(401);
  });

  it('unknown kid (a key the issuer never published) → 401', async () => {
    const stranger = await issuer.createKey(setup.alg);
    const token = await issuer.mint({ roles: ['mcp.admin'] }, { key: stranger });
    await expect401(await call(app, token));
  });

  it('a published kid with another key’s signature → 401', async () => {
    const stranger = await issuer.createKey(setup.alg);
    const token = await issuer.mint({}, { key: stranger, header: { kid: issuer.currentKey.kid } });
    expect(await expect401(await call(app, token))).toMatch(/signature/);
  });

  it('tampered payload (roles raised, signature kept) → 401', async () => {
    const [h, , s] = (await issuer.mint({ roles: [] })).split('.');
    const now = Math.floor(Date.now() / 1000);
    const payload = base64url.encode(
      JSON.stringify({
        iss: issuer.issuer,
        aud: PUBLIC_URL,
        sub: 'alice',
        exp: now + 300,
        roles: ['mcp.admin'],
      }),
    );
    await expect401(await call(app, `${h}.${payload}.${s}`));
  });

  it('an attacker key embedded in the header (jwk) → 401', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    const forged = await new SignJWT({ sub: 'mallory', roles: ['mcp.admin'] })
      .setProtectedHeader({ alg: 'ES256', jwk: await exportJWK(publicKey) })
      .setIssuer(issuer.issuer)
      .setAudience(PUBLIC_URL)
      .setExpirationTime('5m')
      .sign(privateKey);
    await expect401(await call(app, forged));
  });

  it('a token without the user claim → 401', async () => {
    expect(await expect401(await call(app, await issuer.mint({ sub: undefined })))).toMatch(/"sub"/);
  });

  it('token in the query string → 401 invalid_request, even when valid and also sent in the header', async () => {
    const token = await issuer.mint();
    const viaQuery = await call(app, undefined, `${MCP_PATH}?access_token=${token}`);
    expect(await expect401(viaQuery, 'invalid_request')).toMatch(/query string/);
    await expect401(await call(app, token, `${MCP_PATH}?access_token=${token}`), 'invalid_request');
  });

  it('never echoes the token in the response', async () => {
    const token = await issuer.mint({}, { expiresIn: -120 });
    const res = await call(app, token);
    const text = `${res.headers.get('www-authenticate')} ${await res.text()}`;
    expect(text).not.toContain(token.split('.')[1]);
  });

  it('non-MCP paths point at the root metadata document', async () => {
    const res = await call(app, undefined, '/adapters');
    expect(res.status).toBe(401);
    expect(extractWWWAuthenticateParams(res).resourceMetadataUrl?.href).toBe(
      `${PUBLIC_URL}/.well-known/oauth-protected-resource`,
    );
  });
});

describe('bearerAuth key rotation and outages', () => {
  let issuer: TokenIssuer;
  afterAll(() => issuer?.close());

  it('picks up a new kid after rotation by refetching the JWKS, at most once per cooldown', async () => {
    issuer = await startTokenIssuer({ audience: PUBLIC_URL });
    const config = parseAuthConfig(
      { MCP_GATEWAY_AUTH: 'oidc', MCP_GATEWAY_OIDC_ISSUER: issuer.issuer },
      { host: '127.0.0.1', publicUrl: PUBLIC_URL },
    );
    // A short cooldown so the test need not wait jose's default 30 s.
    const app = protectedApp(await createAuthenticator(config, { jwksCooldownMs: 200 }));
    expect((await call(app, await issuer.mint())).status).toBe(200);
    expect(issuer.jwksRequests).toBe(1);

    await new Promise((r) => setTimeout(r, 250));
    await issuer.rotate({ retireOld: true });
    const res = await call(app, await issuer.mint({ sub: 'bob' }));
    expect(res.status).toBe(200);
    expect(((await res.json()) as { principal: { userId: string } }).principal.userId).toBe('bob');
    expect(issuer.jwksRequests).toBe(2);

    // Unknown kids right after a fetch do not make the gateway hammer the issuer.
    const stranger = await issuer.createKey();
    for (let i = 0; i < 5; i++) {
      expect((await call(app, await issuer.mint({ n: i }, { key: stranger }))).status).toBe(401);
    }
    expect(issuer.jwksRequests).toBe(2);
  });

  it('answers 503 with Retry-After (not 401) when the issuer cannot be reached', async () => {
    const port = await closedPort();
    const config = parseAuthConfig(
      { MCP_GATEWAY_AUTH: 'oidc', MCP_GATEWAY_OIDC_ISSUER: `http://127.0.0.1:${port}` },
      { host: '127.0.0.1', publicUrl: PUBLIC_URL },
    );
    const authenticator = await createAuthenticator(config);
    await expect(authenticator.warmUp()).rejects.toThrow(/Cannot discover the issuer/);
    const app = protectedApp(authenticator);
    const token = await new SignJWT({ sub: 'a' })
      .setProtectedHeader({ alg: 'ES256', kid: 'k' })
      .sign((await generateKeyPair('ES256')).privateKey);
    const res = await call(app, token);
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('5');
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('auth_unavailable');
  });
});
