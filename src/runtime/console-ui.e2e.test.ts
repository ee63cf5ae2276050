/**
 * The web console in a real browser (Debian's Chromium driven by playwright-core) against a real gateway process,
 * as a user works with it: create a command adapter from the form and watch it turn Healthy, follow its logs,
 * call its tools from the test console (the SDK's client running in the page), and read the API's own
 * validation message for a bad form. The page loads nothing from elsewhere, and its policy really blocks an
 * inline script. In `oidc` mode it signs in through oidc-provider (authorization code + PKCE in the page) and
 * keeps the token in memory only. Skipped, saying why, where no Chromium is installed (`.ci/run` installs it).
 */
import { mkdtempSync, rmSync } from 'node:fs';
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
import { startOidcAuthorizationServer } from '../../test/oidc-authorization-server.js';
import type { OidcAuthorizationServer } from '../../test/oidc-authorization-server.js';
import { STDIO_SERVER } from '../../test/process-fixtures.js';
import { SCORE_TOOL, startScoreServer } from '../../scripts/samples/score-server.js';
import type { ScoreServer } from '../../scripts/samples/score-server.js';

const chromium = locateChromium();
if (chromium.reason) process.stderr.write(`web console browser tests skipped: ${chromium.reason}\n`);
const TITLE = 'the web console in Chromium';

