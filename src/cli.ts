#!/usr/bin/env node
/**
 * @module cli: the `mcp-gateway` command: `serve` (the default) and `stdio` run here; every other command is a
 * client of a running gateway's API (`cli/run-cli.ts`), loaded only when used.
 */
import { parseArgs } from 'node:util';
import { packageVersion } from './runtime/node/package-version.js';

const USAGE = `Usage: mcp-gateway [serve]
       mcp-gateway stdio [--url URL [--token TOKEN]] [--user ID] [--roles A,B]
       mcp-gateway COMMAND [SUBCOMMAND] [options]   (a client of a running gateway, below)

  serve     run the gateway (default); configured by environment variables, see README
  stdio     the tool router (/mcp) over stdio, for MCP clients that spawn a process:
              embedded (default): this process opens the registry (DATABASE_URL) and runs the
                deployers like \`serve\`, acting as --user/--roles (default: dev, mcp.admin)
              --url URL: relay to a running gateway (its root or /mcp URL); --token or
                MCP_GATEWAY_TOKEN is sent as a bearer token
            stdout carries MCP messages only; logs go to stderr (MCP_GATEWAY_LOG_LEVEL, default warn)
`;

function fail(message: string): never {
  process.stderr.write(`${message}\n\n${USAGE}`);
  process.exit(2);
}

async function stdio(argv: string[]): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        url: { type: 'string' },
        token: { type: 'string' },
        user: { type: 'string' },
        roles: { type: 'string' },
      },
      strict: true,
    }));
  } catch (err) {
    fail((err as Error).message);
  }
  const { LOG_LEVELS, createLogger } = await import('./observability/index.js');
  const level = (process.env.MCP_GATEWAY_LOG_LEVEL ?? 'warn').trim().toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(level))
    fail(`MCP_GATEWAY_LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}`);
  // Stdout belongs to the protocol.
  const logger = createLogger({ level: level as (typeof LOG_LEVELS)[number], destination: process.stderr });
  const version = packageVersion();
  const front = await import('./toolrouter/node/stdio-front-door.js');

  const url = values.url ?? process.env.MCP_GATEWAY_URL;
  if (url) {
    if (values.user || values.roles)
      fail('--user and --roles apply to the embedded mode; the gateway knows who the token is.');
    try {
      new URL(url);
    } catch {
      fail(`--url: '${url}' is not a URL`);
    }
    await front.runRemoteStdio({
      url,
      token: values.token ?? process.env.MCP_GATEWAY_TOKEN,
      logger,
      version,
    });
    return;
  }
  if (values.token) fail('--token applies with --url (a remote gateway).');

  const { ConfigError, parseConfig } = await import('./config/index.js');
  let config;
  try {
    config = parseConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) fail(err.message);
    throw err;
  }
  const roles = values.roles
    ?.split(',')
    .map((r) => r.trim())
    .filter(Boolean);
  const { StartupError, buildStdioRuntime } = await import('./runtime/node/index.js');
  let runtime;
  try {
    runtime = await buildStdioRuntime(config, { logger, version });
  } catch (err) {
    if (!(err instanceof StartupError)) throw err;
    const reason =
      err.operatorMessage ?? (err.detail instanceof Error ? err.detail.message : String(err.detail));
    process.stderr.write(`mcp-gateway stdio: ${err.message}: ${reason}\n`);
    process.exit(err.exitCode);
  }
  await front.runEmbeddedStdio({
    router: runtime.toolRouter,
    close: () => runtime.close(),
    logger,
    ...(values.user !== undefined && { principal: { userId: values.user, roles: roles ?? [] } }),
    ...(values.user === undefined && roles && { principal: { userId: 'dev', roles } }),
  });
}

const command = process.argv[2] ?? 'serve';
if (command === 'serve') {
  const { main } = await import('./main.js');
  await main();
} else if (command === '--help' || command === '-h' || command === 'help') {
  const { CLIENT_USAGE } = await import('./cli/run-cli.js');
  process.stdout.write(`${USAGE}\nClient commands:\n${CLIENT_USAGE}\n`);
} else if (command === 'stdio') {
  try {
    await stdio(process.argv.slice(3));
    // Pools, timers and database handles would keep the process alive after the client has gone.
    process.exit(0);
  } catch (err) {
    process.stderr.write(`mcp-gateway stdio: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  }
} else {
  const { runCli } = await import('./cli/run-cli.js');
  // Ctrl-C aborts the request in flight (and ends `logs --follow`): exit 130.
  const interrupt = new AbortController();
  process.once('SIGINT', () => interrupt.abort());
  const code = await runCli(process.argv.slice(2), {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    env: process.env,
    signal: interrupt.signal,
  });
  // Whatever is still buffered for a pipe is written before the process ends.
  process.stdout.write('', () => process.exit(code));
}
