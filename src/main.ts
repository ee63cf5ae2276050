/**
 * @module main: the Node entry. Reads the environment (the only module that does), opens the registry,
 * builds the app and serves it until SIGTERM/SIGINT, then closes everything and exits 0.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import { pathToFileURL } from 'node:url';
import { serve } from '@hono/node-server';
import { createApp } from './app.js';
import { createAuthenticator, generateIdentityKey, parseIdentityKey } from './auth/index.js';
import { ConfigError, isLoopbackHost, parseConfig } from './config/index.js';
import { createAdapterCache, createSessionSealer } from './dataplane/index.js';
import { createNodeAgents } from './dataplane/node/node-forwarder.js';
import { createNodeIo } from './dataplane/node/node-io.js';
import { blockedAddressReason, blockedUrlReason, startDeployers } from './deploy/index.js';
import { createRendezvous } from './routing/index.js';
import { createLogger } from './observability/index.js';
import { SchemaTooNewError, openRegistryStore } from './registry/index.js';

/** Registry key of the generated gateway secret, used when `MCP_GATEWAY_SECRET` is unset. */
const SECRET_SETTING = 'gateway-secret';
/** Open connections get this long to finish after a shutdown signal before they are cut. */
const SHUTDOWN_GRACE_MS = 10_000;

/** Registry key of the identity-JWT signing key (private JWK), shared by every replica. */
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

  let store;
  try {
    store = await openRegistryStore(config.databaseUrl);
  } catch (err) {
    logger.fatal({ err: err instanceof SchemaTooNewError ? err.message : err }, 'cannot open the registry');
    process.exit(1);
  }
  // Generated once and shared through the registry, so every replica seals session ids with the same key.
  const secret =
    config.secret ?? (await store.getOrCreateSetting(SECRET_SETTING, randomBytes(32).toString('base64url')));

  // Shared through the registry like the secret, so every replica publishes and signs with the same key.
  const identityKey = config.auth.identityJwt
    ? parseIdentityKey(
        await store.getOrCreateSetting(IDENTITY_KEY_SETTING, JSON.stringify(await generateIdentityKey())),
      )
    : undefined;
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

  const deployers = await startDeployers({
    store,
    logger,
    deploy: config.deploy,
    remote: {
      refuseUrl: config.allowLinkLocal ? undefined : blockedUrlReason,
      probeIntervalMs: config.healthIntervalMs,
      probeTimeoutMs: config.probeTimeoutMs,
    },
  });
  const agents = createNodeAgents({
    refuseAddress: config.allowLinkLocal ? undefined : blockedAddressReason,
  });
  const adapters = createAdapterCache({ store, ttlMs: config.registryCacheMs });
  const app = createApp({
    store,
    inspector: deployers.inspector,
    logger,
    bodyLimitBytes: config.bodyLimitBytes,
    version: packageVersion(),
    authenticate: auth.authenticate,
    authorize: auth.authorizeCreate,
    wellKnownRoutes: auth.wellKnownRoutes,
    allowLinkLocalEndpoints: config.allowLinkLocal,
    onResourceChange: (ref) => {
      if (ref.kind === 'adapter') adapters.invalidate(ref.name);
      deployers.reconciler.notify(ref);
    },
    dataPlane: {
      lookup: (name) => adapters.get(name),
      replicas: deployers.replicas,
      sealer: await createSessionSealer({ secret, maxAgeMs: config.sessionMaxAgeMs }),
      rendezvous: await createRendezvous(),
      io: createNodeIo(agents),
      logger,
      publicUrl: config.publicUrl,
      allowedOrigins: config.allowedOrigins,
      loopback: isLoopbackHost(config.host),
      connectTimeoutMs: config.upstreamConnectTimeoutMs,
      idleTimeoutMs: config.upstreamIdleTimeoutMs,
      maxBodyBytes: config.mcpBodyLimitBytes,
      loadEpsilon: config.loadEpsilon,
      identityHeaders: (principal, adapter) =>
        auth.upstreamIdentity.headersFor(principal, `${config.publicUrl}/adapters/${adapter.name}/mcp`),
    },
  });

  const server = await new Promise<Server>((resolve) => {
    const s = serve({ fetch: app.fetch, port: config.port, hostname: config.host }, (info) => {
      logger.info(
        { address: info.address, port: info.port, registry: store.dialect, publicUrl: config.publicUrl },
        'listening',
      );
      resolve(s as Server);
    });
  });

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => server.closeAllConnections(), SHUTDOWN_GRACE_MS);
    force.unref();
    server.close(() => {
      clearTimeout(force);
      agents.destroy();
      // Local processes are reaped before the registry closes and the process exits.
      deployers
        .close()
        .catch((err: unknown) => logger.error({ err }, 'stopping the deployers failed'))
        .then(() => store.close())
        .catch((err: unknown) => logger.error({ err }, 'closing the registry failed'))
        .finally(() => {
          logger.info('stopped');
          process.exit(0);
        });
    });
    // Idle keep-alive connections would hold close() open until their timeout.
    server.closeIdleConnections();
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
