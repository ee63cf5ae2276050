/**
 * @module main: the Node entry. Reads the environment (the only module that does), opens the registry,
 * builds the app and serves it until SIGTERM/SIGINT, then drains (readiness 503, no new connections, open
 * streams get `MCP_GATEWAY_DRAIN_SECONDS`), reaps local processes, closes everything and exits 0.
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { createApp } from './app.js';
import { createAuthenticator, generateIdentityKey, parseIdentityKey } from './auth/index.js';
import { ConfigError, isLoopbackHost, parseConfig } from './config/index.js';
import { createAdapterCache, createSessionSealer } from './dataplane/index.js';
import { createNodeAgents } from './dataplane/node/node-forwarder.js';
import { createNodeIo } from './dataplane/node/node-io.js';
import { listen } from './dataplane/node/node-listener.js';
import { createNodeProbeSender } from './dataplane/node/node-probe-sender.js';
import { blockedAddressReason, blockedUrlReason, startDeployers } from './deploy/index.js';
import { createRendezvous } from './routing/index.js';
import { createMetricsApp } from './http/index.js';
import type { OriginPolicy } from './http/index.js';
import {
  NO_AUDIT_LOG,
  NO_METRICS,
  createAuditLog,
  createLogger,
  timedRegistryStore,
} from './observability/index.js';
import type { GatewayMetrics, Logger } from './observability/index.js';
import { createPrometheusMetrics } from './observability/prometheus/index.js';
import { createTracing } from './observability/tracing/otel/index.js';
import {
  SchemaTooNewError,
  SealedSettingError,
  createSettingsCipher,
  getOrCreateSealedSetting,
  openRegistryStore,
  parseDatabaseUrl,
} from './registry/index.js';
import type { DatabaseTarget, FilePermissionsNotice, RegistryChangeFeed } from './registry/index.js';
import {
  GatewaySecretError,
  defaultSecretFile,
  resolveGatewaySecret,
  secretFileEntries,
} from './registry/node/index.js';
import type { GatewaySecretNotice } from './registry/node/index.js';
import { toolRouterObserver } from './toolrouter/index.js';
import { startToolRouter } from './toolrouter/node/index.js';

/** While draining, connections that finished their last response are closed this often. */
const IDLE_SWEEP_MS = 250;
/** After the drain, closing the tool router, the deployers (reaping processes) and the registry may take this long. */
const CLEANUP_TIMEOUT_MS = 30_000;

/** Registry key of the identity-JWT signing key (private JWK, sealed with the gateway secret), shared by every replica. */
const IDENTITY_KEY_SETTING = 'identity-signing-key';

function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
      version?: string;
    };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

/** Options of {@link drainServer}. */
interface DrainOptions {
  /** Longest wait for open connections (streams) before they are cut. */
  readonly drainMs: number;
  /** How long new connections are still accepted before the listener closes (0: at once). */
  readonly acceptMs: number;
  readonly logger: Logger;
}

/**
 * Drains `server`: keeps accepting for `acceptMs` (answering with `Connection: close`), then closes the listener
 * so new connections are refused, closes connections as their responses end, and cuts whatever is still open
 * at `drainMs`. Resolves once every connection is gone. `cut()` ends the wait at once (a second signal).
 */
function drainServer(server: Server, options: DrainOptions): { done: Promise<void>; cut: () => void } {
  const { logger } = options;
  // Every response from now on ends its connection, so keep-alive clients reconnect elsewhere.
  server.prependListener('request', (_req, res) => res.setHeader('connection', 'close'));
  const cut = () => {
    server.getConnections((_err, count) => {
      if (count > 0) logger.warn({ connections: count }, 'drain deadline: cutting open connections');
    });
    server.closeAllConnections();
  };
  const deadline = setTimeout(cut, options.drainMs);
  let sweep: ReturnType<typeof setInterval> | undefined;
  const done = new Promise<void>((resolve) => {
    const stopAccepting = () => {
      // Node closes idle keep-alive connections here; the sweep catches those whose response ends later.
      server.close(() => {
        clearTimeout(deadline);
        clearInterval(sweep);
        resolve();
      });
      sweep = setInterval(() => server.closeIdleConnections(), IDLE_SWEEP_MS);
      server.getConnections((_err, count) =>
        logger.info({ connections: count }, 'draining: listener closed'),
      );
    };
    if (options.acceptMs > 0) setTimeout(stopAccepting, options.acceptMs);
    else stopAccepting();
  });
  return { done, cut };
}

