/**
 * The per-(caller, tool) rate limit through a real gateway, buckets in memory and time injected: on the data plane
 * a `tools/call` is limited per caller, adapter and tool (modern `Mcp-Name`, a legacy body, each call of a
 * 2025-03-26 batch), on the tool router per caller and tool, through SDK clients and raw JSON-RPC POSTs; the 429
 * carries `Retry-After`, is counted by scope and audited as the tools/call it is.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { SCORE_TOOL, startScoreServer } from '../../scripts/samples/score-server.js';
import { devAuth } from '../auth/index.js';
import { createAuditLog } from '../observability/audit-log.js';
import { createLogger } from '../observability/logger.js';
import { createPrometheusMetrics } from '../observability/prometheus/index.js';
import { startHttpServer } from '../../test/http-fixture.js';
import { mcpPostHeaders } from '../../test/legacy-requests.js';
import { connectLegacyClient, connectModernClient } from '../../test/mcp-clients.js';
import { modernToolCallBody, modernToolCallHeaders } from '../../test/modern-requests.js';
import { startTestGateway } from '../../test/test-gateway.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

function clock() {
  let t = 1_000_000;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

function capturingLogger() {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({
    level: 'info',
    destination: { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) },
  });
  return { logger, lines };
}

/** An upstream that answers every POST with a JSON-RPC result (a batch with one result per request). */
async function upstream() {
  const server = await startHttpServer((req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const parsed = JSON.parse(body || 'null') as { id?: number } | { id?: number }[] | null;
      const answer = (m: { id?: number } | null) => ({
        jsonrpc: '2.0',
        id: m?.id ?? 1,
        result: { content: [] },
      });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(Array.isArray(parsed) ? parsed.map(answer) : answer(parsed)));
    });
  });
  cleanups.push(() => server.close());
  return server.url;
}

const dev = (user: string) => ({ 'x-dev-userid': user, 'x-dev-roles': 'mcp.admin' });
const legacyCall = (tool: string, id = 1) => ({
  jsonrpc: '2.0',
  id,
  method: 'tools/call',
  params: { name: tool, arguments: {} },
});

