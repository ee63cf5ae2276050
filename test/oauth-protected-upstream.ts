/**
 * @module oauth-protected-upstream: a remote MCP server (SDK 2.x) on 127.0.0.1 that accepts only access tokens of
 * a given authorization server whose audience is its own URL, and otherwise answers 401 naming its RFC 9728
 * metadata — as GitHub's or Linear's hosted servers do. What an `oauth-user` adapter points at in the token
 * vault's and the federation's end-to-end tests, the console's browser tests and screenshots. It records every
 * token it is sent (for leak checks) and can be told to refuse valid tokens or users. Also the browser side of
 * the gateway's connect flow (`/connect/{adapter}` → the authorization server's login and consent →
 * `/connect/callback`), followed with fetch.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';
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
  /** Every access token it was sent (valid or not), for leak checks. */
  readonly tokensSeen: Set<string>;
  /** Tokens it refuses from now on although they are valid (revoked at the upstream, say). */
  readonly refused: Set<string>;
  /** Users whose every token it refuses (their account was locked, say). */
  readonly refusedUsers: Set<string>;
  /** The token of the last request that got through. */
  readonly lastAccepted: string | undefined;
  close(): Promise<void>;
}

/** How an upstream differs from the default one. */
export interface OAuthProtectedUpstreamOptions {
  /** The scopes its metadata and 401 name (default `['mcp']`). */
  readonly scopes?: readonly string[];
  /** What its `whoami` tool answers for the token's subject (default: the subject itself). */
  readonly whoami?: (sub: string) => string;
  /** Registers the tools this caller has besides `whoami` (tools that differ per user). */
  readonly toolsOf?: (server: McpServer, sub: string) => void;
}

/** Starts one; its `whoami` tool answers with the token's subject unless `options.whoami` says otherwise. */
export async function startOAuthProtectedUpstream(
  name: string,
  issuer: string,
  options: OAuthProtectedUpstreamOptions | readonly string[] = {},
): Promise<OAuthProtectedUpstream> {
  const {
    scopes = ['mcp'],
    whoami = (sub: string) => sub,
    toolsOf,
  } = Array.isArray(options)
    ? { scopes: options as readonly string[] }
    : (options as OAuthProtectedUpstreamOptions);
  const caller = new AsyncLocalStorage<string>();
  const handler = createMcpHandler(() => {
    const sub = caller.getStore() ?? '';
    const server = new McpServer({ name, version: '1.0.0' });
    server.registerTool('whoami', { description: 'Who the access token belongs to' }, async () => ({
      content: [{ type: 'text', text: whoami(caller.getStore() ?? '') }],
    }));
    toolsOf?.(server, sub);
    return server;
  });
  const discovery = (await (await fetch(`${issuer}/.well-known/openid-configuration`)).json()) as {
    jwks_uri: string;
  };
  const jwks = createRemoteJWKSet(new URL(discovery.jwks_uri));
  const self = {
    url: '',
    tokensSeen: new Set<string>(),
    refused: new Set<string>(),
    refusedUsers: new Set<string>(),
    lastAccepted: undefined as string | undefined,
    close: async (): Promise<void> => undefined,
  };
  const metadataPath = '/.well-known/oauth-protected-resource/mcp';
  const app = new Hono();
  app.get(metadataPath, (c) =>
    c.json({ resource: self.url, authorization_servers: [issuer], scopes_supported: scopes }),
  );
  app.all('/mcp', async (c) => {
    const header = c.req.header('authorization') ?? '';
    const token = header.startsWith('Bearer ') ? header.slice(7) : undefined;
    let sub: string | undefined;
    if (token) {
      self.tokensSeen.add(token);
      sub = await jwtVerify(token, jwks, { issuer, audience: self.url }).then(
        ({ payload }) =>
          self.refused.has(token) || self.refusedUsers.has(payload.sub ?? '') ? undefined : payload.sub,
        () => undefined,
      );
    }
    if (sub === undefined)
      return c.json({ error: 'invalid_token' }, 401, {
        'www-authenticate': `Bearer resource_metadata="${new URL(self.url).origin}${metadataPath}", scope="${scopes.join(' ')}"`,
      });
    self.lastAccepted = token;
    return caller.run(sub, () => handler.fetch(c.req.raw));
  });
  const http = await new Promise<Server>((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s as Server));
  });
  self.url = `http://127.0.0.1:${(http.address() as AddressInfo).port}/mcp`;
  self.close = () =>
    new Promise<void>((resolve) => {
      http.closeAllConnections();
      http.close(() => resolve());
    });
  return self;
}

