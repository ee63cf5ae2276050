import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Hono } from 'hono';
import { every } from 'hono/combine';
import { exportJWK, exportSPKI, generateKeyPair } from 'jose';
import { parseAuthConfig } from '../config/auth-config.js';
import { createErrorHandler } from '../http/index.js';
import type { AppEnv } from '../http/index.js';
import { createSilentLogger } from '../observability/index.js';
import { createTestApp, imageAdapter, json } from '../../test/test-app.js';
import { startTokenIssuer } from '../../test/token-issuer.js';
import type { TokenIssuer } from '../../test/token-issuer.js';
import { DEV_INSECURE_WARNING, createAuthenticator } from './authenticator.js';

const LOCAL = { host: '127.0.0.1', publicUrl: 'http://127.0.0.1:3000' };
const EXPOSED = { host: '0.0.0.0', publicUrl: 'https://gw.example.com' };

let issuer: TokenIssuer;
beforeAll(async () => {
  issuer = await startTokenIssuer({ audience: 'https://gw.example.com' });
});
afterAll(() => issuer.close());

describe('createAuthenticator: dev modes', () => {
  it('dev: X-Dev-* identity through the real control plane, no warning, no metadata', async () => {
    const auth = await createAuthenticator(parseAuthConfig({}, LOCAL));
    expect(auth.mode).toBe('dev');
    expect(auth.warnings).toEqual([]);
    expect(auth.resources).toBeUndefined();
    const { app, close } = await createTestApp({
      authenticate: every(auth.authenticate, auth.authorizeCreate),
    });
    try {
      const created = await app.request(
        '/adapters',
        json('POST', imageAdapter('weather'), { 'X-Dev-UserId': 'alice', 'X-Dev-Roles': 'mcp.engineer' }),
      );
      expect(created.status).toBe(201);
      expect(((await created.json()) as { createdBy: string }).createdBy).toBe('alice');
      // The default dev user is not the creator and not an admin.
      expect((await app.request('/adapters/weather')).status).toBe(404);
      expect(
        (await app.request('/adapters/weather', { headers: { 'X-Dev-Roles': 'mcp.admin' } })).status,
      ).toBe(200);
    } finally {
      await close();
    }
    const routes = new Hono<AppEnv>();
    routes.onError(createErrorHandler({ logger: createSilentLogger() }));
    routes.route('/', auth.wellKnownRoutes);
    expect((await routes.request('/.well-known/oauth-protected-resource')).status).toBe(404);
  });

  it('dev-insecure returns the warning to log on every start', async () => {
    const auth = await createAuthenticator(parseAuthConfig({ MCP_GATEWAY_AUTH: 'dev-insecure' }, EXPOSED));
    expect(auth.warnings).toEqual([DEV_INSECURE_WARNING]);
    expect(DEV_INSECURE_WARNING).toMatch(/authentication is OFF/);
  });

  it('creator roles apply in dev mode too', async () => {
    const auth = await createAuthenticator(
      parseAuthConfig({ MCP_GATEWAY_CREATOR_ROLES: 'mcp.engineer' }, LOCAL),
    );
    const { app, close } = await createTestApp({
      authenticate: every(auth.authenticate, auth.authorizeCreate),
    });
    try {
      expect((await app.request('/adapters', json('POST', imageAdapter('a')))).status).toBe(403);
      const ok = await app.request(
        '/adapters',
        json('POST', imageAdapter('a'), { 'X-Dev-Roles': 'mcp.engineer' }),
      );
      expect(ok.status).toBe(201);
    } finally {
      await close();
    }
  });
});

