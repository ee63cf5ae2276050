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

/** The compat identity headers (`X-Mcp-UserId`, `X-Mcp-Roles`); the caller's token never goes upstream. */
export const compatIdentityHeaders = (principal: Principal): Record<string, string> =>
  identityHeaders(principal);

/** Registers the MCP route on `app`; call before any middleware that must not run on the proxy path. */
export function mountDataPlane(
  app: Hono<AppEnv>,
  authenticate: MiddlewareHandler<AppEnv>,
  options: DataPlaneOptions,
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
  });
  const guard = originGuard({
    publicUrl: options.publicUrl,
    allowedOrigins: options.allowedOrigins,
    loopback: options.loopback,
  });
  app.all('/adapters/:name/mcp', guard, authenticate, proxy);
}
