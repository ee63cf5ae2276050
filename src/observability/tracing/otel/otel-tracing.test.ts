/** Tests of the OpenTelemetry tracing: parents, children, propagation, status, samplers — on the real SDK. */
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { TraceSamplerName, TracingConfig } from '../../../config/tracing-config.js';
import { NO_TRACING } from '../tracing.js';
import type { Tracing } from '../tracing.js';
import { createTracing } from './create-tracing.js';

const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
const PARENT_ID = 'b7ad6b7169203331';
const SAMPLED = `00-${TRACE_ID}-${PARENT_ID}-01`;
const UNSAMPLED = `00-${TRACE_ID}-${PARENT_ID}-00`;
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-(0[01])$/;

function config(sampler: TraceSamplerName = 'parentbased_always_on', ratio = 1): TracingConfig {
  return {
    exporter: { kind: 'none' },
    serviceName: 'gateway-under-test',
    resourceAttributes: { 'deployment.environment.name': 'test' },
    sampler: { name: sampler, ratio },
  };
}

const open: Tracing[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.shutdown()));
});

function setup(sampler?: TraceSamplerName, ratio?: number) {
  const exporter = new InMemorySpanExporter();
  const tracing = createTracing(config(sampler, ratio), { exporter, serviceVersion: '1.2.3' });
  open.push(tracing);
  const spans = () => exporter.getFinishedSpans();
  const only = (): ReadableSpan => {
    expect(spans()).toHaveLength(1);
    return spans()[0]!;
  };
  return { tracing, spans, only };
}

describe('createTracing', () => {
  it('is NO_TRACING when no exporter is configured or injected', () => {
    expect(createTracing(config())).toBe(NO_TRACING);
  });

  it('writes each span to the console as it ends with the console exporter', async () => {
    // ConsoleSpanExporter prints with console.dir; silenced and counted here.
    const dir = vi.spyOn(console, 'dir').mockImplementation(() => undefined);
    try {
      const tracing = createTracing({ ...config(), exporter: { kind: 'console' } });
      expect(tracing.enabled).toBe(true);
      tracing.startServer('GET /', {}).end();
      expect(dir).toHaveBeenCalledWith(expect.objectContaining({ name: 'GET /', kind: SpanKind.SERVER }), {
        depth: expect.any(Number),
      });
      await tracing.shutdown();
    } finally {
      dir.mockRestore();
    }
  });

  it('registers no global provider: the API’s own tracer stays a no-op', () => {
    const { tracing } = setup();
    tracing.startServer('GET /', {}).end();
    expect(trace.getTracer('someone-else').startSpan('x').isRecording()).toBe(false);
  });

  it('describes the service in the resource', () => {
    const { tracing, only } = setup();
    tracing.startServer('GET /', {}).end();
    expect(only().resource.attributes).toMatchObject({
      'service.name': 'gateway-under-test',
      'service.version': '1.2.3',
      'deployment.environment.name': 'test',
      'telemetry.sdk.name': 'opentelemetry',
    });
  });
});

