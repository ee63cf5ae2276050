/**
 * The real gateway (`main.ts`, a SQLite file) giving upstreams credentials of their own (`upstreamAuth`): SDK
 * fixture servers that demand a bearer key or an `X-Api-Key`, an HTTP tool server that demands a bearer key;
 * SDK 1.x and 2.x clients through `/adapters/{name}/mcp` and the tool router. A caller cannot set or read the
 * credential, a rotation is used on the next request, a missing secret is a clear error, and no secret value
 * appears in the registry file, the gateway's logs or any control-plane answer.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGatewayProcess } from '../../test/gateway-process.js';
import type { GatewayProcess } from '../../test/gateway-process.js';
import { startHttpServer } from '../../test/http-fixture.js';
import type { RunningServer } from '../../test/http-fixture.js';
import { legacyInitializeBody, mcpPostHeaders } from '../../test/legacy-requests.js';
import { connectLegacyClient, connectModernClient } from '../../test/mcp-clients.js';
import type { TestMcpClient } from '../../test/mcp-clients.js';
import { startLegacyMcpServer, startModernMcpServer } from '../../test/mcp-servers.js';
import type { RunningMcpServer } from '../../test/mcp-servers.js';

const BEARER_FIRST = 'sk-bearer-FIRST-7d1c0b9e5a';
const BEARER_SECOND = 'sk-bearer-SECOND-44aa21f0c3';
const API_KEY = 'apikey-HEADER-0f9e8d7c6b';
const TOOL_KEY = 'tool-key-TOOL-93ab17ce42';
const DOOMED = 'doomed-value-DOOMED-5e6f7a';
const LATE_RIGHT = 'late-RIGHT-c0ffee1234';
const LATE_WRONG = 'late-WRONG-deadbeef99';
const CLIENT_SECRET = 'oauth-CLIENT-SECRET-8c7d6e5f';
const SECRET_VALUES = [
  BEARER_FIRST,
  BEARER_SECOND,
  API_KEY,
  TOOL_KEY,
  DOOMED,
  LATE_RIGHT,
  LATE_WRONG,
  CLIENT_SECRET,
];
/** Access tokens the token endpoint issued (they are secrets too). */
const issuedTokens: string[] = [];
/** Issued tokens the upstreams refuse from now on, before they expire (revoked at the provider, say). */
const revokedTokens = new Set<string>();
/** While set, the upstreams refuse every token (the client lost its access there, say). */
let refuseEveryToken = false;
/** What the upstreams that take the token endpoint's tokens accept. */
const acceptsIssuedToken = (value?: string) =>
  !refuseEveryToken && issuedTokens.some((t) => value === `Bearer ${t}` && !revokedTokens.has(t));

/** What a caller tries to slip to the upstream. */
const FORGED = { authorization: 'Bearer client-forged-token', 'x-api-key': 'client-forged-key' };

const dir = mkdtempSync(join(tmpdir(), 'mcpgw-upstream-auth-'));
let gateway: GatewayProcess;
// The data plane's upstreams and the federated adapters' are separate servers, so the tool router's own
// listing traffic never lands in a data-plane test's window.
let bearerUpstream: RunningMcpServer;
let headerUpstream: RunningMcpServer;
let fedBearerUpstream: RunningMcpServer;
let fedHeaderUpstream: RunningMcpServer;
let lateUpstream: RunningMcpServer;
let oauthUpstream: RunningMcpServer;
let fedOauthUpstream: RunningMcpServer;
let tokenServer: RunningServer;
/** Bodies and Authorization headers of the token requests received. */
const tokenRequests: { authorization: string | undefined; body: string }[] = [];
let toolServer: RunningServer;
/** Which bearer key the bearer-protected upstream takes right now. */
let acceptedBearer = BEARER_FIRST;
const toolRequests: IncomingHttpHeaders[] = [];
/** Every control-plane answer read, as text, for the leak check. */
const answers: string[] = [];

async function send(path: string, init: RequestInit = {}): Promise<Response> {
  const res = await fetch(`${gateway.url}${path}`, init);
  const text = await res.clone().text();
  answers.push(`${res.status} ${JSON.stringify([...res.headers])} ${text}`);
  return res;
}

