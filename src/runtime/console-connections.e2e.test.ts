/**
 * The console's Connections page in a real browser (Debian's Chromium driven by playwright-core) against a real
 * gateway process in dev mode, the browser being the local user: an `oauth-user` adapter whose upstream is an
 * MCP server protected by a real authorization server (oidc-provider, which signs the browser in and consents
 * by itself). The page lists the adapter as not connected with a Connect link; the link runs the whole flow in
 * a new tab (gateway → authorization server → `/connect/callback`); after Refresh the grant is listed, on the
 * adapter's page too, and the caller's MCP requests get through with it; Disconnect removes it. In `oidc` mode,
 * where a browser cannot carry the console's bearer token to `/connect/{adapter}`: a browser opening that link
 * cold is sent to the console, signs in there, is sent on to the upstream's authorization server and ends
 * Connected, the grant being the signed-in user's; the page's Connect button does the same with `POST`. Skipped,
 * saying why, where no Chromium is installed (`.ci/run` installs it).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, locateChromium } from '../../test/browser.js';
import { buildConsoleIfStale } from '../../test/console-build.js';
import { freePort, registerConsoleClient } from '../../test/console-oidc.js';
import { startGatewayProcess } from '../../test/gateway-process.js';
import type { GatewayProcess } from '../../test/gateway-process.js';
import { startOAuthProtectedUpstream } from '../../test/oauth-protected-upstream.js';
import type { OAuthProtectedUpstream } from '../../test/oauth-protected-upstream.js';
import { startOidcAuthorizationServer } from '../../test/oidc-authorization-server.js';
import type { OidcAuthorizationServer } from '../../test/oidc-authorization-server.js';

const chromium = locateChromium();
if (chromium.reason) process.stderr.write(`web console browser tests skipped: ${chromium.reason}\n`);
const TITLE = 'the console’s Connections page in Chromium';

describe.skipIf(chromium.reason !== undefined)(
  chromium.reason ? `${TITLE} (skipped: ${chromium.reason})` : TITLE,
  () => {
    const state = mkdtempSync(join(tmpdir(), 'mcp-gateway-console-connections-'));
    let as: OidcAuthorizationServer;
    let upstream: OAuthProtectedUpstream;
    let gateway: GatewayProcess;
    let browser: Browser;
    let context: BrowserContext;
    let page: Page;
    const problems: string[] = [];

    const api = async (path: string, init: RequestInit = {}) => fetch(`${gateway.url}${path}`, init);
    const grants = async () => (await (await api('/connections')).json()) as { adapter: string }[];

    beforeAll(async () => {
      buildConsoleIfStale();
      as = await startOidcAuthorizationServer({
        accounts: { alice: { roles: [] } },
        resourceScopes: ['mcp'],
        refreshTokens: true,
        revocation: true,
      });
      upstream = await startOAuthProtectedUpstream('notes', as.issuer);
      const port = await freePort();
      gateway = await startGatewayProcess({
        PORT: String(port),
        MCP_GATEWAY_PUBLIC_URL: `http://127.0.0.1:${port}`,
        DATABASE_URL: join(state, 'registry.db'),
      });
      for (const body of [
        {
          name: 'notes',
          description: 'Notes, signed in per user',
          endpoints: [upstream.url],
          upstreamAuth: { type: 'oauth-user', scopes: ['mcp'] },
        },
        // Not oauth-user: the page must not offer to connect it.
        { name: 'plain', endpoints: [upstream.url] },
      ]) {
        const res = await api('/adapters', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
        expect(res.status, await res.clone().text()).toBe(201);
      }
      browser = await launchChromium(chromium.path as string);
      context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
      page = await context.newPage();
      page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
      // Failed loads are judged by their response below: an adapter page's logs panel gets a 404 with a reason
      // for remote endpoints (the gateway runs nothing there), which is expected; any other refusal is not.
      page.on('console', (m) => {
        if (m.type() === 'error' && !m.text().startsWith('Failed to load resource'))
          problems.push(`console error: ${m.text()}`);
      });
      page.on('response', (r) => {
        const path = new URL(r.url()).pathname;
        if (r.status() >= 400 && !(r.status() === 404 && path.endsWith('/logs')))
          problems.push(`${r.status()} ${path}`);
      });
    }, 120_000);
    afterAll(async () => {
      await browser?.close();
      await gateway?.stop();
      await upstream?.close();
      await as?.close();
      rmSync(state, { recursive: true, force: true });
    });

    it('lists the oauth-user adapter as not connected, with a Connect link to /connect/notes in a new tab', async () => {
      await page.goto(`${gateway.url}/ui/adapters`);
      await page.getByRole('link', { name: 'Connections', exact: true }).click();
      await page.getByRole('heading', { name: 'Connections', level: 1 }).waitFor();
      await page.getByText('You have not connected any adapter.').waitFor();
      const connectable = page.getByRole('table', { name: 'Adapters you can connect' });
      const link = connectable.getByRole('link', { name: 'Connect notes' });
      await link.waitFor();
      expect(await link.getAttribute('href')).toBe('/connect/notes');
      expect(await link.getAttribute('target')).toBe('_blank');
      await expect(connectable.getByRole('row').count()).resolves.toBe(2); // the header and notes
      await expect(connectable.getByText('plain').count()).resolves.toBe(0);
    });

    it('connects through the authorization server in a new tab; after Refresh the grant is listed and works', async () => {
      const logins = as.logins;
      const [popup] = await Promise.all([
        context.waitForEvent('page'),
        page.getByRole('link', { name: 'Connect notes' }).click(),
      ]);
      await popup.getByRole('heading', { name: 'Connected' }).waitFor();
      expect(new URL(popup.url()).pathname).toBe('/connect/callback');
      expect(as.logins).toBe(logins + 1);
      await popup.close();

      await page.getByRole('button', { name: 'Refresh' }).click();
      const row = page.getByRole('table', { name: 'Your connections' }).getByRole('row', { name: /notes/ });
      await row.waitFor();
      await expect(row.getByRole('cell', { name: 'mcp', exact: true }).count()).resolves.toBe(1);
      await page.getByText('Every OAuth adapter you can use is connected.').waitFor();
      expect((await grants()).map((g) => g.adapter)).toEqual(['notes']);

      // The grant is the local user's own token at the upstream: a tool call gets through with it.
      const client = new Client({ name: 'console-connections-e2e', version: '1.0.0' });
      await client.connect(new StreamableHTTPClientTransport(new URL(`${gateway.url}/adapters/notes/mcp`)));
      const result = await client.callTool({ name: 'whoami', arguments: {} });
      expect(result.content).toEqual([{ type: 'text', text: 'alice' }]);
      await client.close();
    });

    it('shows the connection on the adapter’s own page, and none on an adapter that is not oauth-user', async () => {
      await page.goto(`${gateway.url}/ui/adapters/notes`);
      const section = page.getByRole('region', { name: 'Your connection' });
      await section.getByText('Connected', { exact: true }).waitFor();
      await section.getByRole('button', { name: 'Disconnect notes' }).waitFor();
      await page.goto(`${gateway.url}/ui/adapters/plain`);
      await page.getByRole('heading', { name: /^plain/, level: 1 }).waitFor();
      await page.getByRole('region', { name: 'Connect', exact: true }).waitFor();
      await expect(page.getByRole('region', { name: 'Your connection' }).count()).resolves.toBe(0);
    });

    it('disconnects only after a confirmation, and the list is read again', async () => {
      await page.goto(`${gateway.url}/ui/connections`);
      const row = page.getByRole('table', { name: 'Your connections' }).getByRole('row', { name: /notes/ });
      await row.getByRole('button', { name: 'Disconnect notes' }).click();
      await row.getByRole('button', { name: 'Cancel' }).click();
      expect((await grants()).map((g) => g.adapter)).toEqual(['notes']);
      await row.getByRole('button', { name: 'Disconnect notes' }).click();
      await row.getByRole('button', { name: 'Yes, disconnect' }).click();
      await page.getByText('You have not connected any adapter.').waitFor();
      await page
        .getByRole('table', { name: 'Adapters you can connect' })
        .getByRole('link', { name: 'Connect notes' })
        .waitFor();
      expect(await grants()).toEqual([]);

      // The adapter's page says so too, with its Connect link back.
      await page.goto(`${gateway.url}/ui/adapters/notes`);
      const section = page.getByRole('region', { name: 'Your connection' });
      await section.getByText('Not connected', { exact: true }).waitFor();
      await section.getByRole('link', { name: 'Connect notes' }).waitFor();
      expect(problems).toEqual([]);
    });
  },
);

describe.skipIf(chromium.reason !== undefined)(
  chromium.reason ? `${TITLE}, oidc mode (skipped: ${chromium.reason})` : `${TITLE}, oidc mode`,
  () => {
    const state = mkdtempSync(join(tmpdir(), 'mcp-gateway-console-connections-oidc-'));
    let as: OidcAuthorizationServer;
    let upstream: OAuthProtectedUpstream;
    let gateway: GatewayProcess;
    let browser: Browser;
    let page: Page;
    /** The bearer token the signed-in console sent with its last `POST /connect/…`. */
    let consoleToken: string | undefined;
    const problems: string[] = [];

    const withToken = (path: string, init: RequestInit = {}) =>
      fetch(`${gateway.url}${path}`, {
        ...init,
        headers: { authorization: `Bearer ${consoleToken ?? ''}` },
      });
    const grants = async () =>
      ((await (await withToken('/connections')).json()) as { adapter: string }[]).map((g) => g.adapter);

    beforeAll(async () => {
      buildConsoleIfStale();
      // One authorization server signs the user in for the gateway (the console's sign-in) and for the upstream.
      as = await startOidcAuthorizationServer({
        accounts: { carol: { roles: ['team'] } },
        resourceScopes: ['mcp'],
        refreshTokens: true,
        revocation: true,
      });
      upstream = await startOAuthProtectedUpstream('notes', as.issuer);
      const port = await freePort();
      const clientId = await registerConsoleClient(as.issuer, port);
      // The oauth-user adapter comes from the registry file: the console has no form field for upstreamAuth.
      const config = join(state, 'gateway.yaml');
      writeFileSync(
        config,
        JSON.stringify({
          adapters: [
            {
              name: 'notes',
              endpoints: [upstream.url],
              requiredRoles: ['team'],
              upstreamAuth: { type: 'oauth-user', scopes: ['mcp'] },
            },
          ],
        }),
      );
      gateway = await startGatewayProcess({
        PORT: String(port),
        MCP_GATEWAY_PUBLIC_URL: `http://127.0.0.1:${port}`,
        DATABASE_URL: join(state, 'registry.db'),
        MCP_GATEWAY_AUTH: 'oidc',
        MCP_GATEWAY_OIDC_ISSUER: as.issuer,
        MCP_GATEWAY_SCOPES_SUPPORTED: 'mcp',
        MCP_GATEWAY_UI_CLIENT_ID: clientId,
        MCP_GATEWAY_CONFIG: config,
      });
      browser = await launchChromium(chromium.path as string);
      page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
      page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
      page.on('request', (r) => {
        const url = new URL(r.url());
        const bearer = r.headers()['authorization'];
        if (r.method() === 'POST' && url.pathname.startsWith('/connect/') && bearer)
          consoleToken = bearer.replace(/^Bearer /, '');
      });
      page.on('response', (r) => {
        if (r.status() >= 400) problems.push(`${r.status()} ${new URL(r.url()).pathname}`);
      });
    }, 120_000);
    afterAll(async () => {
      await browser?.close();
      await gateway?.stop();
      await upstream?.close();
      await as?.close();
      rmSync(state, { recursive: true, force: true });
    });

    it('a browser opening /connect/notes cold lands on the console, signs in, consents upstream and is connected', async () => {
      const logins = as.logins;
      await page.goto(`${gateway.url}/connect/notes`);
      // The gateway sent the tokenless browser to the console, which says why it wants a sign-in.
      await page.getByRole('heading', { name: 'Sign in', level: 1 }).waitFor();
      expect(new URL(page.url()).pathname + new URL(page.url()).search).toBe('/ui/connections?connect=notes');
      await page.getByText(/Then the console connects your account to adapter notes/).waitFor();
      await page.getByRole('button', { name: 'Sign in' }).click();
      // Sign-in at the IdP, back to the console (the parameter kept), POST /connect/notes with the token, the
      // upstream's authorization server (consent), and the gateway's callback.
      await page.getByRole('heading', { name: 'Connected', level: 1, exact: true }).waitFor();
      expect(new URL(page.url()).pathname).toBe('/connect/callback');
      expect(as.logins).toBeGreaterThan(logins);
      expect(consoleToken).toBeDefined();

      // Stored for the signed-in user: their token lists it, and their MCP calls reach the upstream as them.
      expect(await grants()).toEqual(['notes']);
      const client = new Client({ name: 'console-connections-oidc-e2e', version: '1.0.0' });
      await client.connect(
        new StreamableHTTPClientTransport(new URL(`${gateway.url}/adapters/notes/mcp`), {
          requestInit: { headers: { authorization: `Bearer ${consoleToken}` } },
        }),
      );
      const result = await client.callTool({ name: 'whoami', arguments: {} });
      expect(result.content).toEqual([{ type: 'text', text: 'carol' }]);
      await client.close();

      // The callback page leads back to the console, which lists the grant once signed in again.
      await page.getByRole('link', { name: 'Your connections in the console' }).click();
      await page.getByRole('button', { name: 'Sign in' }).click();
      const row = page.getByRole('table', { name: 'Your connections' }).getByRole('row', { name: /notes/ });
      await row.waitFor();
      expect(problems).toEqual([]);
    });

    it("the page's Connect button starts the flow with the console's token, in this tab", async () => {
      const row = page.getByRole('table', { name: 'Your connections' }).getByRole('row', { name: /notes/ });
      await row.getByRole('button', { name: 'Disconnect notes' }).click();
      await row.getByRole('button', { name: 'Yes, disconnect' }).click();
      await page.getByText('You have not connected any adapter.').waitFor();
      expect(await grants()).toEqual([]);
      const connectable = page.getByRole('table', { name: 'Adapters you can connect' });
      await connectable.getByRole('button', { name: 'Connect notes' }).click();
      await page.getByRole('heading', { name: 'Connected', level: 1, exact: true }).waitFor();
      expect(new URL(page.url()).pathname).toBe('/connect/callback');
      expect(await grants()).toEqual(['notes']);
      expect(problems).toEqual([]);
    });
  },
);
