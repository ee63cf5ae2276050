/**
 * @module metrics-route: `GET /metrics`, the Prometheus text exposition. Unauthenticated, like the health
 * routes: keep it off the public listener (scrape it on the pod network; a NetworkPolicy or ingress rule should
 * not route `/metrics` from outside).
 */
import type { Handler } from 'hono';
import type { AppEnv } from '../http/index.js';
import type { GatewayMetrics } from './metrics.js';

/** The `/metrics` handler over one metrics instance. */
export function metricsHandler(metrics: GatewayMetrics): Handler<AppEnv> {
  return async function serveMetrics(c) {
    const page = await metrics.render();
    return c.body(page.body, 200, { 'content-type': page.contentType, 'cache-control': 'no-store' });
  };
}