describe('startServer', () => {
  it('starts a new trace without a traceparent', () => {
    const { tracing, only } = setup();
    const span = tracing.startServer('GET /items/:id', {}, { 'http.route': '/items/:id', absent: undefined });
    span.end({ status: 200 });
    const s = only();
    expect(s.name).toBe('GET /items/:id');
    expect(s.kind).toBe(SpanKind.SERVER);
    expect(s.parentSpanContext).toBeUndefined();
    expect(s.spanContext().traceId).toBe(span.traceId);
    expect(span.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(s.attributes).toEqual({ 'http.route': '/items/:id', 'http.response.status_code': 200 });
  });

  it('continues the trace of a valid traceparent, keeping its tracestate', () => {
    const { tracing, only } = setup();
    const span = tracing.startServer('POST /mcp', { traceparent: SAMPLED, tracestate: 'vendor=abc,other=1' });
    expect(span.traceId).toBe(TRACE_ID);
    expect(span.propagationHeaders().tracestate).toBe('vendor=abc,other=1');
    span.end();
    const s = only();
    expect(s.spanContext().traceId).toBe(TRACE_ID);
    expect(s.parentSpanContext).toMatchObject({ traceId: TRACE_ID, spanId: PARENT_ID, isRemote: true });
  });

  it.each([
    ['upper-case hex', `00-${TRACE_ID.toUpperCase()}-${PARENT_ID}-01`],
    ['all-zero trace id', `00-${'0'.repeat(32)}-${PARENT_ID}-01`],
    ['all-zero parent id', `00-${TRACE_ID}-${'0'.repeat(16)}-01`],
    ['version ff', `ff-${TRACE_ID}-${PARENT_ID}-01`],
    ['version 00 with a trailing field', `00-${TRACE_ID}-${PARENT_ID}-01-extra`],
    ['short trace id', `00-${TRACE_ID.slice(1)}-${PARENT_ID}-01`],
    ['long parent id', `00-${TRACE_ID}-${PARENT_ID}0-01`],
    ['non-hex', `00-${TRACE_ID.replace('a', 'g')}-${PARENT_ID}-01`],
    ['missing flags', `00-${TRACE_ID}-${PARENT_ID}`],
    ['wrong separators', `00_${TRACE_ID}_${PARENT_ID}_01`],
    ['two headers joined', `${SAMPLED}, ${SAMPLED}`],
    ['garbage', 'not a traceparent'],
    ['empty', ''],
  ])('ignores a traceparent with %s and starts a new trace', (_label, traceparent) => {
    const { tracing, only } = setup();
    const span = tracing.startServer('GET /', { traceparent, tracestate: 'vendor=abc' });
    span.end();
    expect(span.traceId).not.toBe(TRACE_ID);
    expect(span.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(only().parentSpanContext).toBeUndefined();
    // Without a valid parent, its tracestate is dropped too.
    expect(span.propagationHeaders().tracestate).toBeUndefined();
  });

  it('reads a later version forward-compatibly, trailing fields included', () => {
    const { tracing } = setup();
    const span = tracing.startServer('GET /', { traceparent: `01-${TRACE_ID}-${PARENT_ID}-01-future` });
    expect(span.traceId).toBe(TRACE_ID);
    span.end();
  });
});

describe('startClient and propagationHeaders', () => {
  it('parents a CLIENT span to the server span, in the same trace', () => {
    const { tracing, spans } = setup();
    const server = tracing.startServer('POST /adapters/:name/mcp', { traceparent: SAMPLED });
    const client = server.startClient('tools/call echo', {
      'server.address': '127.0.0.1',
      'server.port': 8080,
    });
    client.end({ status: 200 });
    server.end({ status: 200 });
    const [c, s] = spans();
    expect(c!.kind).toBe(SpanKind.CLIENT);
    expect(c!.name).toBe('tools/call echo');
    expect(c!.spanContext().traceId).toBe(TRACE_ID);
    expect(c!.parentSpanContext?.spanId).toBe(s!.spanContext().spanId);
    expect(c!.attributes).toMatchObject({ 'server.address': '127.0.0.1', 'server.port': 8080 });
    expect(s!.parentSpanContext?.spanId).toBe(PARENT_ID);
  });

  it('names the client span as the upstream’s parent', () => {
    const { tracing, spans } = setup();
    const server = tracing.startServer('POST /mcp', { traceparent: SAMPLED });
    const client = server.startClient('attempt');
    const headers = client.propagationHeaders();
    client.end();
    server.end();
    const [, traceId, parentId, flags] = TRACEPARENT.exec(headers.traceparent ?? '') ?? [];
    expect(traceId).toBe(TRACE_ID);
    expect(parentId).toBe(spans()[0]!.spanContext().spanId);
    expect(flags).toBe('01');
    expect(headers).not.toHaveProperty('tracestate');
  });
});

describe('end', () => {
  it('marks a SERVER span ERROR at 500, with error.type', () => {
    const { tracing, only } = setup();
    tracing.startServer('GET /', {}).end({ status: 500 });
    expect(only().status).toEqual({ code: SpanStatusCode.ERROR });
    expect(only().attributes).toMatchObject({ 'http.response.status_code': 500, 'error.type': '500' });
  });

  it('leaves a SERVER span UNSET at 404: the client’s mistake', () => {
    const { tracing, only } = setup();
    tracing.startServer('GET /', {}).end({ status: 404 });
    expect(only().status.code).toBe(SpanStatusCode.UNSET);
    expect(only().attributes).not.toHaveProperty('error.type');
  });

  it('marks a CLIENT span ERROR at 404: the call failed', () => {
    const { tracing, spans } = setup();
    const server = tracing.startServer('GET /', {});
    server.startClient('attempt').end({ status: 404 });
    server.end({ status: 502 });
    expect(spans().map((s) => s.status.code)).toEqual([SpanStatusCode.ERROR, SpanStatusCode.ERROR]);
  });

  it('marks ERROR with the message given, keeping an error.type already set', () => {
    const { tracing, only } = setup();
    const span = tracing.startServer('GET /', {});
    span.setAttributes({ 'error.type': 'timeout' });
    span.end({ error: 'upstream timed out' });
    expect(only().status).toEqual({ code: SpanStatusCode.ERROR, message: 'upstream timed out' });
    expect(only().attributes['error.type']).toBe('timeout');
  });

  it('ends once; later attributes and ends are ignored', () => {
    const { tracing, only } = setup();
    const span = tracing.startServer('GET /', {});
    span.end({ status: 200 });
    span.setAttributes({ late: true });
    span.end({ status: 500 });
    expect(only().status.code).toBe(SpanStatusCode.UNSET);
    expect(only().attributes).not.toHaveProperty('late');
  });
});

describe('samplers', () => {
  it('always_off records nothing yet still propagates a valid, unsampled traceparent', () => {
    const { tracing, spans } = setup('always_off');
    const server = tracing.startServer('GET /', {});
    const client = server.startClient('attempt');
    const [, traceId, parentId, flags] =
      TRACEPARENT.exec(client.propagationHeaders().traceparent ?? '') ?? [];
    client.end({ status: 500 });
    server.end({ status: 500 });
    expect(spans()).toEqual([]);
    expect(traceId).toBe(server.traceId);
    expect(parentId).not.toBe('0'.repeat(16));
    expect(flags).toBe('00');
  });

  it('always_off keeps the caller’s trace id', () => {
    const { tracing, spans } = setup('always_off');
    const span = tracing.startServer('GET /', { traceparent: SAMPLED });
    expect(span.traceId).toBe(TRACE_ID);
    expect(span.propagationHeaders().traceparent).toMatch(new RegExp(`^00-${TRACE_ID}-[0-9a-f]{16}-00$`));
    span.end();
    expect(spans()).toEqual([]);
  });

  it('parentbased_always_on follows an unsampled parent: nothing recorded, 00 propagated', () => {
    const { tracing, spans } = setup('parentbased_always_on');
    const span = tracing.startServer('GET /', { traceparent: UNSAMPLED });
    const client = span.startClient('attempt');
    expect(client.propagationHeaders().traceparent).toMatch(new RegExp(`^00-${TRACE_ID}-[0-9a-f]{16}-00$`));
    client.end();
    span.end();
    expect(spans()).toEqual([]);
  });

  it('parentbased_always_off records a sampled parent’s trace only', () => {
    const { tracing, spans } = setup('parentbased_always_off');
    tracing.startServer('with sampled parent', { traceparent: SAMPLED }).end();
    tracing.startServer('new trace', {}).end();
    expect(spans().map((s) => s.name)).toEqual(['with sampled parent']);
  });

  it('always_on records even under an unsampled parent', () => {
    const { tracing, only } = setup('always_on');
    tracing.startServer('GET /', { traceparent: UNSAMPLED }).end();
    expect(only().spanContext().traceId).toBe(TRACE_ID);
  });

  it('traceidratio 0 records nothing, 1 everything', () => {
    const none = setup('traceidratio', 0);
    const all = setup('traceidratio', 1);
    for (let i = 0; i < 20; i++) {
      none.tracing.startServer('GET /', {}).end();
      all.tracing.startServer('GET /', {}).end();
    }
    expect(none.spans()).toHaveLength(0);
    expect(all.spans()).toHaveLength(20);
  });

  it('parentbased_traceidratio follows a sampled parent even at ratio 0', () => {
    const { tracing, spans } = setup('parentbased_traceidratio', 0);
    tracing.startServer('followed', { traceparent: SAMPLED }).end();
    tracing.startServer('new trace', {}).end();
    expect(spans().map((s) => s.name)).toEqual(['followed']);
  });
});

describe('shutdown', () => {
  it('resolves once, to the same promise, and exports nothing after', async () => {
    const { tracing, spans } = setup();
    const first = tracing.shutdown();
    expect(tracing.shutdown()).toBe(first);
    await first;
    tracing.startServer('late', {}).end();
    expect(spans()).toEqual([]);
  });
});
