import { describe, expect, it } from 'vitest';
import { createLogger } from '../observability/index.js';
import type { RegistryStore } from '../registry/index.js';
import { openRegistryStore } from '../registry/index.js';
import { createTestApp, imageAdapter, json } from '../../test/test-app.js';

/** Collects pino lines in memory. */
function memoryLogger() {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({
    level: 'info',
    destination: { write: (line: string) => lines.push(JSON.parse(line)) },
  });
  return { logger, lines };
}

describe('health', () => {
  it('answers /healthz, /ping and /readyz while the registry answers', async () => {
    const { app, close } = await createTestApp();
    expect(await (await app.request('/healthz')).json()).toEqual({ status: 'ok' });
    expect((await app.request('/ping')).status).toBe(200);
    const ready = await app.request('/readyz');
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', registry: 'sqlite' });
    await close();
  });

  it('answers /readyz with 503 when the registry does not answer', async () => {
    const store = await openRegistryStore(':memory:');
    const { app } = await createTestApp({ store });
    await store.close();
    const res = await app.request('/readyz');
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ status: 'not ready', reason: 'registry unreachable' });
  });
});

describe('unexpected errors', () => {
  it('logs the error with the request id and answers 500 without internals', async () => {
    const real = await openRegistryStore(':memory:');
    const broken: RegistryStore = Object.assign(Object.create(real) as RegistryStore, {
      get: () => Promise.reject(new Error('disk on fire: /var/secret/path')),
    });
    const { logger, lines } = memoryLogger();
    const { app } = await createTestApp({ store: broken, logger });
    const res = await app.request('/adapters/x', { headers: { 'x-request-id': 'req-123' } });
    expect(res.status).toBe(500);
    expect(res.headers.get('x-request-id')).toBe('req-123');
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error).toEqual({
      code: 'internal_error',
      message: 'Internal server error (request id req-123).',
    });
    const logged = lines.find((l) => l.msg === 'unhandled error');
    expect(logged).toMatchObject({ requestId: 'req-123', level: 50 });
    expect(JSON.stringify(logged)).toContain('disk on fire');
    await real.close();
  });

  it('replaces an unsafe inbound request id with a fresh one', async () => {
    const { app, close } = await createTestApp();
    const res = await app.request('/healthz', { headers: { 'x-request-id': 'bad id\twith spaces' } });
    expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    await close();
  });
});

describe('logs', () => {
  it('never writes environment variable values or the query string', async () => {
    const { logger, lines } = memoryLogger();
    const { app, close } = await createTestApp({ logger });
    await app.request(
      '/adapters',
      json('POST', imageAdapter('a', { environmentVariables: { API_KEY: 'sk-very-secret' } })),
    );
    await app.request('/adapters?cursor=token-in-query');
    const all = JSON.stringify(lines);
    expect(all).not.toContain('sk-very-secret');
    expect(all).not.toContain('token-in-query');
    expect(lines.filter((l) => l.msg === 'request')).toHaveLength(2);
    await close();
  });
});
