/**
 * `upstreamAuth: {"type":"token-exchange"}` end to end: the real gateway (`main.ts`) in `oidc` mode in front of
 * a real authorization server (oidc-provider with an RFC 8693 grant), which issues the callers' tokens and
 * exchanges them. SDK 1.x and 2.x clients call an SDK upstream that takes only exchanged tokens meant for it
 * (its own URL as audience), through `/adapters/{name}/mcp` and, for an HTTP tool, the tool router. Each caller
 * gets its own exchanged token, reused until shortly before it expires, one exchange for a burst; the caller's
 * own token never reaches an upstream; a refused exchange is a clear error; no token or client secret appears in
 * the registry (SQLite, and Postgres when `TEST_DATABASE_URL` is set), the logs or any answer.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt } from 'jose';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../test/console-oidc.js';
import { startGatewayProcess } from '../../test/gateway-process.js';
import type { GatewayProcess } from '../../test/gateway-process.js';
import { startHttpServer } from '../../test/http-fixture.js';
import type { RunningServer } from '../../test/http-fixture.js';
import { legacyInitializeBody, mcpPostHeaders } from '../../test/legacy-requests.js';
import { connectLegacyClient, connectModernClient } from '../../test/mcp-clients.js';
import { startModernMcpServer } from '../../test/mcp-servers.js';
import type { RunningMcpServer } from '../../test/mcp-servers.js';
import { startOidcAuthorizationServer } from '../../test/oidc-authorization-server.js';
import type { OidcAuthorizationServer } from '../../test/oidc-authorization-server.js';
import { TestDatabases } from '../../test/postgres-databases.js';

const CLIENT_SECRET = 'exchange-CLIENT-SECRET-5b4a39c2';
const TOOL_AUDIENCE = 'urn:example:score-api';
const state = mkdtempSync(join(tmpdir(), 'mcpgw-token-exchange-'));

let as: OidcAuthorizationServer;
let gateway: GatewayProcess;
let upstream: RunningMcpServer;
let toolServer: RunningServer;
const toolRequests: IncomingHttpHeaders[] = [];
/** Every caller token minted, for the leak checks. */
const callerTokens: string[] = [];
/** Every control-plane and MCP answer read, as text, for the leak check. */
const answers: string[] = [];

/** Whether `authorization` carries a token the authorization server issued by exchange, meant for `audience`. */
/** Exchanged tokens the upstreams refuse from now on although they have not expired (revoked, say). */
const revoked = new Set<string>();

function exchangedFor(audience: string, authorization: string | undefined): boolean {
  const token = authorization?.startsWith('Bearer ') ? authorization.slice(7) : undefined;
  if (!token || revoked.has(token) || !as.exchanges.some((e) => e.issued === token)) return false;
  const { aud } = decodeJwt(token);
  return Array.isArray(aud) ? aud.includes(audience) : aud === audience;
}

async function mint(account: string): Promise<string> {
  const token = await as.mintAccessToken(account, gatewayUrl);
  callerTokens.push(token);
  return token;
}

let gatewayUrl = '';
let alice = '';
let bob = '';

async function send(path: string, token: string, init: RequestInit = {}): Promise<Response> {
  const res = await fetch(`${gateway.url}${path}`, {
    ...init,
    headers: { ...(init.headers as Record<string, string>), authorization: `Bearer ${token}` },
  });
  answers.push(`${res.status} ${JSON.stringify([...res.headers])} ${await res.clone().text()}`);
  return res;
}