/** Serves `/metrics` (and `/healthz`) on a listener of its own, `MCP_GATEWAY_METRICS_PORT`. */
async function listenForMetrics(
  metrics: GatewayMetrics,
  at: { readonly port: number; readonly host: string },
  token: string | undefined,
  origins: OriginPolicy,
  logger: Logger,
): Promise<Server> {
  // The Host check follows this listener's own address: a rebinding page could read a loopback one.
  const policy = { ...origins, loopback: isLoopbackHost(at.host) };
  const server = await listen(createMetricsApp({ metrics, token, policy, logger }), {
    port: at.port,
    hostname: at.host,
    logger,
  });
  const address = server.address() as AddressInfo;
  logger.info(
    { address: address.address, port: address.port, token: token !== undefined },
    'metrics listening',
  );
  return server;
}

/** Tells the operator once that a registry file was (or could not be) made private. */
function logPermissions(logger: Logger, notice: FilePermissionsNotice): void {
  const { path, kind, from, to, reason } = notice;
  if (notice.action === 'tightened') {
    logger.warn({ path, kind, from, to }, 'was readable by others: permissions tightened');
  } else if (kind === 'directory') {
    // The files in it are private anyway; a shared folder (or a volume root another user owns, as a Kubernetes
    // volume with fsGroup is) only shows their names. Said at every start, so not as a warning.
    logger.info({ path, kind, from, reason }, 'is readable by others and was left as it is');
  } else {
    logger.warn({ path, kind, from, reason }, 'is readable by others and was left as it is');
  }
}

function logSecretNotice(logger: Logger, notice: GatewaySecretNotice): void {
  if (notice.kind === 'permissions') return logPermissions(logger, notice.notice);
  if (notice.matched) logger.info('deleted the gateway secret from the registry: it is kept in its file now');
  else logger.warn('deleted an unused gateway secret from the registry (a plaintext secret at rest)');
}

