/**
 * @module node-runtime: the one composition root of the Node gateway. `buildGatewayRuntime` assembles what
 * `mcp-gateway serve` runs (registry, gateway secret, authentication, deployers, tool router, metrics, tracing,
 * the app); `buildStdioRuntime` the same core without the HTTP side, for `mcp-gateway stdio`. Each returns a
 * bundle whose `close()` releases everything in the reverse order it was opened, and a build that fails halfway
 * closes what it had opened before it throws a {@link StartupError}.
 */
import { readFile } from 'node:fs/promises';
import type { GatewayApp } from '../app.js';
import { createAuthenticator } from '../../auth/index.js';
import type { Authenticator, Principal } from '../../auth/index.js';
import { ConfigError, isLoopbackHost } from '../../config/index.js';
import type { Config } from '../../config/index.js';
import { createNodeAgents } from '../../dataplane/node/node-forwarder.js';
import type { NodeAgents } from '../../dataplane/node/node-forwarder.js';
import { createNodeIo } from '../../dataplane/node/node-io.js';
import { createNodeProbeSender, createNodeSseProbeSender } from '../../dataplane/node/node-probe-sender.js';
import { createNodeOutbound } from '../../toolrouter/node/index.js';
import { ssrfPolicy, startDeployers, storedSecretSource } from '../../deploy/index.js';
import type { RunningDeployers } from '../../deploy/index.js';
import { isProgramFile } from '../../deploy/process/index.js';
import { memoryRateLimiterStore } from '../../http/index.js';
import type { RateLimiterStore } from '../../http/index.js';
import { connectRedisRateLimits } from '../../http/redis/index.js';
import { NO_AUDIT_LOG, NO_METRICS, timedRegistryStore } from '../../observability/index.js';
import type { AuditLog, GatewayMetrics, Logger, Tracing } from '../../observability/index.js';
import { createPrometheusMetrics } from '../../observability/prometheus/index.js';
import { createTracing } from '../../observability/tracing/otel/index.js';
import {
  SchemaTooNewError,
  SealedSettingError,
  createSecretCipher,
  openRegistryStore,
  parseDatabaseUrl,
} from '../../registry/index.js';
import type {
  DatabaseTarget,
  FilePermissionsNotice,
  RegistryChangeFeed,
  RegistryStore,
} from '../../registry/index.js';
import {
  GatewaySecretError,
  defaultSecretFile,
  resolveGatewaySecret,
  secretFileEntries,
} from '../../registry/node/index.js';
import type { GatewaySecretNotice } from '../../registry/node/index.js';
import {
  routingRefusalObserver,
  toolDefinitionObserver,
  toolRouterObserver,
} from '../../toolrouter/index.js';
import type { ToolRouter } from '../../toolrouter/index.js';
import { readToolPolicyFile, startToolRouter } from '../../toolrouter/node/index.js';
import { ToolPolicyError } from '../../toolrouter/policy/index.js';
import type { ToolPolicy } from '../../toolrouter/policy/index.js';
import { createConfigFileControl } from '../config-file-control.js';
import type { ConfigFileControl } from '../config-file-control.js';
import {
  auditLogFor,
  buildGatewayApp,
  loadIdentityKey,
  tokenVaultFor,
  tokenExchangeOf,
  upstreamCredentialsFor,
} from '../gateway-app.js';
import { StartupError } from './startup-error.js';
import { consoleFiles } from './console-files.js';
import { swaggerUiFiles } from './swagger-ui-files.js';

/** What both builders need besides the configuration. */
export interface RuntimeOptions {
  /** Where the runtime logs (stderr for stdio: stdout carries the protocol). */
  readonly logger: Logger;
  readonly version: string;
}