const postJson = (path: string, token: string, body: unknown) =>
  send(path, token, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

/** A raw initialize through the data plane (stateless: each is a request of its own). */
const initialize = (adapter: string, token: string) =>
  send(`/adapters/${adapter}/mcp`, token, {
    method: 'POST',
    headers: mcpPostHeaders(),
    body: legacyInitializeBody(),
  });

const textOf = (result: Record<string, unknown>) =>
  (result.content as { type: string; text: string }[]).map((c) => c.text).join('');

/** The headers the upstream's `whoami` tool saw. */
const whoami = async (client: Awaited<ReturnType<typeof connectLegacyClient>>) =>
  (JSON.parse(textOf(await client.call('whoami', {}))) as { headers: Record<string, string> }).headers;

const exchangesOf = (token: string) => as.exchanges.filter((e) => e.subjectToken === token);

beforeAll(async () => {
  as = await startOidcAuthorizationServer({
    accounts: {
      alice: { roles: ['mcp.admin'] },
      bob: { roles: ['mcp.engineer'] },
      // Bob's roles exactly: only the caller in the tool router's pool key keeps their clients apart.
      carol: { roles: ['mcp.engineer'] },
    },
    tokenExchange: { clientId: 'gateway', clientSecret: CLIENT_SECRET },
    acceptResource: (resource) => resource === TOOL_AUDIENCE || /^http:\/\/127\.0\.0\.1:\d+\//.test(resource),
  });
  // Takes only an exchanged token whose audience is its own URL; anything else (a caller's token) is a 401.
  upstream = await startModernMcpServer({
    name: 'exchanged-upstream',
    requires: { header: 'authorization', accepts: (value) => exchangedFor(upstream.url, value) },
  });
  toolServer = await startHttpServer((req, res) => {
    toolRequests.push(req.headers);
    req.resume();
    if (!exchangedFor(TOOL_AUDIENCE, req.headers.authorization)) {
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"bad token"}');
      return;
    }
    const { sub } = decodeJwt(req.headers.authorization!.slice(7));
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ score: 0.5, sub }));
  });
  const port = await freePort();
  gatewayUrl = `http://127.0.0.1:${port}`;
  gateway = await startGatewayProcess({
    PORT: String(port),
    DATABASE_URL: join(state, 'registry.db'),
    MCP_GATEWAY_AUTH: 'oidc',
    MCP_GATEWAY_OIDC_ISSUER: as.issuer,
    MCP_GATEWAY_LOG_LEVEL: 'debug',
  });
  alice = await mint('alice');
  bob = await mint('bob');
  expect((await postJson('/secrets', alice, { name: 'exchange-client', value: CLIENT_SECRET })).status).toBe(
    201,
  );
  const exchange = { type: 'token-exchange', clientId: 'gateway', clientSecret: 'exchange-client' };
  // No tokenUrl: the gateway's issuer's token endpoint. No audience: the upstream URL as `resource`.
  const created = await postJson('/adapters', alice, {
    name: 'exchanged',
    endpoints: [upstream.url],
    requiredRoles: ['mcp.engineer'],
    upstreamAuth: exchange,
  });
  expect(created.status, await created.clone().text()).toBe(201);
  // The same upstream federated: the tool router lists and calls it with each caller's exchanged token.
  const federated = await postJson('/adapters', alice, {
    name: 'fed',
    endpoints: [upstream.url],
    requiredRoles: ['mcp.engineer'],
    federate: true,
    upstreamAuth: exchange,
  });
  expect(federated.status, await federated.clone().text()).toBe(201);
  const tool = await postJson('/tools', alice, {
    name: 'score',
    endpoints: [`${toolServer.url}/score`],
    requiredRoles: ['mcp.engineer'],
    toolDefinition: { tool: { name: 'score', description: 'Scores', inputSchema: { type: 'object' } } },
    upstreamAuth: {
      ...exchange,
      tokenUrl: `${as.issuer}/token`,
      audience: TOOL_AUDIENCE,
      scopes: ['mcp'],
    },
  });
  expect(tool.status, await tool.clone().text()).toBe(201);
}, 120_000);

afterAll(async () => {
  await gateway?.stop();
  await upstream?.close();
  await toolServer?.close();
  await as?.close();
  rmSync(state, { recursive: true, force: true });
});

