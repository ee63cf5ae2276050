/**
 * @module data-plane: `/adapters/{name}/mcp`. Mounts the Hono route (origin guard, authentication, limits,
 * proxy), and builds the same steps as one runtime-neutral {@link McpEndpoint} for front ends that skip the
 * framework: the Node listener serves the route through it, since Hono's per-request objects cost more CPU than
 * the rest of the proxy (docs/benchmarks.md).
 */
import type { Hono, MiddlewareHandler } from 'hono';
import { NO_UPSTREAM_CREDENTIALS, identityHeaders } from '../auth/index.js';
import type { Identify, Principal, UpstreamCredentials } from '../auth/index.js';
import { HttpError, firstRefusal } from '../http/index.js';
import type { AppEnv, McpRateLimits } from '../http/index.js';
import type { GatewayMetrics, Logger } from '../observability/index.js';
import type { Registered } from '../registry/index.js';
import type { Rendezvous, UnitRandom } from '../routing/index.js';
import type { ProxyIo, RequestBody, RequestHeaders } from './fetch-io.js';
import type { Forwarder } from './forwarder.js';
import { createMcpProxy } from './mcp-proxy.js';
import type { ReplicaResolver } from './mcp-proxy.js';
import { corsHeaders, createOriginCheck, isAlreadySent, originGuard } from './origin-guard.js';
import { IGNORED_EXCHANGE } from './proxy-observer.js';
import type { ExchangeObserver } from './proxy-observer.js';
import { ReplicaLoad } from './replica-load.js';
import type { SessionSealer } from './session-seal.js';
import { SessionLedger } from './session-ledger.js';
import { SseUpstreams, fetchSseOutbound } from './sse-upstream/index.js';
import type { SseOutbound } from './sse-upstream/index.js';

/** Everything the data plane needs. */
export interface DataPlaneOptions {
  readonly lookup: (
    name: string,
  ) => Registered<'adapter'> | undefined | Promise<Registered<'adapter'> | undefined>;
  readonly replicas: ReplicaResolver;
  readonly sealer: SessionSealer;
  readonly rendezvous: Rendezvous;
  /** How the Hono route reads requests and forwards (Node-native on a Node server, Fetch elsewhere). */
  readonly io: ProxyIo;
  readonly logger: Logger;
  readonly publicUrl: string;
  readonly allowedOrigins: readonly string[];
  /** True when the gateway listens on loopback only (enables the Host check). */
  readonly loopback: boolean;
  readonly connectTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly maxBodyBytes: number;
  readonly loadEpsilon: number;
  /** Placement randomness (fresh session keys, two-choices draws); default `Math.random`. */
  readonly random?: UnitRandom;
  /** Milliseconds since the epoch, for the session ledger's idle times; default `Date.now`. */
  readonly now?: () => number;
  readonly identityHeaders?: (
    principal: Principal,
    adapter: Registered<'adapter'>,
  ) => Record<string, string> | Promise<Record<string, string>>;
  /** Adapters' own credentials for their upstreams (`upstreamAuth`); without it such an adapter answers 502. */
  readonly upstreamCredentials?: UpstreamCredentials;
  /**
   * How `transport: "sse"` adapters (2024-11-05 upstreams) are reached: the Node runtime passes its SSRF-guarded
   * agents; default the platform's `fetch`. `refuseUrl` judges the SSE URL and the endpoint the server announces.
   */
  readonly sse?: {
    readonly outbound?: SseOutbound;
    readonly refuseUrl?: (url: string) => string | undefined;
  };
}