describe('createAuthenticator: the secret gate', () => {
  it('dev: the local user (mcp.dev) manages secrets without headers; a caller naming other roles does not', async () => {
    const auth = await createAuthenticator(parseAuthConfig({}, LOCAL));
    const { app, close } = await createTestApp({
      authenticate: auth.authenticate,
      authorizeSecrets: auth.authorizeSecrets,
    });
    try {
      expect((await app.request('/secrets', json('POST', { name: 'k', value: 'v' }))).status).toBe(201);
      const other = await app.request('/secrets', { headers: { 'X-Dev-UserId': 'eve', 'X-Dev-Roles': 'x' } });
      expect(other.status).toBe(403);
      expect(other.headers.get('www-authenticate')).toMatch(/error="insufficient_scope"/);
    } finally {
      await close();
    }
  });

  it('jwt: MCP_GATEWAY_SECRET_ROLES grants it; others get 403 with the resource metadata URL', async () => {
    const config = parseAuthConfig(
      {
        MCP_GATEWAY_AUTH: 'jwt',
        MCP_GATEWAY_JWT_ISSUER: issuer.issuer,
        MCP_GATEWAY_JWKS_FILE: '/etc/jwks.json',
        MCP_GATEWAY_SECRET_ROLES: 'team.secrets',
      },
      EXPOSED,
    );
    const jwks = JSON.stringify(issuer.jwks());
    const auth = await createAuthenticator(config, { readFile: async () => jwks });
    const { app, close } = await createTestApp({
      authenticate: auth.authenticate,
      authorizeSecrets: auth.authorizeSecrets,
    });
    const bearer = async (roles: string[]) => ({
      authorization: `Bearer ${await issuer.mint({ sub: 'carol', roles })}`,
    });
    try {
      const refused = await app.request('/secrets', { headers: await bearer(['mcp.dev', 'team.ops']) });
      expect(refused.status).toBe(403);
      expect(refused.headers.get('www-authenticate')).toBe(
        'Bearer resource_metadata="https://gw.example.com/.well-known/oauth-protected-resource", error="insufficient_scope", error_description="Managing secrets requires one of the roles in MCP_GATEWAY_SECRET_ROLES: mcp.admin, team.secrets."',
      );
      const created = await app.request(
        '/secrets',
        json('POST', { name: 'k', value: 'v' }, await bearer(['team.secrets'])),
      );
      expect(created.status).toBe(201);
      expect(await created.json()).toMatchObject({ name: 'k', createdBy: 'carol' });
      expect((await app.request('/secrets/k', { headers: await bearer(['mcp.admin']) })).status).toBe(200);
    } finally {
      await close();
    }
  });

  it('jwt: the same roles decide who may reference a secret from an adapter; others get 403 naming the field', async () => {
    const config = parseAuthConfig(
      {
        MCP_GATEWAY_AUTH: 'jwt',
        MCP_GATEWAY_JWT_ISSUER: issuer.issuer,
        MCP_GATEWAY_JWKS_FILE: '/etc/jwks.json',
        MCP_GATEWAY_SECRET_ROLES: 'team.secrets',
      },
      EXPOSED,
    );
    const jwks = JSON.stringify(issuer.jwks());
    const auth = await createAuthenticator(config, { readFile: async () => jwks });
    const { app, close } = await createTestApp({
      authenticate: auth.authenticate,
      authorizeSecrets: auth.authorizeSecrets,
      secretReferenceGate: auth.secretReferenceGate,
    });
    const bearer = async (sub: string, roles: string[]) => ({
      authorization: `Bearer ${await issuer.mint({ sub, roles })}`,
    });
    const referencing = (name: string) => imageAdapter(name, { secretEnvironmentVariables: { TOKEN: 'k' } });
    try {
      const keeper = await bearer('kim', ['team.secrets']);
      expect((await app.request('/secrets', json('POST', { name: 'k', value: 'v' }, keeper))).status).toBe(
        201,
      );
      const refused = await app.request(
        '/adapters',
        json('POST', referencing('a'), await bearer('eve', ['x'])),
      );
      expect(refused.status).toBe(403);
      expect(refused.headers.get('www-authenticate')).toMatch(
        /^Bearer resource_metadata="https:\/\/gw\.example\.com\/\.well-known\/oauth-protected-resource.*", error="insufficient_scope", error_description="secretEnvironmentVariables\.TOKEN: /,
      );
      expect((await app.request('/adapters', json('POST', referencing('a'), keeper))).status).toBe(201);
    } finally {
      await close();
    }
  });
});

