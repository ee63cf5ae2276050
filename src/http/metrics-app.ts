/**
 * @module metrics-app: what the metrics listener (`MCP_GATEWAY_METRICS_PORT`) serves — `GET /metrics` and
 * `GET /healthz`, nothing else — behind the same Host check as the main listener (a rebinding page could
 * otherwise read the page on a loopback bind) and, when one is set, the metrics token.
 */
import { Hono } from 'hono';
import type { AppEnv } from '../core/index.js';
import { createErrorHandler, notFoundHandler } from './error-handler.js';
import { hostOriginGuard } from './host-origin-guard.js';
import type { OriginPolicy } from './origin-check.js';
import type { Logger } from '../observability/logger.js';
import type { GatewayMetrics } from '../observability/metrics.js';
import { metricsHandler } from './metrics-route.js';

/** Options for {@link createMetricsApp}. */
export interface MetricsAppOptions {
  readonly metrics: GatewayMetrics;
  /** The bearer token `/metrics` needs; absent, anyone who reaches the listener reads it. */
  readonly token?: string;
  /** The origin policy, `loopback` saying whether this listener's address is a loopback one. */
  readonly policy: OriginPolicy;
  readonly logger: Logger;
}

/** The metrics listener's app. */
export function createMetricsApp(options: MetricsAppOptions): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.onError(createErrorHandler({ logger: options.logger }));
  app.notFound(notFoundHandler);
  app.use(hostOriginGuard({ policy: options.policy }));
  app.get('/metrics', metricsHandler(options.metrics, { token: options.token }));
  app.get('/healthz', (c) => c.json({ status: 'ok' as const }));
  return app;
}
