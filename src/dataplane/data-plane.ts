/** @module data-plane: mounts `/adapters/{name}/mcp` with its guards, ahead of the control plane's middleware. */
import type { Hono, MiddlewareHandler } from 'hono';
import type { AppEnv } from '../http/index.js';
import type { Logger } from '../observability/index.js';
import type { Registered } from '../registry/index.js';
import type { Rendezvous } from '../routing/index.js';
import type { ProxyIo } from './fetch-io.js';
import { createMcpProxy } from './mcp-proxy.js';
import type { ReplicaResolver } from './mcp-proxy.js';
import { originGuard } from './origin-guard.js';
import type { ProxyObserver } from './proxy-observer.js';
import { ReplicaLoad } from './replica-load.js';
import type { SessionSealer } from './session-seal.js';
import { identityHeaders } from '../auth/index.js';
import type { Principal } from '../auth/index.js';

/** Everything the data plane needs. */
export interface DataPlaneOptions {
  readonly lookup: (name: string) => Promise<Registered<'adapter'> | undefined>;
  readonly replicas: ReplicaResolver;
  readonly sealer: SessionSealer;
  readonly rendezvous: Rendezvous;
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
  readonly identityHeaders?: (
    principal: Principal,
    adapter: Registered<'adapter'>,
  ) => Record<string, string> | Promise<Record<string, string>>;
}

/** What the app adds around the proxy: observation (metrics, audit) and the per-adapter rate limit. */
export interface DataPlaneHooks {
  /** Runs first, before the origin guard (times every request, reads the final status). */
  readonly observe?: MiddlewareHandler<AppEnv>;
  /** Runs after authentication, before the proxy. */
  readonly limit?: MiddlewareHandler<AppEnv>;
  readonly observer?: ProxyObserver;
}

/** The compat identity headers (`X-Mcp-UserId`, `X-Mcp-Roles`); the caller's token never goes upstream. */
export const compatIdentityHeaders = (principal: Principal): Record<string, string> =>
  identityHeaders(principal);

/** Registers the MCP route on `app`; call before any middleware that must not run on the proxy path. */
export function mountDataPlane(
  app: Hono<AppEnv>,
  authenticate: MiddlewareHandler<AppEnv>,
  options: DataPlaneOptions,
  hooks: DataPlaneHooks = {},
): void {
  const proxy = createMcpProxy({
    lookup: options.lookup,
    replicas: options.replicas,
    sealer: options.sealer,
    rendezvous: options.rendezvous,
    load: new ReplicaLoad(),
    loadEpsilon: options.loadEpsilon,
    connectTimeoutMs: options.connectTimeoutMs,
    idleTimeoutMs: options.idleTimeoutMs,
    maxBodyBytes: options.maxBodyBytes,
    io: options.io,
    identityHeaders: options.identityHeaders ?? compatIdentityHeaders,
    logger: options.logger,
    observer: hooks.observer,
  });
  const guard = originGuard({
    publicUrl: options.publicUrl,
    allowedOrigins: options.allowedOrigins,
    loopback: options.loopback,
  });
  // Absent hooks are left out rather than replaced by pass-through middleware: each one costs a hop per request.
  const chain = [hooks.observe, guard, authenticate, hooks.limit].filter((h) => h !== undefined);
  for (const handler of chain) app.all('/adapters/:name/mcp', handler);
  app.all('/adapters/:name/mcp', proxy);
}
