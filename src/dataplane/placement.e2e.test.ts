/**
 * Placement as a user sees it (issue #14 part 1): one caller's legacy sessions spread over every replica of a
 * real SDK 1.x adapter and stay where they started; a session that ended no longer counts.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterEach, describe, expect, it } from 'vitest';
import { legacyInitializeBody, mcpPostHeaders } from '../../test/legacy-requests.js';
import { startLegacyMcpServer, startModernMcpServer } from '../../test/mcp-servers.js';
import { modernToolCallBody, modernToolCallHeaders } from '../../test/modern-requests.js';
import type { RunningMcpServer } from '../../test/mcp-servers.js';
import { devAuth } from '../auth/index.js';
import { createLogger } from '../observability/logger.js';
import { createPrometheusMetrics } from '../observability/prometheus/index.js';
import { eventually } from '../../test/polling.js';
import { STDIO_SERVER, killAllMarked, marker } from '../../test/process-fixtures.js';
import { MARKER_VARIABLE } from '../../test/process-tree.js';
import { startTestGateway } from '../../test/test-gateway.js';
import type { TestGateway } from '../../test/test-gateway.js';
import { seededRandom } from '../../test/seeded-random.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

async function gateway(options: Parameters<typeof startTestGateway>[0] = {}): Promise<TestGateway> {
  const g = await startTestGateway(options);
  cleanups.push(() => g.close());
  return g;
}

async function replicas(n: number, jsonResponse = false): Promise<RunningMcpServer[]> {
  const servers = await Promise.all(
    Array.from({ length: n }, (_, i) => startLegacyMcpServer({ name: `replica-${i}`, jsonResponse })),
  );
  cleanups.push(() => Promise.all(servers.map((s) => s.close())));
  return servers;
}

async function connect(url: string) {
  const client = new Client({ name: 'one-caller', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(url));
  await client.connect(transport);
  cleanups.push(() => client.close());
  return { client, transport };
}

const replicaOf = async (client: Client) => {
  const result = (await client.callTool({ name: 'whoami', arguments: {} })) as {
    content: { text: string }[];
  };
  return (JSON.parse(result.content[0]!.text) as { replica: string }).replica;
};

const LEGACY_HEADERS = mcpPostHeaders({ 'mcp-protocol-version': '2025-11-25' });

/** A legacy `initialize` with no session id, from `caller`: the request that places a new session. */
function postInitialize(url: string, caller: Record<string, string> = {}): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { ...LEGACY_HEADERS, ...caller },
    body: legacyInitializeBody({ id: 0, clientName: 'cli' }),
  });
}

/**
 * A session as a one-shot CLI run opens it: initialize and the initialized notification, and no GET stream, so
 * nothing of it is in flight between requests; only the sessions the gateway counts can spread such sessions.
 */
async function openBareSession(url: string, caller: Record<string, string> = {}) {
  const init = await postInitialize(url, caller);
  expect(init.status).toBe(200);
  await init.text();
  const sessionId = init.headers.get('mcp-session-id')!;
  const headers = { ...LEGACY_HEADERS, ...caller, 'mcp-session-id': sessionId };
  const note = await fetch(url, {
    method: 'POST',
    headers,
    body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }),
  });
  expect(note.status).toBe(202);
  let id = 1;
  return {
    /** The status of a `tools/call` in this session (404 once the session is gone). */
    async status() {
      const res = await fetch(url, {
        method: 'POST',
        headers,
        body: JSON.stringify({ jsonrpc: '2.0', id: id++, method: 'tools/call', params: { name: 'whoami' } }),
      });
      await res.text();
      return res.status;
    },
    async replica() {
      const res = await fetch(url, {
        method: 'POST',
        headers,
        body: JSON.stringify({ jsonrpc: '2.0', id: id++, method: 'tools/call', params: { name: 'whoami' } }),
      });
      const body = (await res.json()) as { result: { content: { text: string }[] } };
      return (JSON.parse(body.result.content[0]!.text) as { replica: string }).replica;
    },
    async end() {
      const res = await fetch(url, { method: 'DELETE', headers });
      expect(res.status).toBe(200);
    },
  };
}

/** The development headers naming a caller (the gateways here run `devAuth`; without them, the default dev user). */
const as = (user: string) => ({ 'x-dev-userid': user, 'x-dev-roles': 'mcp.admin' });
/** A caller with no session of its own: when every replica is full it has nothing to evict, so it gets 503. */
const OTHER_CALLER = as('someone-else');

const tally = (names: readonly string[]) => {
  const out = new Map<string, number>();
  for (const name of names) out.set(name, (out.get(name) ?? 0) + 1);
  return out;
};

