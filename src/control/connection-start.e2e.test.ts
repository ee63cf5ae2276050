/**
 * Starting a token-vault flow from a page that holds the caller's token, and a browser opening the elicitation's
 * link without one: the real gateway (`main.ts`, jwt mode, a console client id so the console can sign in) in
 * front of an SDK 2.x MCP server that accepts only a real authorization server's tokens (oidc-provider).
 * `POST /connect/{adapter}` answers `{ authorizationUrl }` with the binding cookie; following it as a browser
 * connects the caller (and only with that cookie at the callback); errors match `GET`'s. `GET /connect/{adapter}`
 * without credentials is sent to the console's Connections page, and answered 401 as before on a gateway whose
 * console cannot sign in.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../test/console-oidc.js';
import { startGatewayProcess } from '../../test/gateway-process.js';
import type { GatewayProcess } from '../../test/gateway-process.js';
import { startOAuthProtectedUpstream } from '../../test/oauth-protected-upstream.js';
import type { ConnectBinding, OAuthProtectedUpstream } from '../../test/oauth-protected-upstream.js';
import { startOAuthUserGateway } from '../../test/oauth-user-gateway.js';
import type { OAuthUserGateway } from '../../test/oauth-user-gateway.js';

const dir = mkdtempSync(join(tmpdir(), 'mcpgw-connect-start-'));
let setting: OAuthUserGateway;
let notes: OAuthProtectedUpstream;
/** The same issuer's tokens, a gateway whose console has no client id (so it cannot sign in). */
let noConsole: GatewayProcess;

const send = (path: string, token: string, init?: RequestInit) => setting.send(path, token, init);
const post = (path: string, token: string) => send(path, token, { method: 'POST' });
const grantsOf = async (token: string) =>
  ((await (await send('/connections', token)).json()) as { adapter: string }[]).map((g) => g.adapter);
const postFlow = (token: string, account: string, binding?: ConnectBinding) =>
  setting.connect(token, `${setting.gateway.url}/connect/notes`, account, binding, 'post');

