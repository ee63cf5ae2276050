/**
 * Operations through a real gateway on a socket, with both forwarders: Prometheus metrics (bounded labels, open
 * streams, upstream errors, placements), the audit log (control-plane writes, `tools/call`; never secrets), rate
 * limits (429 + Retry-After, JSON or JSON-RPC bodies, injected clock) and W3C trace context pass-through.
 */
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { closedPort, startHttpServer } from '../../test/http-fixture.js';
import { eventually } from '../../test/polling.js';
import { headerPrincipal } from '../../test/test-app.js';
import { modernToolCallBody, modernToolCallHeaders } from '../../test/modern-requests.js';
import { startTestGateway } from '../../test/test-gateway.js';
import type { TestGateway, TestGatewayOptions } from '../../test/test-gateway.js';
import { createAuditLog } from './audit-log.js';
import { createLogger } from './logger.js';
import { createPrometheusMetrics } from './prometheus/index.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

const SECRET_ARGUMENT = 'hunter2-argument-value';
const SECRET_ENV = 'env-value-never-logged';

const toolsCall = (tool: string) => modernToolCallBody(tool, { password: SECRET_ARGUMENT });
/** Headers of a test user (see `headerPrincipal`); admins may read every adapter the tests register. */
const as = (user: string) => ({ 'x-test-user': user, 'x-test-roles': 'mcp.admin' });

/** An upstream that answers JSON, or on `/sse` an event stream that stays open until `release()`. */
async function upstream() {
  const seen: IncomingHttpHeaders[] = [];
  const open: ServerResponse[] = [];
  const server = await startHttpServer((req: IncomingMessage, res: ServerResponse) => {
    seen.push(req.headers);
    req.resume();
    if (req.url === '/sse') {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('event: message\ndata: {"jsonrpc":"2.0","method":"notifications/progress"}\n\n');
      open.push(res);
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"jsonrpc":"2.0","id":1,"result":{"content":[]}}');
  });
  cleanups.push(() => server.close());
  return {
    url: server.url,
    seen,
    release: () => open.splice(0).forEach((res) => res.end('data: {"jsonrpc":"2.0","id":1,"result":{}}\n\n')),
  };
}

function capturingLogger() {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({
    level: 'info',
    destination: { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) },
  });
  return { logger, lines, audits: () => lines.filter((l) => l.audit === true) };
}

