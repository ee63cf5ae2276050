/**
 * @module oauth-protected-upstream: a remote MCP server (SDK 2.x) on 127.0.0.1 that accepts only access tokens of
 * a given authorization server whose audience is its own URL, and otherwise answers 401 naming its RFC 9728
 * metadata — as GitHub's or Linear's hosted servers do. What an `oauth-user` adapter points at in the console's
 * browser tests and screenshots. (The token vault's own test keeps a variant with leak and refusal hooks.)
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { McpServer, createMcpHandler } from '@modelcontextprotocol/server';
import { Hono } from 'hono';
import { createRemoteJWKSet, jwtVerify } from 'jose';

/** A running protected upstream. */
export interface OAuthProtectedUpstream {
  /** Its MCP endpoint (and the resource its tokens must name). */
  readonly url: string;
  close(): Promise<void>;
}

/** Starts one; its `whoami` tool answers with the token's subject. */
export async function startOAuthProtectedUpstream(
  name: string,
  issuer: string,
  scopes: readonly string[] = ['mcp'],
): Promise<OAuthProtectedUpstream> {
  const caller = new AsyncLocalStorage<string>();
  const handler = createMcpHandler(() => {
    const server = new McpServer({ name, version: '1.0.0' });
    server.registerTool('whoami', { description: 'Who the access token belongs to' }, async () => ({
      content: [{ type: 'text', text: caller.getStore() ?? '' }],
    }));
    return server;
  });
  const discovery = (await (await fetch(`${issuer}/.well-known/openid-configuration`)).json()) as {
    jwks_uri: string;
  };
  const jwks = createRemoteJWKSet(new URL(discovery.jwks_uri));
  let url = '';
  const metadataPath = '/.well-known/oauth-protected-resource/mcp';
  const app = new Hono();
  app.get(metadataPath, (c) =>
    c.json({ resource: url, authorization_servers: [issuer], scopes_supported: scopes }),
  );
  app.all('/mcp', async (c) => {
    const header = c.req.header('authorization') ?? '';
    const sub = header.startsWith('Bearer ')
      ? await jwtVerify(header.slice(7), jwks, { issuer, audience: url }).then(
          ({ payload }) => payload.sub,
          () => undefined,
        )
      : undefined;
    if (sub === undefined)
      return c.json({ error: 'invalid_token' }, 401, {
        'www-authenticate': `Bearer resource_metadata="${new URL(url).origin}${metadataPath}", scope="${scopes.join(' ')}"`,
      });
    return caller.run(sub, () => handler.fetch(c.req.raw));
  });
  const http = await new Promise<Server>((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s as Server));
  });
  url = `http://127.0.0.1:${(http.address() as AddressInfo).port}/mcp`;
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        http.closeAllConnections();
        http.close(() => resolve());
      }),
  };
}
