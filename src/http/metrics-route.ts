/**
 * @module metrics-route: `GET /metrics`, the Prometheus text exposition. The page names every adapter (other
 * tenants' included), so it is served to anyone only where nobody else can reach it — a loopback gateway, or a
 * listener of its own (`metrics-app.ts`) kept off the public network — and otherwise only with a bearer token
 * (`MCP_GATEWAY_METRICS_TOKEN`). Where and to whom is decided by the configuration; this is the handler.
 */
import type { Handler } from 'hono';
import type { AppEnv } from '../core/index.js';
import { HttpError } from './http-error.js';
import { createSecretMatcher } from './secret-matcher.js';
import type { GatewayMetrics } from '../observability/metrics.js';

/** Options for {@link metricsHandler}. */
export interface MetricsRouteOptions {
  /** The bearer token a scraper must send (`Authorization: Bearer …`); absent, anyone who reaches it reads it. */
  readonly token?: string;
}

const UNAUTHORIZED = new HttpError(
  401,
  'unauthorized',
  '/metrics needs Authorization: Bearer <MCP_GATEWAY_METRICS_TOKEN>.',
  { headers: { 'www-authenticate': 'Bearer realm="metrics"' } },
);

/** `Bearer <token>`, the scheme case-insensitive (RFC 9110); undefined for anything else. */
const bearerOf = (authorization: string | undefined): string | undefined =>
  /^Bearer +(\S+) *$/i.exec(authorization ?? '')?.[1];

/** The `/metrics` handler over one metrics instance. */
export function metricsHandler(metrics: GatewayMetrics, options: MetricsRouteOptions = {}): Handler<AppEnv> {
  const matches = options.token === undefined ? undefined : createSecretMatcher(options.token);
  return async function serveMetrics(c) {
    if (matches) {
      const presented = bearerOf(c.req.header('authorization'));
      if (presented === undefined || !(await matches(presented))) throw UNAUTHORIZED;
    }
    const page = await metrics.render();
    return c.body(page.body, 200, { 'content-type': page.contentType, 'cache-control': 'no-store' });
  };
}