describe('the data plane', () => {
  it('each caller reaches the upstream with a token exchanged for it, never with its own', async () => {
    const forAlice = await connectLegacyClient(`${gateway.url}/adapters/exchanged/mcp`, {
      headers: { authorization: `Bearer ${alice}` },
    });
    const forBob = await connectModernClient(`${gateway.url}/adapters/exchanged/mcp`, {
      headers: { authorization: `Bearer ${bob}` },
    });
    try {
      const seenByAlice = await whoami(forAlice);
      const seenByBob = await whoami(forBob);
      for (const [seen, account, token] of [
        [seenByAlice, 'alice', alice],
        [seenByBob, 'bob', bob],
      ] as const) {
        expect(seen['x-mcp-userid']).toBe(account);
        expect(exchangedFor(upstream.url, seen.authorization)).toBe(true);
        expect(seen.authorization).not.toContain(token);
        expect(decodeJwt(seen.authorization!.slice(7)).sub).toBe(account);
      }
      expect(seenByAlice.authorization).not.toBe(seenByBob.authorization);
      // The request the authorization server got: the caller's token as subject, the upstream URL as resource.
      const [exchange] = exchangesOf(alice);
      expect(exchange).toMatchObject({
        subjectTokenType: 'urn:ietf:params:oauth:token-type:access_token',
        resource: upstream.url,
        audience: undefined,
      });
      // Reused: more calls, no more exchanges.
      expect(textOf(await forAlice.call('echo', { text: 'again' }))).toBe('again');
      expect(textOf(await forBob.call('echo', { text: 'again' }))).toBe('again');
      expect(exchangesOf(alice)).toHaveLength(1);
      expect(exchangesOf(bob)).toHaveLength(1);
      // No request the upstream got carried a caller's own token.
      for (const headers of upstream.requests) {
        for (const token of callerTokens) expect(JSON.stringify(headers)).not.toContain(token);
      }
    } finally {
      await forAlice.close();
      await forBob.close();
    }
  });

  it('concurrent requests of one caller share one exchange', async () => {
    const fresh = await mint('bob');
    const answered = await Promise.all(Array.from({ length: 8 }, () => initialize('exchanged', fresh)));
    expect(answered.map((r) => r.status)).toEqual(Array(8).fill(200));
    expect(exchangesOf(fresh)).toHaveLength(1);
  });

  it('a refused exchange is a clear JSON-RPC error naming the authorization server, and is logged without tokens', async () => {
    const fresh = await mint('alice');
    as.refuseExchanges('the account is disabled');
    try {
      const before = upstream.requests.length;
      const res = await initialize('exchanged', fresh);
      expect(res.status).toBe(502);
      const body = (await res.json()) as { error: { code: number; message: string } };
      expect(body.error.message).toContain("Adapter 'exchanged' could not exchange your token");
      expect(body.error.message).toContain('invalid_grant');
      expect(body.error.message).toContain('the account is disabled');
      expect(body.error.message).not.toContain(fresh);
      expect(upstream.requests.length).toBe(before);
      await expect
        .poll(() =>
          gateway.logs.some((l) => l.msg === 'upstream credential unavailable' && l.problem === 'token'),
        )
        .toBe(true);
    } finally {
      as.refuseExchanges(undefined);
    }
    // Not remembered: the next request exchanges again.
    expect((await initialize('exchanged', fresh)).status).toBe(200);
  });
});

describe('an exchanged token the upstream refuses before it expires', () => {
  it('is exchanged anew once and the request sent again, on the data plane and through the tool router', async () => {
    const fresh = await mint('bob');
    const direct = await connectModernClient(`${gateway.url}/adapters/exchanged/mcp`, {
      headers: { authorization: `Bearer ${fresh}` },
    });
    const routed = await connectModernClient(`${gateway.url}/mcp`, {
      headers: { authorization: `Bearer ${fresh}` },
    });
    try {
      expect(textOf(await direct.call('echo', { text: 'first' }))).toBe('first');
      expect(textOf(await routed.call('fed__echo', { text: 'first' }))).toBe('first');
      const exchanges = exchangesOf(fresh).length;
      for (const e of exchangesOf(fresh)) revoked.add(e.issued);
      expect(textOf(await direct.call('echo', { text: 'after' }))).toBe('after');
      expect(textOf(await routed.call('fed__echo', { text: 'after' }))).toBe('after');
      // One new exchange (both paths share the caller token's cache), and the caller's own token still never sent.
      expect(exchangesOf(fresh)).toHaveLength(exchanges + 1);
      for (const headers of upstream.requests) expect(JSON.stringify(headers)).not.toContain(fresh);
    } finally {
      await direct.close();
      await routed.close();
    }
  });
});