/** What every Node runtime holds. */
interface CoreRuntime {
  readonly config: Config;
  readonly logger: Logger;
  readonly store: RegistryStore;
  readonly auth: Authenticator;
  /** The data plane's SSRF-guarded connection pools, shared by the tool router and health probes. */
  readonly agents: NodeAgents;
  readonly deployers: RunningDeployers;
  /** Releases everything, last opened first; a step that fails is logged and the rest still run. */
  close(): Promise<void>;
}

/** `mcp-gateway serve`: the core, the app and what observes it. */
export interface GatewayRuntime extends CoreRuntime {
  readonly app: GatewayApp;
  /** Absent when metrics are off, or when nobody may read them. */
  readonly metrics: GatewayMetrics | undefined;
  readonly toolRouter: ToolRouter | undefined;
  /**
   * The control plane in-process, as the configuration file (`MCP_GATEWAY_CONFIG`) acts on it at start: the
   * public app's routes and gates, without a socket or a token.
   */
  readonly configFileControl: ConfigFileControl;
  /**
   * The first step of a shutdown: `/readyz` answers 503, the tool router's streams are told to end, and the data
   * plane's GET streams end between two events (the clients resume elsewhere with `Last-Event-ID`).
   */
  drain(): void;
}

/** `mcp-gateway stdio`: the core and the tool router, no HTTP side. */
export interface StdioRuntime extends CoreRuntime {
  readonly toolRouter: ToolRouter;
}

/** Cleanup steps, run last first. */
class Closers {
  readonly #steps: { readonly failure: string; readonly run: () => unknown }[] = [];
  constructor(private readonly logger: Logger) {}

  /** `failure` is what the log says when the step throws. */
  push(failure: string, run: () => unknown): void {
    this.#steps.push({ failure, run });
  }

  async close(): Promise<void> {
    for (const step of this.#steps.splice(0).reverse()) {
      try {
        await step.run();
      } catch (err) {
        this.logger.error({ err }, step.failure);
      }
    }
  }
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

async function openStore(config: Config, logger: Logger) {
  try {
    const database = parseDatabaseUrl(config.databaseUrl);
    const store = await openRegistryStore(config.databaseUrl, {
      onPermissions: (notice) => logPermissions(logger, notice),
      // Without MCP_GATEWAY_SECRET_FILE a SQLite registry keeps the secret in a file beside the database.
      companionEntries: secretFileEntries(database, config.secretFile ?? defaultSecretFile(database)),
    });
    return { store, database };
  } catch (err) {
    throw new StartupError(
      'cannot open the registry',
      1,
      err instanceof SchemaTooNewError ? err.message : err,
    );
  }
}

/**
 * `config` with the previous gateway secrets of `MCP_GATEWAY_PREVIOUS_SECRETS_FILE` read in (one a line; blank
 * lines and `#` comments skipped), as the gateway secret itself may come from a file. The values are never logged.
 */
async function withPreviousSecrets(config: Config): Promise<Config> {
  if (config.previousSecretsFile === undefined) return config;
  let text: string;
  try {
    text = await readFile(config.previousSecretsFile, 'utf8');
  } catch (err) {
    const reason = err instanceof Error && 'code' in err ? String(err.code) : 'unreadable';
    const message = `MCP_GATEWAY_PREVIOUS_SECRETS_FILE cannot be read (${reason})`;
    throw new StartupError('cannot set up the gateway secret', 2, message, message);
  }
  const previousSecrets = text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line.length > 0 && !line.startsWith('#'));
  return { ...config, previousSecrets };
}

/** The gateway secret and, when asked for, the identity-JWT key sealed with it. */
async function gatewaySecret(config: Config, database: DatabaseTarget, store: RegistryStore, logger: Logger) {
  try {
    const resolved = await resolveGatewaySecret({
      configured: config.secret,
      file: config.secretFile,
      database,
      store,
      onNotice: (notice) => logSecretNotice(logger, notice),
    });
    // Key ids, never secrets: which keys this gateway seals with and still opens.
    logger.info(
      {
        source: resolved.source,
        file: resolved.file,
        previousSecrets: config.previousSecrets?.length ?? 0,
      },
      'gateway secret',
    );
    return { secret: resolved.value, identityKey: await loadIdentityKey(store, resolved.value, config) };
  } catch (err) {
    if (!(err instanceof GatewaySecretError || err instanceof SealedSettingError)) throw err;
    throw new StartupError('cannot set up the gateway secret', 2, err.message);
  }
}