describe('legacy session placement', () => {
  it.each([
    ['random keys', undefined],
    // Every fresh key the same: only the sessions this instance counts per replica spread them.
    ['one key for all (bounded load alone)', () => 0.5],
  ])(
    "spreads one caller's 30 sessions over all 3 replicas, none above half, each on its replica for life (%s)",
    async (_label, placementRandom) => {
      const servers = await replicas(3);
      const g = await gateway(placementRandom ? { placementRandom } : {});
      await g.registerRemoteAdapter(
        'spread',
        servers.map((s) => s.url),
      );
      const sessions: { client: Client; replica: string }[] = [];
      for (let i = 0; i < 30; i++) {
        const { client } = await connect(`${g.url}/adapters/spread/mcp`);
        sessions.push({ client, replica: await replicaOf(client) });
      }
      const counts = tally(sessions.map((s) => s.replica));
      expect([...counts.keys()].sort()).toEqual(['replica-0', 'replica-1', 'replica-2']);
      for (const count of counts.values()) expect(count).toBeLessThanOrEqual(15);
      // The upstreams agree: each holds the sessions the gateway says it placed there.
      for (const server of servers) expect(server.sessionCount()).toBe(counts.get(server.name));
      // Repeat calls of every session land on the replica it started on.
      for (const { client, replica } of sessions) {
        expect(await replicaOf(client)).toBe(replica);
        expect(await replicaOf(client)).toBe(replica);
      }
    },
  );

  it.each([
    ['random keys', undefined],
    ['one key for all (bounded load alone)', () => 0.5],
  ])(
    'spreads 30 sessions that hold no stream open between requests the same way (%s)',
    async (_label, placementRandom) => {
      const servers = await replicas(3, true);
      const g = await gateway(placementRandom ? { placementRandom } : {});
      await g.registerRemoteAdapter(
        'bare',
        servers.map((s) => s.url),
      );
      const sessions = [];
      for (let i = 0; i < 30; i++) {
        const session = await openBareSession(`${g.url}/adapters/bare/mcp`);
        sessions.push({ session, replica: await session.replica() });
      }
      const counts = tally(sessions.map((s) => s.replica));
      expect([...counts.keys()].sort()).toEqual(['replica-0', 'replica-1', 'replica-2']);
      for (const count of counts.values()) expect(count).toBeLessThanOrEqual(15);
      for (const { session, replica } of sessions) expect(await session.replica()).toBe(replica);
    },
  );

  it.each(['a DELETE through the gateway', 'an upstream 404 (the upstream forgot it)'])(
    'stops counting sessions that ended by %s, so new sessions take their place',
    async (how) => {
      const servers = await replicas(3, true);
      // One key for every session: where a new session goes depends only on the counts.
      const g = await gateway({ placementRandom: () => 0.5 });
      await g.registerRemoteAdapter(
        'ended',
        servers.map((s) => s.url),
      );
      const url = `${g.url}/adapters/ended/mcp`;
      const opened = [];
      for (let i = 0; i < 12; i++) {
        const session = await openBareSession(url);
        opened.push({ session, replica: await session.replica() });
      }
      // Bounded load with one key fills the first HRW choice to 5 of 12 (then 5 and 2).
      const [busiest, most] = [...tally(opened.map((s) => s.replica))].sort((a, b) => b[1] - a[1])[0]!;
      expect(most).toBe(5);
      const server = servers.find((s) => s.name === busiest)!;
      for (const { session, replica } of opened.filter((s) => s.replica === busiest)) {
        if (how.startsWith('a DELETE')) {
          await session.end();
        } else {
          await session.replica();
          // The upstream's own id, as the gateway sent it: ending it there makes the next call a 404.
          const upstreamId = server.requests.at(-1)!['mcp-session-id'] as string;
          const res = await fetch(server.url, {
            method: 'DELETE',
            headers: { 'mcp-session-id': upstreamId },
          });
          expect(res.status).toBe(200);
          expect(await session.replica().catch(() => 'gone')).toBe('gone');
          void replica;
        }
      }
      expect(server.sessionCount()).toBe(0);
      // Counted as still open, that replica would take one more and then be at its bound (6 of 13).
      for (let i = 0; i < 4; i++) {
        const session = await openBareSession(url);
        expect(await session.replica()).toBe(busiest);
      }
    },
  );
});

