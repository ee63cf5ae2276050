/**
 * `transport: "sse"` adapters end to end: a real 2024-11-05 server (SDK 1.x `SSEServerTransport`) behind the
 * gateway, reached by an SDK 1.x client and an SDK 2.x client through `/adapters/{name}/mcp` as Streamable HTTP
 * sessions — initialize, tools/list, tools/call with progress, server notifications on the GET stream, DELETE
 * closing the upstream SSE stream; a server that announces a message endpoint on another origin is refused
 * (nothing reaches that origin); a dead upstream is a clear error. Run through the Node fast path (the Node
 * outbound) and the Hono route with Fetch.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  CallToolResultSchema,
  ElicitRequestSchema,
  LoggingMessageNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';
import {
  Client as ClientV2,
  StreamableHTTPClientTransport as TransportV2,
} from '@modelcontextprotocol/client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { closedPort, startHttpServer } from '../../../test/http-fixture.js';
import type { RunningServer } from '../../../test/http-fixture.js';
import { legacyInitializeBody, mcpPostHeaders } from '../../../test/legacy-requests.js';
import { startSseMcpServer } from '../../../test/sse-mcp-server.js';
import type { RunningSseServer, SseMcpServerOptions } from '../../../test/sse-mcp-server.js';
import { startTestGateway } from '../../../test/test-gateway.js';
import type { TestGateway } from '../../../test/test-gateway.js';
import { createLogger } from '../../observability/index.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

const textOf = (result: unknown) => (result as { content: { text: string }[] }).content[0]?.text ?? '';

const CALLER_TOKEN = 'caller-token-never-upstream-5f1e';

const INITIALIZE = legacyInitializeBody({ protocolVersion: '2025-06-18' });

async function sseServer(options: SseMcpServerOptions = {}): Promise<RunningSseServer> {
  const s = await startSseMcpServer(options);
  cleanups.push(() => s.close());
  return s;
}

describe.each(['node', 'fetch'] as const)('sse upstreams (%s)', (io) => {
  const logs: Record<string, unknown>[] = [];

  /** The data plane's clock: sessions idle out when a test moves it on. */
  let clock = Date.now();

  async function gateway(): Promise<TestGateway> {
    const logger = createLogger({
      level: 'info',
      destination: { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) },
    });
    clock = Date.now();
    const g = await startTestGateway({ io, logger, idleTimeoutMs: 5000, placementNow: () => clock });
    cleanups.push(() => g.close());
    return g;
  }

  async function legacyClient(url: string) {
    const client = new Client({ name: 'v1', version: '1.0.0' });
    const transport = new StreamableHTTPClientTransport(new URL(url), {
      requestInit: { headers: { authorization: `Bearer ${CALLER_TOKEN}` } },
    });
    await client.connect(transport);
    cleanups.push(() => client.close());
    return { client, transport };
  }

  it('serves an SDK 1.x client: list, call with progress, server notifications, DELETE closes upstream', async () => {
    const upstream = await sseServer();
    const g = await gateway();
    await g.registerRemoteAdapter('legacy-sse', [upstream.url], { transport: 'sse' });
    const { client, transport } = await legacyClient(`${g.url}/adapters/legacy-sse/mcp`);
    expect(client.getServerVersion()?.name).toBe('sse-fixture');
    // The session id is the gateway's sealed one, not the upstream's (which lives in its endpoint URL).
    expect(transport.sessionId).toMatch(/^[\x21-\x7e]+$/);
    const announced = upstream.requests.find((r) => r.method === 'POST')!.target;
    expect(announced).toMatch(/^\/messages\?sessionId=/);
    expect(announced).not.toContain(transport.sessionId);

    const tools = await client.listTools();
    expect(tools.tools.map((t) => t.name)).toContain('echo');
    expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'hi' } }))).toBe('hi');

    const progress: number[] = [];
    const counted = await client.request(
      { method: 'tools/call', params: { name: 'count', arguments: { n: 3 } } },
      CallToolResultSchema,
      { onprogress: (p) => void progress.push(p.progress) },
    );
    expect(textOf(counted)).toBe('counted to 3');
    expect(progress).toEqual([1, 2, 3]);

    // A message the server sends on its own reaches the client's GET stream.
    const logged: unknown[] = [];
    client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => void logged.push(n.params.data));
    await vi.waitFor(() => expect(upstream.requests.length).toBeGreaterThan(0));
    expect(textOf(await client.callTool({ name: 'broadcast', arguments: { n: 2, ms: 10 } }))).toBe(
      'scheduled',
    );
    await vi.waitFor(() => expect(logged).toEqual(['message 1', 'message 2']));

    // One upstream SSE stream for the whole session; every GET and POST carried the identity, never the token.
    expect(upstream.requests.filter((r) => r.method === 'GET')).toHaveLength(1);
    for (const r of upstream.requests) {
      expect(JSON.stringify(r.headers)).not.toContain(CALLER_TOKEN);
      expect(r.headers['x-mcp-userid']).toBeDefined();
    }

    expect(upstream.openStreams()).toBe(1);
    await transport.terminateSession();
    await vi.waitFor(() => expect(upstream.openStreams()).toBe(0));
    expect(upstream.closedStreams()).toBe(1);
    // The ended session is gone: its id now gets 404, which makes a client re-initialise.
    const after = await fetch(`${g.url}/adapters/legacy-sse/mcp`, {
      method: 'POST',
      headers: mcpPostHeaders({
        'mcp-session-id': transport.sessionId!,
        'mcp-protocol-version': '2025-11-25',
      }),
      body: JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'tools/list' }),
    });
    expect(after.status).toBe(404);
  });

  it('relays a server request (elicitation) to the client and its answer back, and a cancellation upstream', async () => {
    const upstream = await sseServer();
    const g = await gateway();
    await g.registerRemoteAdapter('asking', [upstream.url], { transport: 'sse' });
    const client = new Client({ name: 'v1', version: '1.0.0' }, { capabilities: { elicitation: {} } });
    client.setRequestHandler(ElicitRequestSchema, () => ({ action: 'accept', content: { colour: 'teal' } }));
    await client.connect(new StreamableHTTPClientTransport(new URL(`${g.url}/adapters/asking/mcp`)));
    cleanups.push(() => client.close());
    expect(textOf(await client.callTool({ name: 'ask', arguments: {} }))).toBe('accept:teal');

    // A call the client gives up on: its notifications/cancelled reaches the server with the call's id.
    const abort = new AbortController();
    const call = client.callTool({ name: 'slow', arguments: { ms: 30_000 } }, undefined, {
      signal: abort.signal,
      onprogress: () => abort.abort('changed my mind'),
    });
    await expect(call).rejects.toThrow();
    const sent = upstream.messages as { id?: unknown; method?: string; params?: { requestId?: unknown } }[];
    const slowId = sent.find((m) => m.method === 'tools/call' && JSON.stringify(m).includes('"slow"'))?.id;
    expect(slowId).toBeDefined();
    await vi.waitFor(() =>
      expect(sent).toContainEqual(
        expect.objectContaining({
          method: 'notifications/cancelled',
          params: expect.objectContaining({ requestId: slowId }),
        }),
      ),
    );
  });

  it('serves an SDK 2.x client, which falls back from 2026-07-28 to a session', async () => {
    const upstream = await sseServer();
    const g = await gateway();
    await g.registerRemoteAdapter('v2-sse', [upstream.url], { transport: 'sse' });
    const client = new ClientV2({ name: 'v2', version: '2.0.0' }, { versionNegotiation: { mode: 'auto' } });
    const transport = new TransportV2(new URL(`${g.url}/adapters/v2-sse/mcp`));
    await client.connect(transport);
    cleanups.push(() => client.close());
    const listed = await client.request({ method: 'tools/list', params: {} });
    expect((listed as { tools: { name: string }[] }).tools.map((t) => t.name)).toContain('count');
    const progress: number[] = [];
    const result = await client.request(
      { method: 'tools/call', params: { name: 'count', arguments: { n: 2 } } },
      { onprogress: (p: { progress: number }) => void progress.push(p.progress) },
    );
    expect(textOf(result)).toBe('counted to 2');
    expect(progress).toEqual([1, 2]);
    expect(upstream.requests.filter((r) => r.method === 'GET')).toHaveLength(1);
  });

  it('refuses a server that announces a message endpoint on another origin, and contacts nothing there', async () => {
    const stolen: string[] = [];
    const attacker: RunningServer = await startHttpServer((req, res) => {
      stolen.push(`${req.method} ${req.url} ${JSON.stringify(req.headers)}`);
      req.resume();
      res.writeHead(202).end();
    });
    cleanups.push(() => attacker.close());
    const hostile = await sseServer({ announce: `${attacker.url}/steal?sessionId=x` });
    const g = await gateway();
    await g.registerRemoteAdapter('hostile', [hostile.url], { transport: 'sse' });
    const res = await fetch(`${g.url}/adapters/hostile/mcp`, {
      method: 'POST',
      headers: mcpPostHeaders({ authorization: `Bearer ${CALLER_TOKEN}` }),
      body: INITIALIZE,
    });
    expect(res.status).toBe(502);
    const body = (await res.json()) as { error: { message: string } };
    expect(body.error.message).toContain(`is not on the SSE stream's origin ${hostile.origin}`);
    expect(res.headers.get('mcp-session-id')).toBeNull();
    expect(stolen).toEqual([]);
    // The upstream stream is closed, and the operator reads why.
    await vi.waitFor(() => expect(hostile.openStreams()).toBe(0));
    const line = logs.find((l) => String(l.msg).includes('announced a message endpoint'));
    expect(line).toMatchObject({ level: 40, adapter: 'hostile', replica: hostile.url });
    expect(String(line?.reason)).toContain(attacker.url);
  });

  it('bounds a silent upstream by the idle timeout: the client gets an error, the server a cancellation', async () => {
    const upstream = await sseServer();
    const g = await gateway();
    await g.registerRemoteAdapter('silent', [upstream.url], { transport: 'sse', idleTimeoutMs: 1000 });
    const { client } = await legacyClient(`${g.url}/adapters/silent/mcp`);
    // No progress token: the server says nothing until it answers, long after the adapter's timeout.
    await expect(client.callTool({ name: 'slow', arguments: { ms: 30_000 } })).rejects.toThrow(
      /sent nothing for this request in 1000 ms/,
    );
    const sent = upstream.messages as { id?: unknown; method?: string; params?: { requestId?: unknown } }[];
    const slowId = sent.find((m) => m.method === 'tools/call')?.id;
    expect(slowId).toBeDefined();
    await vi.waitFor(() =>
      expect(sent).toContainEqual(
        expect.objectContaining({
          method: 'notifications/cancelled',
          params: expect.objectContaining({ requestId: slowId }),
        }),
      ),
    );
    // The session itself is fine.
    expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'still here' } }))).toBe(
      'still here',
    );
  });

  it('ends an idle session and its upstream SSE stream after sessionIdleTimeoutSeconds', async () => {
    const upstream = await sseServer();
    const g = await gateway();
    await g.registerRemoteAdapter('idle', [upstream.url], {
      transport: 'sse',
      sessionIdleTimeoutSeconds: 60,
    });
    const session = await fetch(`${g.url}/adapters/idle/mcp`, {
      method: 'POST',
      headers: mcpPostHeaders(),
      body: INITIALIZE,
    });
    expect(session.status).toBe(200);
    const id = session.headers.get('mcp-session-id')!;
    await session.text();
    expect(upstream.openStreams()).toBe(1);
    clock += 61_000;
    // The next sweep (every few seconds) ends it; its id is then unknown.
    await vi.waitFor(() => expect(upstream.openStreams()).toBe(0), { timeout: 15_000, interval: 100 });
    const after = await fetch(`${g.url}/adapters/idle/mcp`, {
      method: 'POST',
      headers: mcpPostHeaders({ 'mcp-session-id': id, 'mcp-protocol-version': '2025-06-18' }),
      body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }),
    });
    expect(after.status).toBe(404);
  });

  it.runIf(io === 'node')(
    'ends the client’s idle GET stream at a drain; a call in flight completes',
    async () => {
      const upstream = await sseServer();
      const g = await gateway();
      await g.registerRemoteAdapter('draining', [upstream.url], { transport: 'sse' });
      const { client } = await legacyClient(`${g.url}/adapters/draining/mcp`);
      // The SDK opens its GET stream in the background once initialised.
      await vi.waitFor(() => expect(g.serverStreams.size).toBe(1));
      let started!: () => void;
      const inFlight = new Promise<void>((resolve) => (started = resolve));
      const call = client.callTool({ name: 'slow', arguments: { ms: 300 } }, undefined, {
        onprogress: () => started(),
      });
      await inFlight;
      g.serverStreams.drain();
      await vi.waitFor(() => expect(g.serverStreams.size).toBe(0));
      expect(textOf(await call)).toBe('slept 300 ms');
    },
  );

  it('answers a dead upstream with 502, and ends a session whose SSE stream ends', async () => {
    const g = await gateway();
    await g.registerRemoteAdapter('dead', [`http://127.0.0.1:${await closedPort()}/sse`], {
      transport: 'sse',
    });
    const refused = await fetch(`${g.url}/adapters/dead/mcp`, {
      method: 'POST',
      headers: mcpPostHeaders(),
      body: INITIALIZE,
    });
    expect(refused.status).toBe(502);
    expect(((await refused.json()) as { error: { message: string } }).error.message).toContain(
      'connection refused',
    );

    const upstream = await sseServer();
    await g.registerRemoteAdapter('dropping', [upstream.url], { transport: 'sse' });
    const { client } = await legacyClient(`${g.url}/adapters/dropping/mcp`);
    // The call is under way once its progress arrived; then the server drops its streams.
    let started!: () => void;
    const inFlight = new Promise<void>((resolve) => (started = resolve));
    const call = client.callTool({ name: 'slow', arguments: { ms: 30_000 } }, undefined, {
      onprogress: () => started(),
    });
    await inFlight;
    upstream.dropStreams();
    await expect(call).rejects.toThrow(/upstream MCP session ended \(the SSE stream ended\)/);
    // The session is over: the next request gets 404 (the SDK 1.x client reports it as an error).
    await expect(client.listTools()).rejects.toThrow(/404|Session not found/);
  });
});