const postJson = (path: string, body: unknown, method = 'POST') =>
  send(path, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

async function created(path: string, body: unknown) {
  const res = await postJson(path, body);
  expect(res.status, await res.clone().text()).toBe(201);
}

/** A raw initialize through the data plane, with whatever extra headers the caller sends. */
const initialize = (adapter: string, headers: Record<string, string> = {}) =>
  fetch(`${gateway.url}/adapters/${adapter}/mcp`, {
    method: 'POST',
    headers: mcpPostHeaders(headers),
    body: legacyInitializeBody(),
  });

/** Headers of the MCP requests an upstream got after the `before`-th request (the deployer's probes left out). */
const mcpRequestsSince = (upstream: RunningMcpServer, before: number) =>
  upstream.requests.slice(before).filter((_h, i) => !upstream.targets[before + i]!.startsWith('OPTIONS '));

/** Resolves with the first log line that `matches`, waiting for the gateway to write it (its log is asynchronous). */
function logLine(matches: (line: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const stdout = gateway.child.stdout!;
    const timer = setTimeout(() => {
      stdout.off('data', check);
      reject(new Error('no such log line within 10 s'));
    }, 10_000);
    function check() {
      // Runs after the harness's own listener, which has parsed the chunk into gateway.logs.
      const found = gateway.logs.find(matches);
      if (!found) return;
      clearTimeout(timer);
      stdout.off('data', check);
      resolve(found);
    }
    stdout.on('data', check);
    check();
  });
}

const textOf = (result: Record<string, unknown>) =>
  (result.content as { type: string; text: string }[]).map((c) => c.text).join('');

beforeAll(async () => {
  const bearer = {
    header: 'authorization',
    accepts: (value?: string) => value === `Bearer ${acceptedBearer}`,
  };
  const apiKey = { header: 'x-api-key', accepts: (value?: string) => value === API_KEY };
  bearerUpstream = await startLegacyMcpServer({ name: 'bearer-upstream', requires: bearer });
  headerUpstream = await startModernMcpServer({ name: 'header-upstream', requires: apiKey });
  fedBearerUpstream = await startLegacyMcpServer({ name: 'fed-bearer-upstream', requires: bearer });
  fedHeaderUpstream = await startModernMcpServer({ name: 'fed-header-upstream', requires: apiKey });
  lateUpstream = await startLegacyMcpServer({
    name: 'late-upstream',
    requires: { header: 'authorization', accepts: (value) => value === `Bearer ${LATE_RIGHT}` },
  });
  // An OAuth 2.0 token endpoint for the client credentials grant (RFC 6749 §4.4), and an upstream that takes
  // only the tokens it issued.
  tokenServer = await startHttpServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      tokenRequests.push({ authorization: req.headers.authorization, body });
      const expected = `Basic ${Buffer.from(`gateway:${CLIENT_SECRET}`).toString('base64')}`;
      const form = new URLSearchParams(body);
      if (req.headers.authorization !== expected || form.get('grant_type') !== 'client_credentials') {
        res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"invalid_client"}');
        return;
      }
      const token = `issued-TOKEN-${issuedTokens.length + 1}-${Math.random().toString(36).slice(2)}`;
      issuedTokens.push(token);
      res
        .writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' })
        .end(JSON.stringify({ access_token: token, token_type: 'Bearer', expires_in: 3600 }));
    });
  });
  oauthUpstream = await startModernMcpServer({
    name: 'oauth-upstream',
    requires: {
      header: 'authorization',
      accepts: acceptsIssuedToken,
    },
  });
  fedOauthUpstream = await startModernMcpServer({
    name: 'fed-oauth-upstream',
    requires: { header: 'authorization', accepts: acceptsIssuedToken },
  });
  toolServer = await startHttpServer((req, res) => {
    // The deployer's reachability probes (OPTIONS) are not calls.
    if (req.method === 'POST') toolRequests.push(req.headers);
    req.resume();
    const oauth = acceptsIssuedToken(req.headers.authorization);
    if (req.headers.authorization !== `Bearer ${TOOL_KEY}` && !oauth) {
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"bad key"}');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"score":0.9}');
  });
  gateway = await startGatewayProcess({
    DATABASE_URL: join(dir, 'registry.db'),
    MCP_GATEWAY_LOG_LEVEL: 'debug',
  });
  await created('/secrets', { name: 'bearer-key', value: BEARER_FIRST });
  await created('/secrets', { name: 'api-key', value: API_KEY });
  await created('/secrets', { name: 'tool-key', value: TOOL_KEY });
  await created('/secrets', { name: 'doomed', value: DOOMED });
  await created('/secrets', { name: 'late-key', value: LATE_RIGHT });
  await created('/secrets', { name: 'oauth-client', value: CLIENT_SECRET });
  const bearerAuth = { type: 'bearer', secret: 'bearer-key' };
  const headerAuth = { type: 'header', name: 'X-Api-Key', secret: 'api-key' };
  await created('/adapters', {
    name: 'bearer-up',
    endpoints: [bearerUpstream.url],
    upstreamAuth: bearerAuth,
  });
  await created('/adapters', {
    name: 'header-up',
    endpoints: [headerUpstream.url],
    upstreamAuth: headerAuth,
  });
  await created('/adapters', {
    name: 'fed-bearer',
    endpoints: [fedBearerUpstream.url],
    federate: true,
    upstreamAuth: bearerAuth,
  });
  await created('/adapters', {
    name: 'fed-header',
    endpoints: [fedHeaderUpstream.url],
    federate: true,
    upstreamAuth: headerAuth,
  });
  await created('/adapters', {
    name: 'fed-late',
    endpoints: [lateUpstream.url],
    federate: true,
    upstreamAuth: { type: 'bearer', secret: 'late-key' },
  });
  await created('/adapters', {
    name: 'oauth-up',
    endpoints: [oauthUpstream.url],
    upstreamAuth: {
      type: 'oauth-client-credentials',
      tokenUrl: `${tokenServer.url}/oauth/token`,
      clientId: 'gateway',
      clientSecret: 'oauth-client',
      scopes: ['mcp:read', 'mcp:call'],
    },
  });
  await created('/adapters', {
    name: 'fed-oauth',
    endpoints: [fedOauthUpstream.url],
    federate: true,
    upstreamAuth: {
      type: 'oauth-client-credentials',
      tokenUrl: `${tokenServer.url}/oauth/token`,
      clientId: 'gateway',
      clientSecret: 'oauth-client',
      scopes: ['mcp:read', 'mcp:call'],
    },
  });
  await created('/adapters', { name: 'bare', endpoints: [bearerUpstream.url] });
  await created('/adapters', {
    name: 'orphan',
    endpoints: [bearerUpstream.url],
    upstreamAuth: { type: 'bearer', secret: 'doomed' },
  });
  const tool = (name: string, secret: string) => ({
    name,
    endpoints: [`${toolServer.url}/score`],
    toolDefinition: { tool: { name, description: 'Scores', inputSchema: { type: 'object' } } },
    upstreamAuth: { type: 'bearer', secret },
  });
  await created('/tools', tool('scorer', 'tool-key'));
  await created('/tools', tool('orphan-tool', 'doomed'));
  await created('/tools', {
    ...tool('oauth-tool', 'unused'),
    upstreamAuth: {
      type: 'oauth-client-credentials',
      tokenUrl: `${tokenServer.url}/oauth/token`,
      clientId: 'gateway',
      clientSecret: 'oauth-client',
      scopes: ['mcp:read', 'mcp:call'],
    },
  });
  // A secret still referenced goes only by force (the reference check, once merged, refuses it otherwise).
  expect((await send('/secrets/doomed?force=true', { method: 'DELETE' })).status).toBe(204);
}, 120_000);

