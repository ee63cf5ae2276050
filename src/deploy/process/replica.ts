/**
 * @module replica: what the process deployer needs of one replica, whichever transport it serves, and the
 * resolved settings and per-resource spec replicas are built from.
 */
import type { Logger } from '../../observability/index.js';
import type { ProcessTransport, Registered } from '../../registry/index.js';
import type { ReplicaEndpoint, ResourceRef } from '../deployer.js';
import { EMPTY_SECRET_ENVIRONMENT } from '../secret-environment.js';
import type { SecretEnvironment } from '../secret-environment.js';
import type { ReplicaState } from '../runtime-inspector.js';
import type { Timers } from '../timers.js';
import type { BackoffPolicy } from './backoff.js';
import type { ChildLedger } from './child-ledger.js';
import type { CommandResolver } from './command-resolution.js';
import type { LogBuffer } from './log-buffer.js';
import type { PortAllocator } from './loopback-port.js';
import type { ProcessSandbox } from './process-sandbox.js';
import type { StdioBridgeLimits } from './stdio-bridge.js';

/** What runs for a resource of the command runtime. */
export interface ProcessSpec {
  readonly command: string;
  readonly args: readonly string[];
  /** The resource's `environmentVariables`. */
  readonly environment: Readonly<Record<string, string>>;
  /** Its `secretEnvironmentVariables`, resolved to values (in memory only: never logged, never shown). */
  readonly secretEnvironment: Readonly<Record<string, string>>;
  /** Which secret versions {@link secretEnvironment} holds (see `secret-environment.ts`); '' for none. */
  readonly secretsRevision: string;
  /** Tools always serve HTTP; adapters say which (default `stdio`). */
  readonly transport: ProcessTransport;
  /** The path the replica's endpoint URL ends with. */
  readonly path: string;
  /** `none`: the server runs without any network (stdio adapters in the sandbox only). */
  readonly network: 'host' | 'none';
  /** Stdio adapters: the bridge's session cap, when the adapter sets one (`maxSessionsPerReplica`). */
  readonly maxSessions?: number;
  /** Stdio adapters: the bridge's idle timeout, when the adapter sets one (`sessionIdleTimeoutSeconds`). */
  readonly sessionIdleMs?: number;
  /** Stdio adapters: server processes kept started ahead of their session, when the adapter sets it (`warmSessions`). */
  readonly warmSessions?: number;
}

/**
 * Reads the process spec of a registered resource of the command runtime, with its secret variables as resolved
 * by the deployer (none by default, for readers that only describe it).
 */
export function processSpecOf(
  resource: Registered,
  secrets: SecretEnvironment = EMPTY_SECRET_ENVIRONMENT,
): ProcessSpec {
  const { spec } = resource;
  if (spec.command === undefined)
    throw new Error(`${resource.kind} '${resource.name}' has no command to run`);
  const common = {
    command: spec.command,
    args: spec.args ?? [],
    environment: spec.environmentVariables ?? {},
    secretEnvironment: secrets.values,
    secretsRevision: secrets.revision,
  };
  if (resource.kind === 'tool') {
    const definition = (resource as Registered<'tool'>).spec.toolDefinition;
    return { ...common, transport: 'streamable-http', path: definition.path ?? '/score', network: 'host' };
  }
  const adapter = (resource as Registered<'adapter'>).spec;
  return {
    ...common,
    transport: adapter.transport ?? 'stdio',
    path: adapter.path ?? '/mcp',
    network: adapter.network ?? 'host',
    ...(adapter.maxSessionsPerReplica !== undefined && { maxSessions: adapter.maxSessionsPerReplica }),
    ...(adapter.sessionIdleTimeoutSeconds !== undefined && {
      sessionIdleMs: adapter.sessionIdleTimeoutSeconds * 1000,
    }),
    ...(adapter.warmSessions !== undefined && { warmSessions: adapter.warmSessions }),
  };
}

