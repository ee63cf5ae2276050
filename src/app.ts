/** @module app: `createApp(deps)` composes every router; it reads no environment. */
import { OpenAPIHono } from '@hono/zod-openapi';
import { swaggerUI } from '@hono/swagger-ui';
import type { Hono, MiddlewareHandler } from 'hono';
import { createWellKnownRoutes, creationGate, localPrincipal } from './auth/index.js';
import { mountControlRoutes, validationHook } from './control/index.js';
import type { ResourceChangeListener } from './control/index.js';
import { mountDataPlane } from './dataplane/index.js';
import type { DataPlaneOptions } from './dataplane/index.js';
import { blockedUrlReason } from './deploy/index.js';
import type { RuntimeInspector } from './deploy/index.js';
import { accessLog, createErrorHandler, notFoundHandler, requestId } from './http/index.js';
import type { AppEnv } from './http/index.js';
import { createHealthRoutes } from './observability/index.js';
import type { Logger } from './observability/index.js';
import type { RegistryStore } from './registry/index.js';

/** Everything the app needs; `main.ts` builds the real ones, tests build their own. */
export interface AppDeps {
  readonly store: RegistryStore;
  readonly inspector: RuntimeInspector;
  readonly logger: Logger;
  readonly bodyLimitBytes: number;
  /** Sets `principal` on each request; every request acts as the local user by default. */
  readonly authenticate?: MiddlewareHandler<AppEnv>;
  /** Runs after `authenticate` on /adapters and /tools (the creation gate); lets everything pass by default. */
  readonly authorize?: MiddlewareHandler<AppEnv>;
  /** Unauthenticated `/.well-known/…` documents (RFC 9728 metadata, identity JWKS); none by default. */
  readonly wellKnownRoutes?: Hono<AppEnv>;
  /** Makes request ids; injected for tests. */
  readonly generateRequestId?: () => string;
  /** Version reported in the OpenAPI document. */
  readonly version?: string;
  /** The MCP proxy at `/adapters/{name}/mcp`; absent, that path is not served. */
  readonly dataPlane?: DataPlaneOptions;
  /** Told after every control-plane write (cache invalidation, reconciler). */
  readonly onResourceChange?: ResourceChangeListener;
  /** Accept endpoints on link-local and cloud metadata addresses (the SSRF guard refuses them by default). */
  readonly allowLinkLocalEndpoints?: boolean;
}

/** OpenAPI document metadata. */
export const OPENAPI_INFO = {
  title: 'MCP Gateway API',
  description:
    'Control plane of MCP Gateway: register MCP servers (adapters) and tool servers (tools), read their status and logs.',
};

const QUIET_PATHS = ['/healthz', '/readyz', '/ping'];

function refuseLinkLocal(url: string): string | undefined {
  const reason = blockedUrlReason(url);
  return reason && `${reason} (set MCP_GATEWAY_ALLOW_LINK_LOCAL=true to allow)`;
}

/** Builds the gateway's Hono app. */
export function createApp(deps: AppDeps): OpenAPIHono<AppEnv> {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
  app.onError(createErrorHandler({ logger: deps.logger }));
  app.notFound(notFoundHandler);
  const authenticate = deps.authenticate ?? localPrincipal();
  // Public and unauthenticated: clients read these before they have a token.
  app.route('/', deps.wellKnownRoutes ?? createWellKnownRoutes({}));
  // First, so the per-request path skips the control plane's request id and access-log middleware.
  if (deps.dataPlane) mountDataPlane(app, authenticate, deps.dataPlane);
  app.use(requestId({ generate: deps.generateRequestId }));
  app.use(accessLog({ logger: deps.logger, quietPaths: QUIET_PATHS }));

  app.route('/', createHealthRoutes({ store: deps.store, logger: deps.logger }));

  const authorize = deps.authorize ?? creationGate({ creatorRoles: [] });
  for (const path of ['/adapters', '/adapters/*', '/tools', '/tools/*'])
    app.use(path, authenticate, authorize);
  mountControlRoutes(app, {
    store: deps.store,
    inspector: deps.inspector,
    bodyLimitBytes: deps.bodyLimitBytes,
    onChange: deps.onResourceChange,
    endpointPolicy: deps.allowLinkLocalEndpoints ? undefined : refuseLinkLocal,
  });

  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: { ...OPENAPI_INFO, version: deps.version ?? '0.0.0' },
  });
  app.get('/docs', swaggerUI({ url: '/openapi.json' }));
  app.get('/', (c) => c.redirect('/docs', 302));
  return app;
}