/** What the app adds around the proxy: observation (metrics, audit) and the rate limits. */
export interface DataPlaneHooks {
  /** Runs first on the Hono route, before the origin guard: times the request, reads the final status. */
  readonly observe?: MiddlewareHandler<AppEnv>;
  /** Runs after authentication on the Hono route, before the proxy (the per-adapter limit). */
  readonly limit?: MiddlewareHandler<AppEnv>;
  /**
   * The same limits as plain functions, for the {@link McpEndpoint}; its `tool` limit applies on both routes (the
   * proxy reads the tool's name once it has classified the request).
   */
  readonly limits?: McpRateLimits;
  /** The legacy sessions this instance holds (shared with the status route); a new ledger when absent. */
  readonly sessions?: SessionLedger;
  /** Where open sessions (read at scrape time) and refused sessions are counted. */
  readonly metrics?: GatewayMetrics;
  /** The function behind `authenticate`; without it (custom middleware) there is no {@link McpEndpoint}. */
  readonly identify?: Identify;
}

/** A request to `/adapters/{name}/mcp` as a front end without Hono presents it. */
export interface McpEndpointRequest {
  /** The adapter named in the path. */
  readonly name: string;
  readonly method: string;
  readonly path: string;
  /** Absolute request URL. */
  readonly url: string;
  /** Lower-case names. */
  readonly headers: RequestHeaders;
  readonly remoteAddress: string | undefined;
  readonly forwarder: Forwarder;
  readBody(maxBytes: number): Promise<RequestBody | 'too-large'>;
}

/** The answer, and who asked (for the audit line) when authentication named them. */
export interface McpEndpointAnswer {
  /** To write to the client, unless the forwarder already did (the Node forwarder's marker). */
  readonly response: Response;
  readonly principal: Principal | undefined;
}

/** The data plane's steps without a framework: origin, authentication, limits, proxy. */
export interface McpEndpoint {
  serve(request: McpEndpointRequest, observed: ExchangeObserver): Promise<McpEndpointAnswer>;
}

/** What the app's `onError` answers for an unexpected failure on this route (it has no request id here). */
export const INTERNAL_ERROR = new HttpError(500, 'internal_error', 'Internal server error.');

/** The compat identity headers (`X-Mcp-UserId`, `X-Mcp-Roles`); the caller's token never goes upstream. */
export const compatIdentityHeaders = (principal: Principal): Record<string, string> =>
  identityHeaders(principal);

const remoteAddressOf = (env: unknown) =>
  (env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)?.incoming?.socket
    ?.remoteAddress;

/**
 * Registers the MCP route on `app` (call before any middleware that must not run on the proxy path) and returns
 * the same steps as an {@link McpEndpoint}, or undefined without `hooks.identify`.
 */
