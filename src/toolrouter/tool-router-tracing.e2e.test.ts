/**
 * One trace from an MCP client through the tool router to a federated adapter's upstream (SEP-414): the caller's
 * trace continues in the gateway's SERVER span, each federated call is a CLIENT span under it, and the upstream —
 * a real SDK 2.x server — receives that CLIENT span's context in the request's `params._meta` and in the
 * `traceparent`/`tracestate` headers, with the router's own `_meta` keys (`progressToken`) kept beside it.
 */
import type { IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace';
import { McpServer, createMcpHandler } from '@modelcontextprotocol/server';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { devAuth } from '../auth/index.js';
import { parseTracingConfig } from '../config/index.js';
import { createTracing } from '../observability/tracing/otel/index.js';
import { Client as LegacyClient } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as LegacyTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  Client as ModernClient,
  StreamableHTTPClientTransport as ModernTransport,
} from '@modelcontextprotocol/client';
import { CLIENT_ERAS } from '../../test/mcp-clients.js';
import { startTestGateway } from '../../test/test-gateway.js';
import type { TestGateway } from '../../test/test-gateway.js';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const CALLER_SPAN = '00f067aa0ba902b7';

interface Received {
  readonly meta: Record<string, unknown> | undefined;
  readonly headers: IncomingHttpHeaders;
}

/** An SDK 2.x server with an `echo` tool, remembering the `_meta` and headers of every `tools/call` it gets. */
async function recordingUpstream() {
  const calls: Received[] = [];
  const handler = createMcpHandler(() => {
    const server = new McpServer({ name: 'traced-upstream', version: '2.0.0' });
    server.registerTool(
      'echo',
      { description: 'Echoes text', inputSchema: z.object({ text: z.string() }) },
      async ({ text }) => ({ content: [{ type: 'text', text }] }),
    );
    return server;
  });
  const app = new Hono();
  app.all('/mcp', async (c) => {
    if (c.req.method === 'POST') {
      const message = (await c.req.raw.clone().json()) as {
        method?: string;
        params?: { _meta?: Record<string, unknown> };
      };
      const incoming = (c.env as { incoming: { headers: IncomingHttpHeaders } }).incoming;
      if (message.method === 'tools/call')
        calls.push({ meta: message.params?._meta, headers: incoming.headers });
    }
    return handler.fetch(c.req.raw);
  });
  const http = await new Promise<Server>((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s as Server));
  });
  return {
    url: `http://127.0.0.1:${(http.address() as AddressInfo).port}/mcp`,
    calls,
    close: () => new Promise<void>((resolve) => http.close(() => resolve())),
  };
}

