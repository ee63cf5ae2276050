/**
 * Who may read `/metrics`: the page names every adapter (other tenants' included), so it reaches an
 * unauthenticated caller only on a loopback gateway or on the metrics listener, and otherwise needs the token.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createApp } from '../runtime/app.js';
import type { AppDeps } from '../runtime/app.js';
import { createRuntimeInspector } from '../deploy/index.js';
import { openRegistryStore } from '../registry/index.js';
import type { RegistryStore } from '../registry/index.js';
import { LOOPBACK_ORIGINS } from '../../test/test-app.js';
import { createSilentLogger } from '../observability/logger.js';
import { createMetricsApp } from './metrics-app.js';
import { createPrometheusMetrics } from '../observability/prometheus/index.js';

const TOKEN = 'metrics-token-0123456789abcdef-0123456789';
const EXPOSED = { ...LOOPBACK_ORIGINS, loopback: false };

const stores: RegistryStore[] = [];
afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.close()));
});

/** An app whose metrics already name a tenant's adapter. */
async function gatewayApp(options: Partial<AppDeps>) {
  const store = await openRegistryStore(':memory:');
  stores.push(store);
  const metrics = createPrometheusMetrics();
  metrics.upstreamError('acme-payroll', 'timeout');
  return createApp({
    store,
    inspector: createRuntimeInspector({ probeTimeoutMs: 100 }),
    logger: createSilentLogger(),
    bodyLimitBytes: 1024 * 1024,
    origins: LOOPBACK_ORIGINS,
    metrics,
    ...options,
  });
}

const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });

describe('/metrics on the main app', () => {
  it('is served to anyone on a loopback gateway by default', async () => {
    const res = await (await gatewayApp({})).request('/metrics');
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('adapter="acme-payroll"');
  });

  it('is not served on a non-loopback gateway without a token: no adapter name reaches the caller', async () => {
    const res = await (await gatewayApp({ origins: EXPOSED })).request('/metrics');
    expect(res.status).toBe(404);
    expect(await res.text()).not.toContain('acme-payroll');
  });

  it('is not served when a metrics listener serves it (metricsRoute: false), even on loopback', async () => {
    expect((await (await gatewayApp({ metricsRoute: false })).request('/metrics')).status).toBe(404);
  });

  it('needs the bearer token when one is set: 401 without it or with a wrong one, 200 with it', async () => {
    const app = await gatewayApp({ origins: EXPOSED, metricsRoute: { token: TOKEN } });
    const refused = [
      {},
      bearer(TOKEN.slice(0, -1)),
      bearer(`${TOKEN}x`),
      bearer(`${TOKEN.slice(0, -1)}Y`),
      bearer(''),
      { headers: { authorization: TOKEN } },
      { headers: { authorization: `Basic ${btoa(`metrics:${TOKEN}`)}` } },
    ];
    for (const init of refused) {
      const res = await app.request('/metrics', init);
      expect(res.status, JSON.stringify(init)).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer realm="metrics"');
      const text = await res.text();
      expect(text).not.toContain('acme-payroll');
      expect(text).not.toContain(TOKEN);
      expect(JSON.parse(text)).toMatchObject({ error: { code: 'unauthorized' } });
    }
    for (const authorization of [`Bearer ${TOKEN}`, `bearer ${TOKEN}`]) {
      const res = await app.request('/metrics', { headers: { authorization } });
      expect(res.status).toBe(200);
      expect(await res.text()).toContain('adapter="acme-payroll"');
    }
  });
});

describe('the metrics listener app', () => {
  function metricsApp(token?: string, loopback = true) {
    const metrics = createPrometheusMetrics();
    metrics.upstreamError('acme-payroll', 'timeout');
    return createMetricsApp({
      metrics,
      token,
      policy: { ...LOOPBACK_ORIGINS, loopback },
      logger: createSilentLogger(),
    });
  }

  it('serves /metrics and /healthz and nothing else', async () => {
    const app = metricsApp();
    expect((await app.request('/metrics')).status).toBe(200);
    expect(await (await app.request('/healthz')).json()).toEqual({ status: 'ok' });
    for (const path of ['/adapters', '/readyz', '/openapi.json', '/mcp']) {
      const res = await app.request(path);
      expect(res.status, path).toBe(404);
      expect(await res.json()).toMatchObject({ error: { code: 'not_found' } });
    }
  });

  it('needs the token when one is set', async () => {
    const app = metricsApp(TOKEN, false);
    expect((await app.request('/metrics')).status).toBe(401);
    expect((await app.request('/metrics', bearer(TOKEN))).status).toBe(200);
  });

  it('refuses a foreign Host on a loopback bind (a rebinding page could read the page)', async () => {
    const res = await metricsApp().request('/metrics', { headers: { host: 'evil.example:9464' } });
    expect(res.status).toBe(403);
    expect(await res.text()).not.toContain('acme-payroll');
    // Bound elsewhere (a pod network), the scraper's Host is whatever it dialled.
    const exposed = metricsApp(undefined, false);
    expect((await exposed.request('/metrics', { headers: { host: '10.1.2.3:9464' } })).status).toBe(200);
  });
});
