/** @module app: `createApp(deps)` composes every router; it reads no environment. */
import { OpenAPIHono } from '@hono/zod-openapi';
import type { Hono, MiddlewareHandler } from 'hono';
import {
  commandGate,
  createWellKnownRoutes,
  creationGate,
  identifyOf,
  localPrincipal,
  secretGate,
  secretReferenceGate,
} from '../auth/index.js';
import type { CommandGate, SecretReferenceGate, TokenVault } from '../auth/index.js';
import {
  createConnectionRoutes,
  createSecretRoutes,
  createToolPinRoutes,
  createToolsetRoutes,
  mountControlRoutes,
  validationHook,
} from '../control/index.js';
import type { ResourceChangeListener, ResourceRoutesOptions } from '../control/index.js';
import {
  createDataPlaneObservation,
  mountDataPlane,
  SessionLedger,
  withSessionCounts,
} from '../dataplane/index.js';
import type { DataPlaneHooks, DataPlaneOptions, McpEndpoint, WatchedExchange } from '../dataplane/index.js';
import { ssrfPolicy } from '../deploy/index.js';
import type { RuntimeInspector, SsrfPolicy } from '../deploy/index.js';
import {
  accessLog,
  createErrorHandler,
  createRateLimits,
  hostOriginGuard,
  inSequence,
  metricsHandler,
  notFoundHandler,
  requestId,
} from '../http/index.js';
import type { AppEnv, MetricsRouteOptions, OriginPolicy, RateLimitsOptions } from '../http/index.js';
import {
  NO_AUDIT_LOG,
  NO_METRICS,
  createHealthRoutes,
  httpMetrics,
  writeAudit,
} from '../observability/index.js';
import type { AuditLog, GatewayMetrics, Logger } from '../observability/index.js';
import { NO_TRACING, tracingMiddleware } from '../observability/tracing/index.js';
import type { TraceContextHeaders, Tracing } from '../observability/tracing/index.js';
import type { RegistryStore, SecretCipher, SettingsCipher } from '../registry/index.js';
import {
  TOOL_ROUTER_PATH,
  TOOLSET_MCP_PATH,
  mountToolRouter,
  toolRouterTraceContext,
} from '../toolrouter/index.js';
import type { ToolRouterMount } from '../toolrouter/index.js';
import { GATEWAY_FILE_SCHEMA_PATH, gatewayFileSchema } from './gateway-file-schema.js';
import { CONSOLE_PATH, createConsoleRoutes } from './console-routes.js';
import type { ConsoleAccess, ConsoleAssets } from './console-routes.js';
import { createDocsRoutes } from './docs-routes.js';
import type { SwaggerUiAssets } from './docs-routes.js';

/** The secret store at `/secrets`: how values are sealed, and who may call it. */
export interface SecretsMount {
  readonly cipher: SecretCipher;
  /** The sealed settings' cipher (same secrets): with it, `POST /secrets/rekey` is served. */
  readonly settings?: SettingsCipher;
  /** Told the name of every secret created, rotated or deleted here (what caches its value drops it). */
  readonly onChange?: (name: string) => void;
  /** Runs after `authenticate` on every `/secrets` route; only `mcp.admin` passes by default. */
  readonly authorize?: MiddlewareHandler<AppEnv>;
}