describe('the tool router', () => {
  it.each([
    ['SDK 1.x (2025-11-25)', connectLegacyClient],
    ['SDK 2.x (2026-07-28)', connectModernClient],
  ] as const)('%s client: the HTTP tool gets a token exchanged for its audience', async (_name, connect) => {
    const token = await mint('bob');
    const client = await connect(`${gateway.url}/mcp`, { headers: { authorization: `Bearer ${token}` } });
    try {
      const before = toolRequests.length;
      const scored = await client.call('score', {});
      expect(scored.isError).toBeFalsy();
      expect(scored.structuredContent).toEqual({ score: 0.5, sub: 'bob' });
      const seen = toolRequests.slice(before);
      expect(seen).toHaveLength(1);
      expect(exchangedFor(TOOL_AUDIENCE, seen[0]!.authorization)).toBe(true);
      expect(seen[0]!.authorization).not.toContain(token);
      // (Listing `/mcp` also exchanged the token once for the federated adapter, with its own resource.)
      expect(exchangesOf(token).filter((e) => e.resource === undefined)).toMatchObject([
        { audience: TOOL_AUDIENCE, resource: undefined, scope: 'mcp' },
      ]);
      // A refused exchange is the tool's error result, naming the authorization server's answer.
      as.refuseExchanges('no longer allowed');
      try {
        const refused = await client.call('score', {}).catch((err: Error) => ({ thrown: err.message }));
        // Still cached for this caller: the call goes through without an exchange.
        expect(refused).toMatchObject({ structuredContent: { sub: 'bob' } });
        const other = await connect(`${gateway.url}/mcp`, {
          headers: { authorization: `Bearer ${await mint('bob')}` },
        });
        try {
          const failed = await other.call('score', {});
          expect(failed.isError).toBe(true);
          expect(textOf(failed)).toContain("Tool 'score' could not exchange your token");
          expect(textOf(failed)).toContain('no longer allowed');
        } finally {
          await other.close();
        }
      } finally {
        as.refuseExchanges(undefined);
      }
    } finally {
      await client.close();
    }
  });
});