/** Starts the gateway from `process.env`; resolves once it listens. */
export async function main(): Promise<void> {
  let config;
  try {
    config = parseConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(2);
    }
    throw err;
  }
  const logger = createLogger({ level: config.logLevel });
  const metricsServing = config.ops.metricsServing;
  // A registry of its own (not prom-client's global one); process metrics only in the real process. Nothing is
  // recorded when no one may read it (an exposed bind with neither a token nor a metrics port).
  const metrics =
    config.ops.metrics && (metricsServing.onMainPort || metricsServing.listener)
      ? createPrometheusMetrics({ processMetrics: true })
      : undefined;
  if (config.ops.metrics && !metrics) {
    logger.warn(
      { host: config.host },
      'metrics are off: /metrics names every adapter, so a gateway on a non-loopback address serves it only with MCP_GATEWAY_METRICS_TOKEN (scrapers send Authorization: Bearer <token>) or on MCP_GATEWAY_METRICS_PORT (a listener of its own, kept off the public network); set MCP_GATEWAY_METRICS=false to silence this',
    );
  }
  const tracing = createTracing(config.tracing, { logger, serviceVersion: packageVersion() });

  let store;
  let database: DatabaseTarget;
  try {
    database = parseDatabaseUrl(config.databaseUrl);
    store = await openRegistryStore(config.databaseUrl, {
      onPermissions: (notice) => logPermissions(logger, notice),
      // Without MCP_GATEWAY_SECRET_FILE a SQLite registry keeps the secret in a file beside the database.
      companionEntries: secretFileEntries(database, config.secretFile ?? defaultSecretFile(database)),
    });
  } catch (err) {
    logger.fatal({ err: err instanceof SchemaTooNewError ? err.message : err }, 'cannot open the registry');
    process.exit(1);
  }
  // The store itself reports other replicas' writes to the tool router; decorators need not pass that on.
  const registryChanges: RegistryChangeFeed = store;
  if (metrics) store = timedRegistryStore(store, { metrics });
  let secret: string;
  let identityKey;
  try {
    const resolved = await resolveGatewaySecret({
      configured: config.secret,
      file: config.secretFile,
      database,
      store,
      onNotice: (notice) => logSecretNotice(logger, notice),
    });
    secret = resolved.value;
    logger.info({ source: resolved.source, file: resolved.file }, 'gateway secret');
    // Shared through the registry, sealed with the secret, so every replica publishes and signs with one key.
    const settings = await createSettingsCipher(secret);
    identityKey = config.auth.identityJwt
      ? parseIdentityKey(
          await getOrCreateSealedSetting(store, settings, IDENTITY_KEY_SETTING, async () =>
            JSON.stringify(await generateIdentityKey()),
          ),
        )
      : undefined;
  } catch (err) {
    if (!(err instanceof GatewaySecretError || err instanceof SealedSettingError)) throw err;
    logger.fatal({ err: err.message }, 'cannot set up the gateway secret');
    process.exit(2);
  }
  let auth;
  try {
    auth = await createAuthenticator(config.auth, {
      logger,
      readFile: (path) => readFile(path, 'utf8'),
      identityKey,
    });
  } catch (err) {
    logger.fatal({ err: err instanceof Error ? err.message : err }, 'cannot set up authentication');
    process.exit(2);
  }
  for (const warning of auth.warnings) logger.warn({ auth: auth.mode }, warning);
  // Not fatal: an issuer that is down now may be up by the first request; requests retry discovery.
  auth
    .warmUp()
    .catch((err: unknown) =>
      logger.warn({ err: err instanceof Error ? err.message : err }, 'issuer keys not loaded yet'),
    );

  const agents = createNodeAgents({
    refuseAddress: config.allowLinkLocal ? undefined : blockedAddressReason,
  });
  let deployers;
  try {
    deployers = await startDeployers({
      store,
      logger,
      deploy: config.deploy,
      remote: {
        refuseUrl: config.allowLinkLocal ? undefined : blockedUrlReason,
        probeIntervalMs: config.healthIntervalMs,
        probeTimeoutMs: config.probeTimeoutMs,
        // Probes resolve names through the data plane's guarded lookup: a name resolving to a blocked address is
        // never contacted, not even by the gateway's own health checks.
        send: createNodeProbeSender(agents),
      },
      onReconcile: metrics && ((ref, result) => metrics.reconciled(ref.kind, result.action, result.ok)),
    });
  } catch (err) {
    // The process sandbox's read paths (checked with symlinks resolved) or an explicit bwrap that cannot work.
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(2);
    }
    throw err;
  }
  const adapters = createAdapterCache({ store, ttlMs: config.registryCacheMs });
  const audit = config.ops.auditLog ? createAuditLog(logger) : undefined;
  const toolRouter = config.toolRouter.enabled
    ? await startToolRouter({
        store,
        changes: registryChanges,
        replicas: deployers.replicas,
        logger,
        version: packageVersion(),
        settings: config.toolRouter.settings,
        agents,
        publicUrl: config.publicUrl,
        headersFor: (principal, audience) => auth.upstreamIdentity.headersFor(principal, audience),
        onToolCall:
          metrics || audit
            ? toolRouterObserver({ metrics: metrics ?? NO_METRICS, audit: audit ?? NO_AUDIT_LOG })
            : undefined,
      })
    : undefined;
  let draining = false;
  // One policy for every route: the Host check (on a loopback bind) and the allowed browser origins.
  const origins = {
    publicUrl: config.publicUrl,
    allowedOrigins: config.allowedOrigins,
    loopback: isLoopbackHost(config.host),
  };
  const app = createApp({
    store,
    inspector: toolRouter ? toolRouter.withFederationStatus(deployers.inspector) : deployers.inspector,
    logger,
    bodyLimitBytes: config.bodyLimitBytes,
    origins,
    version: packageVersion(),
    authenticate: auth.authenticate,
    authorize: auth.authorizeCreate,
    commandGate: auth.commandGate,
    wellKnownRoutes: auth.wellKnownRoutes,
    allowLinkLocalEndpoints: config.allowLinkLocal,
    metrics,
    metricsRoute: metricsServing.onMainPort && { token: metricsServing.token },
    tracing,
    audit,
    rateLimits: { perPrincipal: config.ops.perPrincipal, perAdapter: config.ops.perAdapter },
    draining: () => draining,
    onResourceChange: (ref) => {
      if (ref.kind === 'adapter') adapters.invalidate(ref.name);
      deployers.reconciler.notify(ref);
      toolRouter?.invalidate();
    },
    dataPlane: {
      lookup: (name) => adapters.get(name),
      replicas: deployers.replicas,
      sealer: await createSessionSealer({ secret, maxAgeMs: config.sessionMaxAgeMs }),
      rendezvous: await createRendezvous(),
      io: createNodeIo(agents),
      logger,
      ...origins,
      connectTimeoutMs: config.upstreamConnectTimeoutMs,
      idleTimeoutMs: config.upstreamIdleTimeoutMs,
      maxBodyBytes: config.mcpBodyLimitBytes,
      loadEpsilon: config.loadEpsilon,
      identityHeaders: (principal, adapter) =>
        auth.upstreamIdentity.headersFor(principal, `${config.publicUrl}/adapters/${adapter.name}/mcp`),
    },
    toolRouter: toolRouter && {
      router: toolRouter,
      guard: origins,
    },
  });

  const metricsServer =
    metrics && metricsServing.listener
      ? await listenForMetrics(metrics, metricsServing.listener, metricsServing.token, origins, logger)
      : undefined;
  const server = await listen(app, { port: config.port, hostname: config.host, agents, logger });

  let drain: { done: Promise<void>; cut: () => void } | undefined;
  const stop = (signal: string) => {
    // A second signal does not wait for the streams any longer.
    if (drain) {
      logger.info({ signal }, 'second signal: cutting open connections');
      drain.cut();
      return;
    }
    draining = true;
    toolRouter?.drain();
    logger.info(
      { signal, drainSeconds: config.ops.drainMs / 1000, acceptSeconds: config.ops.drainAcceptMs / 1000 },
      'shutting down',
    );
    drain = drainServer(server, { drainMs: config.ops.drainMs, acceptMs: config.ops.drainAcceptMs, logger });
    void drain.done.then(async () => {
      // Also holds the event loop open: a close that awaits a settled child would otherwise let Node exit early.
      setTimeout(() => {
        logger.error({ timeoutMs: CLEANUP_TIMEOUT_MS }, 'shutdown cleanup did not finish; exiting');
        logger.flush(() => process.exit(1));
      }, CLEANUP_TIMEOUT_MS);
      await toolRouter
        ?.close()
        .catch((err: unknown) => logger.error({ err }, 'closing the tool router failed'));
      agents.destroy();
      metricsServer?.closeAllConnections();
      metricsServer?.close();
      // Local processes are reaped before the registry closes and the process exits.
      deployers
        .close()
        .catch((err: unknown) => logger.error({ err }, 'stopping the deployers failed'))
        .then(() => store.close())
        .catch((err: unknown) => logger.error({ err }, 'closing the registry failed'))
        // Bounded (5 s) even with the collector down; the last spans go out before the exit.
        .then(() => tracing.shutdown())
        .finally(() => {
          logger.info('stopped');
          // The log is written asynchronously: exit once its last lines are out.
          logger.flush(() => process.exit(0));
        });
    });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  // Only now: whoever waits for this line may signal at once, and the log is written off the main thread, so a
  // signal could otherwise arrive before its handler and kill the process without a drain.
  const address = server.address() as AddressInfo;
  logger.info(
    { address: address.address, port: address.port, registry: store.dialect, publicUrl: config.publicUrl },
    'listening',
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
