/**
 * Auth through the real data plane (`/adapters/{name}/mcp`, Node forwarder, SDK 1.x upstream): sessions bound
 * to the principal of a real token, identity headers instead of the caller's token upstream, and the MCP SDK
 * client's OAuth flow against oidc-provider ending in a tool call through the proxy.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Hono } from 'hono';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { extractWWWAuthenticateParams } from '@modelcontextprotocol/sdk/client/auth.js';
import { parseAuthConfig } from '../config/auth-config.js';
import type { AppEnv } from '../http/index.js';
import { legacyInitializeBody, mcpPostHeaders } from '../../test/legacy-requests.js';
import { startLegacyMcpServer } from '../../test/mcp-servers.js';
import type { RunningMcpServer } from '../../test/mcp-servers.js';
import { startOidcAuthorizationServer } from '../../test/oidc-authorization-server.js';
import type { OidcAuthorizationServer } from '../../test/oidc-authorization-server.js';
import { connectWithOAuth } from '../../test/oidc-client.js';
import { serveApp } from '../../test/serve-app.js';
import type { ServedApp } from '../../test/serve-app.js';
import { startTestGateway } from '../../test/test-gateway.js';
import type { TestGateway } from '../../test/test-gateway.js';
import { startTokenIssuer } from '../../test/token-issuer.js';
import type { TokenIssuer } from '../../test/token-issuer.js';
import { createAuthenticator, createTokenVerifier } from './authenticator.js';
import { bearerAuth } from './bearer-auth.js';
import { localPrincipal } from './local-principal.js';
import { identifyingMiddleware } from './identify.js';
import type { Identify, IdentifyingMiddleware } from './identify.js';
import { PROTECTED_RESOURCE_METADATA_PATH } from './protected-resource.js';

const textOf = (result: unknown) => (result as { content: { text: string }[] }).content[0]?.text ?? '';

/**
 * A test gateway whose authentication is switched after start: the public URL (the token audience) is only
 * known once it listens. Adapters are registered as their creator first, through the real control plane.
 */
async function gatewayWithSwitchableAuth() {
  let current: Identify = localPrincipal({ principal: { userId: 'alice', roles: [] } }).identify;
  const gateway = await startTestGateway({
    authenticate: identifyingMiddleware((request) => current(request)),
  });
  return { gateway, use: (m: IdentifyingMiddleware) => void (current = m.identify) };
}

describe('sessions and identity through the data plane, with real tokens', () => {
  let issuer: TokenIssuer;
  let upstream: RunningMcpServer;
  let gateway: TestGateway;
  let endpoint: string;

  beforeAll(async () => {
    upstream = await startLegacyMcpServer({ name: 'up' });
    const made = await gatewayWithSwitchableAuth();
    gateway = made.gateway;
    await gateway.registerRemoteAdapter('legacy', [upstream.url], { requiredRoles: ['mcp.engineer'] });
    endpoint = `${gateway.url}/adapters/legacy/mcp`;
    issuer = await startTokenIssuer({ audience: endpoint });
    const config = parseAuthConfig(
      { MCP_GATEWAY_AUTH: 'oidc', MCP_GATEWAY_OIDC_ISSUER: issuer.issuer },
      { host: '127.0.0.1', publicUrl: gateway.url },
    );
    made.use((await createAuthenticator(config)).authenticate);
  });
  afterAll(async () => {
    await gateway?.close();
    await upstream?.close();
    await issuer?.close();
  });

  async function connectAs(token: string) {
    const transport = new StreamableHTTPClientTransport(new URL(endpoint), {
      requestInit: { headers: { authorization: `Bearer ${token}` } },
    });
    const client = new Client({ name: 'auth-test', version: '1.0.0' });
    await client.connect(transport);
    return { client, transport };
  }

  // The resource is named by its path, whatever query string the request carries.
  it.each(['', '?client=inspector'])(
    'no token (query %j): 401 with the challenge, before anything reaches the upstream',
    async (query) => {
      const before = upstream.requests.length;
      const res = await fetch(`${endpoint}${query}`, {
        method: 'POST',
        body: '{}',
        headers: { 'content-type': 'application/json' },
      });
      expect(res.status).toBe(401);
      expect(extractWWWAuthenticateParams(res).resourceMetadataUrl?.href).toBe(
        `${gateway.url}${PROTECTED_RESOURCE_METADATA_PATH}/adapters/legacy/mcp`,
      );
      expect(upstream.requests.length).toBe(before);
    },
  );

  it('forwards the query string, but a token in it is refused (401) before anything reaches the upstream', async () => {
    const token = await issuer.mint({ sub: 'bob', roles: ['mcp.engineer'] });
    const before = upstream.targets.length;
    const leaked = await fetch(`${endpoint}?tenant=a&access_token=${token}`, {
      method: 'POST',
      body: '{}',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    });
    expect(leaked.status).toBe(401);
    expect(upstream.targets.length).toBe(before);

    const transport = new StreamableHTTPClientTransport(new URL(`${endpoint}?tenant=a`), {
      requestInit: { headers: { authorization: `Bearer ${token}` } },
    });
    const client = new Client({ name: 'auth-test', version: '1.0.0' });
    await client.connect(transport);
    try {
      await client.listTools();
      const seen = upstream.targets.slice(before);
      expect(seen.length).toBeGreaterThan(0);
      for (const target of seen) expect(target).toMatch(/^[A-Z]+ \/mcp\?tenant=a$/);
    } finally {
      await client.close();
    }
  });

  it('the upstream gets X-Mcp-UserId/X-Mcp-Roles, never the caller token or forged identity headers', async () => {
    const token = await issuer.mint({ sub: 'bob', roles: ['mcp.engineer'] });
    const transport = new StreamableHTTPClientTransport(new URL(endpoint), {
      requestInit: {
        headers: {
          authorization: `Bearer ${token}`,
          'x-mcp-userid': 'root',
          'x-mcp-roles': 'mcp.admin',
          'x-dev-userid': 'root',
          cookie: 'session=abc',
        },
      },
    });
    const client = new Client({ name: 'auth-test', version: '1.0.0' });
    await client.connect(transport);
    try {
      const { headers } = JSON.parse(textOf(await client.callTool({ name: 'whoami', arguments: {} }))) as {
        headers: Record<string, string>;
      };
      expect(headers['x-mcp-userid']).toBe('bob');
      expect(headers['x-mcp-roles']).toBe('mcp.engineer');
      expect(headers).not.toHaveProperty('authorization');
      expect(headers).not.toHaveProperty('cookie');
      expect(headers).not.toHaveProperty('x-dev-userid');
    } finally {
      await client.close();
    }
  });

  it("another user's session id is a 404; the owner's keeps working", async () => {
    const alice = await connectAs(await issuer.mint({ sub: 'alice', roles: ['mcp.engineer'] }));
    try {
      const sessionId = alice.transport.sessionId!;
      expect(sessionId).toBeTruthy();
      const bobToken = await issuer.mint({ sub: 'bob', roles: ['mcp.engineer'] });
      const hijack = await fetch(endpoint, {
        method: 'POST',
        headers: mcpPostHeaders({
          authorization: `Bearer ${bobToken}`,
          'mcp-session-id': sessionId,
          'mcp-protocol-version': '2025-06-18',
        }),
        body: JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/list' }),
      });
      expect(hijack.status).toBe(404);
      expect((await alice.client.listTools()).tools.length).toBeGreaterThan(0);
    } finally {
      await alice.client.close();
    }
  });

  it('a caller who may not read the adapter gets 404, with a valid token', async () => {
    const token = await issuer.mint({ sub: 'eve', roles: ['mcp.viewer'] });
    const res = await fetch(endpoint, {
      method: 'POST',
      headers: mcpPostHeaders({ authorization: `Bearer ${token}` }),
      body: legacyInitializeBody({ protocolVersion: '2025-06-18', clientName: 'eve' }),
    });
    expect(res.status).toBe(404);
  });
});