describe.skipIf(chromium.reason !== undefined)(
  chromium.reason ? `${TITLE} (skipped: ${chromium.reason})` : TITLE,
  () => {
    const state = mkdtempSync(join(tmpdir(), 'mcp-gateway-console-e2e-'));
    let gateway: GatewayProcess;
    let score: ScoreServer;
    let browser: Browser;
    let context: BrowserContext;
    let page: Page;
    /** Every URL the page requested, and every error it logged or threw. */
    const requested: string[] = [];
    const problems: string[] = [];

    beforeAll(async () => {
      buildConsoleIfStale();
      score = await startScoreServer();
      gateway = await startGatewayProcess({ DATABASE_URL: join(state, 'registry.db') });
      browser = await launchChromium(chromium.path as string);
      context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
      page = await context.newPage();
      page.on('request', (r) => requested.push(r.url()));
      page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
      page.on('console', (m) => {
        if (m.type() === 'error') problems.push(`console error: ${m.text()}`);
      });
    });
    afterAll(async () => {
      await browser?.close();
      await gateway?.stop();
      await score?.close();
      rmSync(state, { recursive: true, force: true });
    });

    it('opens at / on the adapters page, loading only the gateway’s own files under its strict policy', async () => {
      const response = await page.goto(`${gateway.url}/`);
      await page.getByRole('heading', { name: 'Adapters', level: 1 }).waitFor();
      expect(new URL(page.url()).pathname).toBe('/ui/adapters');
      expect(await response?.headerValue('content-security-policy')).toMatch(
        /default-src 'self'.*frame-ancestors 'none'/,
      );
      await expect(page.getByText('No adapters registered yet.').isVisible()).resolves.toBe(true);
      // Offline by construction: every request went to the gateway (or is a data: URL).
      const foreign = requested.filter((u) => !u.startsWith(`${gateway.url}/`) && !u.startsWith('data:'));
      expect(foreign).toEqual([]);
      // The policy is enforced, not just sent: an injected inline script does not run.
      const ran = await page.evaluate(async () => {
        const script = document.createElement('script');
        script.textContent = 'window.__injected = true;';
        document.body.append(script);
        await new Promise((r) => setTimeout(r, 50));
        return (window as { __injected?: boolean }).__injected === true;
      });
      expect(ran).toBe(false);
      problems.length = 0; // the refused script's report is the only error expected here
    });

    it('shows the API’s own validation messages for a bad form, and creates nothing', async () => {
      await page.getByRole('link', { name: 'New adapter' }).click();
      await page.getByLabel('Name', { exact: true }).fill('Not A Label');
      await page.getByLabel('Endpoints').fill('ftp://127.0.0.1/mcp');
      await page.getByRole('button', { name: 'Create adapter' }).click();
      const alert = page.getByRole('alert');
      await alert.waitFor();
      // What the API itself answers for the same body, word for word.
      const api = await fetch(`${gateway.url}/adapters`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'Not A Label', endpoints: ['ftp://127.0.0.1/mcp'], replicaCount: 1 }),
      });
      expect(api.status).toBe(400);
      const { error } = (await api.json()) as {
        error: { message: string; details: { path: string; message: string }[] };
      };
      const shown = await alert.innerText();
      expect(shown).toContain(error.message);
      expect(error.details.length).toBeGreaterThan(0);
      for (const detail of error.details) expect(shown).toContain(`${detail.path}: ${detail.message}`);
      expect(new URL(page.url()).pathname).toBe('/ui/adapters/new');
      const list = (await (await fetch(`${gateway.url}/adapters`)).json()) as unknown[];
      expect(list).toEqual([]);
      // Chromium logs the refused POST as a failed load: the 400 this test asked for.
      expect(problems).toEqual([expect.stringMatching(/status of 400/)]);
      problems.length = 0;
    });

    it('creates a command adapter from the form and shows it turn Healthy, on its page and in the list', async () => {
      await page.getByLabel('Name', { exact: true }).fill('echo');
      await page.getByLabel('Description').fill('The stdio echo fixture');
      await page.getByLabel('A command on the gateway host').check();
      await page.getByLabel('Command', { exact: true }).fill(process.execPath);
      await page.getByLabel('Arguments', { exact: true }).fill(STDIO_SERVER);
      await page.getByRole('button', { name: 'Create adapter' }).click();
      await page.getByRole('heading', { name: /^echo/, level: 1 }).waitFor();
      expect(new URL(page.url()).pathname).toBe('/ui/adapters/echo');
      const status = page.getByRole('region', { name: /Status/ });
      await status.getByText('Healthy', { exact: true }).waitFor({ timeout: 60_000 });
      await expect(status.getByRole('cell', { name: /Running/ }).count()).resolves.toBe(1);
      // The connection snippets name this gateway's URL for the adapter.
      const url = `${gateway.url}/adapters/echo/mcp`;
      await page.getByText(`claude mcp add --transport http echo ${url}`).waitFor();

      await page.getByRole('link', { name: 'Adapters', exact: true }).first().click();
      const row = page.getByRole('row', { name: /echo/ });
      await row.getByText('Healthy').waitFor();
      await page.getByLabel('Filter').fill('nothing-like-it');
      await page.getByText('No adapters match').waitFor();
      await expect(row.count()).resolves.toBe(0);
      await page.getByLabel('Filter').fill('echo');
      await row.waitFor();
    });

    it('edits the adapter in the same form, keeping what the form does not show', async () => {
      await page.goto(`${gateway.url}/ui/adapters/echo`);
      await page.getByRole('link', { name: 'Edit', exact: true }).click();
      await page.getByRole('heading', { name: 'Edit adapter echo' }).waitFor();
      await expect(page.getByLabel('Name', { exact: true }).isDisabled()).resolves.toBe(true);
      await expect(page.getByLabel('Command', { exact: true }).inputValue()).resolves.toBe(process.execPath);
      await page.getByLabel('Description').fill('Echoes, edited in the browser');
      await page.getByRole('button', { name: 'Save' }).click();
      await page.getByText('Echoes, edited in the browser').waitFor();
      const saved = (await (await fetch(`${gateway.url}/adapters/echo`)).json()) as Record<string, unknown>;
      expect(saved).toMatchObject({
        description: 'Echoes, edited in the browser',
        command: process.execPath,
        args: [STDIO_SERVER],
      });
      await page
        .getByRole('region', { name: /Status/ })
        .getByText('Healthy', { exact: true })
        .waitFor({
          timeout: 60_000,
        });
    });

    it('calls a tool from the test console with a form generated from its schema, with progress', async () => {
      await page.goto(`${gateway.url}/ui/adapters/echo`);
      await page.getByRole('link', { name: 'Open in the test console' }).click();
      await expect(page.getByLabel('Server').inputValue()).resolves.toBe('echo');
      await page.getByRole('button', { name: 'Connect' }).click();
      await page.getByText('Connected to stdio-echo-server').waitFor();
      const tools = page.getByRole('region', { name: /^Tools/ });
      await tools.getByRole('button', { name: 'echo', exact: true }).click();
      await page.getByLabel('message').fill('hello from the browser');
      await page.getByRole('button', { name: 'Call tool' }).click();
      await page.getByText('Echo: hello from the browser').waitFor();

      await tools.getByRole('button', { name: 'slow', exact: true }).click();
      await page.getByLabel('ms').fill('10');
      await page.getByRole('button', { name: 'Call tool' }).click();
      await page.getByText('slow done').waitFor();
      const progress = page.getByRole('heading', { name: 'Progress' });
      await expect(progress.isVisible()).resolves.toBe(true);
      await page.getByRole('button', { name: 'Disconnect' }).click();
    });

    it('calls a registered tool through the tool router (/mcp), its output checked against its outputSchema', async () => {
      const created = await fetch(`${gateway.url}/tools`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'score', endpoints: [score.url], toolDefinition: { tool: SCORE_TOOL } }),
      });
      expect(created.status).toBe(201);
      await page.goto(`${gateway.url}/ui/console`);
      await expect(page.getByLabel('Server').inputValue()).resolves.toBe('');
      await page.getByRole('button', { name: 'Connect' }).click();
      await page.getByText('Connected to mcp-gateway').waitFor();
      await page
        .getByRole('region', { name: /^Tools/ })
        .getByRole('button', { name: /^score/ })
        .click();
      await page.getByLabel(/^text/).fill('a wonderful day');
      await page.getByRole('button', { name: 'Call tool' }).click();
      // The SDK client validates structured content against the tool's outputSchema, here without eval.
      await page.getByText('Structured content').waitFor();
      await page.getByText('"label": "positive"').waitFor();
      await page.getByRole('button', { name: 'Disconnect' }).click();
    });

    it('follows the logs of a replica: a line written after the page opened them appears', async () => {
      await page.goto(`${gateway.url}/ui/adapters/echo`);
      await page.getByLabel('Follow').check();
      const logs = page.getByLabel('Logs of replica 0');
      await logs.getByText('stdio-echo-server started').waitFor();
      await expect(logs.innerText()).resolves.not.toContain('crashing as asked');
      // The server writes this line to stderr when told to crash; the open follow stream brings it.
      const client = new Client({ name: 'console-e2e', version: '1.0.0' });
      await client.connect(new StreamableHTTPClientTransport(new URL(`${gateway.url}/adapters/echo/mcp`)));
      await client.callTool({ name: 'crash', arguments: {} }).catch(() => undefined);
      await client.close().catch(() => undefined);
      await logs.getByText('stdio-echo-server crashing as asked').waitFor();
    });

    it('stores, rotates and deletes a secret, never showing its value', async () => {
      const value = 'sk-browser-test-0123456789';
      await page.goto(`${gateway.url}/ui/secrets`);
      await page.getByLabel('Name', { exact: true }).fill('api-key');
      await page.getByLabel('Value', { exact: true }).fill(value);
      await page.getByRole('button', { name: 'Store secret' }).click();
      const row = page.getByRole('row', { name: /api-key/ });
      await row.waitFor();
      await expect(page.getByLabel('Value', { exact: true }).inputValue()).resolves.toBe('');
      await row.getByRole('button', { name: 'Rotate api-key' }).click();
      await row.getByLabel('New value for api-key').fill(`${value}-rotated`);
      await row.getByRole('button', { name: 'Rotate', exact: true }).click();
      await row.getByRole('button', { name: 'Rotate api-key' }).waitFor();
      expect(await page.content()).not.toContain(value);
      await row.getByRole('button', { name: 'Delete api-key' }).click();
      await row.getByRole('button', { name: 'Yes, delete' }).click();
      await page.getByText('No secrets stored yet.').waitFor();
      expect((await fetch(`${gateway.url}/secrets/api-key`)).status).toBe(404);
    });

    it('deletes an adapter only after a confirmation', async () => {
      await page.goto(`${gateway.url}/ui/adapters`);
      const row = page.getByRole('row', { name: /echo/ });
      await row.getByRole('button', { name: 'Delete echo' }).click();
      await row.getByRole('button', { name: 'Cancel' }).click();
      await row.getByRole('button', { name: 'Delete echo' }).click();
      await row.getByRole('button', { name: 'Yes, delete' }).click();
      await page.getByText('No adapters registered yet.').waitFor();
      expect((await fetch(`${gateway.url}/adapters/echo`)).status).toBe(404);
      expect(problems).toEqual([]);
    });
  },
);