afterAll(async () => {
  await gateway?.stop('SIGKILL');
  await Promise.all(
    [
      bearerUpstream,
      headerUpstream,
      fedBearerUpstream,
      fedHeaderUpstream,
      lateUpstream,
      oauthUpstream,
      fedOauthUpstream,
      tokenServer,
      toolServer,
    ].map((s) => s?.close()),
  );
  rmSync(dir, { recursive: true, force: true });
});

describe('the data plane', () => {
  it.each([
    ['SDK 1.x (2025-11-25)', 'bearer-up', connectLegacyClient],
    ['SDK 1.x (2025-11-25)', 'header-up', connectLegacyClient],
    ['SDK 2.x (2026-07-28)', 'header-up', connectModernClient],
  ] as const)(
    '%s client through %s succeeds with the stored secret, and its own credentials never reach the upstream',
    async (_client, adapter, connect) => {
      const upstream = adapter === 'bearer-up' ? bearerUpstream : headerUpstream;
      const before = upstream.requests.length;
      const client: TestMcpClient = await connect(`${gateway.url}/adapters/${adapter}/mcp`, {
        headers: FORGED,
      });
      try {
        expect(textOf(await client.call('echo', { text: 'hello' }))).toBe('hello');
      } finally {
        await client.close();
      }
      const seen = mcpRequestsSince(upstream, before);
      expect(seen.length).toBeGreaterThan(0);
      for (const headers of seen) {
        if (adapter === 'bearer-up') {
          expect(headers.authorization).toBe(`Bearer ${BEARER_FIRST}`);
        } else {
          expect(headers['x-api-key']).toBe(API_KEY);
          expect(headers.authorization).toBeUndefined();
        }
      }
    },
  );

  it('oauth-client-credentials: SDK 1.x and 2.x clients get through with one token from the token endpoint', async () => {
    for (const connect of [connectLegacyClient, connectModernClient]) {
      const client = await connect(`${gateway.url}/adapters/oauth-up/mcp`, { headers: FORGED });
      try {
        expect(textOf(await client.call('echo', { text: 'oauth' }))).toBe('oauth');
      } finally {
        await client.close();
      }
    }
    // One token for every request of both clients: cached until shortly before its hour is up.
    expect(tokenRequests).toHaveLength(1);
    expect(new URLSearchParams(tokenRequests[0]!.body).get('scope')).toBe('mcp:read mcp:call');
    const seen = mcpRequestsSince(oauthUpstream, 0).map((h) => h.authorization);
    expect(seen.length).toBeGreaterThan(2);
    expect(new Set(seen)).toEqual(new Set([`Bearer ${issuedTokens[0]}`]));
  });

  it('without upstreamAuth the protected upstream refuses (its 401 reaches the caller as 502), and the caller’s token is not passed on', async () => {
    const before = bearerUpstream.requests.length;
    const res = await initialize('bare', { authorization: `Bearer ${BEARER_FIRST}` });
    expect(res.status).toBe(502);
    expect(await res.text()).toContain('invalid_token');
    expect(mcpRequestsSince(bearerUpstream, before).map((h) => h.authorization)).toEqual([undefined]);
    await expect(connectLegacyClient(`${gateway.url}/adapters/bare/mcp`)).rejects.toThrow();
  });

  it('a caller can neither override nor read the credential: the upstream gets exactly one value, the answer none', async () => {
    const before = headerUpstream.requests.length;
    const res = await initialize('header-up', { ...FORGED, 'X-API-KEY': 'shouted-forgery' });
    expect(res.status).toBe(200);
    const body = await res.text();
    const seen = mcpRequestsSince(headerUpstream, before);
    expect(seen.map((h) => h['x-api-key'])).toEqual([API_KEY]);
    expect(seen.map((h) => h.authorization)).toEqual([undefined]);
    const answer = `${JSON.stringify([...res.headers])}${body}`;
    for (const value of SECRET_VALUES) expect(answer).not.toContain(value);
  });

  it('a rotated secret is used on the next request, inside a session opened before', async () => {
    const client = await connectLegacyClient(`${gateway.url}/adapters/bearer-up/mcp`);
    try {
      expect(textOf(await client.call('echo', { text: 'before' }))).toBe('before');
      const rotated = await postJson('/secrets/bearer-key', { value: BEARER_SECOND }, 'PUT');
      expect(rotated.status).toBe(200);
      acceptedBearer = BEARER_SECOND;
      const before = bearerUpstream.requests.length;
      expect(textOf(await client.call('echo', { text: 'after' }))).toBe('after');
      expect(mcpRequestsSince(bearerUpstream, before).map((h) => h.authorization)).toEqual([
        `Bearer ${BEARER_SECOND}`,
      ]);
    } finally {
      await client.close();
    }
  });

  it('a referenced secret that does not exist: 502 naming it, logged without any value, nothing sent', async () => {
    const before = bearerUpstream.requests.length;
    const res = await initialize('orphan');
    expect(res.status).toBe(502);
    const { error } = (await res.json()) as { error: { message: string } };
    expect(error.message).toContain("secret 'doomed'");
    expect(error.message).toContain("Adapter 'orphan'");
    expect(mcpRequestsSince(bearerUpstream, before)).toEqual([]);
    const line = await logLine((l) => l.msg === 'upstream credential unavailable' && l.adapter === 'orphan');
    expect(line).toMatchObject({ secretName: 'doomed', problem: 'missing', level: 40 });
  });
});

