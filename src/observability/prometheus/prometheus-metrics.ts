/**
 * @module PrometheusMetrics: {@link GatewayMetrics} on `prom-client`, with a registry of its own per instance —
 * never the library's global default — so several apps in one process (tests) keep separate numbers.
 */
import { createRequire } from 'node:module';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { HotCounter, HotHistogram } from './hot-series.js';
import type {
  GatewayMetrics,
  MetricsExposition,
  OpenSessionCount,
  PlacementKind,
  RateLimitBackend,
  RateLimitScope,
  UpstreamErrorKind,
} from '../metrics.js';

/** Options for {@link createPrometheusMetrics}. */
export interface PrometheusMetricsOptions {
  /** Also export the process's CPU, memory, handles and event-loop metrics (`process_*`, `nodejs_*`). */
  readonly processMetrics?: boolean;
}

/** Request latencies: from a cached answer (sub-millisecond) to a slow upstream's head. */
const REQUEST_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** Registry calls: an embedded SQLite read to a Postgres round trip under load. */
const REGISTRY_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];

/**
 * prom-client's default process metrics, each read at scrape time — except `nodejs_gc_duration_seconds`, whose
 * PerformanceObserver runs on every garbage collection: under proxy load that cost ~6 µs of CPU per request
 * (docs/benchmarks.md). Loaded one by one from prom-client's own modules (it offers no way to leave one out).
 */
const PROCESS_COLLECTORS = [
  'processCpuTotal',
  'processStartTime',
  'osMemoryHeap',
  'processOpenFileDescriptors',
  'processMaxFileDescriptors',
  'eventLoopLag',
  'processResources',
  'processHandles',
  'processRequests',
  'heapSizeAndUsed',
  'heapSpacesSizeAndUsed',
  'version',
];

function collectProcessMetrics(registry: Registry): void {
  const load = createRequire(import.meta.url);
  for (const name of PROCESS_COLLECTORS) {
    const collect = load(`prom-client/lib/metrics/${name}`) as (registry: Registry, config: object) => void;
    collect(registry, { eventLoopMonitoringPrecision: 10 });
  }
}

/** A {@link GatewayMetrics} that also exposes its registry. */
export interface PrometheusMetrics extends GatewayMetrics {
  readonly registry: Registry;
}

