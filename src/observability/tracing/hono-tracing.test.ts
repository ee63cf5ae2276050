/** Tests of the tracing middleware on a small Hono app, with the real SDK and an in-memory exporter. */
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace';
import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { afterEach, describe, expect, it } from 'vitest';
import type { AppEnv } from '../../http/index.js';
import { requestSpan, tracingMiddleware } from './hono-tracing.js';
import { createTracing } from './otel/index.js';
import { NO_SPAN, NO_TRACING } from './tracing.js';
import type { SpanHandle, Tracing } from './tracing.js';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT_ID = '00f067aa0ba902b7';

const open: Tracing[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.shutdown()));
});

function tracedApp(tracing?: Tracing) {
  const exporter = new InMemorySpanExporter();
  const t =
    tracing ??
    createTracing(
      {
        exporter: { kind: 'none' },
        serviceName: 'test',
        resourceAttributes: {},
        sampler: { name: 'parentbased_always_on', ratio: 1 },
      },
      { exporter },
    );
  open.push(t);
  const seen: SpanHandle[] = [];
  const app = new Hono<AppEnv>();
  // Like the gateway's own handler: errors that render themselves keep their status, others become 500.
  app.onError((err, c) =>
    err instanceof HTTPException ? err.getResponse() : c.json({ error: 'internal' }, 500),
  );
  app.use('*', tracingMiddleware(t));
  app.use('/private/*', async (c, next) => {
    if (!c.req.header('authorization')) return c.json({ error: 'no' }, 401);
    await next();
  });
  app.get('/items/:id', (c) => {
    seen.push(requestSpan(c));
    return c.json({ id: c.req.param('id') });
  });
  app.get('/private/:id', (c) => c.text('secret'));
  app.post('/upstream/:name', (c) => {
    const attempt = requestSpan(c).startClient('attempt', { 'server.port': 9 });
    const headers = attempt.propagationHeaders();
    attempt.end({ status: 200 });
    return c.json(headers);
  });
  app.get('/missing/:id', () => {
    throw new HTTPException(404, { message: 'No such thing.' });
  });
  app.get('/crash', () => {
    throw new TypeError('boom with user data');
  });
  return { app, spans: () => exporter.getFinishedSpans(), seen };
}

describe('tracingMiddleware', () => {
  it('names the span by route pattern, never by the raw path, and records the request', async () => {
    const { app, spans } = tracedApp();
    const res = await app.request('/items/42', { headers: { 'user-agent': 'test-agent/1' } });
    expect(res.status).toBe(200);
    const [span] = spans();
    expect(span?.name).toBe('GET /items/:id');
    expect(span?.kind).toBe(SpanKind.SERVER);
    expect(span?.attributes).toEqual({
      'http.request.method': 'GET',
      'url.path': '/items/42',
      'http.route': '/items/:id',
      'user_agent.original': 'test-agent/1',
      'http.response.status_code': 200,
    });
    expect(span?.status.code).toBe(SpanStatusCode.UNSET);
  });

  it('continues the trace of the request’s traceparent', async () => {
    const { app, spans } = tracedApp();
    await app.request('/items/1', { headers: { traceparent: `00-${TRACE_ID}-${PARENT_ID}-01` } });
    const [span] = spans();
    expect(span?.spanContext().traceId).toBe(TRACE_ID);
    expect(span?.parentSpanContext?.spanId).toBe(PARENT_ID);
  });

  it('hands the span to handlers: their CLIENT spans are its children and propagate from it', async () => {
    const { app, spans } = tracedApp();
    const res = await app.request('/upstream/a', {
      method: 'POST',
      headers: { traceparent: `00-${TRACE_ID}-${PARENT_ID}-01` },
    });
    const propagated = (await res.json()) as { traceparent: string };
    const [client, server] = spans();
    expect(client?.kind).toBe(SpanKind.CLIENT);
    expect(client?.parentSpanContext?.spanId).toBe(server?.spanContext().spanId);
    expect(propagated.traceparent).toBe(`00-${TRACE_ID}-${client?.spanContext().spanId}-01`);
    expect(server?.name).toBe('POST /upstream/:name');
  });

  it('keeps the route when a middleware answers, and a 401 or 404 is no server error', async () => {
    const { app, spans } = tracedApp();
    expect((await app.request('/private/7')).status).toBe(401);
    expect((await app.request('/missing/7')).status).toBe(404);
    const [denied, missing] = spans();
    expect(denied?.name).toBe('GET /private/:id');
    expect(denied?.attributes['http.response.status_code']).toBe(401);
    expect(missing?.name).toBe('GET /missing/:id');
    expect([denied?.status.code, missing?.status.code]).toEqual([SpanStatusCode.UNSET, SpanStatusCode.UNSET]);
    expect(missing?.attributes).not.toHaveProperty('error.type');
  });

  it('marks a 500 ERROR with the exception’s type, not its message', async () => {
    const { app, spans } = tracedApp();
    expect((await app.request('/crash')).status).toBe(500);
    const [span] = spans();
    expect(span?.name).toBe('GET /crash');
    expect(span?.status).toEqual({ code: SpanStatusCode.ERROR });
    expect(span?.attributes['error.type']).toBe('TypeError');
    expect(JSON.stringify(span?.attributes)).not.toContain('user data');
  });

  it('names an unmatched request by method alone, without http.route', async () => {
    const { app, spans } = tracedApp();
    expect((await app.request('/nowhere/123')).status).toBe(404);
    const [span] = spans();
    expect(span?.name).toBe('GET');
    expect(span?.attributes).not.toHaveProperty('http.route');
    expect(span?.attributes['url.path']).toBe('/nowhere/123');
  });

  it('records an unknown method as _OTHER, keeping a client from minting span names', async () => {
    const { app, spans } = tracedApp();
    await app.request('/items/1', { method: 'BREW' });
    const [span] = spans();
    expect(span?.name).toBe('HTTP');
    expect(span?.attributes['http.request.method']).toBe('_OTHER');
    expect(span?.attributes['http.request.method_original']).toBe('BREW');
  });

  it('only calls next with tracing off; handlers see the null span', async () => {
    const { app, seen } = tracedApp(NO_TRACING);
    expect((await app.request('/items/1', { headers: { traceparent: 'garbage' } })).status).toBe(200);
    expect(seen).toEqual([NO_SPAN]);
  });
});