describe('session caps (issue #14 part 2)', () => {
  /** A new session of a caller that holds none (the sessions of these tests are the default dev user's). */
  const initialize = (url: string) => postInitialize(url, OTHER_CALLER);

  it('places a session past a full replica, and answers 503 with Retry-After only when every one is full', async () => {
    const servers = await replicas(3, true);
    // One key for every session: its first HRW choice is always the same replica, which fills first.
    const g = await gateway({ authenticate: devAuth(), placementRandom: () => 0.5 });
    await g.registerRemoteAdapter(
      'capped',
      servers.map((s) => s.url),
      { maxSessionsPerReplica: 2 },
    );
    const url = `${g.url}/adapters/capped/mcp`;
    const opened = [];
    for (let i = 0; i < 6; i++) {
      const session = await openBareSession(url);
      opened.push({ session, replica: await session.replica() });
    }
    expect([...tally(opened.map((s) => s.replica)).values()]).toEqual([2, 2, 2]);
    for (const server of servers) expect(server.sessionCount()).toBe(2);

    const refused = await initialize(url);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
    const body = (await refused.json()) as { error: { message: string } };
    expect(body.error.message).toMatch(/Every replica of adapter 'capped' is at its session cap/);
    for (const server of servers) expect(server.sessionCount()).toBe(2);

    // One session ends: its replica has room again, and the next session goes there.
    await opened[0]!.session.end();
    const next = await openBareSession(url);
    expect(await next.replica()).toBe(opened[0]!.replica);
  });

  it('counts open sessions per adapter and replica, and refusals, in the metrics and in status', async () => {
    const servers = await replicas(2, true);
    const metrics = createPrometheusMetrics();
    const g = await gateway({ authenticate: devAuth(), placementRandom: () => 0.5, operations: { metrics } });
    await g.registerRemoteAdapter(
      'metered',
      servers.map((s) => s.url),
      { maxSessionsPerReplica: 1 },
    );
    const url = `${g.url}/adapters/metered/mcp`;
    const first = await openBareSession(url);
    const firstReplica = await first.replica();
    await openBareSession(url);
    expect((await initialize(url)).status).toBe(503);
    const page = async () => (await metrics.render()).body;
    const open = (body: string) =>
      [...body.matchAll(/^mcp_gateway_open_sessions\{adapter="metered",replica="([^"]+)"\} (\d+)$/gm)].map(
        (m) => Number(m[2]),
      );
    let body = await page();
    expect(open(body)).toEqual([1, 1]);
    expect(body).toMatch(/^mcp_gateway_session_refusals_total\{adapter="metered"\} 1$/m);
    const status = async () =>
      (await (await fetch(`${g.url}/adapters/metered/status`)).json()) as {
        replicaStatus: string;
        replicas: { sessions?: number; maxSessions?: number }[];
      };
    const whenFull = await status();
    expect(whenFull.replicaStatus).toBe('Full: every replica is at its session cap (2/2)');
    expect(whenFull.replicas.map((r) => [r.sessions, r.maxSessions])).toEqual([
      [1, 1],
      [1, 1],
    ]);
    await first.end();
    body = await page();
    expect(open(body)).toEqual([1]);
    expect((await status()).replicaStatus).toBe('Degraded: 1/2 replicas at their session cap');
    const next = await openBareSession(url);
    expect(await next.replica()).toBe(firstReplica);
    expect(open(await page())).toEqual([1, 1]);
  });

  it('frees a place when a session has been idle for sessionIdleTimeoutSeconds', async () => {
    const servers = await replicas(1, true);
    let now = Date.now();
    const g = await gateway({ authenticate: devAuth(), placementNow: () => now });
    await g.registerRemoteAdapter('idle', [servers[0]!.url], {
      maxSessionsPerReplica: 1,
      sessionIdleTimeoutSeconds: 10,
    });
    const url = `${g.url}/adapters/idle/mcp`;
    const first = await openBareSession(url);
    await first.replica();
    now += 9_000;
    expect((await initialize(url)).status).toBe(503);
    await first.replica(); // a request: idle time starts again
    now += 9_000;
    expect((await initialize(url)).status).toBe(503);
    now += 2_000;
    const res = await initialize(url);
    expect(res.status).toBe(200);
    expect(res.headers.get('mcp-session-id')).toMatch(/^v2\./);
  });
});