async function scrape(g: TestGateway): Promise<string> {
  const res = await fetch(`${g.url}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return res.text();
}

/** The value of one sample, e.g. `sample(text, 'mcp_gateway_open_streams', { adapter: 'sse' })`. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const inner = line.slice(name.length + 1, line.lastIndexOf('}'));
    const matches = Object.entries(labels).every(([k, v]) => inner.includes(`${k}="${v}"`));
    if (matches) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

describe.each(['node', 'hono', 'fetch'] as const)('operations with the %s forwarder', (io) => {
  async function gateway(options: TestGatewayOptions = {}): Promise<TestGateway> {
    const g = await startTestGateway({ io, authenticate: headerPrincipal(), ...options });
    cleanups.push(() => g.close());
    return g;
  }

  it('exports data-plane and control-plane metrics with bounded labels', async () => {
    const up = await upstream();
    const metrics = createPrometheusMetrics();
    const g = await gateway({ operations: { metrics } });
    await g.registerRemoteAdapter('json', [`${up.url}/mcp`]);
    await g.registerRemoteAdapter('sse', [`${up.url}/sse`]);
    await g.registerRemoteAdapter('down', [`http://127.0.0.1:${await closedPort()}/mcp`]);
    const call = (adapter: string) =>
      fetch(`${g.url}/adapters/${adapter}/mcp`, {
        method: 'POST',
        headers: modernToolCallHeaders('echo'),
        body: toolsCall('echo'),
      });

    expect((await call('json')).status).toBe(200);
    expect((await call('down')).status).toBe(502);
    expect((await call('no-such-adapter-4711')).status).toBe(404);
    expect((await fetch(`${g.url}/adapters/json`)).status).toBe(200);
    expect((await fetch(`${g.url}/not/a/route/xyz`)).status).toBe(404);

    const stream = await call('sse');
    expect(stream.status).toBe(200);
    const reader = stream.body!.getReader();
    await reader.read();
    let text = await scrape(g);
    expect(sample(text, 'mcp_gateway_open_streams', { adapter: 'sse' })).toBe(1);
    expect(sample(text, 'mcp_gateway_mcp_requests_total', { adapter: 'json', method: 'tools/call' })).toBe(1);
    expect(
      sample(text, 'mcp_gateway_mcp_request_duration_seconds_count', {
        adapter: 'json',
        method: 'tools/call',
      }),
    ).toBe(1);
    expect(sample(text, 'mcp_gateway_upstream_errors_total', { adapter: 'down', kind: 'refused' })).toBe(1);
    expect(
      sample(text, 'mcp_gateway_placements_total', {
        adapter: 'json',
        replica: `${up.url}/mcp`,
        kind: 'request',
      }),
    ).toBe(1);
    // Unknown names never become label values.
    expect(text).not.toContain('no-such-adapter-4711');
    expect(sample(text, 'mcp_gateway_mcp_requests_total', { adapter: '', status: '404' })).toBe(1);
    // Control plane: route patterns, never raw paths.
    expect(
      sample(text, 'mcp_gateway_http_requests_total', {
        route: '/adapters/:name',
        method: 'GET',
        status: '200',
      }),
    ).toBe(1);
    expect(sample(text, 'mcp_gateway_http_requests_total', { route: '/adapters', method: 'POST' })).toBe(3);
    expect(sample(text, 'mcp_gateway_http_requests_total', { route: '(unmatched)', status: '404' })).toBe(1);
    expect(text).not.toContain('/not/a/route');

    up.release();
    for (;;) if ((await reader.read()).done) break;
    await eventually(
      async () => sample(await scrape(g), 'mcp_gateway_open_streams', { adapter: 'sse' }) === 0,
      'no open stream in the metrics',
      3_000,
      25,
    );
    text = await scrape(g);
    expect(sample(text, 'mcp_gateway_mcp_requests_total', { adapter: 'sse', method: 'tools/call' })).toBe(1);
  });

  it('counts a stream the client abandons as closed', async () => {
    const up = await upstream();
    const metrics = createPrometheusMetrics();
    const g = await gateway({ operations: { metrics } });
    await g.registerRemoteAdapter('sse', [`${up.url}/sse`]);
    const controller = new AbortController();
    const res = await fetch(`${g.url}/adapters/sse/mcp`, {
      method: 'POST',
      headers: modernToolCallHeaders('echo'),
      body: toolsCall('echo'),
      signal: controller.signal,
    });
    await res.body!.getReader().read();
    expect(sample(await scrape(g), 'mcp_gateway_open_streams', { adapter: 'sse' })).toBe(1);
    controller.abort();
    await eventually(
      async () => sample(await scrape(g), 'mcp_gateway_open_streams', { adapter: 'sse' }) === 0,
      'no open stream in the metrics',
      3_000,
      25,
    );
  });

  it('writes one audit line per tools/call with who, adapter, tool and status — never the arguments', async () => {
    const up = await upstream();
    const { logger, audits, lines } = capturingLogger();
    const g = await gateway({ logger, operations: { audit: createAuditLog(logger) } });
    await g.registerRemoteAdapter('json', [`${up.url}/mcp`]);
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const res = await fetch(`${g.url}/adapters/json/mcp`, {
      method: 'POST',
      headers: modernToolCallHeaders('echo', { ...as('alice'), traceparent }),
      body: toolsCall('echo'),
    });
    expect(res.status).toBe(200);
    // tools/list is not audited.
    await fetch(`${g.url}/adapters/json/mcp`, {
      method: 'POST',
      headers: { ...modernToolCallHeaders('echo'), 'mcp-method': 'tools/list' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }),
    });
    const calls = audits().filter((l) => l.action === 'tools/call');
    expect(calls).toEqual([
      expect.objectContaining({
        audit: true,
        msg: 'audit',
        level: 30,
        action: 'tools/call',
        adapter: 'json',
        tool: 'echo',
        principal: 'alice',
        status: 200,
        outcome: 'success',
        traceId: '0af7651916cd43dd8448eb211c80319c',
      }),
    ]);
    expect(JSON.stringify(lines)).not.toContain(SECRET_ARGUMENT);
  });
});

