/**
 * @module Tests of the process deployer's sandbox and state settings: defaults, where the state directory goes,
 * and which read paths are refused because they would show a child what it must never see.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, parseDeployConfig, sqliteDirectory } from './index.js';
import type { ProcessDeployConfig } from './index.js';

const CWD = '/srv/gateway';

function processConfig(
  env: Record<string, string>,
  databaseUrl = './data/mcp-gateway.db',
): ProcessDeployConfig {
  const config = parseDeployConfig(env, { databaseUrl, workingDirectory: CWD });
  if (config.deployer !== 'process') throw new Error('expected the process deployer');
  return config.process;
}

function problemsOf(env: Record<string, string>, databaseUrl?: string): string[] {
  try {
    processConfig(env, databaseUrl);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

describe('process sandbox settings', () => {
  it('default to auto, uid/gid 65534, no read paths, the state file beside the SQLite registry', () => {
    const config = processConfig({}, '/var/lib/mcp/registry.db');
    expect(config.sandbox).toEqual({
      mode: 'auto',
      readPaths: [],
      uid: 65534,
      gid: 65534,
      protectedPaths: [
        { path: '/var/lib/mcp', what: "the registry's data directory" },
        { path: '/var/lib/mcp', what: 'the state directory (MCP_GATEWAY_STATE_DIR)' },
      ],
      workingDirectory: CWD,
    });
    expect(config.stateDirectory).toBe('/var/lib/mcp');
  });

  it('puts the state directory in ./data for Postgres and :memory:, or where MCP_GATEWAY_STATE_DIR says', () => {
    expect(processConfig({}, 'postgres://u:p@db/gw').stateDirectory).toBe('/srv/gateway/data');
    expect(processConfig({}, ':memory:').stateDirectory).toBe('/srv/gateway/data');
    expect(processConfig({ MCP_GATEWAY_STATE_DIR: 'run/state' }).stateDirectory).toBe(
      '/srv/gateway/run/state',
    );
    expect(processConfig({ MCP_GATEWAY_STATE_DIR: './x/../../state//' }).stateDirectory).toBe('/srv/state');
  });

  it('reads the SQLite directory from paths and file: URLs', () => {
    expect(sqliteDirectory('file:///var/db/x.db', CWD)).toBe('/var/db');
    expect(sqliteDirectory('file:rel/x.db', CWD)).toBe('/srv/gateway/rel');
    expect(sqliteDirectory('file::memory:', CWD)).toBeUndefined();
    expect(sqliteDirectory('postgresql://db/gw', CWD)).toBeUndefined();
  });

  it('takes modes, read paths (normalised) and ids', () => {
    const config = processConfig({
      MCP_GATEWAY_PROCESS_SANDBOX: 'BWRAP',
      MCP_GATEWAY_PROCESS_READ_PATHS: '/opt/tools/, /srv/gateway/node_modules',
      MCP_GATEWAY_PROCESS_UID: '1500',
      MCP_GATEWAY_PROCESS_GID: '1501',
    });
    expect(config.sandbox).toMatchObject({
      mode: 'bwrap',
      readPaths: ['/opt/tools', '/srv/gateway/node_modules'],
      uid: 1500,
      gid: 1501,
    });
  });

  it('refuses what would show a child the registry, the state, a secret file or the working directory', () => {
    const READ = 'MCP_GATEWAY_PROCESS_READ_PATHS';
    expect(problemsOf({ [READ]: '/srv/gateway/data' })).toEqual([
      `${READ}: /srv/gateway/data would let children see the registry's data directory (/srv/gateway/data)`,
      `${READ}: /srv/gateway/data would let children see the state directory (MCP_GATEWAY_STATE_DIR) (/srv/gateway/data)`,
    ]);
    expect(problemsOf({ [READ]: '/srv/gateway/data/sub', MCP_GATEWAY_STATE_DIR: '/var/state' })).toEqual([
      `${READ}: /srv/gateway/data/sub would let children see the registry's data directory (/srv/gateway/data)`,
    ]);
    expect(problemsOf({ [READ]: '/var', MCP_GATEWAY_STATE_DIR: '/var/state' })).toEqual([
      `${READ}: /var would let children see the state directory (MCP_GATEWAY_STATE_DIR) (/var/state)`,
    ]);
    expect(problemsOf({ [READ]: '/srv' }, ':memory:')).toEqual([
      `${READ}: /srv would let children see the state directory (MCP_GATEWAY_STATE_DIR) (/srv/gateway/data)`,
      `${READ}: /srv contains the gateway's working directory (/srv/gateway); list the subdirectories children need instead`,
    ]);
    expect(
      problemsOf({ [READ]: '/etc/gateway', MCP_GATEWAY_JWKS_FILE: '/etc/gateway/jwks.json' }, ':memory:'),
    ).toEqual([
      `${READ}: /etc/gateway would let children see the file MCP_GATEWAY_JWKS_FILE names (/etc/gateway/jwks.json)`,
    ]);
    expect(
      problemsOf({ [READ]: '/run/secrets', MCP_GATEWAY_SECRET_FILE: '/run/secrets/gateway' }, ':memory:'),
    ).toEqual([
      `${READ}: /run/secrets would let children see the file MCP_GATEWAY_SECRET_FILE names (/run/secrets/gateway)`,
    ]);
    expect(problemsOf({ [READ]: 'node_modules' })).toEqual([
      `${READ} must list absolute paths (got "node_modules")`,
    ]);
    // Inside the working directory, away from the data: allowed.
    expect(processConfig({ [READ]: '/srv/gateway/node_modules' }).sandbox.readPaths).toEqual([
      '/srv/gateway/node_modules',
    ]);
  });

  it('refuses a bad mode and uid 0', () => {
    expect(problemsOf({ MCP_GATEWAY_PROCESS_SANDBOX: 'docker' })).toEqual([
      'MCP_GATEWAY_PROCESS_SANDBOX must be one of auto, bwrap, off (got "docker")',
    ]);
    expect(problemsOf({ MCP_GATEWAY_PROCESS_UID: '0' })).toEqual([
      'MCP_GATEWAY_PROCESS_UID must be at least 1 (got "0")',
    ]);
  });
});