describe("eviction of the caller's own longest-idle session (issue #14 part 2)", () => {
  it("makes room for a caller's new session by ending its own longest-idle one, never another caller's", async () => {
    const servers = await replicas(2, true);
    const metrics = createPrometheusMetrics();
    const lines: Record<string, unknown>[] = [];
    const logger = createLogger({
      level: 'info',
      destination: { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) },
    });
    let now = Date.now();
    const g = await gateway({
      authenticate: devAuth(),
      placementNow: () => now,
      logger,
      operations: { metrics },
    });
    await g.registerRemoteAdapter(
      'evicting',
      servers.map((s) => s.url),
      { maxSessionsPerReplica: 1 },
    );
    const url = `${g.url}/adapters/evicting/mcp`;
    const first = await openBareSession(url, as('alice'));
    const firstReplica = await first.replica();
    now += 5_000;
    const second = await openBareSession(url, as('alice'));
    const secondReplica = await second.replica();
    expect([firstReplica, secondReplica].sort()).toEqual(['replica-0', 'replica-1']);
    now += 5_000;

    // Bob finds every replica full: Alice's sessions are not his to give up.
    const bob = await postInitialize(url, as('bob'));
    expect(bob.status).toBe(503);
    expect(bob.headers.get('retry-after')).toMatch(/^\d+$/);
    await bob.text();
    expect(await first.status()).toBe(200);
    expect(await second.status()).toBe(200);
    now += 5_000;
    expect(await second.status()).toBe(200); // the second is in use again: the first is the longest idle

    // Alice's third session ends her longest-idle one upstream and takes its place.
    const third = await openBareSession(url, as('alice'));
    expect(await third.replica()).toBe(firstReplica);
    for (const server of servers) expect(server.sessionCount()).toBe(1);
    // The evicted session's client hears 404 and, as MCP says, initializes again; the others carry on.
    expect(await first.status()).toBe(404);
    expect(await second.replica()).toBe(secondReplica);
    expect(await third.replica()).toBe(firstReplica);

    const body = (await metrics.render()).body;
    expect(body).toMatch(/^mcp_gateway_session_evictions_total\{adapter="evicting"\} 1$/m);
    expect(body).toMatch(/^mcp_gateway_session_refusals_total\{adapter="evicting"\} 1$/m);
    // One info line says where and how idle (5 s: the first session's last request); no sealed id is written.
    const evictions = lines.filter((l) => String(l.msg).includes('evicted'));
    expect(evictions).toEqual([
      expect.objectContaining({ adapter: 'evicting', replica: expect.any(String), idleSeconds: 5 }),
    ]);
    const logged = JSON.stringify(lines);
    expect(logged).not.toMatch(/v2\.[A-Za-z0-9_-]{20}/);
    // Nor the upstream session id (the SDK server makes UUIDs) in the eviction line.
    expect(JSON.stringify(evictions)).not.toMatch(
      /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/,
    );
  });
});

describe('eviction never takes a session in use', () => {
  it("answers 503 when each of the caller's sessions holds a GET stream open", async () => {
    const servers = await replicas(2);
    const metrics = createPrometheusMetrics();
    const g = await gateway({ authenticate: devAuth(), operations: { metrics } });
    await g.registerRemoteAdapter(
      'streaming',
      servers.map((s) => s.url),
      { maxSessionsPerReplica: 1 },
    );
    const url = `${g.url}/adapters/streaming/mcp`;
    // SDK 1.x clients open a GET stream after initializing and keep it open between requests.
    const clients = [await connect(url), await connect(url)];
    const replicasUsed = await Promise.all(clients.map(({ client }) => replicaOf(client)));
    expect([...replicasUsed].sort()).toEqual(['replica-0', 'replica-1']);
    const openStreams = async () =>
      Number(
        /^mcp_gateway_open_streams\{adapter="streaming"\} (\d+)$/m.exec((await metrics.render()).body)?.[1] ??
          0,
      );
    await eventually(async () => (await openStreams()) >= 2, 'the clients opening their GET streams', 10_000);
    const res = await postInitialize(url);
    expect(res.status).toBe(503);
    await res.text();
    // Both sessions carry on where they were.
    for (const server of servers) expect(server.sessionCount()).toBe(1);
    for (const [i, { client }] of clients.entries()) expect(await replicaOf(client)).toBe(replicasUsed[i]);
  });
});

