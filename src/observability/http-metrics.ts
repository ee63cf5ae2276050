/** @module http-metrics: request count and latency of every route outside the data plane, by route pattern. */
import type { MiddlewareHandler } from 'hono';
import { routePath } from 'hono/route';
import type { AppEnv } from '../core/index.js';
import type { GatewayMetrics } from './metrics.js';

/** Options for {@link httpMetrics}. */
export interface HttpMetricsOptions {
  readonly metrics: GatewayMetrics;
  /** Milliseconds from an arbitrary origin; injected for tests. */
  readonly now?: () => number;
}

/** Label for requests no route matched: their raw paths would let any client grow the series without bound. */
export const UNMATCHED_ROUTE = '(unmatched)';

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** Records every request that passes it with the pattern of the route that answered (e.g. `/adapters/:name`). */
export function httpMetrics(options: HttpMetricsOptions): MiddlewareHandler<AppEnv> {
  const { metrics } = options;
  const now = options.now ?? (() => performance.now());
  return async function httpMetricsMiddleware(c, next) {
    const started = now();
    await next();
    // The pattern of the handler that answered; only catch-all middleware matched means no route did.
    const pattern = routePath(c);
    const route = pattern === '/*' || pattern === '*' || pattern === '' ? UNMATCHED_ROUTE : pattern;
    const method = METHODS.has(c.req.method) ? c.req.method : 'OTHER';
    metrics.httpRequest(route, method, c.res.status, (now() - started) / 1000);
  };
}
