/** Tests of the metrics port's Prometheus implementation and what feeds it outside the data plane. */
import { register as globalRegistry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { createApp } from '../runtime/app.js';
import { InMemoryDeployer } from '../../test/in-memory-deployer.js';
import { createReconciler } from '../deploy/reconciler.js';
import { createRuntimeInspector } from '../deploy/index.js';
import { openRegistryStore } from '../registry/index.js';
import { LOOPBACK_ORIGINS } from '../../test/test-app.js';
import type { JsonObject, RegistryStore } from '../registry/index.js';
import { createSilentLogger } from './logger.js';
import { createPrometheusMetrics } from './prometheus/index.js';
import { timedRegistryStore } from './timed-registry-store.js';

const stores: RegistryStore[] = [];
afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.close()));
});

async function store(): Promise<RegistryStore> {
  const s = await openRegistryStore(':memory:');
  stores.push(s);
  return s;
}

async function app(options: Partial<Parameters<typeof createApp>[0]> = {}) {
  return createApp({
    store: await store(),
    inspector: createRuntimeInspector({ probeTimeoutMs: 100 }),
    logger: createSilentLogger(),
    bodyLimitBytes: 1024 * 1024,
    origins: LOOPBACK_ORIGINS,
    ...options,
  });
}

const commandSpec: JsonObject = {
  command: 'server',
  args: [],
  transport: 'stdio',
  environmentVariables: {},
  replicaCount: 1,
  description: '',
  useWorkloadIdentity: false,
  requiredRoles: [],
};