/**
 * Everything that, when it changes, replaces a replica (the replica count only scales). Secret values enter only
 * through their revision, so a rotation replaces the replicas and the fingerprint holds no value.
 */
export function fingerprintOf(spec: ProcessSpec): string {
  const env = Object.entries(spec.environment).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const parts: unknown[] = [
    spec.command,
    spec.args,
    env,
    spec.secretsRevision,
    spec.transport,
    spec.path,
    spec.network,
  ];
  // The bridge takes its limits at start; appended only when set, so fingerprints of older specs stay the same.
  if (spec.maxSessions !== undefined || spec.sessionIdleMs !== undefined)
    parts.push(spec.maxSessions ?? null, spec.sessionIdleMs ?? null);
  if (spec.warmSessions !== undefined) parts.push({ warmSessions: spec.warmSessions });
  return JSON.stringify(parts);
}

/** What a child's environment holds of its own: the plain variables and the resolved secret ones. */
export function ownEnvironment(spec: ProcessSpec): Record<string, string> {
  // The control plane refuses a name in both maps; were one there, the secret would win.
  return { ...spec.environment, ...spec.secretEnvironment };
}

/** The deployer's options with every default filled in. */
export interface ProcessSettings {
  /** Working directory of unsandboxed children (a sandboxed child's is its private HOME). */
  readonly cwd: string;
  readonly parentEnvironment: Readonly<Record<string, string | undefined>>;
  readonly inheritedVariables: readonly string[];
  readonly startTimeoutMs: number;
  readonly probeIntervalMs: number;
  readonly stopGraceMs: number;
  /** How long a stdio server gets to exit after its stdin closed, before it is signalled. */
  readonly stdinCloseGraceMs: number;
  readonly backoff: BackoffPolicy;
  readonly stdio: StdioBridgeLimits & { readonly maxMessageBytes: number };
  readonly logs: { readonly maxLines: number; readonly maxBytes: number };
  readonly timers: Timers;
  readonly clock: () => Date;
  readonly random: () => number;
  /** Short random tokens for endpoint ids. */
  readonly randomId: () => string;
  readonly ports: PortAllocator;
  readonly logger: Logger;
  /** How a stdio replica resolves its command once (`npx`/`uvx` to the program they run). */
  readonly commandResolver: CommandResolver;
  /** Longest run of a resolution probe (an `npx` that downloads); after it the command runs as given. */
  readonly resolveTimeoutMs: number;
}

/** What a replica is built with. */
export interface ReplicaContext {
  readonly ref: ResourceRef;
  readonly index: number;
  readonly spec: ProcessSpec;
  readonly fingerprint: string;
  readonly settings: ProcessSettings;
  /** Where the replica's processes run (bubblewrap or plain processes). */
  readonly sandbox: ProcessSandbox;
  /** Told of every child started and reaped (the state file). */
  readonly ledger: ChildLedger;
  /** The instance's log (it outlives replacements of the replica). */
  readonly logs: LogBuffer;
  /** Called on every change of readiness or anything status shows. */
  readonly onChange: () => void;
}

/** One replica: a supervised HTTP server process, or a stdio bridge with its processes. */
export interface Replica {
  readonly index: number;
  readonly fingerprint: string;
  start(): void;
  /** Stops every process of the replica; resolves when all are gone. */
  stop(): Promise<void>;
  /** The endpoint while the replica is ready; undefined otherwise. */
  endpoint(): ReplicaEndpoint | undefined;
  state(): ReplicaState;
  /** Why the replica is failing (not ready and broken or slow), if it is. */
  failure(): string | undefined;
  /** Open sessions, where the replica counts them itself (the stdio bridge). */
  sessions?(): number;
}

/** `2 s`, `150 ms`: short durations for status details. */
export function formatDelay(ms: number): string {
  return ms >= 1_000 ? `${Math.round(ms / 100) / 10} s` : `${Math.max(0, Math.round(ms))} ms`;
}
