/**
 * A real OAuth round trip: oidc-provider on loopback as the authorization server, the official MCP SDK (1.x)
 * client discovering it from the gateway's 401 and RFC 9728 metadata, completing authorization code + PKCE
 * with an RFC 8707 resource indicator, then getting through the bearer middleware — first with raw `auth()`,
 * then as an MCP client calling a tool over Streamable HTTP.
 *
 * Until the data plane exists the protected endpoints here are test routes mounted exactly where the gateway
 * mounts `/adapters/{name}/mcp`; `signInWithMcpSdk` / `connectWithOAuth` run unchanged against the real ones.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Hono } from 'hono';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import { parseAuthConfig } from '../config/auth-config.js';
import { createErrorHandler, requestId } from '../http/index.js';
import type { AppEnv } from '../http/index.js';
import { createSilentLogger } from '../observability/index.js';
import { startOidcAuthorizationServer } from '../../test/oidc-authorization-server.js';
import type { OidcAuthorizationServer } from '../../test/oidc-authorization-server.js';
import { connectWithOAuth, signInWithMcpSdk } from '../../test/oidc-client.js';
import { serveApp } from '../../test/serve-app.js';
import type { ServedApp } from '../../test/serve-app.js';
import { createAuthenticator } from './authenticator.js';
import type { Principal } from '../core/index.js';

let as: OidcAuthorizationServer;
let gateway: ServedApp;

/** A stateless MCP server whose one tool reports who the gateway says is calling. */
function whoamiServer(principal: Principal) {
  const server = new McpServer({ name: 'whoami', version: '1.0.0' });
  server.registerTool('whoami', { description: 'Who is calling' }, async () => ({
    content: [{ type: 'text', text: JSON.stringify(principal) }],
  }));
  return server;
}

beforeAll(async () => {
  as = await startOidcAuthorizationServer({
    accounts: { alice: { roles: ['mcp.engineer'] }, root: { roles: ['mcp.admin'] } },
    resourceScopes: ['mcp'],
  });
  // The public URL is only known once the socket listens, so the app is attached after.
  const attached: { app?: Hono<AppEnv> } = {};
  gateway = await serveApp({ fetch: (req) => attached.app!.fetch(req) });
  const config = parseAuthConfig(
    { MCP_GATEWAY_AUTH: 'oidc', MCP_GATEWAY_OIDC_ISSUER: as.issuer, MCP_GATEWAY_SCOPES_SUPPORTED: 'mcp' },
    { host: '127.0.0.1', publicUrl: gateway.url },
  );
  const authenticator = await createAuthenticator(config);
  await authenticator.warmUp();

  const a = new Hono<AppEnv>();
  a.onError(createErrorHandler({ logger: createSilentLogger() }));
  a.use(requestId());
  a.route('/', authenticator.wellKnownRoutes);
  a.use('/adapters/*', authenticator.authenticate);
  a.post('/adapters/echo/mcp', (c) => c.json({ principal: c.get('principal') }));
  a.post('/adapters/other/mcp', (c) => c.json({ principal: c.get('principal') }));
  a.all('/adapters/whoami/mcp', async (c) => {
    const transport = new WebStandardStreamableHTTPServerTransport({ enableJsonResponse: true });
    await whoamiServer(c.get('principal')).connect(transport);
    return transport.handleRequest(c.req.raw);
  });
  attached.app = a;
});

afterAll(async () => {
  await gateway?.close();
  await as?.close();
});

describe('OAuth round trip with oidc-provider and the MCP SDK client', () => {
  it('discovers the authorization server from the 401, signs in, and the token opens the endpoint', async () => {
    const endpoint = `${gateway.url}/adapters/echo/mcp`;
    const { tokens, provider, challenge } = await signInWithMcpSdk(endpoint);

    expect(challenge.resourceMetadataUrl?.href).toBe(
      `${gateway.url}/.well-known/oauth-protected-resource/adapters/echo/mcp`,
    );
    expect(challenge.scope).toBe('mcp');
    // RFC 8707: the client asked for a token for this endpoint, and got one bound to it.
    const authorizationUrl = provider.authorizationUrls[0]!;
    expect(authorizationUrl.origin).toBe(as.issuer);
    expect(authorizationUrl.searchParams.get('resource')).toBe(endpoint);
    expect(authorizationUrl.searchParams.get('code_challenge_method')).toBe('S256');
    expect(decodeProtectedHeader(tokens.access_token)).toMatchObject({ alg: 'ES256', typ: 'at+jwt' });
    expect(decodeJwt(tokens.access_token)).toMatchObject({
      iss: as.issuer,
      aud: endpoint,
      sub: 'alice',
      scope: 'mcp',
      roles: ['mcp.engineer'],
    });

    const res = await fetch(endpoint, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens.access_token}`, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      principal: { userId: 'alice', roles: ['mcp.engineer'], scopes: ['mcp'] },
    });

    // The same token is no good at another endpoint: its audience is the endpoint it was issued for.
    const elsewhere = await fetch(`${gateway.url}/adapters/other/mcp`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens.access_token}` },
    });
    expect(elsewhere.status).toBe(401);
  });

  it('an SDK Client with authProvider signs in inside the transport and calls a tool', async () => {
    as.loginAs('root');
    const { client } = await connectWithOAuth(`${gateway.url}/adapters/whoami/mcp`);
    try {
      const result = (await client.callTool({ name: 'whoami', arguments: {} })) as {
        content: { type: string; text: string }[];
      };
      expect(JSON.parse(result.content[0]!.text)).toEqual({
        userId: 'root',
        roles: ['mcp.admin'],
        scopes: ['mcp'],
      });
    } finally {
      await client.close();
      as.loginAs('alice');
    }
  });
});