describe.each(['node', 'hono', 'fetch'] as const)('per-tool limit on the data plane (%s)', (io) => {
  it('limits each caller, adapter and tool; 429 with Retry-After, counted and audited', async () => {
    const time = clock();
    const metrics = createPrometheusMetrics();
    const log = capturingLogger();
    const g = await startTestGateway({
      io,
      authenticate: devAuth(),
      operations: {
        metrics,
        audit: createAuditLog(log.logger),
        rateLimits: { perTool: { perSecond: 0.5, burst: 2 }, now: time.now },
      },
    });
    cleanups.push(() => g.close());
    const url = await upstream();
    await g.registerRemoteAdapter('one', [url]);
    await g.registerRemoteAdapter('two', [url]);
    const call = (adapter: string, tool: string, user = 'alice') =>
      fetch(`${g.url}/adapters/${adapter}/mcp`, {
        method: 'POST',
        headers: modernToolCallHeaders(tool, dev(user)),
        body: modernToolCallBody(tool),
      });

    expect((await call('one', 'echo')).status).toBe(200);
    // A legacy call names its tool only in the body: the same bucket.
    const legacy = await fetch(`${g.url}/adapters/one/mcp`, {
      method: 'POST',
      headers: mcpPostHeaders(dev('alice')),
      body: JSON.stringify(legacyCall('echo')),
    });
    expect(legacy.status).toBe(200);
    const limited = await call('one', 'echo');
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('2');
    expect(await limited.json()).toEqual({
      jsonrpc: '2.0',
      id: null,
      error: { code: -32000, message: "Too many calls of tool 'echo' from 'alice'; retry in 2 s." },
    });
    // Another tool, another adapter, another caller: buckets of their own. Other methods are not limited.
    expect((await call('one', 'whoami')).status).toBe(200);
    expect((await call('two', 'echo')).status).toBe(200);
    expect((await call('one', 'echo', 'bob')).status).toBe(200);
    const list = await fetch(`${g.url}/adapters/one/mcp`, {
      method: 'POST',
      headers: { ...modernToolCallHeaders('echo', dev('alice')), 'mcp-method': 'tools/list' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list', params: {} }),
    });
    expect(list.status).not.toBe(429);

    time.advance(2000);
    expect((await call('one', 'echo')).status).toBe(200);

    const text = (await metrics.render()).body;
    expect(text).toContain('mcp_gateway_rate_limited_total{scope="tool"} 1');
    const audits = log.lines.filter(
      (l) => l.audit === true && l.action === 'tools/call' && l.adapter === 'one',
    );
    expect(audits.map((a) => [a.tool, a.principal, a.status])).toContainEqual(['echo', 'alice', 429]);
  });
});

describe('per-tool limit and 2025-03-26 batches', () => {
  it('takes a token for each tools/call in a batch', async () => {
    const time = clock();
    const g = await startTestGateway({
      authenticate: devAuth(),
      operations: { rateLimits: { perTool: { perSecond: 1, burst: 2 }, now: time.now } },
    });
    cleanups.push(() => g.close());
    await g.registerRemoteAdapter('one', [await upstream()]);
    const batch = (n: number) =>
      fetch(`${g.url}/adapters/one/mcp`, {
        method: 'POST',
        headers: mcpPostHeaders({ 'mcp-protocol-version': '2025-03-26', ...dev('alice') }),
        body: JSON.stringify(Array.from({ length: n }, (_, i) => legacyCall('echo', i + 1))),
      });
    expect((await batch(2)).status).toBe(200);
    const limited = await batch(1);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('1');
  });
});

describe('per-tool limit on the tool router', () => {
  it('limits each caller and tool through SDK 1.x and 2.x clients; the next call is a 429 with Retry-After', async () => {
    const time = clock();
    const metrics = createPrometheusMetrics();
    const g = await startTestGateway({
      authenticate: devAuth(),
      toolRouter: {},
      operations: { metrics, rateLimits: { perTool: { perSecond: 0.25, burst: 2 }, now: time.now } },
    });
    cleanups.push(() => g.close());
    const score = await startScoreServer();
    cleanups.push(() => score.close());
    for (const name of ['score', 'rank']) {
      const res = await fetch(`${g.url}/tools`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...dev('alice') },
        body: JSON.stringify({
          name,
          endpoints: [score.url],
          toolDefinition: { tool: { ...SCORE_TOOL, name } },
        }),
      });
      expect(res.status).toBe(201);
    }
    const legacy = await connectLegacyClient(`${g.url}/mcp`, { headers: dev('alice') });
    cleanups.push(() => legacy.close());
    const modern = await connectModernClient(`${g.url}/mcp`, { headers: dev('alice') });
    cleanups.push(() => modern.close());
    expect((await legacy.call('score', { text: 'good' })).isError).not.toBe(true);
    expect((await modern.call('score', { text: 'good' })).isError).not.toBe(true);
    await expect(legacy.call('score', { text: 'good' })).rejects.toThrow(/429|Too many calls/);

    const raw = await fetch(`${g.url}/mcp`, {
      method: 'POST',
      headers: modernToolCallHeaders('score', dev('alice')),
      body: modernToolCallBody('score', { text: 'good' }),
    });
    expect(raw.status).toBe(429);
    expect(raw.headers.get('retry-after')).toBe('4');
    expect(((await raw.json()) as { error: { message: string } }).error.message).toBe(
      "Too many calls of tool 'score' from 'alice'; retry in 4 s.",
    );
    // No way around it: a header naming another tool is refused by the SDK (the body decides), and an older
    // client's mirrored headers are not believed (the body is read).
    const disguised = await fetch(`${g.url}/mcp`, {
      method: 'POST',
      headers: modernToolCallHeaders('rank', dev('alice')),
      body: modernToolCallBody('score', { text: 'good' }),
    });
    expect(disguised.status).toBe(400);
    const mirrored = await fetch(`${g.url}/mcp`, {
      method: 'POST',
      headers: mcpPostHeaders({
        ...dev('alice'),
        'mcp-protocol-version': '2025-11-25',
        'mcp-method': 'tools/list',
      }),
      body: JSON.stringify({
        ...legacyCall('score'),
        params: { name: 'score', arguments: { text: 'good' } },
      }),
    });
    expect(mirrored.status).toBe(429);
    // Listing, another tool and another caller go on.
    expect((await modern.listAll()).names).toContain('score');
    expect((await modern.call('rank', { text: 'good' })).isError).not.toBe(true);
    const bob = await connectModernClient(`${g.url}/mcp`, { headers: dev('bob') });
    cleanups.push(() => bob.close());
    expect((await bob.call('score', { text: 'good' })).isError).not.toBe(true);

    time.advance(4000);
    expect((await modern.call('score', { text: 'good' })).isError).not.toBe(true);
    expect((await metrics.render()).body).toContain('mcp_gateway_rate_limited_total{scope="tool"} 3');
  });

  it('limits call_tool in search mode as the tool it calls', async () => {
    const time = clock();
    const g = await startTestGateway({
      authenticate: devAuth(),
      toolRouter: { discovery: 'search' },
      operations: { rateLimits: { perTool: { perSecond: 1, burst: 1 }, now: time.now } },
    });
    cleanups.push(() => g.close());
    const score = await startScoreServer();
    cleanups.push(() => score.close());
    const res = await fetch(`${g.url}/tools`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...dev('alice') },
      body: JSON.stringify({ name: 'score', endpoints: [score.url], toolDefinition: { tool: SCORE_TOOL } }),
    });
    expect(res.status).toBe(201);
    const through = (tool: string) =>
      fetch(`${g.url}/mcp`, {
        method: 'POST',
        headers: modernToolCallHeaders('call_tool', dev('alice')),
        body: modernToolCallBody('call_tool', { name: tool, arguments: { text: 'good' } }),
      });
    expect((await through('score')).status).toBe(200);
    const limited = await through('score');
    expect(limited.status).toBe(429);
    expect(((await limited.json()) as { error: { message: string } }).error.message).toContain(
      "tool 'score'",
    );
  });
});