beforeAll(async () => {
  setting = await startOAuthUserGateway({
    dir,
    env: { MCP_GATEWAY_UI_CLIENT_ID: 'mcp-gateway-console' },
    beforeGateway: async (as) => {
      notes = await startOAuthProtectedUpstream('notes', as.issuer);
    },
  });
  const adapters = [
    { name: 'notes', endpoints: [notes.url], requiredRoles: ['team'] },
    // alice and bob (role team) may not read it.
    { name: 'ops-notes', endpoints: [notes.url], requiredRoles: ['ops'] },
    // Nothing listens there: its authorization server cannot be discovered.
    { name: 'gone', endpoints: ['http://127.0.0.1:9/mcp'], requiredRoles: ['team'] },
  ].map((a) => ({ ...a, upstreamAuth: { type: 'oauth-user', scopes: ['mcp'] } }));
  for (const body of [...adapters, { name: 'plain', endpoints: [notes.url], requiredRoles: ['team'] }]) {
    const res = await send('/adapters', setting.tokens.root, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(res.status, await res.clone().text()).toBe(201);
  }
  const port = await freePort();
  noConsole = await startGatewayProcess({
    PORT: String(port),
    MCP_GATEWAY_PUBLIC_URL: `http://127.0.0.1:${port}`,
    DATABASE_URL: join(dir, 'no-console.db'),
    MCP_GATEWAY_AUTH: 'jwt',
    MCP_GATEWAY_JWKS_URL: setting.issuer.jwksUri,
    MCP_GATEWAY_JWT_ISSUER: setting.issuer.issuer,
  });
}, 120_000);

afterAll(async () => {
  await noConsole?.stop('SIGKILL');
  await setting?.close();
  await notes?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('POST /connect/{adapter}', () => {
  it("answers the authorization server's URL as JSON, with the browser-binding cookie, not cached", async () => {
    const res = await post('/connect/notes', setting.tokens.alice);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const { authorizationUrl } = (await res.json()) as { authorizationUrl: string };
    const url = new URL(authorizationUrl);
    expect(url.origin).toBe(new URL(setting.as.issuer).origin);
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    expect(url.searchParams.get('redirect_uri')).toBe(`${setting.gateway.url}/connect/callback`);
    const [cookie] = res.headers.getSetCookie();
    expect(cookie).toMatch(/^mcpgw_connect=[^;]+;/);
    expect(cookie).toMatch(/Path=\/connect\/callback/);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Lax/);
  });

  it('following it in the browser that got the cookie connects the caller, whose MCP calls then get through', async () => {
    const flow = await postFlow(setting.tokens.alice, 'alice');
    expect(flow.res.status).toBe(200);
    expect(await flow.res.text()).toContain('Connected');
    expect(await grantsOf(setting.tokens.alice)).toEqual(['notes']);
    expect(await grantsOf(setting.tokens.bob)).toEqual([]);
    const client = new Client({ name: 'connect-start-e2e', version: '1.0.0' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${setting.gateway.url}/adapters/notes/mcp`), {
        requestInit: { headers: { authorization: `Bearer ${setting.tokens.alice}` } },
      }),
    );
    const result = await client.callTool({ name: 'whoami', arguments: {} });
    expect(result.content).toEqual([{ type: 'text', text: 'alice' }]);
    await client.close();
  });

  it.each(['none', 'other'] as const)(
    'a callback without the cookie the POST set (binding: %s) stores nothing',
    async (binding) => {
      const flow = await postFlow(setting.tokens.bob, 'bob', binding);
      expect(flow.res.status).toBe(403);
      expect(await flow.res.text()).toContain('another browser');
      expect(await grantsOf(setting.tokens.bob)).toEqual([]);
    },
  );

  it('answers as GET does: 404 for a missing or unreadable adapter, 400 for another type, 502, 401', async () => {
    const errorOf = async (res: Response) => ((await res.json()) as { error: { code: string } }).error.code;
    const missing = await post('/connect/nothing-here', setting.tokens.alice);
    expect(missing.status).toBe(404);
    expect(await errorOf(missing)).toBe('not_found');
    // A caller cannot start a flow for an adapter they cannot read, and learns nothing of it.
    const unreadable = await post('/connect/ops-notes', setting.tokens.alice);
    expect(unreadable.status).toBe(404);
    expect(unreadable.headers.getSetCookie()).toEqual([]);
    expect(await (await post('/connect/ops-notes', setting.tokens.root)).json()).toHaveProperty(
      'authorizationUrl',
    );
    const plain = await post('/connect/plain', setting.tokens.alice);
    expect(plain.status).toBe(400);
    const gone = await post('/connect/gone', setting.tokens.alice);
    expect(gone.status).toBe(502);
    expect(gone.headers.getSetCookie()).toEqual([]);
    const anonymous = await fetch(`${setting.gateway.url}/connect/notes`, { method: 'POST' });
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.getSetCookie()).toEqual([]);
  });
});

describe('GET /connect/{adapter}', () => {
  it("without credentials, sends the browser to the console's Connections page (the name encoded)", async () => {
    for (const [path, to] of [
      ['/connect/notes', '/ui/connections?connect=notes'],
      ['/connect/a%20b%26c%3Dd', '/ui/connections?connect=a%20b%26c%3Dd'],
    ] as const) {
      const res = await fetch(`${setting.gateway.url}${path}`, { redirect: 'manual' });
      expect(res.status).toBe(302);
      expect(res.headers.get('location')).toBe(to);
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(res.headers.getSetCookie()).toEqual([]);
    }
  });

  it('with a bad token is 401 still, and with a good one starts the flow as before', async () => {
    const bad = await fetch(`${setting.gateway.url}/connect/notes`, {
      redirect: 'manual',
      headers: { authorization: 'Bearer not-a-token' },
    });
    expect(bad.status).toBe(401);
    const good = await send('/connect/notes', setting.tokens.bob, { redirect: 'manual' });
    expect(good.status).toBe(302);
    expect(new URL(good.headers.get('location')!).origin).toBe(new URL(setting.as.issuer).origin);
  });

  it('is 401 with the usual challenge on a gateway whose console cannot sign in', async () => {
    const res = await fetch(`${noConsole.url}/connect/notes`, { redirect: 'manual' });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer /);
    expect(res.headers.get('location')).toBeNull();
  });
});