interface CoreOptions extends RuntimeOptions {
  readonly metrics?: GatewayMetrics;
}

/** Registry, secret, authentication, connection pools and deployers, each registered with `closers`. */
async function buildCore(config: Config, options: CoreOptions, closers: Closers) {
  const { logger, metrics } = options;
  const { store: opened, database } = await openStore(config, logger);
  closers.push('closing the registry failed', () => opened.close());
  // The store itself reports other replicas' writes to the tool router; decorators need not pass that on.
  const changes: RegistryChangeFeed = opened;
  const store = metrics ? timedRegistryStore(opened, { metrics }) : opened;
  const { secret, identityKey } = await gatewaySecret(config, database, store, logger);

  let auth: Authenticator;
  try {
    auth = await createAuthenticator(config.auth, {
      logger,
      readFile: (path) => readFile(path, 'utf8'),
      identityKey,
    });
  } catch (err) {
    throw new StartupError('cannot set up authentication', 2, err instanceof Error ? err.message : err);
  }
  for (const warning of auth.warnings) logger.warn({ auth: auth.mode }, warning);
  // Not fatal: an issuer that is down now may be up by the first request; requests retry discovery.
  auth
    .warmUp()
    .catch((err: unknown) =>
      logger.warn({ err: err instanceof Error ? err.message : err }, 'issuer keys not loaded yet'),
    );

  const ssrf = ssrfPolicy(config);
  const agents = createNodeAgents({ refuseAddress: ssrf.refuseAddress });
  closers.push('closing the connection pools failed', () => agents.destroy());
  let deployers: RunningDeployers;
  try {
    deployers = await startDeployers({
      store,
      logger,
      deploy: config.deploy,
      // The key of stored secrets, derived from the gateway secret as the /secrets routes derive it.
      secrets: storedSecretSource(store, await createSecretCipher(secret, config.previousSecrets)),
      remote: {
        refuseUrl: ssrf.refuseUrl,
        probeIntervalMs: config.healthIntervalMs,
        probeTimeoutMs: config.probeTimeoutMs,
        probeConcurrency: config.probeConcurrency,
        // Probes resolve names through the data plane's guarded lookup: a name resolving to a blocked address is
        // never contacted, not even by the gateway's own health checks.
        send: createNodeProbeSender(agents),
        sendSse: createNodeSseProbeSender(agents),
      },
      onReconcile: metrics && ((ref, result) => metrics.reconciled(ref.kind, result.action, result.ok)),
      onScale: metrics && ((ref, direction) => metrics.scaled(ref.name, direction)),
    });
  } catch (err) {
    // The process sandbox's read paths (checked with symlinks resolved) or an explicit bwrap that cannot work.
    if (err instanceof ConfigError)
      throw new StartupError('cannot start the deployers', 2, err.message, err.message);
    throw err;
  }
  // Local processes are reaped before the registry closes (closers run last first).
  closers.push('stopping the deployers failed', () => deployers.close());
  // One source of upstream credentials for the data plane and the tool router, over the one secret store.
  // One token vault too: concurrent refreshes of one caller's grant are coalesced across both.
  const vault = await tokenVaultFor(store, secret, logger, config);
  const upstreamCredentials = upstreamCredentialsFor(
    store,
    await createSecretCipher(secret, config.previousSecrets),
    logger,
    config,
    vault,
  );
  return { parts: { store, auth, agents, deployers }, changes, secret, upstreamCredentials, vault };
}

type Core = Awaited<ReturnType<typeof buildCore>>;

