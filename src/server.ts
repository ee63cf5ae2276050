/**
 * @module server: what the top-level `server.js` runs — `node server.js`, the launch line of the reference's
 * listing (`claude mcp add --transport stdio … node server.js --env PORT=3000 --env MCP_GATEWAY_HOST=0.0.0.0 …`).
 * With no MCP client on standard input it is `npm start`. When standard input is a pipe or a socket (a client
 * spawned this process) it also serves the tool router on stdio as the local user, and every log line goes to
 * stderr because stdout carries the protocol. The host safety rules still hold for the HTTP side: on a
 * non-loopback address without an auth mode that may face a network, it stays off, one stderr line says why, and
 * stdio runs alone. The registry is the repository's `data/` (as `npm start` run from it uses), wherever the
 * client starts the process from.
 */
import { fstatSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ConfigError, isLoopbackHost, parseConfig } from './config/index.js';
import { main } from './main.js';
import { createLogger } from './observability/index.js';
import { StartupError, buildStdioRuntime, packageVersion } from './runtime/node/index.js';
import { runEmbeddedStdio } from './toolrouter/node/stdio-front-door.js';

/** True when fd 0 is a pipe or socket: an MCP client's end. A terminal, `/dev/null` or a file is not. */
export function stdinIsClientPipe(fd = 0): boolean {
  try {
    const stat = fstatSync(fd);
    return stat.isFIFO() || stat.isSocket();
  } catch {
    return false;
  }
}

/** Why the HTTP side must stay off under `env`, or undefined when it may listen. Mirrors the auth config's rule. */
export function httpRefusal(env: NodeJS.ProcessEnv): string | undefined {
  const host = (env.MCP_GATEWAY_HOST ?? '').trim() || '127.0.0.1';
  const mode = (env.MCP_GATEWAY_AUTH ?? '').trim().toLowerCase();
  if (isLoopbackHost(host) || (mode !== '' && mode !== 'dev')) return undefined;
  return (
    `the HTTP side is off: MCP_GATEWAY_HOST is ${JSON.stringify(host)}, a non-loopback address, and ` +
    `MCP_GATEWAY_AUTH is ${mode === '' ? 'not set' : '"dev"'} (set oidc or jwt to serve HTTP there too); ` +
    'the tool router is served on stdio only'
  );
}

function fail(message: string, exitCode: number): never {
  process.stderr.write(`mcp-gateway: ${message}\n`);
  process.exit(exitCode);
}

/** The tool router on stdio with no HTTP side, until the client closes stdin; then the process exits. */
async function stdioOnly(env: NodeJS.ProcessEnv): Promise<never> {
  let config;
  try {
    // The address is never bound; a loopback one keeps the host rules from refusing the rest of the settings.
    config = parseConfig({ ...env, MCP_GATEWAY_HOST: '127.0.0.1' });
  } catch (err) {
    if (err instanceof ConfigError) fail(err.message, 2);
    throw err;
  }
  const logger = createLogger({ level: config.logLevel, destination: process.stderr });
  let runtime;
  try {
    runtime = await buildStdioRuntime(config, { logger, version: packageVersion() });
  } catch (err) {
    if (!(err instanceof StartupError)) throw err;
    const reason =
      err.operatorMessage ?? (err.detail instanceof Error ? err.detail.message : String(err.detail));
    fail(`${err.message}: ${reason}`, err.exitCode);
  }
  const opened = runtime;
  await runEmbeddedStdio({ router: opened.toolRouter, close: () => opened.close(), logger });
  // Pools, timers and database handles would keep the process alive after the client has gone.
  process.exit(0);
}

/** Runs `server.js`: the gateway, plus the tool router on stdio when a client spawned this process. */
export async function runServer(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const settings = {
    ...env,
    DATABASE_URL: env.DATABASE_URL ?? fileURLToPath(new URL('../data/mcp-gateway.db', import.meta.url)),
  };
  if (!stdinIsClientPipe()) {
    await main({ env: settings });
    return;
  }
  const refusal = httpRefusal(settings);
  if (refusal !== undefined) {
    process.stderr.write(`mcp-gateway: ${refusal}\n`);
    await stdioOnly(settings);
  }
  const { runtime, shutdown } = await main({ env: settings, logDestination: process.stderr });
  if (!runtime.toolRouter) {
    runtime.logger.warn('the tool router is off (MCP_GATEWAY_TOOLROUTER=false): nothing is served on stdio');
    return;
  }
  // The client owns this process: when it closes stdin the gateway drains and exits as on SIGTERM.
  await runEmbeddedStdio({
    router: runtime.toolRouter,
    close: async () => shutdown('stdio client closed'),
    logger: runtime.logger,
  });
}