describe('createPrometheusMetrics', () => {
  it('keeps a registry per instance, never the global default', async () => {
    const one = createPrometheusMetrics();
    const two = createPrometheusMetrics();
    one.httpRequest('/adapters', 'GET', 200, 0.01);
    one.upstreamError('weather', 'timeout');
    expect((await one.render()).body).toContain(
      'mcp_gateway_http_requests_total{route="/adapters",method="GET",status="200"} 1',
    );
    expect((await one.render()).body).toContain(
      'mcp_gateway_upstream_errors_total{adapter="weather",kind="timeout"} 1',
    );
    expect((await two.render()).body).not.toContain('route="/adapters"');
    expect(await globalRegistry.metrics()).not.toContain('mcp_gateway_');
  });

  it('exports process metrics only when asked, without the per-collection GC histogram', async () => {
    expect((await createPrometheusMetrics().render()).body).not.toContain('process_cpu_seconds_total');
    const { body } = await createPrometheusMetrics({ processMetrics: true }).render();
    for (const name of [
      'process_cpu_seconds_total',
      'process_resident_memory_bytes',
      'process_open_fds',
      'nodejs_eventloop_lag_seconds',
      'nodejs_heap_size_used_bytes',
      'nodejs_active_handles_total',
      'nodejs_version_info',
    ]) {
      expect(body).toContain(`# TYPE ${name} `);
    }
    expect(body).not.toContain('nodejs_gc_duration_seconds');
  });

  it('moves the open-streams gauge both ways and counts reconcile and registry outcomes', async () => {
    const metrics = createPrometheusMetrics();
    metrics.streamOpened('a');
    metrics.streamOpened('a');
    metrics.streamClosed('a');
    metrics.reconciled('adapter', 'apply', false);
    metrics.registryOperation('get', 0.002, true);
    metrics.rateLimited('adapter');
    metrics.scaled('lazy', 'up');
    metrics.scaled('lazy', 'up');
    metrics.scaled('lazy', 'down');
    const { body, contentType } = await metrics.render();
    expect(contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(body).toContain('mcp_gateway_open_streams{adapter="a"} 1');
    expect(body).toContain(
      'mcp_gateway_reconcile_results_total{kind="adapter",action="apply",outcome="failed"} 1',
    );
    expect(body).toContain('mcp_gateway_registry_operation_duration_seconds_count{op="get",outcome="ok"} 1');
    expect(body).toContain('mcp_gateway_rate_limited_total{scope="adapter"} 1');
    expect(body).toContain('mcp_gateway_scale_events_total{adapter="lazy",direction="up"} 2');
    expect(body).toContain('mcp_gateway_scale_events_total{adapter="lazy",direction="down"} 1');
  });
});

describe('/metrics in the app', () => {
  it('is served only when metrics are given, and two apps in one process count apart', async () => {
    expect((await (await app()).request('/metrics')).status).toBe(404);
    const first = createPrometheusMetrics();
    const second = createPrometheusMetrics();
    const a = await app({ metrics: first });
    const b = await app({ metrics: second });
    await a.request('/adapters');
    await a.request('/adapters');
    await b.request('/adapters');
    const page = await a.request('/metrics');
    expect(page.status).toBe(200);
    expect(page.headers.get('cache-control')).toBe('no-store');
    const text = await page.text();
    expect(text).toContain('mcp_gateway_http_requests_total{route="/adapters",method="GET",status="200"} 2');
    expect(await (await b.request('/metrics')).text()).toContain(
      'mcp_gateway_http_requests_total{route="/adapters",method="GET",status="200"} 1',
    );
  });

  it('labels by route pattern, and refusals before the handler by the route that would have answered', async () => {
    const metrics = createPrometheusMetrics();
    const a = await app({ metrics, authenticate: async (c) => c.json({ error: 'no' }, 401) });
    await a.request('/adapters/secret-name-1');
    await a.request('/healthz');
    const text = (await metrics.render()).body;
    expect(text).not.toContain('secret-name-1');
    expect(text).toContain('route="/adapters/*",method="GET",status="401"');
    expect(text).toContain('route="/healthz",method="GET",status="200"');
  });
});

describe('registry and reconciler metrics', () => {
  it('times every registry call by operation and outcome, and passes everything else through', async () => {
    const metrics = createPrometheusMetrics();
    let t = 0;
    const inner = await store();
    const timed = timedRegistryStore(inner, { metrics, now: () => (t += 5) });
    expect(timed.dialect).toBe('sqlite');
    await timed.create('adapter', 'a', commandSpec, 'alice');
    expect(await timed.get('adapter', 'a')).toMatchObject({ name: 'a' });
    await expect(timed.create('adapter', 'a', commandSpec, 'alice')).rejects.toThrow(/already exists/);
    const text = (await metrics.render()).body;
    expect(text).toContain(
      'mcp_gateway_registry_operation_duration_seconds_count{op="create",outcome="ok"} 1',
    );
    expect(text).toContain(
      'mcp_gateway_registry_operation_duration_seconds_count{op="create",outcome="error"} 1',
    );
    expect(text).toContain(
      'mcp_gateway_registry_operation_duration_seconds_sum{op="get",outcome="ok"} 0.005',
    );
  });

  it('counts each reconciler step by kind, action and outcome', async () => {
    const metrics = createPrometheusMetrics();
    const s = await store();
    const reconciler = createReconciler({
      store: s,
      deployers: [new InMemoryDeployer({ runtime: 'command' })],
      intervalMs: 60_000,
      onResult: (ref, result) => metrics.reconciled(ref.kind, result.action, result.ok),
    });
    await s.create('adapter', 'a', commandSpec, 'alice');
    await s.create(
      'adapter',
      'img',
      { ...commandSpec, command: undefined, imageName: 'team/x', imageVersion: '1' },
      'alice',
    );
    await reconciler.reconcileAll();
    await s.delete('adapter', 'a');
    reconciler.notify({ kind: 'adapter', name: 'a' });
    await reconciler.settled();
    await reconciler.stop();
    const text = (await metrics.render()).body;
    expect(text).toContain(
      'mcp_gateway_reconcile_results_total{kind="adapter",action="apply",outcome="ok"} 1',
    );
    expect(text).toContain(
      'mcp_gateway_reconcile_results_total{kind="adapter",action="skip",outcome="ok"} 1',
    );
    expect(text).toContain(
      'mcp_gateway_reconcile_results_total{kind="adapter",action="remove",outcome="ok"} 1',
    );
  });
});

describe('readiness while draining', () => {
  it('answers 503 at once when the gateway drains', async () => {
    let draining = false;
    const a = await app({ draining: () => draining });
    expect((await a.request('/readyz')).status).toBe(200);
    draining = true;
    const res = await a.request('/readyz');
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ status: 'not ready', registry: 'sqlite', reason: 'draining' });
  });
});