describe('tool router tracing: trace context in _meta to federated upstreams', () => {
  let gateway: TestGateway;
  let upstream: Awaited<ReturnType<typeof recordingUpstream>>;
  const exporter = new InMemorySpanExporter();
  const tracing = createTracing(parseTracingConfig({}), { exporter });

  beforeAll(async () => {
    upstream = await recordingUpstream();
    gateway = await startTestGateway({ authenticate: devAuth(), toolRouter: {}, operations: { tracing } });
    const res = await fetch(`${gateway.url}/adapters`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-dev-userid': 'alice', 'x-dev-roles': '' },
      body: JSON.stringify({ name: 'traced', endpoints: [upstream.url], federate: true }),
    });
    expect(res.status).toBe(201);
  });
  afterAll(async () => {
    await gateway?.close();
    await tracing.shutdown();
    await upstream?.close();
  });

  describe.each(CLIENT_ERAS)('%s client', (_era, connect) => {
    it('continues one trace client → gateway → upstream, with the context in _meta and the headers', async () => {
      const client = await connect(`${gateway.url}/mcp`, {
        headers: {
          'x-dev-userid': 'alice',
          'x-dev-roles': '',
          traceparent: `00-${TRACE_ID}-${CALLER_SPAN}-01`,
          tracestate: 'vendor=1',
        },
      });
      try {
        const { names } = await client.listAll();
        const echo = names.find((n) => n.startsWith('traced') && n.endsWith('echo'));
        expect(echo, names.join(', ')).toBeDefined();
        exporter.reset();
        const before = upstream.calls.length;
        // With progress asked for, so the router's own `_meta.progressToken` goes up beside the trace context.
        const result = await client.call(echo!, { text: 'hi' }, () => undefined);
        expect(result.isError).not.toBe(true);

        const spans = exporter.getFinishedSpans();
        const names_ = spans.map((s) => `${s.kind}:${s.name}`).join(', ');
        const server = spans.find((s) => s.kind === SpanKind.SERVER && s.attributes['url.path'] === '/mcp');
        const call = spans.find((s) => s.kind === SpanKind.CLIENT && s.name === 'tools/call echo');
        expect(server, names_).toBeDefined();
        expect(call, names_).toBeDefined();
        expect(server!.spanContext().traceId).toBe(TRACE_ID);
        expect(server!.parentSpanContext?.spanId).toBe(CALLER_SPAN);
        expect(call!.spanContext().traceId).toBe(TRACE_ID);
        expect(call!.parentSpanContext?.spanId).toBe(server!.spanContext().spanId);
        expect(call!.attributes).toMatchObject({
          'mcp.method.name': 'tools/call',
          'gen_ai.tool.name': 'echo',
          'mcp_gateway.adapter': 'traced',
        });

        const received = upstream.calls.slice(before);
        expect(received).toHaveLength(1);
        const { meta, headers } = received[0]!;
        const expected = `00-${TRACE_ID}-${call!.spanContext().spanId}-01`;
        expect(meta?.traceparent).toBe(expected);
        expect(meta?.tracestate).toBe('vendor=1');
        expect(meta?.progressToken).toBeDefined();
        // The header says the same; the caller's own header value never reaches the upstream.
        expect(headers.traceparent).toBe(expected);
        expect(headers.tracestate).toBe('vendor=1');
      } finally {
        await client.close();
      }
    });
  });
  /** A `tools/call` whose trace context is only in `params._meta` (no `traceparent` header), on either SDK line. */
  const META_ERAS = [
    [
      'legacy (SDK 1.x)',
      async (url: string, headers: Record<string, string>, params: Record<string, unknown>) => {
        const client = new LegacyClient({ name: 'meta-trace', version: '1.0.0' });
        await client.connect(new LegacyTransport(new URL(url), { requestInit: { headers } }));
        try {
          const { tools } = await client.listTools();
          const name = tools.find((t) => t.name.endsWith('echo'))!.name;
          return await client.callTool({ name, ...params } as { name: string });
        } finally {
          await client.close();
        }
      },
    ],
    [
      'modern (SDK 2.x, 2026-07-28)',
      async (url: string, headers: Record<string, string>, params: Record<string, unknown>) => {
        const client = new ModernClient(
          { name: 'meta-trace', version: '2.0.0' },
          { versionNegotiation: { mode: { pin: '2026-07-28' } } },
        );
        await client.connect(new ModernTransport(new URL(url), { requestInit: { headers } }));
        try {
          const { tools } = await client.listTools();
          const name = tools.find((t) => t.name.endsWith('echo'))!.name;
          return await client.request({ method: 'tools/call', params: { name, ...params } });
        } finally {
          await client.close();
        }
      },
    ],
  ] as const;

  describe.each(META_ERAS)('%s client, trace context in _meta only', (_era, callEcho) => {
    it('the SERVER span continues the caller’s trace, and the upstream gets it in _meta', async () => {
      const before = upstream.calls.length;
      exporter.reset();
      const result = (await callEcho(
        `${gateway.url}/mcp`,
        { 'x-dev-userid': 'alice', 'x-dev-roles': '' },
        {
          arguments: { text: 'hi' },
          _meta: { traceparent: `00-${TRACE_ID}-${CALLER_SPAN}-01`, tracestate: 'vendor=2' },
        },
      )) as { isError?: boolean };
      expect(result.isError).not.toBe(true);
      const spans = exporter.getFinishedSpans();
      const call = spans.find((s) => s.kind === SpanKind.CLIENT && s.name === 'tools/call echo');
      const server = spans.find(
        (s) => s.kind === SpanKind.SERVER && s.spanContext().spanId === call?.parentSpanContext?.spanId,
      );
      expect(server, spans.map((s) => `${s.kind}:${s.name}`).join(', ')).toBeDefined();
      expect(server!.spanContext().traceId).toBe(TRACE_ID);
      expect(server!.parentSpanContext?.spanId).toBe(CALLER_SPAN);
      const received = upstream.calls.slice(before);
      expect(received).toHaveLength(1);
      expect(received[0]!.meta?.traceparent).toBe(`00-${TRACE_ID}-${call!.spanContext().spanId}-01`);
      expect(received[0]!.meta?.tracestate).toBe('vendor=2');
    });
  });
});
