/**
 * @module health-routes: liveness (`/healthz`, `/ping`) and readiness (`/readyz`: the registry answers and the
 * gateway is not draining for shutdown).
 */
import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi';
import type { AppEnv } from '../core/index.js';
import type { RegistryStore } from '../registry/index.js';
import type { Logger } from './logger.js';

/** Dependencies of {@link createHealthRoutes}. */
export interface HealthRoutesOptions {
  readonly store: RegistryStore;
  readonly logger: Logger;
  /** True once shutdown began: readiness turns 503 at once so load balancers stop sending. Never, by default. */
  readonly draining?: () => boolean;
}

const Readiness = z
  .object({ status: z.enum(['ready', 'not ready']), registry: z.string(), reason: z.string().optional() })
  .openapi('Readiness');

const tags = ['health'];

const healthz = createRoute({
  method: 'get',
  path: '/healthz',
  operationId: 'healthz',
  tags,
  summary: 'Liveness: the process is up',
  responses: {
    200: {
      description: 'Up',
      content: { 'application/json': { schema: z.object({ status: z.literal('ok') }) } },
    },
  },
});

const ping = createRoute({
  method: 'get',
  path: '/ping',
  operationId: 'ping',
  tags,
  summary: "Liveness with an empty body (the reference's probe path)",
  responses: { 200: { description: 'Up' } },
});

const readyz = createRoute({
  method: 'get',
  path: '/readyz',
  operationId: 'readyz',
  tags,
  summary: 'Readiness: the registry answers',
  responses: {
    200: { description: 'Ready', content: { 'application/json': { schema: Readiness } } },
    503: { description: 'Not ready', content: { 'application/json': { schema: Readiness } } },
  },
});

/** The health router. */
export function createHealthRoutes(options: HealthRoutesOptions): OpenAPIHono<AppEnv> {
  const { store, logger } = options;
  const draining = options.draining ?? (() => false);
  const router = new OpenAPIHono<AppEnv>();
  router.openapi(healthz, (c) => c.json({ status: 'ok' as const }, 200));
  router.openapi(ping, (c) => c.body(null, 200));
  router.openapi(readyz, async (c) => {
    if (draining()) {
      return c.json({ status: 'not ready' as const, registry: store.dialect, reason: 'draining' }, 503);
    }
    try {
      await store.ping();
      return c.json({ status: 'ready' as const, registry: store.dialect }, 200);
    } catch (err) {
      logger.warn({ err, requestId: c.get('requestId') }, 'registry unreachable');
      return c.json(
        { status: 'not ready' as const, registry: store.dialect, reason: 'registry unreachable' },
        503,
      );
    }
  });
  return router;
}