export function mountDataPlane(
  app: Hono<AppEnv>,
  authenticate: MiddlewareHandler<AppEnv>,
  options: DataPlaneOptions,
  hooks: DataPlaneHooks = {},
): McpEndpoint | undefined {
  const { logger } = options;
  const sessions = hooks.sessions ?? new SessionLedger(options.now ? { now: options.now } : {});
  const { metrics } = hooks;
  metrics?.watchOpenSessions(() => sessions.snapshot());
  const proxy = createMcpProxy({
    lookup: options.lookup,
    replicas: options.replicas,
    sealer: options.sealer,
    rendezvous: options.rendezvous,
    load: new ReplicaLoad(),
    sessions,
    ...(metrics && { onSessionsFull: (adapter: string) => metrics.sessionRefused(adapter) }),
    ...(metrics && { onSessionEvicted: (adapter: string) => metrics.sessionEvicted(adapter) }),
    loadEpsilon: options.loadEpsilon,
    ...(options.random && { random: options.random }),
    connectTimeoutMs: options.connectTimeoutMs,
    idleTimeoutMs: options.idleTimeoutMs,
    maxBodyBytes: options.maxBodyBytes,
    identityHeaders: options.identityHeaders ?? compatIdentityHeaders,
    upstreamCredentials: options.upstreamCredentials ?? NO_UPSTREAM_CREDENTIALS,
    // Where an oauth-user adapter's caller connects (the token vault's route, under the public URL).
    connectUrl: (adapter) =>
      `${options.publicUrl.replace(/\/+$/, '')}/connect/${encodeURIComponent(adapter)}`,
    ...(hooks.limits?.tool && { limitToolCall: hooks.limits.tool }),
    logger,
    sse: new SseUpstreams({
      outbound: options.sse?.outbound ?? fetchSseOutbound(),
      refuseUrl: options.sse?.refuseUrl,
      logger,
      ...(options.now && { now: options.now }),
    }),
  });
  const guardOptions = {
    publicUrl: options.publicUrl,
    allowedOrigins: options.allowedOrigins,
    loopback: options.loopback,
  };
  const { io } = options;
  // Absent hooks are left out rather than replaced by pass-through middleware: each one costs a hop per request.
  const chain = [hooks.observe, originGuard(guardOptions), authenticate, hooks.limit].filter(
    (h) => h !== undefined,
  );
  for (const handler of chain) app.all('/adapters/:name/mcp', handler);
  app.all('/adapters/:name/mcp', function mcpProxy(c) {
    return proxy.handle({
      name: c.req.param('name') ?? '',
      method: c.req.method,
      url: c.req.url,
      headers: io.headersOf(c),
      remoteAddress: remoteAddressOf(c.env),
      principal: c.get('principal'),
      corsOrigin: c.get('corsOrigin'),
      observed: c.get('exchange') ?? IGNORED_EXCHANGE,
      forwarder: io.forwarderFor(c),
      readBody: (maxBytes) => io.readBody(c, maxBytes),
    });
  });

  const { identify } = hooks;
  if (!identify) return undefined;
  const checkOrigin = createOriginCheck(guardOptions);
  const limits = hooks.limits ?? {};

  /** What Hono's `onError` does for the route: HttpErrors render themselves, anything else is logged, 500. */
  function failed(err: unknown, request: McpEndpointRequest): Response {
    if (err instanceof HttpError) return err.toResponse();
    logger.error({ err, method: request.method, path: request.path }, 'unhandled error');
    return INTERNAL_ERROR.toResponse();
  }

  function admitted(
    request: McpEndpointRequest,
    principal: Principal,
    corsOrigin: string | undefined,
    observed: ExchangeObserver,
  ): Response | Promise<Response> {
    const { principal: byPrincipal, adapter: byAdapter } = limits;
    if (!byPrincipal && !byAdapter) return proxied(request, principal, corsOrigin, observed);
    const limited = firstRefusal([() => byPrincipal?.(principal.userId), () => byAdapter?.(request.name)]);
    // In memory the answer is there at once: no promise on the request path without a shared store.
    if (limited instanceof Promise) {
      return limited.then((refusal) => refusal ?? proxied(request, principal, corsOrigin, observed));
    }
    return limited ?? proxied(request, principal, corsOrigin, observed);
  }

  function proxied(
    request: McpEndpointRequest,
    principal: Principal,
    corsOrigin: string | undefined,
    observed: ExchangeObserver,
  ): Promise<Response> {
    return proxy.handle({
      name: request.name,
      method: request.method,
      url: request.url,
      headers: request.headers,
      remoteAddress: request.remoteAddress,
      principal,
      corsOrigin,
      observed,
      forwarder: request.forwarder,
      readBody: request.readBody,
    });
  }

  return {
    async serve(request, observed) {
      const { headers } = request;
      const verdict = checkOrigin(headers.get('host') ?? undefined, headers.get('origin') ?? undefined);
      if (verdict.refusal) return { response: verdict.refusal, principal: undefined };
      let principal: Principal | undefined;
      let response: Response;
      try {
        const identified = identify({
          path: request.path,
          url: request.url,
          header: (name) => headers.get(name) ?? undefined,
        });
        principal = identified instanceof Promise ? await identified : identified;
        response = await admitted(request, principal, verdict.origin, observed);
      } catch (err) {
        response = failed(err, request);
      }
      // The Node forwarder wrote its own head, CORS included; every other answer gets them here.
      if (verdict.origin !== undefined && !isAlreadySent(response)) {
        for (const [name, value] of Object.entries(corsHeaders(verdict.origin)))
          response.headers.set(name, value);
      }
      return { response, principal };
    },
  };
}
