/**
 * Federated calls reuse their upstream session: a real gateway, a real SDK 1.x upstream (stateful, one session
 * per `initialize`) that records the JSON-RPC method, session and caller of every request it gets. A caller's
 * calls after the first pay no `initialize` (sequential and concurrent ones alike), and two callers never share
 * an upstream session (each session is the caller's own identity upstream). Against an SDK 2.x upstream
 * (2026-07-28, stateless), the client set-up happens once per caller too.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { devAuth } from '../auth/index.js';
import { connectModernClient } from '../../test/mcp-clients.js';
import type { TestMcpClient } from '../../test/mcp-clients.js';
import { startModernMcpServer } from '../../test/mcp-servers.js';
import type { RunningMcpServer } from '../../test/mcp-servers.js';
import { startTestGateway } from '../../test/test-gateway.js';
import type { TestGateway } from '../../test/test-gateway.js';
import { LISTING_PRINCIPAL } from './federation.js';

/** One request the upstream received. */
interface Seen {
  readonly method: string | undefined;
  readonly user: string | undefined;
  readonly session: string | undefined;
}

/** A stateful SDK 1.x upstream with an `echo` tool that records every request. */
async function startRecordingUpstream() {
  const seen: Seen[] = [];
  const sessions = new Map<string, StreamableHTTPServerTransport>();
  const http = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = chunks.length ? (JSON.parse(Buffer.concat(chunks).toString()) as unknown) : undefined;
    const headers: IncomingHttpHeaders = req.headers;
    const session = headers['mcp-session-id'] as string | undefined;
    seen.push({
      method: req.method === 'POST' ? (body as { method?: string } | undefined)?.method : req.method,
      user: headers['x-mcp-userid'] as string | undefined,
      session,
    });
    let transport = session ? sessions.get(session) : undefined;
    if (!transport && !session && req.method === 'POST' && isInitializeRequest(body)) {
      const created = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (id) => void sessions.set(id, created),
        onsessionclosed: (id) => void sessions.delete(id),
      });
      const server = new McpServer({ name: 'recording', version: '1.0.0' });
      server.registerTool('echo', { inputSchema: { text: z.string() } }, async ({ text }) => ({
        content: [{ type: 'text', text }],
      }));
      await server.connect(created);
      transport = created;
    }
    if (!transport) {
      res.writeHead(session ? 404 : 400, { 'content-type': 'application/json' }).end('{}');
      return;
    }
    await transport.handleRequest(req, res, body);
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(http.address() as AddressInfo).port}/mcp`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        http.closeAllConnections();
        http.close(() => resolve());
      }),
  };
}

async function register(gateway: TestGateway, body: Record<string, unknown>): Promise<void> {
  const res = await fetch(`${gateway.url}/adapters`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-dev-userid': 'operator', 'x-dev-roles': 'mcp.admin' },
    // Every caller with the `staff` role may use it.
    body: JSON.stringify({ ...body, requiredRoles: ['staff'] }),
  });
  if (res.status !== 201) throw new Error(`register: ${res.status} ${await res.text()}`);
}

/** Waits until the adapter's listing is in (it runs in the background and may be retried on a busy machine). */
async function listed(gateway: TestGateway, adapter: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (gateway.toolRouter?.federationStatus(adapter)?.state !== 'listed') {
    if (Date.now() > deadline) throw new Error(JSON.stringify(gateway.toolRouter?.federationStatus(adapter)));
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const as = (user: string) => ({ headers: { 'x-dev-userid': user, 'x-dev-roles': 'staff' } });
const textOf = (result: Record<string, unknown>) =>
  ((result.content as { text?: string }[] | undefined) ?? []).map((c) => c.text ?? '').join('');

describe('tool router: pooled upstream sessions of federated adapters', () => {
  let gateway: TestGateway;
  let legacy: Awaited<ReturnType<typeof startRecordingUpstream>>;
  let modern: RunningMcpServer;
  const clients: TestMcpClient[] = [];

  beforeAll(async () => {
    legacy = await startRecordingUpstream();
    modern = await startModernMcpServer({ name: 'modern-upstream' });
    gateway = await startTestGateway({ authenticate: devAuth(), toolRouter: {} });
    await register(gateway, { name: 'counted', endpoints: [legacy.url], federate: true });
    await register(gateway, { name: 'stateless', endpoints: [modern.url], federate: true });
    await listed(gateway, 'counted');
    await listed(gateway, 'stateless');
  }, 90_000);
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await gateway?.close();
    await Promise.all([legacy?.close(), modern?.close()]);
  });

  async function client(user: string) {
    const connected = await connectModernClient(`${gateway.url}/mcp`, as(user));
    clients.push(connected);
    return connected;
  }

  const of = (user: string, method?: string) =>
    legacy.seen.filter((s) => s.user === user && (method === undefined || s.method === method));

  it("sends one initialize per caller: later calls, sequential or concurrent, reuse that caller's session", async () => {
    const alice = await client('alice');
    const bob = await client('bob');
    for (let i = 0; i < 5; i++) {
      expect(textOf(await alice.call('counted__echo', { text: `a${i}` }))).toBe(`a${i}`);
    }
    const concurrent = await Promise.all(
      [0, 1, 2, 3].map((i) => alice.call('counted__echo', { text: `c${i}` })),
    );
    expect(concurrent.map(textOf)).toEqual(['c0', 'c1', 'c2', 'c3']);
    for (let i = 0; i < 3; i++) {
      expect(textOf(await bob.call('counted__echo', { text: `b${i}` }))).toBe(`b${i}`);
    }

    // Nine calls of alice's, three of bob's: each reached the upstream, each caller initialised once.
    expect(of('alice', 'tools/call')).toHaveLength(9);
    expect(of('bob', 'tools/call')).toHaveLength(3);
    expect(of('alice', 'initialize')).toHaveLength(1);
    expect(of('bob', 'initialize')).toHaveLength(1);
    // Every call of a caller in one session, and the two sessions differ (nor is it the listing's).
    const aliceSessions = new Set(of('alice', 'tools/call').map((s) => s.session));
    const bobSessions = new Set(of('bob', 'tools/call').map((s) => s.session));
    expect(aliceSessions.size).toBe(1);
    expect(bobSessions.size).toBe(1);
    const [aliceSession] = aliceSessions;
    const [bobSession] = bobSessions;
    expect(aliceSession).toBeDefined();
    expect(bobSession).not.toBe(aliceSession);
    const listingSessions = new Set(of(LISTING_PRINCIPAL.userId).map((s) => s.session));
    expect(listingSessions.has(aliceSession)).toBe(false);
    expect(listingSessions.has(bobSession)).toBe(false);
  });

  it('sets up the client of a 2026-07-28 upstream once per caller, then sends only the calls', async () => {
    const carol = await client('carol');
    const carolRequests = () =>
      modern.requests
        .map((headers, i) => ({ headers, target: modern.targets[i]! }))
        .filter((r) => r.headers['x-mcp-userid'] === 'carol');
    expect(textOf(await carol.call('stateless__echo', { text: 'first' }))).toBe('first');
    const afterFirst = carolRequests().length;
    for (let i = 0; i < 4; i++) {
      expect(textOf(await carol.call('stateless__echo', { text: `n${i}` }))).toBe(`n${i}`);
    }
    const later = carolRequests().slice(afterFirst);
    // One request per call and nothing else: each names `tools/call` in its `Mcp-Method` header.
    expect(later).toHaveLength(4);
    expect(later.map((r) => r.headers['mcp-method'])).toEqual([
      'tools/call',
      'tools/call',
      'tools/call',
      'tools/call',
    ]);
  });
});