/** Everything the app needs; `main.ts` builds the real ones, tests build their own. */
export interface AppDeps {
  readonly store: RegistryStore;
  readonly inspector: RuntimeInspector;
  readonly logger: Logger;
  readonly bodyLimitBytes: number;
  /**
   * Who the gateway is and which browser pages may call it. On a loopback gateway every route refuses a `Host`
   * that names neither this machine nor the public URL's host (DNS rebinding); everywhere, a state-changing
   * request from a page of a foreign origin is refused. The MCP endpoints apply the same check themselves.
   */
  readonly origins: OriginPolicy;
  /** Sets `principal` on each request; every request acts as the local user by default. */
  readonly authenticate?: MiddlewareHandler<AppEnv>;
  /**
   * Runs after `authenticate` on /adapters, /tools and /toolsets (the creation gate); lets everything pass by
   * default.
   */
  readonly authorize?: MiddlewareHandler<AppEnv>;
  /** Who may register `command` (it runs on the gateway host); only `mcp.admin` by default. */
  readonly commandGate?: CommandGate;
  /**
   * Who may name stored secrets in adapters and tools (`secretEnvironmentVariables`); only `mcp.admin` by
   * default. The same roles as `/secrets` in a real gateway.
   */
  readonly secretReferenceGate?: SecretReferenceGate;
  /** The secret store at `/secrets`; absent, that path is not served. */
  readonly secrets?: SecretsMount;
  /** Per-user OAuth grants (`/connect`, `/connections`); absent, those paths are not served. */
  readonly vault?: TokenVault;
  /** Whether a `command` with whitespace is a file on the gateway host (Node only); absent, it is refused. */
  readonly isProgramFile?: ResourceRoutesOptions['isProgramFile'];
  /** Whether `upstreamAuth` `token-exchange` may be registered (token auth modes); refused when absent. */
  readonly tokenExchange?: ResourceRoutesOptions['tokenExchange'];
  /** Unauthenticated `/.well-known/…` documents (RFC 9728 metadata, identity JWKS); none by default. */
  readonly wellKnownRoutes?: Hono<AppEnv>;
  /** Makes request ids; injected for tests. */
  readonly generateRequestId?: () => string;
  /** The bundled Swagger UI `/docs` serves (Node); absent, `/docs` links the OpenAPI document. */
  readonly swaggerUi?: SwaggerUiAssets;
  /** The built web console `/ui/` serves (Node), and where `/` leads; absent, `/` leads to `/docs`. */
  readonly consoleUi?: ConsoleAssets;
  /** How the console identifies its user (a token by sign-in, dev headers); absent, it sends neither. */
  readonly consoleAccess?: ConsoleAccess;
  /** Version reported in the OpenAPI document. */
  readonly version?: string;
  /** The MCP proxy at `/adapters/{name}/mcp`; absent, that path is not served. */
  readonly dataPlane?: DataPlaneOptions;
  /** The tool router at `/mcp`; absent, that path is not served. */
  readonly toolRouter?: ToolRouterMount;
  /** Told after every control-plane write (cache invalidation, reconciler). */
  readonly onResourceChange?: ResourceChangeListener;
  /** Which registered endpoints are refused (link-local and cloud metadata addresses by default). */
  readonly ssrf?: SsrfPolicy;
  /** Records metrics (served at `/metrics` as `metricsRoute` says); absent, nothing is recorded or served. */
  readonly metrics?: GatewayMetrics;
  /**
   * Whether and to whom this app serves `/metrics`: `{}` to anyone, `{ token }` to holders of that bearer token,
   * `false` not at all (a metrics listener serves it, or nobody may). By default to anyone on a loopback gateway
   * (`origins.loopback`) and not at all elsewhere: the page names every adapter.
   */
  readonly metricsRoute?: MetricsRouteOptions | false;
  /** Audit lines for control-plane writes and data-plane `tools/call`; none by default. */
  readonly audit?: AuditLog;
  /**
   * Token-bucket limits per principal, per adapter and per (caller, tool), kept in `store` (this instance's memory by
   * default, or Redis); unlimited by default.
   */
  readonly rateLimits?: Pick<
    RateLimitsOptions,
    'perPrincipal' | 'perAdapter' | 'perTool' | 'store' | 'maxKeys' | 'now'
  >;
  /** Spans for every request (the data plane's with MCP attributes and upstream attempts); none by default. */
  readonly tracing?: Tracing;
  /** True once shutdown began: `/readyz` answers 503. Never, by default. */
  readonly draining?: () => boolean;
}

/**
 * The app, and the MCP endpoint's steps for front ends that skip Hono's per-request objects (the Node
 * listener's fast path); `mcp` is absent when there is no data plane or authentication is custom middleware.
 */
export type GatewayApp = OpenAPIHono<AppEnv> & {
  readonly mcp?: McpEndpoint & { watch(trace: TraceContextHeaders): WatchedExchange | undefined };
};

/** OpenAPI document metadata. */
export const OPENAPI_INFO = {
  title: 'MCP Gateway API',
  description:
    'Control plane of MCP Gateway: register MCP servers (adapters) and tool servers (tools), read their status and logs, group tools into toolsets with MCP endpoints of their own, and keep write-only secrets.',
};

const QUIET_PATHS = ['/healthz', '/readyz', '/ping', '/metrics'];