describe('the tool router', () => {
  it.each([
    ['SDK 1.x (2025-11-25)', connectLegacyClient],
    ['SDK 2.x (2026-07-28)', connectModernClient],
  ] as const)(
    '%s client: federated tools of both adapters and the HTTP tool are listed and called with their credentials',
    async (_client, connect) => {
      const client = await connect(`${gateway.url}/mcp`, { headers: FORGED });
      try {
        const { names } = await client.listAll();
        expect(names).toEqual(expect.arrayContaining(['fed-bearer__echo', 'fed-header__echo', 'scorer']));
        const bearerBefore = fedBearerUpstream.requests.length;
        const headerBefore = fedHeaderUpstream.requests.length;
        const toolBefore = toolRequests.length;
        expect(textOf(await client.call('fed-bearer__echo', { text: 'b' }))).toBe('b');
        expect(textOf(await client.call('fed-header__echo', { text: 'h' }))).toBe('h');
        const scored = await client.call('scorer', {});
        expect(scored.isError).toBeFalsy();
        expect(scored.structuredContent).toEqual({ score: 0.9 });
        const bearerSeen = mcpRequestsSince(fedBearerUpstream, bearerBefore);
        const headerSeen = mcpRequestsSince(fedHeaderUpstream, headerBefore);
        expect(bearerSeen.length).toBeGreaterThan(0);
        expect(headerSeen.length).toBeGreaterThan(0);
        for (const h of bearerSeen) expect(h.authorization).toBe(`Bearer ${acceptedBearer}`);
        for (const h of headerSeen) {
          expect(h['x-api-key']).toBe(API_KEY);
          expect(h.authorization).toBeUndefined();
        }
        expect(toolRequests.slice(toolBefore).map((h) => h.authorization)).toEqual([`Bearer ${TOOL_KEY}`]);
      } finally {
        await client.close();
      }
    },
  );

  it('a rotation reaches the federated adapter through the pooled connection', async () => {
    const client = await connectLegacyClient(`${gateway.url}/mcp`);
    try {
      expect(textOf(await client.call('fed-bearer__echo', { text: 'one' }))).toBe('one');
      const next = acceptedBearer === BEARER_FIRST ? BEARER_SECOND : BEARER_FIRST;
      expect((await postJson('/secrets/bearer-key', { value: next }, 'PUT')).status).toBe(200);
      acceptedBearer = next;
      const before = fedBearerUpstream.requests.length;
      expect(textOf(await client.call('fed-bearer__echo', { text: 'two' }))).toBe('two');
      expect(mcpRequestsSince(fedBearerUpstream, before).map((h) => h.authorization)).toContain(
        `Bearer ${next}`,
      );
    } finally {
      await client.close();
    }
  });

  it('a call refused for a wrong key is a tool error, and once the secret is right the next call connects afresh', async () => {
    const client = await connectLegacyClient(`${gateway.url}/mcp`);
    try {
      // Listed while the key was right; then the secret is rotated to a key the upstream refuses.
      expect((await client.listAll()).names).toContain('fed-late__echo');
      expect((await postJson('/secrets/late-key', { value: LATE_WRONG }, 'PUT')).status).toBe(200);
      const refused = await client.call('fed-late__echo', { text: 'x' });
      expect(refused.isError).toBe(true);
      expect(textOf(refused)).toContain("Adapter 'fed-late'");
      expect((await postJson('/secrets/late-key', { value: LATE_RIGHT }, 'PUT')).status).toBe(200);
      const before = lateUpstream.requests.length;
      expect(textOf(await client.call('fed-late__echo', { text: 'y' }))).toBe('y');
      const seen = mcpRequestsSince(lateUpstream, before).map((h) => h.authorization);
      expect(seen.length).toBeGreaterThan(0);
      expect(new Set(seen)).toEqual(new Set([`Bearer ${LATE_RIGHT}`]));
    } finally {
      await client.close();
    }
  });

  it('an HTTP tool with oauth-client-credentials is called with the token (the same client: no new token request)', async () => {
    const client = await connectModernClient(`${gateway.url}/mcp`);
    try {
      const before = toolRequests.length;
      const tokensBefore = tokenRequests.length;
      const result = await client.call('oauth-tool', {});
      expect(result.isError).toBeFalsy();
      expect(toolRequests.slice(before).map((h) => h.authorization)).toEqual([
        `Bearer ${issuedTokens.at(-1)}`,
      ]);
      expect(tokenRequests.length).toBe(Math.max(tokensBefore, 1));
    } finally {
      await client.close();
    }
  });

  it('a tool whose secret does not exist answers a tool error naming it; nothing reaches the tool server', async () => {
    const client = await connectModernClient(`${gateway.url}/mcp`);
    try {
      const before = toolRequests.length;
      const result = await client.call('orphan-tool', {});
      expect(result.isError).toBe(true);
      expect(textOf(result)).toContain("secret 'doomed'");
      expect(toolRequests.length).toBe(before);
    } finally {
      await client.close();
    }
  });
});