/** Runs `build`; when it throws, closes what it had opened first. */
async function building<T>(logger: Logger, build: (closers: Closers) => Promise<T>): Promise<T> {
  const closers = new Closers(logger);
  try {
    return await build(closers);
  } catch (err) {
    await closers.close();
    throw err;
  }
}

/** `MCP_GATEWAY_TOOL_POLICY_FILE` compiled, before anything else starts: a policy that cannot be used is exit 2. */
async function toolPolicyFor(config: Config): Promise<ToolPolicy | undefined> {
  const file = config.toolRouter.policyFile;
  if (file === undefined) return undefined;
  try {
    return await readToolPolicyFile(file);
  } catch (err) {
    if (err instanceof ToolPolicyError)
      throw new StartupError('cannot load the tool policy', 2, err.message, err.message);
    throw err;
  }
}

function routerOptions(config: Config, core: Core, options: RuntimeOptions, policy: ToolPolicy | undefined) {
  const { store, deployers, agents, auth } = core.parts;
  return {
    policy,
    store,
    changes: core.changes,
    replicas: deployers.replicas,
    logger: options.logger,
    version: options.version,
    settings: config.toolRouter.settings,
    agents,
    publicUrl: config.publicUrl,
    headersFor: (principal: Principal, audience: string) =>
      auth.upstreamIdentity.headersFor(principal, audience),
    upstreamCredentials: core.upstreamCredentials,
    secret: core.secret,
    ...(config.previousSecrets && { previousSecrets: config.previousSecrets }),
  };
}

/** Metrics when they are on and someone may read them (a loopback bind, a token or a port of their own). */
function metricsFor(config: Config, logger: Logger): GatewayMetrics | undefined {
  const serving = config.ops.metricsServing;
  // A registry of its own (not prom-client's global one); process metrics only in the real process.
  if (config.ops.metrics && (serving.onMainPort || serving.listener))
    return createPrometheusMetrics({ processMetrics: true });
  if (config.ops.metrics) {
    logger.warn(
      { host: config.host },
      'metrics are off: /metrics names every adapter, so a gateway on a non-loopback address serves it only with MCP_GATEWAY_METRICS_TOKEN (scrapers send Authorization: Bearer <token>) or on MCP_GATEWAY_METRICS_PORT (a listener of its own, kept off the public network); set MCP_GATEWAY_METRICS=false to silence this',
    );
  }
  return undefined;
}

/**
 * With `MCP_GATEWAY_REDIS_URL` and some limit configured: buckets in Redis, shared by every instance, this
 * instance's behind them while Redis is away. It does not wait for Redis: a gateway starts with Redis down.
 */
function rateLimitStoreFor(
  config: Config,
  logger: Logger,
  metrics: GatewayMetrics | undefined,
  closers: Closers,
): RateLimiterStore | undefined {
  const { ops } = config;
  if (ops.redisUrl === undefined) return undefined;
  if (!ops.perPrincipal && !ops.perAdapter && !ops.perTool) {
    logger.warn(
      {},
      'MCP_GATEWAY_REDIS_URL is set but no MCP_GATEWAY_RATE_LIMIT_* limit is: Redis is not used',
    );
    return undefined;
  }
  const redis = connectRedisRateLimits({
    url: ops.redisUrl,
    timeoutMs: ops.redisTimeoutMs,
    prefix: ops.redisKeyPrefix,
    local: memoryRateLimiterStore(),
    logger,
    metrics,
  });
  closers.push('closing the Redis connection failed', () => redis.close());
  return redis.store;
}