/** The MCP endpoints, whose clients read JSON-RPC error bodies. */
const isMcpPath = (path: string) => path === '/mcp' || /^\/(adapters|toolsets)\/[^/]+\/mcp$/.test(path);

/** The policy's URL guard, with the way out named in the 400 a registration gets. */
function endpointPolicy(policy: SsrfPolicy): ((url: string) => string | undefined) | undefined {
  const refuse = policy.refuseUrl;
  if (!refuse) return undefined;
  return (url) => {
    const reason = refuse(url);
    return reason && `${reason} (set MCP_GATEWAY_ALLOW_LINK_LOCAL=true to allow)`;
  };
}

/** Observation only when something records it: each middleware is a hop on the proxy's per-request path. */
function dataPlaneObservation(deps: AppDeps) {
  if (!deps.metrics && !deps.audit && !deps.tracing?.enabled) return undefined;
  return createDataPlaneObservation({
    metrics: deps.metrics ?? NO_METRICS,
    audit: deps.audit ?? NO_AUDIT_LOG,
    tracing: deps.tracing,
  });
}

/** Builds the gateway's Hono app. */
export function createApp(deps: AppDeps): GatewayApp {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
  app.onError(createErrorHandler({ logger: deps.logger }));
  app.notFound(notFoundHandler);
  const metrics = deps.metrics ?? NO_METRICS;
  const limits = createRateLimits({
    ...deps.rateLimits,
    onLimited: (scope) => metrics.rateLimited(scope),
    isMcpPath,
  });
  // The principal's limit rides with authentication, so every authenticated route (and any mounted later) has it.
  const authenticated = deps.authenticate ?? localPrincipal();
  const authenticate = limits.principal ? inSequence(authenticated, limits.principal) : authenticated;
  // First, so the per-request path skips the control plane's request id and access-log middleware.
  let mcp: GatewayApp['mcp'];
  let inspector = deps.inspector;
  if (deps.dataPlane) {
    const { now, replicas } = deps.dataPlane;
    // One ledger: the proxy counts sessions in it, and status shows what it counts.
    const sessions = new SessionLedger(now ? { now } : {});
    // A scaling adapter is never scaled down under a session this instance holds.
    replicas.countSessionsWith?.((resource, replicaId) => sessions.sessionsOn(resource, replicaId));
    inspector = withSessionCounts(deps.inspector, sessions, replicas);
    const observation = dataPlaneObservation(deps);
    const hooks: DataPlaneHooks = {
      observe: observation?.middleware,
      limit: limits.adapter,
      // The endpoint authenticates with the bare function and applies the principal's limit itself.
      identify: identifyOf(authenticated),
      limits: limits.mcp,
      metrics,
      sessions,
    };
    const endpoint = mountDataPlane(app, authenticate, deps.dataPlane, hooks);
    const watch = observation ? observation.watch : () => undefined;
    if (endpoint) mcp = { serve: endpoint.serve, watch };
  }
  // After the data plane, which traces its requests itself (with MCP attributes); before everything else.
  const tracing = deps.tracing ?? NO_TRACING;
  if (tracing.enabled) {
    // A tool-router caller without a `traceparent` header may name its trace in `params._meta` (SEP-414).
    const traceContextOf =
      deps.toolRouter && toolRouterTraceContext(deps.toolRouter.router.settings.maxBodyBytes);
    app.use(tracingMiddleware(tracing, traceContextOf ? { traceContextOf } : {}));
  }
  if (deps.toolRouter && deps.metrics) {
    app.use(TOOL_ROUTER_PATH, httpMetrics({ metrics: deps.metrics }));
    app.use(TOOLSET_MCP_PATH, httpMetrics({ metrics: deps.metrics }));
  }
  if (deps.toolRouter) {
    const limitTool = limits.mcp.tool;
    mountToolRouter(app, authenticate, {
      ...deps.toolRouter,
      ...(limitTool && { limitTool: (userId: string, tool: string) => limitTool(userId, tool) }),
    });
  }
  app.use(requestId({ generate: deps.generateRequestId }));
  app.use(accessLog({ logger: deps.logger, quietPaths: QUIET_PATHS }));
  // `/adapters/*` also matches `/adapters`: one registration each, so nothing runs twice per request. Ahead of
  // the Host/Origin guard, so a write it refuses (a rebinding page's) is audited too.
  const controlPaths = ['/adapters/*', '/tools/*', '/toolsets/*'];
  const secretsPath = '/secrets/*';
  for (const path of [...controlPaths, secretsPath]) {
    app.use(path, writeAudit({ audit: deps.audit ?? NO_AUDIT_LOG }));
  }
  // Every route from here on: the MCP endpoints above answer before reaching it and check Host/Origin themselves.
  app.use(hostOriginGuard({ policy: deps.origins }));
  // Public and unauthenticated: clients read these before they have a token.
  app.route('/', deps.wellKnownRoutes ?? createWellKnownRoutes({}));
  if (deps.metrics) {
    app.use(httpMetrics({ metrics: deps.metrics }));
    const route = deps.metricsRoute ?? (deps.origins.loopback ? {} : false);
    if (route) app.get('/metrics', metricsHandler(deps.metrics, route));
  }

  app.route('/', createHealthRoutes({ store: deps.store, logger: deps.logger, draining: deps.draining }));

  const authorize = deps.authorize ?? creationGate({ creatorRoles: [] });
  for (const path of controlPaths) app.use(path, authenticate, authorize);
  mountControlRoutes(app, {
    store: deps.store,
    inspector,
    bodyLimitBytes: deps.bodyLimitBytes,
    onChange: deps.onResourceChange,
    endpointPolicy: endpointPolicy(deps.ssrf ?? ssrfPolicy({ allowLinkLocal: false })),
    commandGate: deps.commandGate ?? commandGate({ commandRoles: [] }),
    secretReferenceGate: deps.secretReferenceGate ?? secretReferenceGate({ secretRoles: [] }),
    isProgramFile: deps.isProgramFile,
    tokenExchange: deps.tokenExchange,
  });
  const router = deps.toolRouter?.router;
  app.route(
    '/',
    createToolsetRoutes({
      store: deps.store,
      bodyLimitBytes: deps.bodyLimitBytes,
      // A toolset is no deployable resource: the reconciler is not told, the tool router reads it again.
      onChange: () => router?.invalidate(),
      ...(router && { resolve: (spec, principal) => router.toolsetStatus(spec, principal) }),
    }),
  );
  // Always mounted, so the API document is the same whether the tool router runs; without it they answer 404.
  app.route(
    '/',
    createToolPinRoutes({
      store: deps.store,
      pins: deps.toolRouter?.router.pins,
      mode: deps.toolRouter?.router.settings.pinning ?? 'off',
      audit: deps.audit ?? NO_AUDIT_LOG,
    }),
  );
  if (deps.secrets) {
    app.use(secretsPath, authenticate, deps.secrets.authorize ?? secretGate({ secretRoles: [] }));
    app.route(
      '/',
      createSecretRoutes({
        store: deps.store,
        cipher: deps.secrets.cipher,
        settings: deps.secrets.settings,
        bodyLimitBytes: deps.bodyLimitBytes,
        onChange: deps.onResourceChange,
        onSecretWritten: deps.secrets.onChange,
      }),
    );
  }

  if (deps.vault) {
    // Authenticated inside (`/connect/callback` is authenticated by its sealed state and browser cookie instead).
    // With console sign-in, a browser opening `/connect/{adapter}` without a token is sent to the console.
    const consoleConnectPage =
      deps.consoleUi && deps.consoleAccess?.signIn ? `${CONSOLE_PATH}connections` : undefined;
    app.route(
      '/',
      createConnectionRoutes({ store: deps.store, vault: deps.vault, authenticate, consoleConnectPage }),
    );
  }

  const openApiConfig = {
    openapi: '3.1.0',
    info: { ...OPENAPI_INFO, version: deps.version ?? '0.0.0' },
  };
  app.doc31('/openapi.json', openApiConfig);
  let fileSchema: Record<string, unknown> | undefined;
  app.get(GATEWAY_FILE_SCHEMA_PATH, (c) =>
    c.json((fileSchema ??= gatewayFileSchema(app.getOpenAPI31Document(openApiConfig)))),
  );
  app.route('/', createDocsRoutes(deps.swaggerUi));
  if (deps.consoleUi) app.route('/', createConsoleRoutes(deps.consoleUi, deps.consoleAccess));
  app.get('/', (c) => c.redirect(deps.consoleUi ? CONSOLE_PATH : '/docs', 302));
  return Object.assign(app, { mcp });
}