describe('a token the gateway got that the upstream refuses before it expires', () => {
  /** Revokes every token issued so far; the next one the token endpoint issues is accepted. */
  const revokeAll = () => issuedTokens.forEach((t) => revokedTokens.add(t));

  it.each([
    ['SDK 1.x (2025-11-25)', connectLegacyClient],
    ['SDK 2.x (2026-07-28)', connectModernClient],
  ] as const)(
    'the data plane (%s client) gets a new token once and sends the request again: the caller never notices',
    async (_client, connect) => {
      const client = await connect(`${gateway.url}/adapters/oauth-up/mcp`);
      try {
        expect(textOf(await client.call('echo', { text: 'before' }))).toBe('before');
        revokeAll();
        const tokensBefore = tokenRequests.length;
        const before = oauthUpstream.requests.length;
        expect(textOf(await client.call('echo', { text: 'after' }))).toBe('after');
        expect(tokenRequests.length).toBe(tokensBefore + 1);
        const seen = mcpRequestsSince(oauthUpstream, before).map((h) => h.authorization);
        expect(seen).toEqual([`Bearer ${issuedTokens.at(-2)}`, `Bearer ${issuedTokens.at(-1)}`]);
      } finally {
        await client.close();
      }
    },
  );

  it('the tool router renews for a federated adapter and for an HTTP tool alike', async () => {
    const client = await connectModernClient(`${gateway.url}/mcp`);
    try {
      expect(textOf(await client.call('fed-oauth__echo', { text: 'fed' }))).toBe('fed');
      revokeAll();
      expect(textOf(await client.call('fed-oauth__echo', { text: 'fed again' }))).toBe('fed again');
      revokeAll();
      const before = toolRequests.length;
      const scored = await client.call('oauth-tool', {});
      expect(scored.isError).toBeFalsy();
      expect(toolRequests.slice(before).map((h) => h.authorization)).toEqual([
        `Bearer ${issuedTokens.at(-2)}`,
        `Bearer ${issuedTokens.at(-1)}`,
      ]);
    } finally {
      await client.close();
    }
  });

  it('an upstream that refuses every token gets a 502, and costs one token request, not one per call', async () => {
    refuseEveryToken = true;
    try {
      const tokensBefore = tokenRequests.length;
      const first = await initialize('oauth-up');
      expect(first.status).toBe(502);
      // The renewed token, refused too: the upstream's own refusal.
      expect(tokenRequests.length).toBe(tokensBefore + 1);
      const second = await initialize('oauth-up');
      expect(second.status).toBe(502);
      expect(await second.text()).toContain('just replaced a refused one');
      const call = await (await connectModernClient(`${gateway.url}/mcp`)).call('oauth-tool', {});
      expect(call.isError).toBe(true);
      expect(tokenRequests.length).toBe(tokensBefore + 1);
    } finally {
      refuseEveryToken = false;
    }
  });
});

