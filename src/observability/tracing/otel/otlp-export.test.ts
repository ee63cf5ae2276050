/**
 * The real OTLP/HTTP exporter against a fake collector: what reaches the wire (path, headers, JSON payload), and
 * a collector that is down (bounded shutdown, throttled warnings without secrets).
 */
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { parseTracingConfig } from '../../../config/tracing-config.js';
import { createLogger } from '../../logger.js';
import { createTracing } from './create-tracing.js';

const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
const PARENT_ID = 'b7ad6b7169203331';
const SECRET = 'Bearer s3cr3t-collector-token';

interface Export {
  readonly method: string | undefined;
  readonly path: string | undefined;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** A minimal OTLP/HTTP receiver on 127.0.0.1 that records each request and answers 200 `{}`. */
async function startCollector(): Promise<{ base: string; exports: Export[]; server: Server }> {
  const exports: Export[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      exports.push({
        method: req.method,
        path: req.url,
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, exports, server };
}

/** A port nothing listens on: connections are refused. */
async function refusedBase(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

function capturedLogger() {
  const lines: string[] = [];
  const logger = createLogger({
    level: 'info',
    destination: { write: (line: string) => void lines.push(line) },
  });
  return { logger, lines };
}

type OtlpValue = { stringValue?: string; intValue?: number | string };
type OtlpAttribute = { key: string; value: OtlpValue };
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: OtlpAttribute[];
  status: { code?: number };
}
interface OtlpRequest {
  resourceSpans: {
    resource: { attributes: OtlpAttribute[] };
    scopeSpans: { scope: { name: string; version?: string }; spans: OtlpSpan[] }[];
  }[];
}

const attributesOf = (attributes: OtlpAttribute[]) =>
  Object.fromEntries(attributes.map(({ key, value }) => [key, value.stringValue ?? value.intValue]));

describe('OTLP/HTTP export', () => {
  it('POSTs JSON to <endpoint>/v1/traces with the configured headers, resource and spans', async () => {
    const collector = await startCollector();
    const config = parseTracingConfig({
      OTEL_EXPORTER_OTLP_ENDPOINT: `${collector.base}/`,
      OTEL_EXPORTER_OTLP_HEADERS: `authorization=${encodeURIComponent(SECRET)},x-tenant=acme`,
      OTEL_SERVICE_NAME: 'gateway-export-test',
      OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=ci',
    });
    const tracing = createTracing(config, { serviceVersion: '9.9.9' });
    expect(tracing.enabled).toBe(true);

    const server = tracing.startServer(
      'POST /adapters/:name/mcp',
      { traceparent: `00-${TRACE_ID}-${PARENT_ID}-01` },
      { 'mcp.method.name': 'tools/call' },
    );
    const client = server.startClient('tools/call echo', { 'server.port': 8080 });
    client.end({ status: 200 });
    server.end({ status: 500 });
    await tracing.shutdown();

    expect(collector.exports).toHaveLength(1);
    const [request] = collector.exports;
    expect(request?.method).toBe('POST');
    expect(request?.path).toBe('/v1/traces');
    // 0.223's OTLP/HTTP exporter sends JSON (protobuf is another package).
    expect(request?.headers['content-type']).toBe('application/json');
    expect(request?.headers.authorization).toBe(SECRET);
    expect(request?.headers['x-tenant']).toBe('acme');

    const payload = JSON.parse(request?.body ?? '') as OtlpRequest;
    const [resourceSpans] = payload.resourceSpans;
    expect(attributesOf(resourceSpans?.resource.attributes ?? [])).toMatchObject({
      'service.name': 'gateway-export-test',
      'service.version': '9.9.9',
      'deployment.environment.name': 'ci',
    });
    const [scope] = resourceSpans?.scopeSpans ?? [];
    expect(scope?.scope).toMatchObject({ name: 'mcp-gateway', version: '9.9.9' });
    const spans = scope?.spans ?? [];
    expect(spans.map((s) => s.name)).toEqual(['tools/call echo', 'POST /adapters/:name/mcp']);
    const [c, s] = spans;
    // OTLP/JSON carries ids as hex strings; kinds as enum numbers (SERVER 2, CLIENT 3); ERROR is 2.
    expect(spans.every((span) => span.traceId === TRACE_ID)).toBe(true);
    expect(s?.parentSpanId).toBe(PARENT_ID);
    expect(c?.parentSpanId).toBe(s?.spanId);
    expect([s?.kind, c?.kind]).toEqual([2, 3]);
    expect(s?.status.code).toBe(2);
    expect(attributesOf(s?.attributes ?? [])).toMatchObject({
      'mcp.method.name': 'tools/call',
      'http.response.status_code': 500,
    });
  });

  it('with the collector down, shutdown resolves within its bound and nothing throws', async () => {
    const { logger, lines } = capturedLogger();
    const config = parseTracingConfig({
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${await refusedBase()}/v1/traces`,
      OTEL_EXPORTER_OTLP_HEADERS: `authorization=${encodeURIComponent(SECRET)}`,
    });
    // Default export timeout (10 s, retrying) and default shutdown bound (5 s).
    const tracing = createTracing(config, { logger });
    for (let i = 0; i < 10; i++) tracing.startServer('GET /', {}).end({ status: 200 });

    // The shutdown's own bound ends the wait (the export would retry for 10 s), and says so.
    await expect(tracing.shutdown()).resolves.toBeUndefined();
    expect(lines.join('\n')).toContain('trace export on shutdown timed out');
    expect(lines.join('\n')).not.toContain('s3cr3t');
  });

  it('with the collector down and a short export timeout, logs the failure once, without header values', async () => {
    const { logger, lines } = capturedLogger();
    const config = parseTracingConfig({
      OTEL_EXPORTER_OTLP_ENDPOINT: await refusedBase(),
      OTEL_EXPORTER_OTLP_TRACES_HEADERS: `authorization=${encodeURIComponent(SECRET)}`,
      OTEL_EXPORTER_OTLP_TIMEOUT: '1500',
    });
    const tracing = createTracing(config, { logger });
    for (let i = 0; i < 3; i++) tracing.startServer('GET /', {}).end();

    await tracing.shutdown();
    // The short export timeout ends the export before the shutdown's own bound does.
    expect(lines.join('\n')).not.toContain('trace export on shutdown timed out');
    const warnings = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.level === 40);
    expect(warnings.find((w) => w.msg === 'trace export failed; spans dropped')).toMatchObject({
      failedExports: 1,
      droppedSpans: 3,
      error: expect.stringContaining('ECONNREFUSED'),
    });
    expect(lines.join('\n')).not.toContain('s3cr3t');
    expect(lines.join('\n')).toContain('"endpoint":"http://127.0.0.1:');
  });
});
