/**
 * @module process-fixtures: helpers shared by the process deployer's tests — registered resources for the
 * fixture servers, a deployer tuned for fast tests (sandboxed wherever bubblewrap works, as users get it), and
 * a registry of markers so every process a test started is killed in the end even when the test failed.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ProcessSandboxConfig } from '../src/config/index.js';
import { ProcessDeployer, startProcessSandbox } from '../src/deploy/process/index.js';
import type { ProcessDeployerOptions } from '../src/deploy/process/index.js';
import type { ReplicaState } from '../src/deploy/index.js';
import type { Registered, ResourceKind } from '../src/registry/index.js';
import {
  MARKER_VARIABLE,
  killMarked,
  markedCommandProcesses,
  markedProcesses,
  newMarker,
} from './process-tree.js';

/** The HTTP fixture server (listens on $PORT). */
export const HTTP_SERVER = fileURLToPath(new URL('./process-http-server.mjs', import.meta.url));
/** The 2024-11-05 HTTP+SSE fixture server (listens on $PORT, serves /sse). */
export const SSE_SERVER = fileURLToPath(new URL('./sse-process-server.mjs', import.meta.url));
/** The stdio fixture server. */
export const STDIO_SERVER = fileURLToPath(new URL('./stdio-echo-server.mjs', import.meta.url));
/** The repository root (no trailing slash), where `npx` finds the locally installed servers. */
export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url)).replace(/\/$/, '');
/** The folder of the fixture servers. */
export const FIXTURES_DIR = fileURLToPath(new URL('.', import.meta.url)).replace(/\/$/, '');

/**
 * What a sandboxed fixture needs to see besides the system directories: the fixture servers and the installed
 * packages (not the whole repository, which is the gateway's working directory in the gateway-process tests).
 */
export const FIXTURE_READ_PATHS: readonly string[] = Object.freeze([
  FIXTURES_DIR,
  join(REPO_ROOT, 'node_modules'),
]);

/** The sandbox settings the tests run with: the default mode (`auto`) with the fixtures readable. */
export const FIXTURE_SANDBOX: ProcessSandboxConfig = Object.freeze({
  mode: 'auto',
  readPaths: FIXTURE_READ_PATHS,
  uid: 65534,
  gid: 65534,
  protectedPaths: [],
  workingDirectory: REPO_ROOT,
});

/** Whether bubblewrap works here, found by the same self-test the deployer runs at start. */
export const SANDBOX_WORKS: boolean = await startProcessSandbox(
  { ...FIXTURE_SANDBOX, mode: 'bwrap' },
  { cwd: REPO_ROOT },
).then(
  async ({ sandbox }) => {
    await sandbox.close();
    return true;
  },
  () => false,
);

// CI on a host where bubblewrap works sets this, so a broken sandbox fails the run instead of every test quietly
// running unsandboxed.
if (process.env.MCP_GATEWAY_TEST_REQUIRE_SANDBOX === '1' && !SANDBOX_WORKS) {
  throw new Error('MCP_GATEWAY_TEST_REQUIRE_SANDBOX=1, but the bubblewrap self-test fails on this host');
}

/**
 * `npx` running a package installed in this repository, offline, from inside the sandbox: the child's working
 * directory is its private HOME there, so `--prefix` names the project and its `.bin` goes on PATH.
 */
export function npxFromRepository(pkg: string): {
  command: string;
  args: string[];
  environmentVariables: Record<string, string>;
} {
  return {
    command: 'npx',
    args: ['--prefix', REPO_ROOT, '-y', pkg],
    environmentVariables: {
      PATH: `${join(REPO_ROOT, 'node_modules', '.bin')}:${process.env.PATH ?? '/usr/bin:/bin'}`,
      npm_config_offline: 'true',
      npm_config_update_notifier: 'false',
    },
  };
}

const used: string[] = [];

/** A marker for one resource's processes, remembered for {@link killAllMarked}. */
export function marker(): string {
  const value = newMarker();
  used.push(value);
  return value;
}

/** Kills every process any test of this file marked (afterAll safety net). */
export function killAllMarked(): void {
  for (const value of used) killMarked(value);
}

/** Live processes carrying `value` (bubblewrap's own included). */
export const running = (value: string) => markedProcesses(value);

/** Live processes of the command carrying `value`: what the server runs, without bubblewrap's. */
export const runningCommands = (value: string) => markedCommandProcesses(value);

/** Options that keep tests fast: short grace periods and backoff, quick probes. */
export const FAST: ProcessDeployerOptions = {
  stopGraceMs: 1_000,
  stdinCloseGraceMs: 300,
  probeIntervalMs: 20,
  backoff: { initialMs: 50, maxMs: 400, resetAfterMs: 60_000 },
  random: () => 0.5,
  cwd: REPO_ROOT,
  sandbox: FIXTURE_SANDBOX,
};

/** A deployer with {@link FAST} options plus `extra`. */
export function fastDeployer(extra: ProcessDeployerOptions = {}): ProcessDeployer {
  return new ProcessDeployer({ ...FAST, ...extra });
}

/** Fields of a process spec a test sets. */
export interface ProcessResourceOptions {
  readonly kind?: ResourceKind;
  readonly command?: string;
  readonly args?: readonly string[];
  readonly transport?: 'stdio' | 'streamable-http';
  readonly replicaCount?: number;
  readonly environmentVariables?: Record<string, string>;
  /** Marks every process of the resource (see `test/process-tree.ts`). */
  readonly marker?: string;
  readonly path?: string;
  /** Adapter fields passed as they are (`maxSessionsPerReplica`, `sessionIdleTimeoutSeconds`, …). */
  readonly adapterFields?: Record<string, unknown>;
}

/** A registered resource of the command runtime, as the control plane would store it. */
export function processResource(name: string, options: ProcessResourceOptions = {}): Registered {
  const environmentVariables = {
    ...options.environmentVariables,
    ...(options.marker && { [MARKER_VARIABLE]: options.marker }),
  };
  const common = {
    command: options.command ?? process.execPath,
    args: [...(options.args ?? [options.transport === 'stdio' ? STDIO_SERVER : HTTP_SERVER])],
    environmentVariables,
    replicaCount: options.replicaCount ?? 1,
    description: '',
    useWorkloadIdentity: false,
    requiredRoles: [],
  };
  const meta = { name, version: 1, createdBy: 'test', createdAt: new Date(0), lastUpdatedAt: new Date(0) };
  if (options.kind === 'tool') {
    return {
      ...meta,
      uid: `uid-${name}`,
      kind: 'tool',
      spec: {
        ...common,
        toolDefinition: {
          tool: { name, inputSchema: { type: 'object' } },
          port: 8000,
          path: options.path ?? '/score',
        },
      },
    };
  }
  return {
    ...meta,
    uid: `uid-${name}`,
    kind: 'adapter',
    spec: {
      ...common,
      transport: options.transport ?? 'streamable-http',
      port: 8000,
      path: options.path ?? '/mcp',
      ...options.adapterFields,
    },
  };
}

/** The first replica's state, or a failure naming what is missing. */
export function firstReplica(replicas: readonly ReplicaState[]): ReplicaState {
  const first = replicas[0];
  if (!first) throw new Error('no replica in status');
  return first;
}