describe('the tool router, federated', () => {
  type Client = Awaited<ReturnType<typeof connectLegacyClient>>;
  const fedTools = async (client: Client) =>
    (await client.listAll()).names.filter((name) => name.startsWith('fed__')).sort();
  /** The headers the upstream's `whoami` saw for a call through the router (it echoes the exchanged token). */
  const fedWhoami = async (client: Client) => {
    const result = await client.call('fed__whoami', {});
    expect(result.isError, JSON.stringify(result)).toBeFalsy();
    return (JSON.parse(textOf(result)) as { headers: Record<string, string> }).headers;
  };
  /** The token issued in exchange for `token` for the upstream (exactly one exchange of it for that). */
  const exchangedOf = (token: string) => {
    const served = exchangesOf(token).filter((e) => e.resource === upstream.url);
    expect(served).toHaveLength(1);
    return `Bearer ${served[0]!.issued}`;
  };

  it.each([
    ['SDK 1.x (2025-11-25)', connectLegacyClient],
    ['SDK 2.x (2026-07-28)', connectModernClient],
  ] as const)(
    '%s clients: each caller lists and calls with a token exchanged from their own, one exchange reused',
    async (_name, connect) => {
      const callers = [
        ['alice', await mint('alice')],
        ['bob', await mint('bob')],
        ['carol', await mint('carol')],
      ] as const;
      const clients: Client[] = [];
      try {
        for (const [, token] of callers) {
          clients.push(
            await connect(`${gateway.url}/mcp`, { headers: { authorization: `Bearer ${token}` } }),
          );
        }
        const seen: Record<string, string>[] = [];
        for (const [index, [account, token]] of callers.entries()) {
          const client = clients[index]!;
          // Listed to each caller with their own exchanged token (the router's own listing has none).
          expect(await fedTools(client)).toEqual(expect.arrayContaining(['fed__echo', 'fed__whoami']));
          const headers = await fedWhoami(client);
          seen.push(headers);
          expect(headers['x-mcp-userid']).toBe(account);
          expect(exchangedFor(upstream.url, headers.authorization)).toBe(true);
          expect(decodeJwt(headers.authorization!.slice(7)).sub).toBe(account);
          expect(headers.authorization).toBe(exchangedOf(token));
          expect(headers.authorization).not.toContain(token);
          expect(exchangesOf(token)[0]).toMatchObject({ resource: upstream.url, audience: undefined });
        }
        expect(new Set(seen.map((h) => h.authorization)).size).toBe(callers.length);
        // More calls and listings, interleaved: each still with its own exchange, and no exchange more.
        for (const [index, [account, token]] of [...callers.entries()].reverse()) {
          const client = clients[index]!;
          const echoed = await client.call('fed__echo', { text: `again ${account}` });
          answers.push(JSON.stringify(echoed));
          expect(textOf(echoed)).toBe(`again ${account}`);
          expect((await fedWhoami(client)).authorization).toBe(exchangedOf(token));
          expect(await fedTools(client)).toContain('fed__whoami');
          expect(exchangesOf(token).filter((e) => e.resource === upstream.url)).toHaveLength(1);
        }
        // A new token of the same caller: its own exchange, never the previous token's pooled client.
        const again = await mint('bob');
        const bobAgain = await connect(`${gateway.url}/mcp`, {
          headers: { authorization: `Bearer ${again}` },
        });
        try {
          const headers = await fedWhoami(bobAgain);
          expect(headers.authorization).toBe(exchangedOf(again));
          expect(decodeJwt(headers.authorization!.slice(7)).sub).toBe('bob');
        } finally {
          await bobAgain.close();
        }
        for (const headers of upstream.requests) {
          for (const token of callerTokens) expect(JSON.stringify(headers)).not.toContain(token);
        }
      } finally {
        await Promise.all(clients.map((c) => c.close()));
      }
    },
  );

  it.each([
    ['SDK 1.x (2025-11-25)', connectLegacyClient],
    ['SDK 2.x (2026-07-28)', connectModernClient],
  ] as const)(
    '%s client: a refused exchange lists nothing of it, and a call is a tool error',
    async (_n, connect) => {
      const token = await mint('bob');
      as.refuseExchanges('bob may not reach fed');
      try {
        const before = upstream.requests.length;
        const client = await connect(`${gateway.url}/mcp`, { headers: { authorization: `Bearer ${token}` } });
        try {
          expect(await fedTools(client)).toEqual([]);
          const result = await client.call('fed__whoami', {});
          answers.push(JSON.stringify(result));
          expect(result.isError).toBe(true);
          expect(textOf(result)).toContain("Adapter 'fed' could not exchange your token");
          expect(textOf(result)).toContain('bob may not reach fed');
          expect(textOf(result)).not.toContain(token);
          expect(textOf(result)).not.toContain(CLIENT_SECRET);
        } finally {
          await client.close();
        }
        expect(upstream.requests.length).toBe(before);
      } finally {
        as.refuseExchanges(undefined);
      }
      // Not remembered: the same token is exchanged once the authorization server agrees again.
      const client = await connect(`${gateway.url}/mcp`, { headers: { authorization: `Bearer ${token}` } });
      try {
        expect(await fedTools(client)).toContain('fed__whoami');
        expect((await fedWhoami(client)).authorization).toBe(exchangedOf(token));
      } finally {
        await client.close();
      }
    },
  );

  it('the adapter is in no shared list: its status says it is listed per caller', async () => {
    const status = (await (await send('/adapters/fed/status', alice)).json()) as Record<string, unknown>;
    expect(JSON.stringify(status)).toContain('per-caller');
  });
});