describe('MCP SDK OAuth flow against oidc-provider, through the real data plane', () => {
  let as: OidcAuthorizationServer;
  let upstream: RunningMcpServer;
  let gateway: TestGateway;
  let metadata: ServedApp;

  beforeAll(async () => {
    as = await startOidcAuthorizationServer({ accounts: { alice: { roles: ['mcp.engineer'] } } });
    upstream = await startLegacyMcpServer({ name: 'up' });
    const made = await gatewayWithSwitchableAuth();
    gateway = made.gateway;
    await gateway.registerRemoteAdapter('weather', [upstream.url]);
    const config = parseAuthConfig(
      { MCP_GATEWAY_AUTH: 'oidc', MCP_GATEWAY_OIDC_ISSUER: as.issuer, MCP_GATEWAY_SCOPES_SUPPORTED: 'mcp' },
      { host: '127.0.0.1', publicUrl: gateway.url },
    );
    const auth = await createAuthenticator(config);
    // Until app.ts mounts `wellKnownRoutes`, the metadata is served beside the gateway and the challenge
    // points there; once mounted, use `auth.authenticate` as is.
    const side = new Hono<AppEnv>();
    side.route('/', auth.wellKnownRoutes);
    metadata = await serveApp(side);
    if (config.mode !== 'oidc') throw new Error('unreachable');
    made.use(
      bearerAuth({
        verifier: await createTokenVerifier(config),
        resources: {
          ...auth.resources!,
          metadataUrlFor: (path) => `${metadata.url}${PROTECTED_RESOURCE_METADATA_PATH}${path}`,
        },
      }),
    );
  });
  afterAll(async () => {
    await gateway?.close();
    await metadata?.close();
    await upstream?.close();
    await as?.close();
  });

  it('the SDK client signs in from the 401 and calls a tool through /adapters/weather/mcp as alice', async () => {
    // alice created the adapter (registered before tokens were switched on), so she may read it.
    const { client, provider } = await connectWithOAuth(`${gateway.url}/adapters/weather/mcp`);
    try {
      expect(provider.authorizationUrls[0]?.searchParams.get('resource')).toBe(
        `${gateway.url}/adapters/weather/mcp`,
      );
      const { headers } = JSON.parse(textOf(await client.callTool({ name: 'whoami', arguments: {} }))) as {
        headers: Record<string, string>;
      };
      expect(headers['x-mcp-userid']).toBe('alice');
      expect(headers['x-mcp-roles']).toBe('mcp.engineer');
      expect(headers).not.toHaveProperty('authorization');
    } finally {
      await client.close();
    }
  });
});
