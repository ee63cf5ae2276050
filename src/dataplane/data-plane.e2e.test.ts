/**
 * The data plane with real MCP peers: SDK 1.x stateful servers as three replicas, SDK 2.x servers for
 * 2026-07-28, and both SDK client lines, all through `/adapters/{name}/mcp` on a real socket.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import {
  StreamableHTTPClientTransport,
  StreamableHTTPError,
} from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CallToolResultSchema, ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import {
  Client as ClientV2,
  StreamableHTTPClientTransport as TransportV2,
} from '@modelcontextprotocol/client';
import { request as httpRequest } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DROPPED_REQUEST_HEADERS } from '../core/index.js';
import { legacyInitializeBody, mcpPostHeaders } from '../../test/legacy-requests.js';
import { startLegacyMcpServer, startModernMcpServer } from '../../test/mcp-servers.js';
import type { RunningMcpServer } from '../../test/mcp-servers.js';
import { identifyingMiddleware } from '../auth/index.js';
import { startTestGateway } from '../../test/test-gateway.js';
import type { TestGateway } from '../../test/test-gateway.js';

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

async function connect(url: string, name = 'test-client') {
  const client = new Client({ name, version: '1.0.0' }, { capabilities: { elicitation: {} } });
  const transport = new StreamableHTTPClientTransport(new URL(url));
  await client.connect(transport);
  cleanups.push(() => client.close());
  return { client, transport };
}

const textOf = (result: unknown) => (result as { content: { text: string }[] }).content[0]?.text ?? '';
const whoami = async (client: Client) =>
  JSON.parse(textOf(await client.callTool({ name: 'whoami', arguments: {} }))) as {
    replica: string;
    headers: Record<string, string>;
  };

describe.each([
  ['SSE responses', false],
  ['JSON responses', true],
])('legacy sessions through the gateway (%s)', (_mode, jsonResponse) => {
  it('initializes, lists, calls, reports progress and relays an elicitation, on one replica', async () => {
    const servers = await replicas(3, jsonResponse);
    const g = await gateway();
    await g.registerRemoteAdapter(
      'legacy',
      servers.map((s) => s.url),
    );
    const { client, transport } = await connect(`${g.url}/adapters/legacy/mcp`);

    expect(transport.sessionId).toMatch(/^v2\.[A-Za-z0-9_-]+$/);
    const tools = await client.listTools();
    expect(tools.tools.map((t) => t.name).sort()).toEqual([
      'ask',
      'broadcast',
      'count',
      'echo',
      'slow',
      'whoami',
    ]);
    expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'héllo' } }))).toBe('héllo');

    const progress: number[] = [];
    const counted = await client.request(
      { method: 'tools/call', params: { name: 'count', arguments: { n: 4 } } },
      CallToolResultSchema,
      { onprogress: (p) => progress.push(p.progress) },
    );
    expect(textOf(counted)).toBe('counted to 4');
    if (!jsonResponse) expect(progress).toEqual([1, 2, 3, 4]);

    if (!jsonResponse) {
      client.setRequestHandler(ElicitRequestSchema, async () => ({
        action: 'accept',
        content: { colour: 'teal' },
      }));
      expect(textOf(await client.callTool({ name: 'ask', arguments: {} }))).toBe('accept:teal');
    }

    // Every request of the session reached the replica that holds it, and only that one.
    const me = await whoami(client);
    const holder = servers.find((s) => s.name === me.replica)!;
    expect(holder.sessionCount()).toBe(1);
    expect(servers.filter((s) => s !== holder).every((s) => s.requests.length === 0)).toBe(true);
    // The upstream sees its own session id, never the sealed one, and the caller's identity as headers.
    expect(me.headers['mcp-session-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(me.headers['x-mcp-userid']).toBe('dev');
    expect(me.headers.host).toBe(new URL(holder.url).host);
    expect(me.headers['x-forwarded-host']).toBe(new URL(g.url).host);
  });
});

describe('legacy session lifecycle', () => {
  it('never forwards the caller credentials or spoofed identity headers', async () => {
    const [server] = await replicas(1);
    const g = await gateway();
    await g.registerRemoteAdapter('creds', [server!.url]);
    const client = new Client({ name: 'c', version: '1' });
    const transport = new StreamableHTTPClientTransport(new URL(`${g.url}/adapters/creds/mcp`), {
      requestInit: {
        headers: {
          authorization: 'Bearer caller-token',
          cookie: 'sid=1',
          'x-mcp-userid': 'root',
          'x-mcp-roles': 'mcp.admin',
        },
      },
    });
    await client.connect(transport);
    cleanups.push(() => client.close());
    const { headers } = await whoami(client);
    expect(headers.authorization).toBeUndefined();
    expect(headers.cookie).toBeUndefined();
    expect(headers['x-mcp-userid']).toBe('dev');
    expect(headers['x-mcp-roles']).toBe('mcp.admin');
    for (const seen of server!.requests) expect(seen.authorization).toBeUndefined();
  });

  it("drops every header of the gateway's one list, and forwards the rest", async () => {
    const [server] = await replicas(1);
    const g = await gateway();
    await g.registerRemoteAdapter('hygiene', [server!.url]);
    // Framing headers would change how this very request is sent; the session id would make it a lookup.
    const unsendable = new Set([
      'transfer-encoding',
      'content-length',
      'expect',
      'upgrade',
      'connection',
      'host',
    ]);
    const forged: Record<string, string> = { 'x-mcp-tenant-admin': 'forged', 'x-dev-userid': 'forged' };
    for (const name of DROPPED_REQUEST_HEADERS)
      if (!unsendable.has(name) && name !== 'mcp-session-id') forged[name] = `forged-${name}`;
    // A foreign origin is refused outright; the gateway's own passes the check and must still stay behind.
    forged.origin = new URL(g.url).origin;
    const body = legacyInitializeBody({ protocolVersion: '2025-06-18', clientName: 'c' });
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(
        `${g.url}/adapters/hygiene/mcp`,
        {
          method: 'POST',
          headers: { ...forged, 'x-tenant': 'kept', ...mcpPostHeaders() },
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('error', reject);
      req.end(body);
    });
    expect(status).toBe(200);
    const seen = server!.requests.at(-1)!;
    expect(seen['x-tenant']).toBe('kept');
    const leaked = Object.entries(seen).filter(([, value]) => String(value).startsWith('forged'));
    expect(leaked).toEqual([]);
    expect(seen.origin).toBeUndefined();
  });

  it('forwards DELETE, after which the session id gets 404', async () => {
    const servers = await replicas(2);
    const g = await gateway();
    await g.registerRemoteAdapter(
      'del',
      servers.map((s) => s.url),
    );
    const { client, transport } = await connect(`${g.url}/adapters/del/mcp`);
    const sealed = transport.sessionId!;
    await transport.terminateSession();
    expect(servers.reduce((n, s) => n + s.sessionCount(), 0)).toBe(0);
    const res = await fetch(`${g.url}/adapters/del/mcp`, {
      method: 'POST',
      headers: mcpPostHeaders({
        'mcp-session-id': sealed,
        'mcp-protocol-version': '2025-11-25',
      }),
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    expect(res.status).toBe(404);
    void client;
  });

  it('answers 404 when the replica holding the session dies, and the client re-initialises on another', async () => {
    const servers = await replicas(3);
    const g = await gateway();
    await g.registerRemoteAdapter(
      'flaky',
      servers.map((s) => s.url),
    );
    const first = await connect(`${g.url}/adapters/flaky/mcp`);
    const victim = (await whoami(first.client)).replica;
    await servers.find((s) => s.name === victim)!.close();

    const error = await first.client
      .callTool({ name: 'echo', arguments: { text: 'x' } })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StreamableHTTPError);
    expect((error as StreamableHTTPError).code).toBe(404);

    const second = await connect(`${g.url}/adapters/flaky/mcp`);
    const survivor = (await whoami(second.client)).replica;
    expect(survivor).not.toBe(victim);
    expect(textOf(await second.client.callTool({ name: 'echo', arguments: { text: 'again' } }))).toBe(
      'again',
    );
  });

  it("refuses a tampered id, another adapter's id and another user's id with 404", async () => {
    const [server] = await replicas(1);
    const g = await gateway({
      authenticate: identifyingMiddleware((request) => ({
        userId: request.header('x-test-user') ?? 'alice',
        roles: ['mcp.admin'],
      })),
    });
    await g.registerRemoteAdapter('one', [server!.url]);
    await g.registerRemoteAdapter('two', [server!.url]);
    const { transport } = await connect(`${g.url}/adapters/one/mcp`);
    const sealed = transport.sessionId!;
    const call = (adapter: string, id: string, user = 'alice') =>
      fetch(`${g.url}/adapters/${adapter}/mcp`, {
        method: 'POST',
        headers: mcpPostHeaders({
          'mcp-session-id': id,
          'mcp-protocol-version': '2025-11-25',
          'x-test-user': user,
        }),
        body: JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/list' }),
      });
    const ok = await call('one', sealed);
    expect(ok.status).toBe(200);
    await ok.body?.cancel();
    const flipped = sealed.slice(0, 10) + (sealed[10] === 'A' ? 'B' : 'A') + sealed.slice(11);
    for (const res of [
      await call('one', flipped),
      await call('two', sealed),
      await call('one', sealed, 'mallory'),
      await call('one', 'not-a-session'),
    ]) {
      expect(res.status).toBe(404);
      expect(((await res.json()) as { error: { code: number } }).error.code).toBe(-32001);
    }
  });

  it('answers 404 to a session of an adapter that was deleted and created again under the same name', async () => {
    const [server] = await replicas(1);
    const g = await gateway();
    await g.registerRemoteAdapter('again', [server!.url]);
    const { transport } = await connect(`${g.url}/adapters/again/mcp`);
    const sealed = transport.sessionId!;
    const call = () =>
      fetch(`${g.url}/adapters/again/mcp`, {
        method: 'POST',
        headers: mcpPostHeaders({
          'mcp-session-id': sealed,
          'mcp-protocol-version': '2025-11-25',
        }),
        body: JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'tools/list' }),
      });
    const before = await call();
    expect(before.status).toBe(200);
    await before.body?.cancel();

    expect((await fetch(`${g.url}/adapters/again`, { method: 'DELETE' })).status).toBe(204);
    await g.registerRemoteAdapter('again', [server!.url]);
    const requestsBefore = server!.requests.length;
    const after = await call();
    expect(after.status).toBe(404);
    expect(((await after.json()) as { error: { code: number } }).error.code).toBe(-32001);
    // The upstream still holds the session; the gateway refused it without a request upstream.
    expect(server!.sessionCount()).toBe(1);
    expect(server!.requests.length).toBe(requestsBefore);
  });

  it('continues a session created through one gateway instance through another with the same secret', async () => {
    const servers = await replicas(3);
    const a = await gateway();
    const b = await gateway({ store: a.store });
    await a.registerRemoteAdapter(
      'shared',
      servers.map((s) => s.url),
    );
    const viaA = await connect(`${a.url}/adapters/shared/mcp`);
    const replicaA = (await whoami(viaA.client)).replica;

    // The same session id, straight to a call, through the other instance.
    const res = await fetch(`${b.url}/adapters/shared/mcp`, {
      method: 'POST',
      headers: mcpPostHeaders({
        'mcp-session-id': viaA.transport.sessionId!,
        'mcp-protocol-version': '2025-11-25',
      }),
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 9,
        method: 'tools/call',
        params: { name: 'whoami', arguments: {} },
      }),
    });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toContain(`\\"replica\\":\\"${replicaA}\\"`);
  });

  it('resumes a cut server stream with Last-Event-ID on the same replica', async () => {
    const servers = await replicas(3);
    const g = await gateway();
    await g.registerRemoteAdapter(
      'resume',
      servers.map((s) => s.url),
    );
    const { client, transport } = await connect(`${g.url}/adapters/resume/mcp`);
    const headers = {
      accept: 'text/event-stream',
      'mcp-session-id': transport.sessionId!,
      'mcp-protocol-version': '2025-11-25',
    };
    // Our own GET stream (the SDK client's is not needed): read one event, then cut it.
    await transport.close();
    // The SDK client's own GET stream closes asynchronously (client → gateway → upstream); until the upstream
    // has seen that, it refuses a second stream with 409. Up to 5 s: on a loaded CI machine 1 s was not enough.
    let stream = new AbortController();
    let res = await fetch(`${g.url}/adapters/resume/mcp`, { headers, signal: stream.signal });
    for (let i = 0; res.status === 409 && i < 250; i++) {
      await new Promise((r) => setTimeout(r, 20));
      stream = new AbortController();
      res = await fetch(`${g.url}/adapters/resume/mcp`, { headers, signal: stream.signal });
    }
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const reader = res.body!.getReader();
    const call = await fetch(`${g.url}/adapters/resume/mcp`, {
      method: 'POST',
      headers: { ...headers, ...mcpPostHeaders() },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 2,
        method: 'tools/call',
        params: { name: 'broadcast', arguments: { n: 3, ms: 30 } },
      }),
    });
    await call.text();
    let received = '';
    while (!/data: .*message 1/.test(received))
      received += new TextDecoder().decode((await reader.read()).value);
    stream.abort();
    const lastId = /id: (\S+)\n(?:[^\n]*\n)*?data: .*message 1/.exec(received)?.[1];
    expect(lastId).toBeDefined();
    await new Promise((r) => setTimeout(r, 150));

    const resumed = new AbortController();
    const again = await fetch(`${g.url}/adapters/resume/mcp`, {
      headers: { ...headers, 'last-event-id': lastId! },
      signal: resumed.signal,
    });
    expect(again.status).toBe(200);
    const replay = again.body!.getReader();
    let rest = '';
    while (!rest.includes('message 3')) rest += new TextDecoder().decode((await replay.read()).value);
    resumed.abort();
    expect(rest).toContain('message 2');
    expect(rest).not.toContain('message 1"');
    void client;
  });

  it('passes the upstream 400 through for a non-initialize request without a session', async () => {
    const [server] = await replicas(1);
    const g = await gateway();
    await g.registerRemoteAdapter('strict', [server!.url]);
    const res = await fetch(`${g.url}/adapters/strict/mcp`, {
      method: 'POST',
      headers: mcpPostHeaders({
        'mcp-protocol-version': '2025-11-25',
      }),
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    expect(res.status).toBe(400);
  });
});

describe('modern (2026-07-28) through the gateway', () => {
  let modern: RunningMcpServer[];
  beforeAll(async () => {
    modern = await Promise.all([startModernMcpServer({ name: 'm0' }), startModernMcpServer({ name: 'm1' })]);
  });
  afterAll(() => Promise.all(modern.map((s) => s.close())));

  it('serves a 2.x client pinned to 2026-07-28, statelessly, with the mirrored headers reaching the upstream', async () => {
    const g = await gateway();
    await g.registerRemoteAdapter(
      'modern',
      modern.map((s) => s.url),
    );
    const client = new ClientV2({ name: 'v2', version: '2.0.0' }, { versionNegotiation: { mode: 'auto' } });
    await client.connect(new TransportV2(new URL(`${g.url}/adapters/modern/mcp`)));
    cleanups.push(() => client.close());
    const result = await client.callTool({ name: 'whoami', arguments: {} });
    const seen = JSON.parse(textOf(result)) as { headers: Record<string, string> };
    expect(seen.headers['mcp-protocol-version']).toBe('2026-07-28');
    expect(seen.headers['mcp-method']).toBe('tools/call');
    expect(seen.headers['mcp-name']).toBe('whoami');
    expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'modern' } }))).toBe('modern');
  });

  it('serves a 1.x (legacy) client against the same 2.x upstream', async () => {
    const g = await gateway();
    await g.registerRemoteAdapter(
      'modern',
      modern.map((s) => s.url),
    );
    const { client } = await connect(`${g.url}/adapters/modern/mcp`);
    expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'legacy' } }))).toBe('legacy');
  });

  it('lets an auto-negotiating 2.x client fall back to legacy when the upstream speaks only 2025', async () => {
    const [server] = await replicas(1);
    const g = await gateway();
    await g.registerRemoteAdapter('old', [server!.url]);
    const client = new ClientV2({ name: 'v2', version: '2.0.0' }, { versionNegotiation: { mode: 'auto' } });
    await client.connect(new TransportV2(new URL(`${g.url}/adapters/old/mcp`)));
    cleanups.push(() => client.close());
    expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'fell back' } }))).toBe(
      'fell back',
    );
    expect(server!.sessionCount()).toBe(1);
  });

  it('rejects a modern request whose Mcp-Method disagrees with the body (400, -32020)', async () => {
    const g = await gateway();
    await g.registerRemoteAdapter(
      'modern',
      modern.map((s) => s.url),
    );
    const res = await fetch(`${g.url}/adapters/modern/mcp`, {
      method: 'POST',
      headers: mcpPostHeaders({
        'mcp-protocol-version': '2026-07-28',
        'mcp-method': 'tools/list',
        'mcp-name': 'echo',
      }),
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'tools/call',
        params: { name: 'echo', arguments: { text: 'x' } },
      }),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: number } }).error.code).toBe(-32020);
  });
});