/** Everything `mcp-gateway serve` runs, built from `config`; throws {@link StartupError}. */
export function buildGatewayRuntime(given: Config, options: RuntimeOptions): Promise<GatewayRuntime> {
  const { logger } = options;
  return building(logger, async (closers) => {
    const config = await withPreviousSecrets(given);
    const metrics = metricsFor(config, logger);
    const tracing: Tracing = createTracing(config.tracing, { logger, serviceVersion: options.version });
    // Bounded (5 s) even with the collector down; the last spans go out before the exit.
    closers.push('flushing traces failed', () => tracing.shutdown());
    const policy = await toolPolicyFor(config);
    const core = await buildCore(config, { ...options, metrics }, closers);
    const audit: AuditLog | undefined = auditLogFor(config, logger);
    const toolRouter = config.toolRouter.enabled
      ? await startToolRouter({
          ...routerOptions(config, core, options, policy),
          onToolCall:
            metrics || audit
              ? toolRouterObserver({ metrics: metrics ?? NO_METRICS, audit: audit ?? NO_AUDIT_LOG })
              : undefined,
          onToolDefinition:
            metrics || audit
              ? toolDefinitionObserver({ metrics: metrics ?? NO_METRICS, audit: audit ?? NO_AUDIT_LOG })
              : undefined,
          ...(audit && { onRoutingRefused: routingRefusalObserver(audit) }),
        })
      : undefined;
    if (toolRouter) closers.push('closing the tool router failed', () => toolRouter.close());
    let draining = false;
    const { store, auth, agents, deployers } = core.parts;
    const app = await buildGatewayApp({
      config,
      store,
      secret: core.secret,
      upstreamCredentials: core.upstreamCredentials,
      vault: core.vault,
      auth,
      inspector: deployers.inspector,
      replicas: deployers.replicas,
      io: createNodeIo(agents),
      // The tool router's Node outbound: the same guarded agents, a real connect timeout.
      sseOutbound: createNodeOutbound(agents),
      logger,
      version: options.version,
      loopback: isLoopbackHost(config.host),
      metrics,
      metricsRoute: config.ops.metricsServing.onMainPort && { token: config.ops.metricsServing.token },
      tracing,
      audit,
      toolRouter,
      draining: () => draining,
      onResourceChange: (ref) => deployers.reconciler.notify(ref),
      isProgramFile,
      swaggerUi: swaggerUiFiles(),
      rateLimitStore: rateLimitStoreFor(config, logger, metrics, closers),
      consoleUi: consoleFiles(),
    });
    const configFileControl = createConfigFileControl({
      store,
      inspector: deployers.inspector,
      logger,
      bodyLimitBytes: config.bodyLimitBytes,
      commandGate: auth.commandGate,
      secretReferenceGate: auth.secretReferenceGate,
      isProgramFile,
      ssrf: ssrfPolicy(config),
      tokenExchange: tokenExchangeOf(config.auth),
      audit,
      // As the public app's writes: the tool router re-reads, the reconciler deploys. (Nothing is cached by the
      // data plane yet: the file is applied before the gateway listens.)
      onResourceChange: (ref) => {
        toolRouter?.invalidate();
        deployers.reconciler.notify(ref);
      },
    });
    return {
      config,
      logger,
      ...core.parts,
      app,
      metrics,
      toolRouter,
      configFileControl,
      drain() {
        draining = true;
        toolRouter?.drain();
        // Idle GET streams end at their next event boundary; POST answers keep the drain period.
        agents.serverStreams.drain();
      },
      close: () => closers.close(),
    };
  });
}

/** The registry, deployers and tool router of `mcp-gateway stdio`; throws {@link StartupError}. */
export function buildStdioRuntime(given: Config, options: RuntimeOptions): Promise<StdioRuntime> {
  return building(options.logger, async (closers) => {
    const config = await withPreviousSecrets(given);
    const policy = await toolPolicyFor(config);
    const core = await buildCore(config, options, closers);
    const toolRouter = await startToolRouter(routerOptions(config, core, options, policy));
    closers.push('closing the tool router failed', () => toolRouter.close());
    return { config, logger: options.logger, ...core.parts, toolRouter, close: () => closers.close() };
  });
}
