/**
 * Trace spans through a real gateway on a socket, on both MCP front ends (the Node listener's fast path and the
 * Hono route): the caller's trace continues in the gateway's SERVER span, each upstream attempt is a CLIENT span,
 * and the upstream's parent is that CLIENT span, not the caller's.
 */
import { createServer } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace';
import { afterEach, describe, expect, it } from 'vitest';
import { parseTracingConfig } from '../../config/index.js';
import { modernToolCallBody, modernToolCallHeaders } from '../../../test/modern-requests.js';
import { startTestGateway } from '../../../test/test-gateway.js';
import { createTracing } from './otel/index.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const CALLER_SPAN = '00f067aa0ba902b7';

/** An upstream answering every POST with a JSON-RPC result, remembering the headers and bodies it got. */
async function recordingUpstream() {
  const seen: IncomingHttpHeaders[] = [];
  const bodies: string[] = [];
  const server = createServer((req, res) => {
    seen.push(req.headers);
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.once('end', () => {
      bodies.push(Buffer.concat(chunks).toString('utf8'));
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ jsonrpc: '2.0', id: 1, result: { content: [] } }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise((resolve) => server.close(resolve)));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`, seen, bodies };
}

const toolsCall = (extra: Record<string, string>) => ({
  method: 'POST',
  headers: modernToolCallHeaders('echo', extra),
  body: modernToolCallBody('echo', {}, 7),
});

describe.each(['node', 'hono'] as const)('data-plane tracing through the %s front end', (io) => {
  async function tracedGateway() {
    const exporter = new InMemorySpanExporter();
    const tracing = createTracing(parseTracingConfig({}), { exporter });
    const gateway = await startTestGateway({ io, operations: { tracing } });
    cleanups.push(
      () => gateway.close(),
      () => tracing.shutdown(),
    );
    const upstream = await recordingUpstream();
    await gateway.registerRemoteAdapter('weather', [upstream.url]);
    return { gateway, upstream, spans: () => exporter.getFinishedSpans() };
  }

  it("continues the caller's trace and makes the upstream attempt the upstream's parent", async () => {
    const { gateway, upstream, spans } = await tracedGateway();
    const res = await fetch(
      `${gateway.url}/adapters/weather/mcp`,
      toolsCall({ traceparent: `00-${TRACE_ID}-${CALLER_SPAN}-01`, tracestate: 'vendor=1' }),
    );
    expect(res.status).toBe(200);
    await res.text();

    const server = spans().find((s) => s.kind === SpanKind.SERVER && s.name === 'tools/call echo');
    const client = spans().find((s) => s.kind === SpanKind.CLIENT);
    expect(
      server,
      spans()
        .map((s) => s.name)
        .join(', '),
    ).toBeDefined();
    expect(server!.spanContext().traceId).toBe(TRACE_ID);
    expect(server!.parentSpanContext?.spanId).toBe(CALLER_SPAN);
    expect(server!.attributes).toMatchObject({
      'mcp.method.name': 'tools/call',
      'gen_ai.tool.name': 'echo',
      'jsonrpc.request.id': '7',
      'mcp.protocol.version': '2026-07-28',
      'mcp_gateway.adapter': 'weather',
      'http.response.status_code': 200,
    });
    expect(client!.parentSpanContext?.spanId).toBe(server!.spanContext().spanId);
    expect(client!.attributes).toMatchObject({
      'server.address': '127.0.0.1',
      'http.response.status_code': 200,
    });

    // The upstream sees the gateway's attempt as its parent, in the caller's trace, with the caller's state.
    const sent = upstream.seen.at(-1)!;
    expect(sent.traceparent).toBe(`00-${TRACE_ID}-${client!.spanContext().spanId}-01`);
    expect(sent.tracestate).toBe('vendor=1');
  });

  it("continues a trace named only in the body's _meta (SEP-414), forwarding the body unchanged", async () => {
    const { gateway, upstream, spans } = await tracedGateway();
    const message = JSON.parse(modernToolCallBody('echo', {}, 8)) as {
      params: { _meta: Record<string, unknown> };
    };
    message.params._meta.traceparent = `00-${TRACE_ID}-${CALLER_SPAN}-01`;
    message.params._meta.tracestate = 'vendor=2';
    const body = JSON.stringify(message);
    const res = await fetch(`${gateway.url}/adapters/weather/mcp`, {
      method: 'POST',
      headers: modernToolCallHeaders('echo'),
      body,
    });
    expect(res.status).toBe(200);
    await res.text();

    const server = spans().find((s) => s.kind === SpanKind.SERVER && s.name === 'tools/call echo');
    const client = spans().find((s) => s.kind === SpanKind.CLIENT);
    expect(server?.spanContext().traceId).toBe(TRACE_ID);
    expect(server!.parentSpanContext?.spanId).toBe(CALLER_SPAN);
    expect(server!.attributes).toMatchObject({ 'mcp_gateway.adapter': 'weather' });
    expect(client!.parentSpanContext?.spanId).toBe(server!.spanContext().spanId);
    // The header names the gateway's attempt; the client's body, its own `_meta` included, is not rewritten.
    expect(upstream.seen.at(-1)!.traceparent).toBe(`00-${TRACE_ID}-${client!.spanContext().spanId}-01`);
    expect(upstream.seen.at(-1)!.tracestate).toBe('vendor=2');
    expect(upstream.bodies.at(-1)).toBe(body);
  });

  it('prefers the traceparent header over _meta when both are sent', async () => {
    const { gateway, spans } = await tracedGateway();
    const message = JSON.parse(modernToolCallBody('echo', {}, 9)) as {
      params: { _meta: Record<string, unknown> };
    };
    message.params._meta.traceparent = `00-${'1'.repeat(32)}-${'2'.repeat(16)}-01`;
    const res = await fetch(`${gateway.url}/adapters/weather/mcp`, {
      method: 'POST',
      headers: modernToolCallHeaders('echo', { traceparent: `00-${TRACE_ID}-${CALLER_SPAN}-01` }),
      body: JSON.stringify(message),
    });
    await res.text();
    const server = spans().find((s) => s.kind === SpanKind.SERVER && s.name === 'tools/call echo');
    expect(server?.spanContext().traceId).toBe(TRACE_ID);
    expect(server!.parentSpanContext?.spanId).toBe(CALLER_SPAN);
  });

  it('starts a new trace for a caller without one, and still records refusals', async () => {
    const { gateway, upstream, spans } = await tracedGateway();
    await (await fetch(`${gateway.url}/adapters/weather/mcp`, toolsCall({}))).text();
    const server = spans().find((s) => s.kind === SpanKind.SERVER && s.name === 'tools/call echo')!;
    expect(server.parentSpanContext).toBeUndefined();
    expect(upstream.seen.at(-1)!.traceparent).toContain(server.spanContext().traceId);

    const refused = await fetch(`${gateway.url}/adapters/nowhere/mcp`, toolsCall({}));
    expect(refused.status).toBe(404);
    await refused.text();
    const notFound = spans().find((s) => s.attributes['http.response.status_code'] === 404);
    expect(notFound?.kind).toBe(SpanKind.SERVER);
  });

  it('traces the control plane by route pattern', async () => {
    const { gateway, spans } = await tracedGateway();
    await (await fetch(`${gateway.url}/adapters/weather`)).text();
    expect(spans().map((s) => s.name)).toContain('GET /adapters/:name');
  });
});