/** Builds the metrics of one gateway instance. */
export function createPrometheusMetrics(options: PrometheusMetricsOptions = {}): PrometheusMetrics {
  const registry = new Registry();
  const registers = [registry];
  if (options.processMetrics) collectProcessMetrics(registry);

  const httpRequests = new Counter({
    name: 'mcp_gateway_http_requests_total',
    help: 'HTTP requests outside the data plane, by route pattern, method and status.',
    labelNames: ['route', 'method', 'status'] as const,
    registers,
  });
  const httpDuration = new Histogram({
    name: 'mcp_gateway_http_request_duration_seconds',
    help: 'Latency of HTTP requests outside the data plane, by route pattern and method.',
    labelNames: ['route', 'method'] as const,
    buckets: REQUEST_BUCKETS,
    registers,
  });
  const mcpRequests = new HotCounter({
    name: 'mcp_gateway_mcp_requests_total',
    help: 'Requests on /adapters/{name}/mcp by adapter, MCP method (or exchange kind) and status.',
    labelNames: ['adapter', 'method', 'status'] as const,
    registers,
  });
  const mcpDuration = new HotHistogram<'adapter' | 'method'>({
    name: 'mcp_gateway_mcp_request_duration_seconds',
    help: 'Time from request to response head on /adapters/{name}/mcp, by adapter and MCP method.',
    buckets: REQUEST_BUCKETS,
    registers,
  });
  const upstreamErrors = new Counter({
    name: 'mcp_gateway_upstream_errors_total',
    help: 'Failed attempts to reach an upstream replica, by adapter and kind (refused, timeout, connect-timeout, error).',
    labelNames: ['adapter', 'kind'] as const,
    registers,
  });
  const openStreams = new Gauge({
    name: 'mcp_gateway_open_streams',
    help: 'SSE responses currently streaming from an upstream to a client, by adapter.',
    labelNames: ['adapter'] as const,
    registers,
  });
  const placements = new HotCounter({
    name: 'mcp_gateway_placements_total',
    help: 'Sessions (kind=session: legacy initialize) and session-less requests (kind=request) placed on a replica.',
    labelNames: ['adapter', 'replica', 'kind'] as const,
    registers,
  });
  const sessionRefusals = new Counter({
    name: 'mcp_gateway_session_refusals_total',
    help: 'New legacy sessions refused with 503 because every ready replica of the adapter was at its session cap.',
    labelNames: ['adapter'] as const,
    registers,
  });
  const sessionEvictions = new Counter({
    name: 'mcp_gateway_session_evictions_total',
    help: "Legacy sessions evicted to make room when every ready replica was full: the new session's caller's own longest-idle one.",
    labelNames: ['adapter'] as const,
    registers,
  });
  const sessionReaders: (() => readonly OpenSessionCount[])[] = [];
  new Gauge({
    name: 'mcp_gateway_open_sessions',
    help: 'Legacy sessions open on a replica, as this gateway instance counts them (ended and idle sessions are not).',
    labelNames: ['adapter', 'replica'] as const,
    registers,
    collect() {
      this.reset();
      for (const read of sessionReaders)
        for (const { adapter, replica, sessions } of read()) this.set({ adapter, replica }, sessions);
    },
  });
  const scaleEvents = new Counter({
    name: 'mcp_gateway_scale_events_total',
    help: 'Resources scaled on demand (minReplicas): up on a request, down after idleSeconds.',
    labelNames: ['adapter', 'direction'] as const,
    registers,
  });
  const reconciles = new Counter({
    name: 'mcp_gateway_reconcile_results_total',
    help: 'Reconciler steps by resource kind, action (apply, remove, skip) and outcome (ok, failed).',
    labelNames: ['kind', 'action', 'outcome'] as const,
    registers,
  });
  const registryDuration = new Histogram({
    name: 'mcp_gateway_registry_operation_duration_seconds',
    help: 'Latency of registry calls by operation and outcome (ok, error).',
    labelNames: ['op', 'outcome'] as const,
    buckets: REGISTRY_BUCKETS,
    registers,
  });
  const rateLimited = new Counter({
    name: 'mcp_gateway_rate_limited_total',
    help: 'Requests refused with 429 by a rate limit, by scope (principal, adapter, tool).',
    labelNames: ['scope'] as const,
    registers,
  });
  const rateLimitBackend = new Gauge({
    name: 'mcp_gateway_rate_limit_backend',
    help: 'Where rate-limit buckets are kept now: 1 for the backend in use (redis, shared by every instance; local, this instance only), 0 for the other.',
    labelNames: ['backend'] as const,
    registers,
  });

  const definitionChanges = new Counter({
    name: 'mcp_gateway_tool_definition_changes_total',
    help: 'Federated tool definitions found changed from their pin, once per change across the gateway instances sharing the registry, by adapter and pinning mode (warn, enforce).',
    labelNames: ['adapter', 'mode'] as const,
    registers,
  });

  const routerCalls = new Counter({
    name: 'mcp_gateway_tool_router_calls_total',
    help: 'tools/call through the tool router at /mcp, by what served it (kind tool or adapter, its name) and outcome (success, rejected, failed).',
    labelNames: ['kind', 'resource', 'outcome'] as const,
    registers,
  });
  const routerCallDuration = new Histogram({
    name: 'mcp_gateway_tool_router_call_duration_seconds',
    help: 'Duration of tools/call through the tool router, by what served it.',
    labelNames: ['kind', 'resource'] as const,
    buckets: REQUEST_BUCKETS,
    registers,
  });

  return {
    registry,
    httpRequest(route, method, status, seconds) {
      httpRequests.inc({ route, method, status: String(status) });
      httpDuration.observe({ route, method }, seconds);
    },
    mcpRequest(adapter, method, status, seconds) {
      // The data plane's per-request series: keys are the label values joined by NUL.
      const series = `${adapter}\u0000${method}`;
      mcpRequests.inc(`${series}\u0000${status}`, { adapter, method, status: String(status) });
      mcpDuration.observe(series, { adapter, method }, seconds);
    },
    upstreamError(adapter: string, kind: UpstreamErrorKind) {
      upstreamErrors.inc({ adapter, kind });
    },
    streamOpened(adapter) {
      openStreams.inc({ adapter });
    },
    streamClosed(adapter) {
      openStreams.dec({ adapter });
    },
    placed(adapter: string, replica: string, kind: PlacementKind) {
      placements.inc(`${adapter}\u0000${replica}\u0000${kind}`, { adapter, replica, kind });
    },
    sessionRefused(adapter: string) {
      sessionRefusals.inc({ adapter });
    },
    sessionEvicted(adapter: string) {
      sessionEvictions.inc({ adapter });
    },
    watchOpenSessions(read) {
      sessionReaders.push(read);
    },
    reconciled(kind, action, ok) {
      reconciles.inc({ kind, action, outcome: ok ? 'ok' : 'failed' });
    },
    scaled(adapter, direction) {
      scaleEvents.inc({ adapter, direction });
    },
    registryOperation(op, seconds, ok) {
      registryDuration.observe({ op, outcome: ok ? 'ok' : 'error' }, seconds);
    },
    rateLimited(scope: RateLimitScope) {
      rateLimited.inc({ scope });
    },
    rateLimitBackend(backend: RateLimitBackend) {
      rateLimitBackend.set({ backend }, 1);
      rateLimitBackend.set({ backend: backend === 'redis' ? 'local' : 'redis' }, 0);
    },
    toolRouterCall(kind, resource, outcome, seconds) {
      routerCalls.inc({ kind, resource, outcome });
      routerCallDuration.observe({ kind, resource }, seconds);
    },
    toolDefinitionChanged(adapter, mode) {
      definitionChanges.inc({ adapter, mode });
    },
    async render(): Promise<MetricsExposition> {
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
  };
}
