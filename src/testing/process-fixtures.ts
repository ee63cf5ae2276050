/**
 * @module process-fixtures: helpers shared by the process deployer's tests — registered resources for the
 * fixture servers, a deployer tuned for fast tests, and a registry of markers so every process a test started
 * is killed in the end even when the test failed.
 */
import { fileURLToPath } from 'node:url';
import { ProcessDeployer } from '../deploy/process/index.js';
import type { ProcessDeployerOptions } from '../deploy/process/index.js';
import type { ReplicaState } from '../deploy/index.js';
import type { Registered, ResourceKind } from '../registry/index.js';
import { MARKER_VARIABLE, killMarked, markedProcesses, newMarker } from './process-tree.js';

/** The HTTP fixture server (listens on $PORT). */
export const HTTP_SERVER = fileURLToPath(new URL('./process-http-server.mjs', import.meta.url));
/** The stdio fixture server. */
export const STDIO_SERVER = fileURLToPath(new URL('./stdio-echo-server.mjs', import.meta.url));
/** The repository root, where `npx` finds the locally installed servers. */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

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

/** Live processes carrying `value`. */
export const running = (value: string) => markedProcesses(value);

/** Options that keep tests fast: short grace periods and backoff, quick probes. */
export const FAST: ProcessDeployerOptions = {
  stopGraceMs: 1_000,
  stdinCloseGraceMs: 300,
  probeIntervalMs: 20,
  backoff: { initialMs: 50, maxMs: 400, resetAfterMs: 60_000 },
  random: () => 0.5,
  cwd: REPO_ROOT,
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
  /** Marks every process of the resource (see `src/testing/process-tree.ts`). */
  readonly marker?: string;
  readonly path?: string;
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
    },
  };
}

/** The first replica's state, or a failure naming what is missing. */
export function firstReplica(replicas: readonly ReplicaState[]): ReplicaState {
  const first = replicas[0];
  if (!first) throw new Error('no replica in status');
  return first;
}