describe('where the values are not', () => {
  it('absent from every control-plane answer, the gateway log and the registry file', async () => {
    for (const path of ['/adapters', '/tools', '/secrets']) {
      const res = await send(path);
      expect(res.status).toBe(200);
      for (const item of (await res.json()) as { name: string }[]) {
        await send(`${path}/${item.name}`);
        if (path !== '/secrets') await send(`${path}/${item.name}/status`);
      }
    }
    expect(answers.length).toBeGreaterThan(20);
    // Writers see which secret and which header, never the value.
    const adapter = (await (await send('/adapters/header-up')).json()) as Record<string, unknown>;
    expect(adapter.upstreamAuth).toEqual({ type: 'header', name: 'X-Api-Key', secret: 'api-key' });

    const logs = gateway.logs.map((line) => JSON.stringify(line)).join('\n');
    expect(logs.length).toBeGreaterThan(1000);
    const files = readdirSync(dir).filter((name) => name.startsWith('registry.db'));
    expect(files).toContain('registry.db');
    const database = Buffer.concat(files.map((name) => readFileSync(join(dir, name)))).toString('latin1');
    expect(database).toContain('bearer-key');
    expect(issuedTokens.length).toBeGreaterThan(0);
    for (const value of [...SECRET_VALUES, ...issuedTokens]) {
      for (const answer of answers) expect(answer).not.toContain(value);
      expect(logs).not.toContain(value);
      expect(database).not.toContain(value);
    }
  });
});