/** The binding cookie the gateway's callback sees: the one `/connect` set, none, or another browser's. */
export type ConnectBinding = 'own' | 'none' | 'other';

/** Where a browser's connect flow ended: the last answer, the callback URL it used and the cookies it sent there. */
export interface ConnectFlow {
  readonly res: Response;
  readonly callback: URL | undefined;
  readonly cookie: string;
}

/**
 * The browser: opens `connectUrl` (the gateway's `/connect/{adapter}`) with the caller's `token` and follows
 * every redirect with one cookie jar (the authorization server signs its `loginAs` account in and consents
 * programmatically) back to the gateway's callback. `binding` other than `own` drops the gateway's cookie before
 * the callback, or puts another browser's there, as a browser other than the one that started the flow would
 * arrive. `onGatewayAnswer` sees every answer the gateway gave (for leak checks).
 */
export async function connectInBrowser(
  connectUrl: string,
  token: string,
  options: {
    binding?: ConnectBinding;
    onGatewayAnswer?: (res: Response) => Promise<void>;
    /** `post`: start as the console does, `POST` then navigating to the answer's `authorizationUrl`. */
    start?: 'get' | 'post';
  } = {},
): Promise<ConnectFlow> {
  const { binding = 'own', onGatewayAnswer, start = 'get' } = options;
  const gatewayOrigin = new URL(connectUrl).origin;
  const jar = new Map<string, string>();
  let url = new URL(connectUrl);
  const method = start === 'post' ? 'POST' : 'GET';
  let res = await fetch(url, { method, redirect: 'manual', headers: { authorization: `Bearer ${token}` } });
  if (start === 'post' && res.status === 200) {
    // What the console's page does with the answer: the cookie is stored, the tab navigates to the URL.
    const { authorizationUrl } = (await res.clone().json()) as { authorizationUrl: string };
    const headers = new Headers({ location: authorizationUrl });
    for (const line of res.headers.getSetCookie()) headers.append('set-cookie', line);
    if (onGatewayAnswer) await onGatewayAnswer(res);
    res = new Response(null, { status: 302, headers });
    url = new URL(authorizationUrl);
  }
  let callback: URL | undefined;
  let cookie = '';
  for (let hop = 0; hop < 20; hop++) {
    for (const line of res.headers.getSetCookie()) {
      const [pair = ''] = line.split(';');
      const eq = pair.indexOf('=');
      const value = pair.slice(eq + 1).trim();
      if (value === '' || /max-age=0/i.test(line)) jar.delete(pair.slice(0, eq).trim());
      else jar.set(pair.slice(0, eq).trim(), value);
    }
    if (url.origin === gatewayOrigin) await onGatewayAnswer?.(res);
    const location = res.headers.get('location');
    if (res.status < 300 || res.status >= 400 || !location) return { res, callback, cookie };
    await res.body?.cancel();
    url = new URL(location, url);
    const toGateway = url.origin === gatewayOrigin;
    if (toGateway && binding === 'none') jar.delete('mcpgw_connect');
    if (toGateway && binding === 'other' && jar.has('mcpgw_connect'))
      jar.set('mcpgw_connect', randomBytes(16).toString('base64url'));
    cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
    if (toGateway) callback = url;
    res = await fetch(url, { redirect: 'manual', headers: { cookie } });
  }
  throw new Error('the connect flow did not end within 20 hops');
}