describe('session caps of a stdio adapter (one process per session)', () => {
  afterEach(() => killAllMarked());

  it('spills to the other replica when the first is full, and refuses only when both are', async () => {
    const g = await gateway({ authenticate: devAuth(), processDeployer: true, placementRandom: () => 0.5 });
    const created = await fetch(`${g.url}/adapters`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...as('ops') },
      body: JSON.stringify({
        name: 'stdio-capped',
        command: process.execPath,
        args: [STDIO_SERVER],
        replicaCount: 2,
        maxSessionsPerReplica: 2,
        environmentVariables: { [MARKER_VARIABLE]: marker() },
      }),
    });
    expect(created.status).toBe(201);
    const status = async () =>
      (await (await fetch(`${g.url}/adapters/stdio-capped/status`, { headers: as('ops') })).json()) as {
        readyReplicas: number;
        replicaStatus: string;
        replicas: { detail?: string; sessions?: number; maxSessions?: number }[];
      };
    await eventually(
      async () => (await status()).readyReplicas >= 2,
      'two ready stdio replicas',
      60_000,
      100,
    );
    const url = `${g.url}/adapters/stdio-capped/mcp`;
    expect((await status()).replicaStatus).toBe('Healthy');
    // Bounded load alone would put the 4th session on the first choice (3 of 4), which the bridge would refuse.
    for (let i = 0; i < 4; i++) {
      if (i === 2) {
        // The first choice took the first two and is full; the other has room: honest, not Healthy.
        const s = await status();
        expect(s.replicaStatus).toBe('Degraded: 1/2 replicas at their session cap');
        expect(s.replicas.map((r) => r.sessions).sort()).toEqual([0, 2]);
      }
      const res = await postInitialize(url, as('ops'));
      expect(res.status).toBe(200);
      await res.text();
    }
    const full = await status();
    expect(full.replicas.map((r) => r.detail?.split(' (')[0])).toEqual(['sessions 2/2', 'sessions 2/2']);
    expect(full.replicas.map((r) => [r.sessions, r.maxSessions])).toEqual([
      [2, 2],
      [2, 2],
    ]);
    expect(full.replicaStatus).toBe('Full: every replica is at its session cap (2/2)');
    const refused = await postInitialize(url, OTHER_CALLER);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(((await refused.json()) as { error: { message: string } }).error.message).toMatch(/Every replica/);

    // The caller of the four sessions evicts its longest-idle one: the DELETE ends its process in the bridge,
    // which then takes the new session (the bridge would answer 503 if the eviction only forgot it).
    const evicting = await postInitialize(url, as('ops'));
    expect(evicting.status).toBe(200);
    await evicting.text();
    const after = await status();
    expect(after.replicas.map((r) => r.detail?.split(' (')[0])).toEqual(['sessions 2/2', 'sessions 2/2']);
  });
});

describe('stateless (2026-07-28) placement by the adapter affinity', () => {
  async function modernReplicas() {
    const servers = await Promise.all([0, 1, 2].map((i) => startModernMcpServer({ name: `m${i}` })));
    cleanups.push(() => Promise.all(servers.map((s) => s.close())));
    return servers;
  }

  /** An adapter of three SDK 2.x replicas, and a call that answers which replica served it. */
  async function adapterWith(affinity: string | undefined) {
    const servers = await modernReplicas();
    const g = await gateway({ placementRandom: seededRandom(affinity?.length ?? 1) });
    await g.registerRemoteAdapter(
      'stateless',
      servers.map((s) => s.url),
      affinity === undefined ? {} : { affinity },
    );
    let id = 0;
    return async (header: string | undefined) => {
      const before = servers.map((s) => s.requests.length);
      const res = await fetch(`${g.url}/adapters/stateless/mcp`, {
        method: 'POST',
        headers: modernToolCallHeaders('echo', header === undefined ? {} : { 'x-conversation-id': header }),
        body: modernToolCallBody('echo', { text: 'hi' }, id++),
      });
      expect(res.status).toBe(200);
      await res.text();
      return servers.find((s, k) => s.requests.length > before[k]!)!.name;
    };
  }

  async function spread(affinity: string | undefined, n: number, header: (i: number) => string | undefined) {
    const call = await adapterWith(affinity);
    const served: string[] = [];
    for (let i = 0; i < n; i++) served.push(await call(header(i)));
    return served;
  }

  it('spreads one caller over every replica by default (none)', async () => {
    const served = await spread(undefined, 30, () => undefined);
    expect(new Set(served).size).toBe(3);
  });

  it('keeps one caller on one replica with principal', async () => {
    const served = await spread('principal', 30, () => undefined);
    expect(new Set(served).size).toBe(1);
  });

  it('keeps one header value on one replica and spreads different values with header:<name>', async () => {
    const same = await spread('header:X-Conversation-Id', 10, () => 'conversation-1');
    expect(new Set(same).size).toBe(1);
    const call = await adapterWith('header:x-conversation-id');
    const many: string[] = [];
    for (let i = 0; i < 30; i++) many.push(await call(`conversation-${i}`));
    expect(new Set(many).size).toBe(3);
    // Each value lands where HRW puts it, the same on every call.
    for (let i = 0; i < 30; i++) expect(await call(`conversation-${i}`)).toBe(many[i]);
  });

  it('places a request without that header as none', async () => {
    const served = await spread('header:x-conversation-id', 30, () => undefined);
    expect(new Set(served).size).toBe(3);
  });
});
