/**
 * @module main: the Node entry. Reads the environment (the only module that does), builds the gateway runtime,
 * serves it until SIGTERM/SIGINT, then drains (readiness 503, GET streams ended between two events, no new
 * connections, requests in flight get `MCP_GATEWAY_DRAIN_SECONDS`), reaps local processes, closes everything and
 * exits 0. An address it cannot bind (port in use, no such interface) is one line naming the setting, exit 2,
 * after the runtime is closed; so is a configuration file (`MCP_GATEWAY_CONFIG`, applied before it listens) that
 * does not check or that the gateway refuses (a line per problem, naming the file and line).
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { ConfigFileStartError, applyConfigFileAtStart } from './config-file-start.js';
import { ConfigError, parseConfig } from './config/index.js';
import type { Config } from './config/index.js';
import { ListenError, listen } from './dataplane/node/node-listener.js';
import { createLogger } from './observability/index.js';
import type { LoggerOptions } from './observability/index.js';
import { StartupError, buildGatewayRuntime } from './runtime/node/index.js';
import type { GatewayRuntime } from './runtime/node/index.js';
import { listenForMetrics, packageVersion, runUntilSignal } from './runtime/node/index.js';

function configFromEnvironment(env: NodeJS.ProcessEnv): Config {
  try {
    return parseConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(2);
    }
    throw err;
  }
}

/** Options of {@link main}; `npm start` takes the defaults. */
export interface MainOptions {
  /** The settings; `process.env` by default. */
  readonly env?: NodeJS.ProcessEnv;
  /** Where logs go; stdout by default (stderr when stdout carries MCP messages). */
  readonly logDestination?: LoggerOptions['destination'];
}

/** A gateway that is listening. */
export interface Started {
  readonly runtime: GatewayRuntime;
  /** Drains and exits as a signal does; for other reasons to stop (a stdio client that went away). */
  readonly shutdown: (reason: string) => void;
}

/**
 * Starts the gateway; resolves once it listens. A setting or address it cannot use ends the process (exit 2) with
 * one line saying why, so the promise then never resolves.
 */
export async function main(options: MainOptions = {}): Promise<Started> {
  const config = configFromEnvironment(options.env ?? process.env);
  const logger = createLogger({ level: config.logLevel, destination: options.logDestination });
  let runtime;
  try {
    runtime = await buildGatewayRuntime(config, { logger, version: packageVersion() });
  } catch (err) {
    if (!(err instanceof StartupError)) throw err;
    if (err.operatorMessage !== undefined) console.error(err.operatorMessage);
    else logger.fatal({ err: err.detail }, err.message);
    logger.flush(() => process.exit(err.exitCode));
    return new Promise<never>(() => {});
  }
  // Before the gateway listens, so `/readyz` never answers for a registry that does not match the file yet.
  if (config.configFile !== undefined) {
    try {
      await applyConfigFileAtStart(runtime, config.configFile, logger);
    } catch (err) {
      await runtime.close();
      if (!(err instanceof ConfigFileStartError)) throw err;
      console.error(err.message);
      logger.flush(() => process.exit(2));
      return new Promise<never>(() => {});
    }
  }
  const serving = config.ops.metricsServing;
  const opened: Server[] = [];
  let server: Server;
  try {
    if (runtime.metrics && serving.listener) {
      opened.push(
        await listenForMetrics({
          metrics: runtime.metrics,
          at: serving.listener,
          token: serving.token,
          origins: { publicUrl: config.publicUrl, allowedOrigins: config.allowedOrigins },
          logger,
        }),
      );
    }
    server = await listen(runtime.app, {
      port: config.port,
      hostname: config.host,
      agents: runtime.agents,
      logger,
      settings: { port: 'PORT', host: 'MCP_GATEWAY_HOST' },
    });
  } catch (err) {
    // The deployers may have started local processes already: they are reaped before the process ends.
    for (const other of opened) other.close();
    await runtime.close();
    if (!(err instanceof ListenError)) throw err;
    console.error(err.message);
    logger.flush(() => process.exit(2));
    return new Promise<never>(() => {});
  }
  const shutdown = runUntilSignal(server, runtime, {
    drainMs: config.ops.drainMs,
    acceptMs: config.ops.drainAcceptMs,
    logger,
    alsoClose: opened,
  });
  // Only now: whoever waits for this line may signal at once, and the log is written off the main thread, so a
  // signal could otherwise arrive before its handler and kill the process without a drain.
  const address = server.address() as AddressInfo;
  logger.info(
    {
      address: address.address,
      port: address.port,
      registry: runtime.store.dialect,
      publicUrl: config.publicUrl,
    },
    'listening',
  );
  return { runtime, shutdown };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