describe('the control-plane audit log', () => {
  it('writes one line per create, update and delete, with the outcome, never the spec', async () => {
    const { logger, audits, lines } = capturingLogger();
    const g = await startTestGateway({
      logger,
      authenticate: headerPrincipal(),
      operations: { audit: createAuditLog(logger) },
    });
    cleanups.push(() => g.close());
    const write = (method: string, path: string, user: string, body?: unknown) =>
      fetch(`${g.url}${path}`, {
        method,
        headers: { 'content-type': 'application/json', 'x-test-user': user, 'x-test-roles': 'viewers' },
        ...(body !== undefined && { body: JSON.stringify(body) }),
      });
    const adapter = {
      name: 'weather',
      endpoints: ['http://127.0.0.1:9/mcp'],
      environmentVariables: { API_KEY: SECRET_ENV },
      // Bob may read it through this role, so his write is refused with 403 rather than hidden with 404.
      requiredRoles: ['viewers'],
    };
    expect((await write('POST', '/adapters', 'alice', adapter)).status).toBe(201);
    expect((await write('POST', '/adapters', 'alice', adapter)).status).toBe(409);
    expect((await write('POST', '/adapters', 'alice', { name: 'bad', endpoints: 'nope' })).status).toBe(400);
    expect((await write('PUT', '/adapters/weather', 'bob', adapter)).status).toBe(403);
    expect((await write('PUT', '/adapters/weather', 'alice', adapter)).status).toBe(200);
    // Reads are not audited.
    expect((await write('GET', '/adapters/weather', 'alice')).status).toBe(200);
    expect((await write('DELETE', '/adapters/weather', 'alice')).status).toBe(204);
    expect((await write('DELETE', '/tools/missing', 'alice')).status).toBe(404);

    const picked = audits().map(({ action, kind, name, principal, status, outcome }) => ({
      action,
      kind,
      name,
      principal,
      status,
      outcome,
    }));
    expect(picked).toEqual([
      {
        action: 'create',
        kind: 'adapter',
        name: 'weather',
        principal: 'alice',
        status: 201,
        outcome: 'success',
      },
      {
        action: 'create',
        kind: 'adapter',
        name: 'weather',
        principal: 'alice',
        status: 409,
        outcome: 'rejected',
      },
      {
        action: 'create',
        kind: 'adapter',
        name: undefined,
        principal: 'alice',
        status: 400,
        outcome: 'rejected',
      },
      {
        action: 'update',
        kind: 'adapter',
        name: 'weather',
        principal: 'bob',
        status: 403,
        outcome: 'denied',
      },
      {
        action: 'update',
        kind: 'adapter',
        name: 'weather',
        principal: 'alice',
        status: 200,
        outcome: 'success',
      },
      {
        action: 'delete',
        kind: 'adapter',
        name: 'weather',
        principal: 'alice',
        status: 204,
        outcome: 'success',
      },
      {
        action: 'delete',
        kind: 'tool',
        name: 'missing',
        principal: 'alice',
        status: 404,
        outcome: 'rejected',
      },
    ]);
    expect(audits().every((l) => typeof l.requestId === 'string')).toBe(true);
    expect(JSON.stringify(lines)).not.toContain(SECRET_ENV);
  });

  it('records who was refused when authentication fails', async () => {
    const { logger, audits } = capturingLogger();
    const g = await startTestGateway({
      logger,
      authenticate: async (c) => c.json({ error: { code: 'unauthorized', message: 'no' } }, 401),
      operations: { audit: createAuditLog(logger) },
    });
    cleanups.push(() => g.close());
    const res = await fetch(`${g.url}/adapters/weather`, { method: 'DELETE' });
    expect(res.status).toBe(401);
    expect(audits()).toEqual([
      expect.objectContaining({
        action: 'delete',
        kind: 'adapter',
        name: 'weather',
        principal: null,
        status: 401,
        outcome: 'denied',
      }),
    ]);
  });
});

