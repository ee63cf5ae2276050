/**
 * Screenshots of the web console for the README (`docs/images/console-*.png`, 1280×800), taken in Chromium
 * (playwright-core) against a real gateway process with a few resources registered: a command adapter (the stdio
 * echo fixture), a remote adapter (an SDK server, federated), a tool (the score sample) and a secret; the
 * Connections page of a second gateway with two `oauth-user` adapters (upstreams protected by oidc-provider), one
 * connected through the browser; and the sign-in page of a third gateway in `oidc` mode.
 *
 *   npm run screenshots
 *
 * Builds the console first when it is stale; needs Chromium (`/usr/bin/chromium` or MCP_GATEWAY_TEST_CHROMIUM).
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { SCORE_TOOL, startScoreServer } from './samples/score-server.js';
import { launchChromium, locateChromium } from '../test/browser.js';
import { buildConsoleIfStale } from '../test/console-build.js';
import { freePort } from '../test/console-oidc.js';
import { startGatewayProcess } from '../test/gateway-process.js';
import { startLegacyMcpServer } from '../test/mcp-servers.js';
import { startOAuthProtectedUpstream } from '../test/oauth-protected-upstream.js';
import { startOidcAuthorizationServer } from '../test/oidc-authorization-server.js';
import { STDIO_SERVER } from '../test/process-fixtures.js';

const OUT = fileURLToPath(new URL('../docs/images/', import.meta.url));

const chromium = locateChromium();
if (!chromium.path) throw new Error(chromium.reason);
buildConsoleIfStale();
mkdirSync(OUT, { recursive: true });

const state = mkdtempSync(join(tmpdir(), 'mcp-gateway-screenshots-'));
const score = await startScoreServer();
const upstream = await startLegacyMcpServer({ name: 'notes' });
const gateway = await startGatewayProcess({ DATABASE_URL: join(state, 'registry.db') });
const browser = await launchChromium(chromium.path);

async function post(path: string, body: unknown, to = gateway.url): Promise<void> {
  const res = await fetch(`${to}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`POST ${path}: ${res.status} ${await res.text()}`);
}

async function shoot(page: Page, name: string): Promise<void> {
  // Keyboard focus rings and the text cursor would differ from run to run.
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  await page.screenshot({ path: join(OUT, `console-${name}.png`) });
  console.log(`docs/images/console-${name}.png`);
}

try {
  await post('/secrets', { name: 'echo-token', value: 'not-a-real-token' });
  await post('/adapters', {
    name: 'echo',
    description: 'The stdio echo fixture, run on the gateway host',
    command: process.execPath,
    args: [STDIO_SERVER],
    secretEnvironmentVariables: { ECHO_TOKEN: 'echo-token' },
  });
  await post('/adapters', {
    name: 'notes',
    description: 'An MCP server that already runs elsewhere',
    endpoints: [upstream.url],
    federate: true,
  });
  await post('/tools', {
    name: 'score',
    description: 'Sentiment score (HTTP tool server)',
    endpoints: [score.url],
    toolDefinition: { tool: SCORE_TOOL },
  });

  const page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
  await page.goto(`${gateway.url}/ui/adapters`);
  await page.getByRole('row', { name: /echo/ }).getByText('Healthy').waitFor({ timeout: 60_000 });
  await page.getByRole('row', { name: /notes/ }).getByText('Healthy').waitFor({ timeout: 60_000 });
  await shoot(page, 'adapters');

  await page.goto(`${gateway.url}/ui/tools`);
  await page.getByRole('row', { name: /score/ }).getByText('Healthy').waitFor({ timeout: 60_000 });
  await shoot(page, 'tools');

  await page.goto(`${gateway.url}/ui/adapters/new`);
  await page.getByLabel('Name', { exact: true }).fill('Weather');
  await page.getByLabel('Endpoints').fill('ftp://weather.internal/mcp');
  await page.getByRole('button', { name: 'Create adapter' }).click();
  await page.getByRole('alert').waitFor();
  await shoot(page, 'adapter-form');

  await page.goto(`${gateway.url}/ui/adapters/echo`);
  await page
    .getByRole('region', { name: /Status/ })
    .getByText('Healthy', { exact: true })
    .waitFor();
  await page.getByLabel('Follow').check();
  await page.getByLabel('Logs of replica 0').getByText('stdio-echo-server started').waitFor();
  await shoot(page, 'adapter');

  await page.goto(`${gateway.url}/ui/console?target=`);
  await page.getByRole('button', { name: 'Connect' }).click();
  await page.getByText('Connected to').waitFor();
  await page
    .getByRole('region', { name: /^Tools/ })
    .getByRole('button', { name: /^score/ })
    .click();
  await page.getByLabel(/text/).fill('What a wonderful, helpful gateway');
  await page.getByRole('button', { name: 'Call tool' }).click();
  await page.getByText('Structured content').waitFor();
  await shoot(page, 'test-console');

  await page.goto(`${gateway.url}/ui/secrets`);
  await page.getByRole('cell', { name: 'echo-token', exact: true }).waitFor();
  await shoot(page, 'secrets');

  // Per-user OAuth: two oauth-user adapters on a gateway whose public URL (the vault's redirect URI) is known.
  const oauth = await startOidcAuthorizationServer({
    accounts: { alice: { roles: [] } },
    resourceScopes: ['mcp'],
  });
  const calendar = await startOAuthProtectedUpstream('calendar', oauth.issuer);
  const tickets = await startOAuthProtectedUpstream('tickets', oauth.issuer);
  const port = await freePort();
  const vaulted = await startGatewayProcess({
    PORT: String(port),
    MCP_GATEWAY_PUBLIC_URL: `http://127.0.0.1:${port}`,
    DATABASE_URL: join(state, 'vaulted.db'),
  });
  try {
    for (const [name, description, url] of [
      ['calendar', 'Your calendar, signed in per user', calendar.url],
      ['tickets', 'The ticket tracker, signed in per user', tickets.url],
    ] as const)
      await post(
        '/adapters',
        { name, description, endpoints: [url], upstreamAuth: { type: 'oauth-user', scopes: ['mcp'] } },
        vaulted.url,
      );
    await page.goto(`${vaulted.url}/ui/connections`);
    const [popup] = await Promise.all([
      page.context().waitForEvent('page'),
      page.getByRole('link', { name: 'Connect calendar' }).click(),
    ]);
    await popup.getByRole('heading', { name: 'Connected' }).waitFor();
    await popup.close();
    await page.getByRole('button', { name: 'Refresh' }).click();
    await page
      .getByRole('table', { name: 'Your connections' })
      .getByRole('row', { name: /calendar/ })
      .waitFor();
    await shoot(page, 'connections');
  } finally {
    await vaulted.stop();
    await Promise.all([calendar.close(), tickets.close(), oauth.close()]);
  }

  // A gateway that wants tokens: the console's sign-in page (its client id is a placeholder; nobody signs in here).
  const as = await startOidcAuthorizationServer({ accounts: { root: { roles: ['mcp.admin'] } } });
  const secured = await startGatewayProcess({
    DATABASE_URL: join(state, 'secured.db'),
    MCP_GATEWAY_AUTH: 'oidc',
    MCP_GATEWAY_OIDC_ISSUER: as.issuer,
    MCP_GATEWAY_UI_CLIENT_ID: 'mcp-gateway-console',
  });
  try {
    await page.goto(`${secured.url}/ui/adapters`);
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    await shoot(page, 'sign-in');
  } finally {
    await secured.stop();
    await as.close();
  }
} finally {
  await browser.close();
  await gateway.stop();
  await upstream.close();
  await score.close();
  rmSync(state, { recursive: true, force: true });
}