describe.skipIf(chromium.reason !== undefined)(
  chromium.reason ? `${TITLE}, oidc mode (skipped: ${chromium.reason})` : `${TITLE}, oidc mode`,
  () => {
    const state = mkdtempSync(join(tmpdir(), 'mcp-gateway-console-oidc-'));
    let as: OidcAuthorizationServer;
    let gateway: GatewayProcess;
    let browser: Browser;
    let page: Page;
    const problems: string[] = [];

    beforeAll(async () => {
      buildConsoleIfStale();
      as = await startOidcAuthorizationServer({
        accounts: { root: { roles: ['mcp.admin'] } },
        resourceScopes: ['mcp'],
      });
      const port = await freePort();
      const clientId = await registerConsoleClient(as.issuer, port);
      gateway = await startGatewayProcess({
        PORT: String(port),
        DATABASE_URL: join(state, 'registry.db'),
        MCP_GATEWAY_AUTH: 'oidc',
        MCP_GATEWAY_OIDC_ISSUER: as.issuer,
        MCP_GATEWAY_SCOPES_SUPPORTED: 'mcp',
        MCP_GATEWAY_UI_CLIENT_ID: clientId,
      });
      browser = await launchChromium(chromium.path as string);
      page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
      page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    });
    afterAll(async () => {
      await browser?.close();
      await gateway?.stop();
      await as?.close();
      rmSync(state, { recursive: true, force: true });
    });

    it('signs in with authorization code + PKCE and then calls the gateway with the token', async () => {
      // Without a token the API is closed: the console asks to sign in instead of showing errors.
      expect((await fetch(`${gateway.url}/adapters`)).status).toBe(401);
      const response = await page.goto(`${gateway.url}/ui/secrets`);
      // The page may also call the authorization server (discovery, token), and nothing else.
      expect(await response?.headerValue('content-security-policy')).toContain(
        `connect-src 'self' ${new URL(as.issuer).origin}`,
      );
      await page.getByRole('heading', { name: 'Sign in' }).waitFor();
      const logins = as.logins;
      await page.getByRole('button', { name: 'Sign in' }).click();
      // Back from the authorization server, on the page the sign-in started from; /secrets needs mcp.admin.
      await page.getByRole('heading', { name: 'Secrets', level: 1 }).waitFor();
      expect(as.logins).toBe(logins + 1);
      expect(new URL(page.url()).pathname).toBe('/ui/secrets');
      await page.getByText('No secrets stored yet.').waitFor();
      await page.getByText('Signed in').waitFor();

      await page.getByRole('link', { name: 'Adapters', exact: true }).click();
      await page.getByText('No adapters registered yet.').waitFor();
      // The MCP client in the page carries the token too.
      await page.getByRole('link', { name: 'Test console' }).click();
      await page.getByRole('button', { name: 'Connect' }).click();
      await page.getByText('Connected to mcp-gateway').waitFor();
      await page.getByRole('button', { name: 'Disconnect' }).click();
    });

    it('keeps the token in memory only: nothing in storage, and a reload asks to sign in again', async () => {
      const stored = await page.evaluate(() =>
        JSON.stringify([{ ...localStorage }, { ...sessionStorage }, document.cookie]),
      );
      expect(stored).toBe(JSON.stringify([{}, {}, '']));
      await page.reload();
      await page.getByRole('heading', { name: 'Sign in' }).waitFor();
      expect(problems).toEqual([]);
    });
  },
);