describe('rate limits', () => {
  function clock() {
    let t = 1_000_000;
    return { now: () => t, advance: (ms: number) => (t += ms) };
  }

  it('limits each principal across the control and data planes, 429 with Retry-After', async () => {
    const up = await upstream();
    const time = clock();
    const metrics = createPrometheusMetrics();
    const g = await startTestGateway({
      authenticate: headerPrincipal(),
      operations: { metrics, rateLimits: { perPrincipal: { perSecond: 1, burst: 3 }, now: time.now } },
    });
    cleanups.push(() => g.close());
    await g.registerRemoteAdapter('json', [`${up.url}/mcp`]);

    // The registration above was local-user traffic; alice starts with a full bucket of 3.
    expect((await fetch(`${g.url}/adapters`, { headers: as('alice') })).status).toBe(200);
    expect((await fetch(`${g.url}/adapters/json`, { headers: as('alice') })).status).toBe(200);
    const call = (user: string) =>
      fetch(`${g.url}/adapters/json/mcp`, {
        method: 'POST',
        headers: modernToolCallHeaders('echo', as(user)),
        body: toolsCall('echo'),
      });
    expect((await call('alice')).status).toBe(200);

    const control = await fetch(`${g.url}/adapters`, { headers: as('alice') });
    expect(control.status).toBe(429);
    expect(control.headers.get('retry-after')).toBe('1');
    expect(control.headers.get('x-request-id')).toBeTruthy();
    expect(await control.json()).toEqual({
      error: { code: 'rate_limited', message: "Too many requests from 'alice'; retry in 1 s." },
    });
    const data = await call('alice');
    expect(data.status).toBe(429);
    expect(data.headers.get('retry-after')).toBe('1');
    expect(await data.json()).toEqual({
      jsonrpc: '2.0',
      id: null,
      error: { code: -32000, message: "Too many requests from 'alice'; retry in 1 s." },
    });
    // Nobody else is affected, and unauthenticated probes are never limited.
    expect((await call('bob')).status).toBe(200);
    expect((await fetch(`${g.url}/healthz`, { headers: as('alice') })).status).toBe(200);

    time.advance(1000);
    expect((await call('alice')).status).toBe(200);
    expect(sample(await scrape(g), 'mcp_gateway_rate_limited_total', { scope: 'principal' })).toBe(2);
  });

  it('limits each adapter for every caller with a JSON-RPC 429', async () => {
    const up = await upstream();
    const time = clock();
    const g = await startTestGateway({
      authenticate: headerPrincipal(),
      operations: { rateLimits: { perAdapter: { perSecond: 0.5, burst: 1 }, now: time.now } },
    });
    cleanups.push(() => g.close());
    await g.registerRemoteAdapter('one', [`${up.url}/mcp`]);
    await g.registerRemoteAdapter('two', [`${up.url}/mcp`]);
    const call = (adapter: string, user: string) =>
      fetch(`${g.url}/adapters/${adapter}/mcp`, {
        method: 'POST',
        headers: modernToolCallHeaders('echo', as(user)),
        body: toolsCall('echo'),
      });
    expect((await call('one', 'alice')).status).toBe(200);
    const limited = await call('one', 'bob');
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('2');
    expect(((await limited.json()) as { error: { message: string } }).error.message).toBe(
      "Too many requests for adapter 'one'; retry in 2 s.",
    );
    expect((await call('two', 'bob')).status).toBe(200);
    // The control plane is not limited per adapter.
    expect((await fetch(`${g.url}/adapters/one`)).status).toBe(200);
    time.advance(2000);
    expect((await call('one', 'bob')).status).toBe(200);
  });
});

describe.each(['node', 'hono', 'fetch'] as const)('W3C trace context with the %s forwarder', (io) => {
  it('reaches the upstream unchanged, and none is invented when the caller sent none', async () => {
    const up = await upstream();
    const g = await startTestGateway({ io });
    cleanups.push(() => g.close());
    await g.registerRemoteAdapter('json', [`${up.url}/mcp`]);
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const tracestate = 'congo=t61rcWkgMzE,rojo=00f067aa0ba902b7';
    const baggage = 'userId=alice,serverNode=DF%2028';
    const call = (extra: Record<string, string>) =>
      fetch(`${g.url}/adapters/json/mcp`, {
        method: 'POST',
        headers: modernToolCallHeaders('echo', extra),
        body: toolsCall('echo'),
      });
    expect((await call({ traceparent, tracestate, baggage })).status).toBe(200);
    expect((await call({})).status).toBe(200);
    expect(up.seen[0]).toMatchObject({ traceparent, tracestate, baggage });
    expect(up.seen[1]).not.toHaveProperty('traceparent');
    expect(up.seen[1]).not.toHaveProperty('tracestate');
  });
});