describe('the control plane', () => {
  it('refuses token-exchange where it cannot work, naming the field', async () => {
    const base = { clientId: 'gateway', clientSecret: 'exchange-client', type: 'token-exchange' };
    const cases: [Record<string, unknown>, string][] = [
      [
        { name: 'x1', endpoints: [upstream.url], transport: 'sse', federate: true, upstreamAuth: base },
        'upstreamAuth.type',
      ],
      [{ name: 'x2', imageName: 'a/b', imageVersion: '1', upstreamAuth: base }, 'upstreamAuth.audience'],
      [
        {
          name: 'x3',
          endpoints: [upstream.url],
          upstreamAuth: { ...base, tokenUrl: 'http://169.254.169.254/t' },
        },
        'upstreamAuth.tokenUrl',
      ],
      [
        { name: 'x4', endpoints: [upstream.url], upstreamAuth: { ...base, subjectTokenType: 'id_token' } },
        'upstreamAuth.subjectTokenType',
      ],
    ];
    for (const [body, field] of cases) {
      const res = await postJson('/adapters', alice, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(JSON.stringify(await res.json())).toContain(field);
    }
  });

  it('a reader sees only the type; no token or client secret is in an answer, the logs or the registry', async () => {
    const asBob = (await (await send('/adapters/exchanged', bob)).json()) as Record<string, unknown>;
    expect(asBob.upstreamAuth).toEqual({ type: 'token-exchange' });
    const asAlice = (await (await send('/adapters/exchanged', alice)).json()) as Record<string, unknown>;
    expect(asAlice.upstreamAuth).toEqual({
      type: 'token-exchange',
      clientId: 'gateway',
      clientSecret: 'exchange-client',
    });
    for (const path of ['/adapters/exchanged/status', '/tools/score', '/tools/score/status', '/secrets']) {
      await send(path, alice);
    }
    const issued = as.exchanges.map((e) => e.issued);
    expect(issued.length).toBeGreaterThan(3);
    const logs = gateway.logs.map((line) => JSON.stringify(line)).join('\n');
    expect(logs).toContain('upstream credential unavailable');
    const files = readdirSync(state).filter((name) => name.startsWith('registry.db'));
    const database = Buffer.concat(files.map((name) => readFileSync(join(state, name)))).toString('latin1');
    expect(database).toContain('exchange-client');
    for (const value of [CLIENT_SECRET, ...callerTokens, ...issued]) {
      for (const answer of answers) expect(answer).not.toContain(value);
      expect(logs).not.toContain(value);
      expect(database).not.toContain(value);
    }
  });
});

describe.skipIf(!process.env.TEST_DATABASE_URL)('on Postgres', () => {
  const databases = new TestDatabases(process.env.TEST_DATABASE_URL ?? '');
  let onPostgres: GatewayProcess;
  let url = '';
  afterAll(async () => {
    await onPostgres?.stop();
    await databases.dropAll();
  });

  it('exchanges through the data plane, and no token or client secret is in any table', async () => {
    url = await databases.create();
    const port = await freePort();
    onPostgres = await startGatewayProcess({
      PORT: String(port),
      DATABASE_URL: url,
      MCP_GATEWAY_SECRET: 'token-exchange-e2e-gateway-secret-0123456789',
      MCP_GATEWAY_AUTH: 'oidc',
      MCP_GATEWAY_OIDC_ISSUER: as.issuer,
      MCP_GATEWAY_LOG_LEVEL: 'debug',
    });
    const base = `http://127.0.0.1:${port}`;
    const admin = await as.mintAccessToken('alice', base);
    callerTokens.push(admin);
    const post = (path: string, body: unknown) =>
      fetch(`${base}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    expect((await post('/secrets', { name: 'exchange-client', value: CLIENT_SECRET })).status).toBe(201);
    const created = await post('/adapters', {
      name: 'exchanged',
      endpoints: [upstream.url],
      upstreamAuth: { type: 'token-exchange', clientId: 'gateway', clientSecret: 'exchange-client' },
    });
    expect(created.status, await created.clone().text()).toBe(201);
    const client = await connectLegacyClient(`${base}/adapters/exchanged/mcp`, {
      headers: { authorization: `Bearer ${admin}` },
    });
    try {
      expect(exchangedFor(upstream.url, (await whoami(client)).authorization)).toBe(true);
    } finally {
      await client.close();
    }
    const sql = postgres(url, { max: 1, onnotice: () => {} });
    let dump = '';
    try {
      const tables = await sql<{ table_name: string }[]>`
        select table_name from information_schema.tables where table_schema = 'public'`;
      expect(tables.length).toBeGreaterThan(3);
      for (const { table_name } of tables) {
        dump += JSON.stringify(await sql.unsafe(`select * from "${table_name}"`));
      }
    } finally {
      await sql.end({ timeout: 5 });
    }
    expect(dump).toContain('exchange-client');
    const logs = onPostgres.logs.map((line) => JSON.stringify(line)).join('\n');
    for (const value of [CLIENT_SECRET, ...callerTokens, ...as.exchanges.map((e) => e.issued)]) {
      expect(dump).not.toContain(value);
      expect(logs).not.toContain(value);
    }
  }, 120_000);
});