describe('createAuthenticator: token modes', () => {
  const JWT = { MCP_GATEWAY_AUTH: 'jwt', MCP_GATEWAY_JWT_ISSUER: 'https://issuer.example.com' };

  it('jwt with a JWKS file read through the injected readFile', async () => {
    const files: Record<string, string> = { '/etc/jwks.json': JSON.stringify(issuer.jwks()) };
    const config = parseAuthConfig(
      { ...JWT, MCP_GATEWAY_JWT_ISSUER: issuer.issuer, MCP_GATEWAY_JWKS_FILE: '/etc/jwks.json' },
      EXPOSED,
    );
    const auth = await createAuthenticator(config, { readFile: async (p) => files[p]! });
    const token = await issuer.mint({ sub: 'carol' });
    const { app, close } = await createTestApp({ authenticate: auth.authenticate });
    try {
      const res = await app.request('/adapters', { headers: { authorization: `Bearer ${token}` } });
      expect(res.status).toBe(200);
    } finally {
      await close();
    }
  });

  it('names the variable when the JWKS file is unreadable or holds private or symmetric keys', async () => {
    const config = parseAuthConfig({ ...JWT, MCP_GATEWAY_JWKS_FILE: '/k.json' }, EXPOSED);
    await expect(createAuthenticator(config)).rejects.toThrow(/readFile is required/);
    await expect(
      createAuthenticator(config, {
        readFile: async () => {
          throw new Error('ENOENT');
        },
      }),
    ).rejects.toThrow('MCP_GATEWAY_JWKS_FILE: cannot read /k.json: ENOENT');
    const { privateKey } = await generateKeyPair('ES256', { extractable: true });
    const privateJwks = JSON.stringify({ keys: [await exportJWK(privateKey)] });
    await expect(createAuthenticator(config, { readFile: async () => privateJwks })).rejects.toThrow(
      /MCP_GATEWAY_JWKS_FILE \(\/k.json\): keys\[0\] contains private key material/,
    );
    const octJwks = JSON.stringify({ keys: [{ kty: 'oct', k: 'c2VjcmV0' }] });
    await expect(createAuthenticator(config, { readFile: async () => octJwks })).rejects.toThrow(/symmetric/);
    await expect(createAuthenticator(config, { readFile: async () => '{"keys":[]}' })).rejects.toThrow(
      /non-empty/,
    );
  });

  it('names the variable when the PEM key fits none of the allowed algorithms', async () => {
    const { publicKey } = await generateKeyPair('ES256', { extractable: true });
    const config = parseAuthConfig(
      { ...JWT, MCP_GATEWAY_JWT_PUBLIC_KEY: await exportSPKI(publicKey), MCP_GATEWAY_ALGORITHMS: 'RS256' },
      EXPOSED,
    );
    await expect(createAuthenticator(config)).rejects.toThrow(
      'MCP_GATEWAY_JWT_PUBLIC_KEY: the PEM key cannot verify any of the allowed algorithms (RS256)',
    );
  });

  it('with identity JWTs on, publishes the signing key and signs for upstreams', async () => {
    const config = parseAuthConfig(
      { MCP_GATEWAY_AUTH: 'oidc', MCP_GATEWAY_OIDC_ISSUER: issuer.issuer, MCP_GATEWAY_IDENTITY_JWT: 'on' },
      EXPOSED,
    );
    const auth = await createAuthenticator(config);
    const jwks = (await (await auth.wellKnownRoutes.request('/.well-known/jwks.json')).json()) as {
      keys: unknown[];
    };
    expect(jwks.keys).toHaveLength(1);
    const headers = await auth.upstreamIdentity.headersFor({ userId: 'a', roles: [] }, 'https://up');
    expect(Object.keys(headers)).toEqual(['X-Mcp-UserId', 'X-Mcp-Roles', 'X-Mcp-Identity']);
    await expect(auth.warmUp()).resolves.toBeUndefined();
  });
});
