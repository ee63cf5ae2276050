import { describe, expect, it } from 'vitest';
import { Hono } from 'hono';
import { createErrorHandler, notFoundHandler } from '../http/index.js';
import type { AppEnv } from '../http/index.js';
import { createSilentLogger } from '../observability/index.js';
import { createProtectedResources } from './protected-resource.js';
import { generateIdentityKey } from './upstream-identity.js';
import { createIdentitySigner } from './upstream-identity.js';
import { createWellKnownRoutes } from './well-known-routes.js';

const resources = createProtectedResources({
  publicUrl: 'https://gw.example.com',
  authorizationServers: ['https://login.example.com/realms/x'],
  scopesSupported: ['mcp'],
});

function appWith(options: Parameters<typeof createWellKnownRoutes>[0]) {
  const app = new Hono<AppEnv>();
  app.onError(createErrorHandler({ logger: createSilentLogger() }));
  app.notFound(notFoundHandler);
  app.route('/', createWellKnownRoutes(options));
  return app;
}

describe('protected-resource metadata (RFC 9728)', () => {
  const app = appWith({ resources });

  it.each([
    ['/adapters/weather/mcp', 'https://gw.example.com/adapters/weather/mcp'],
    ['/mcp', 'https://gw.example.com/mcp'],
    ['', 'https://gw.example.com'],
  ])('serves the document of %s', async (path, resource) => {
    const res = await app.request(`/.well-known/oauth-protected-resource${path}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('cache-control')).toBe('public, max-age=300');
    expect(await res.json()).toEqual({
      resource,
      authorization_servers: ['https://login.example.com/realms/x'],
      scopes_supported: ['mcp'],
      bearer_methods_supported: ['header'],
      resource_name: 'MCP Gateway',
    });
  });

  it.each([
    '/adapters',
    '/adapters/weather',
    '/adapters/Weather/mcp',
    '/adapters/a/b/mcp',
    '/tools/x/mcp',
    '/mcp/x',
  ])('404 for %s, which is not an MCP endpoint', async (path) => {
    const res = await app.request(`/.well-known/oauth-protected-resource${path}`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('not_found');
  });

  it('answers a CORS preflight (browser clients send MCP-Protocol-Version)', async () => {
    const res = await app.request('/.well-known/oauth-protected-resource/mcp', {
      method: 'OPTIONS',
      headers: {
        origin: 'https://inspector.example.com',
        'access-control-request-method': 'GET',
        'access-control-request-headers': 'mcp-protocol-version',
      },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('access-control-allow-headers')).toMatch(/mcp-protocol-version/i);
  });

  it('has no metadata in dev mode', async () => {
    const res = await appWith({}).request('/.well-known/oauth-protected-resource');
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/dev mode/);
  });

  it('keeps a public URL path prefix (RFC 9728 §3.1: well-known goes between host and path)', async () => {
    const prefixed = createProtectedResources({
      publicUrl: 'https://example.com/gw',
      authorizationServers: ['https://login.example.com'],
    });
    expect(prefixed.resourceFor('/adapters/a/mcp')).toBe('https://example.com/gw/adapters/a/mcp');
    expect(prefixed.metadataUrlFor('/adapters/a/mcp')).toBe(
      'https://example.com/.well-known/oauth-protected-resource/gw/adapters/a/mcp',
    );
    expect(prefixed.metadataUrlFor('/adapters')).toBe(
      'https://example.com/.well-known/oauth-protected-resource/gw',
    );
    expect(prefixed.metadataFor('/gw/adapters/a/mcp')?.resource).toBe(
      'https://example.com/gw/adapters/a/mcp',
    );
    expect(prefixed.metadataFor('/gw')?.resource).toBe('https://example.com/gw');
    expect(prefixed.metadataFor('')?.scopes_supported).toBeUndefined();
  });

  it('refuses to build without an authorization server', () => {
    expect(() => createProtectedResources({ publicUrl: 'https://gw', authorizationServers: [] })).toThrow(
      /at least one authorization server/,
    );
  });
});

describe('/.well-known/jwks.json', () => {
  it('serves the identity signer public key, without the private part', async () => {
    const signer = await createIdentitySigner({
      issuer: 'https://gw',
      privateJwk: await generateIdentityKey(),
    });
    const res = await appWith({ identityJwks: signer.jwks }).request('/.well-known/jwks.json');
    expect(res.status).toBe(200);
    const body = (await res.json()) as { keys: Record<string, unknown>[] };
    expect(body.keys).toHaveLength(1);
    expect(body.keys[0]).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
    expect(body.keys[0]).not.toHaveProperty('d');
  });

  it('404 when identity JWTs are off', async () => {
    expect((await appWith({ resources }).request('/.well-known/jwks.json')).status).toBe(404);
  });
});
