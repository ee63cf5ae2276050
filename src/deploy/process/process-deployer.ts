/**
 * @module ProcessDeployer: the `command` runtime — every replica a local child process, the embedded default
 * when no cluster is configured. `streamable-http` replicas serve HTTP on a port the deployer picks; `stdio`
 * replicas are bridged to Streamable HTTP by the gateway itself. Children get only their own environment plus
 * a small safe base, run in their own process groups, are restarted with backoff, and are reaped — whole
 * trees — on remove, scale-down and close. See `docs/deployers.md`.
 */
import { randomBytes } from 'node:crypto';
import { createSilentLogger } from '../../observability/index.js';
import type { Logger } from '../../observability/index.js';
import { runtimeOf } from '../../registry/index.js';
import type { Registered } from '../../registry/index.js';
import type {
  Deployer,
  DeployerLogs,
  DeployerLogsOptions,
  EndpointsListener,
  ReplicaEndpoint,
  ResourceRef,
} from '../deployer.js';
import { refKey, refOf } from '../resource-change.js';
import type { RuntimeStatus } from '../runtime-inspector.js';
import { systemTimers } from '../timers.js';
import type { Timers } from '../timers.js';
import { DEFAULT_BACKOFF } from './backoff.js';
import type { BackoffPolicy } from './backoff.js';
import { DEFAULT_INHERITED_VARIABLES } from './child-env.js';
import { HttpReplica } from './http-replica.js';
import { LogBuffer } from './log-buffer.js';
import { PortAllocator } from './loopback-port.js';
import { fingerprintOf, processSpecOf } from './replica.js';
import type { ProcessSettings, ProcessSpec, Replica, ReplicaContext } from './replica.js';
import type { StdioBridgeLimits } from './stdio-bridge.js';
import { StdioReplica } from './stdio-replica.js';

/** Options for {@link ProcessDeployer}; every field has a default. */
export interface ProcessDeployerOptions {
  /** Working directory of every child (default: the gateway's). `npx` resolves local installs from here. */
  readonly cwd?: string;
  /** Where the inherited variables are read from (default `process.env`); nothing else of it reaches a child. */
  readonly parentEnvironment?: Readonly<Record<string, string | undefined>>;
  /** Variables copied from the parent (default `PATH`, `HOME`, `TMPDIR`, `LANG`). */
  readonly inheritedVariables?: readonly string[];
  /** After this long without readiness a replica's status says it is slow (default 30 000 ms). */
  readonly startTimeoutMs?: number;
  /** How often a starting HTTP replica's port is probed (default 250 ms). */
  readonly probeIntervalMs?: number;
  /** SIGTERM → SIGKILL grace period (default 5 000 ms). */
  readonly stopGraceMs?: number;
  /** How long a stdio server gets to exit after its stdin closes, before SIGTERM (default 2 000 ms). */
  readonly stdinCloseGraceMs?: number;
  readonly backoff?: Partial<BackoffPolicy>;
  /** Bridge limits of stdio replicas. */
  readonly stdio?: Partial<StdioBridgeLimits & { readonly maxMessageBytes: number }>;
  /** Bounds of each replica's log ring buffer. */
  readonly logs?: { readonly maxLines?: number; readonly maxBytes?: number };
  readonly logger?: Logger;
  readonly timers?: Timers;
  readonly clock?: () => Date;
  readonly random?: () => number;
  readonly randomId?: () => string;
}

/** Defaults of the stdio bridge. */
export const DEFAULT_STDIO_LIMITS: StdioBridgeLimits & { readonly maxMessageBytes: number } = Object.freeze({
  maxSessions: 16,
  idleTimeoutMs: 15 * 60_000,
  maxBodyBytes: 4 * 1024 * 1024,
  maxEventsPerSession: 1_000,
  maxMessageBytes: 64 * 1024 * 1024,
});

interface Run {
  resource: Registered;
  spec: ProcessSpec;
  readonly replicas: Replica[];
  readonly logs: LogBuffer[];
  endpoints: readonly ReplicaEndpoint[];
}

const sameEndpoints = (a: readonly ReplicaEndpoint[], b: readonly ReplicaEndpoint[]) =>
  a.length === b.length && a.every((e, i) => e.id === b[i]!.id && e.url === b[i]!.url);

/** Runs resources of the `command` runtime as local child processes. */
export class ProcessDeployer implements Deployer {
  readonly runtime = 'command' as const;
  readonly #settings: ProcessSettings;
  readonly #runs = new Map<string, Run>();
  readonly #listeners = new Set<EndpointsListener>();
  readonly #locks = new Map<string, Promise<void>>();
  #closed = false;
  #closing: Promise<void> | undefined;

  constructor(options: ProcessDeployerOptions = {}) {
    this.#settings = {
      cwd: options.cwd ?? process.cwd(),
      parentEnvironment: options.parentEnvironment ?? process.env,
      inheritedVariables: options.inheritedVariables ?? DEFAULT_INHERITED_VARIABLES,
      startTimeoutMs: options.startTimeoutMs ?? 30_000,
      probeIntervalMs: options.probeIntervalMs ?? 250,
      stopGraceMs: options.stopGraceMs ?? 5_000,
      stdinCloseGraceMs: options.stdinCloseGraceMs ?? 2_000,
      backoff: { ...DEFAULT_BACKOFF, ...options.backoff },
      stdio: { ...DEFAULT_STDIO_LIMITS, ...options.stdio },
      logs: {
        maxLines: options.logs?.maxLines ?? 10_000,
        maxBytes: options.logs?.maxBytes ?? 2 * 1024 * 1024,
      },
      timers: options.timers ?? systemTimers,
      clock: options.clock ?? (() => new Date()),
      random: options.random ?? Math.random,
      randomId: options.randomId ?? (() => randomBytes(4).toString('hex')),
      ports: new PortAllocator(),
      logger: options.logger ?? createSilentLogger(),
    };
  }

  async apply(resource: Registered): Promise<void> {
    if (this.#closed) throw new Error('the process deployer is closed');
    const runtime = runtimeOf(resource.spec);
    if (runtime !== 'command') {
      throw new Error(`${resource.kind} '${resource.name}' uses the ${runtime} runtime, not command`);
    }
    const spec = processSpecOf(resource);
    const fingerprint = fingerprintOf(spec);
    const key = refKey(resource);
    await this.#serial(key, async () => {
      if (this.#closed) throw new Error('the process deployer is closed');
      let run = this.#runs.get(key);
      if (!run) {
        run = { resource, spec, replicas: [], logs: [], endpoints: [] };
        this.#runs.set(key, run);
      }
      run.resource = resource;
      run.spec = spec;
      const count = resource.spec.replicaCount;
      const retired: Replica[] = [];
      for (let index = 0; index < count; index += 1) {
        const current = run.replicas[index];
        if (current?.fingerprint === fingerprint) continue;
        run.logs[index] ??= new LogBuffer(this.#settings.logs);
        if (current) {
          retired.push(current);
          run.logs[index]!.append('[mcp-gateway] configuration changed: replacing this replica');
        }
        const replica = this.#create(run, index, spec, fingerprint);
        run.replicas[index] = replica;
        replica.start();
      }
      for (let index = count; index < run.replicas.length; index += 1) {
        retired.push(run.replicas[index]!);
        run.logs[index]?.close();
      }
      run.replicas.length = Math.min(run.replicas.length, count);
      run.logs.length = Math.min(run.logs.length, count);
      this.#refresh(key, run);
      if (retired.length > 0) {
        this.#settings.logger.info(
          { resource: key, replaced: retired.length, replicas: count },
          'process deployer: stopping replaced or surplus replicas',
        );
      }
      await Promise.all(retired.map((r) => r.stop()));
    });
  }

  async remove(ref: ResourceRef): Promise<void> {
    const key = refKey(ref);
    await this.#serial(key, async () => {
      const run = this.#runs.get(key);
      if (!run) return;
      this.#runs.delete(key);
      await this.#stopRun(ref, run);
    });
  }

  async list(): Promise<ResourceRef[]> {
    return [...this.#runs.values()].map((run) => refOf(run.resource));
  }

  async status(resource: Registered): Promise<RuntimeStatus> {
    const run = this.#runs.get(refKey(resource));
    const desired = resource.spec.replicaCount;
    const replicas = run?.replicas.map((r) => r.state()) ?? [];
    const ready = replicas.filter((r) => r.ready).length;
    let replicaStatus: string;
    if (ready === desired) replicaStatus = 'Healthy';
    else if (ready > 0) replicaStatus = `Degraded: ${ready}/${desired} ready`;
    else {
      const failure = run?.replicas.map((r) => r.failure()).find((f) => f !== undefined);
      replicaStatus = failure ? `Failed: ${failure}` : 'Pending';
    }
    const spec = run?.spec ?? (resource.spec.command === undefined ? undefined : processSpecOf(resource));
    return {
      readyReplicas: ready,
      updatedReplicas: replicas.length,
      availableReplicas: ready,
      image: spec ? [spec.command, ...spec.args].join(' ') : 'Unknown',
      replicaStatus,
      runtime: 'command',
      replicas,
    };
  }

  async logs(resource: Registered, options: DeployerLogsOptions): Promise<DeployerLogs> {
    const buffer = this.#runs.get(refKey(resource))?.logs[options.instance];
    if (options.follow) {
      const stream =
        buffer?.follow(options.tail, options.signal) ??
        new ReadableStream<Uint8Array>({ start: (controller) => controller.close() });
      return { ok: true, stream };
    }
    return { ok: true, text: buffer?.text(options.tail) ?? '' };
  }

  endpoints(ref: ResourceRef): readonly ReplicaEndpoint[] {
    return this.#runs.get(refKey(ref))?.endpoints ?? [];
  }

  onEndpointsChange(listener: EndpointsListener): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /** Stops every replica of every resource (gateway shutdown); resolves when no child process is left. */
  close(): Promise<void> {
    this.#closed = true;
    this.#closing ??= (async () => {
      // Wait for applies in progress, so nothing they start escapes the sweep below.
      await Promise.allSettled([...this.#locks.values()]);
      const runs = [...this.#runs.entries()];
      this.#runs.clear();
      await Promise.all(runs.map(([, run]) => this.#stopRun(refOf(run.resource), run)));
    })();
    return this.#closing;
  }

  #create(run: Run, index: number, spec: ProcessSpec, fingerprint: string): Replica {
    const ref = refOf(run.resource);
    const key = refKey(ref);
    const ctx: ReplicaContext = {
      ref,
      index,
      spec,
      fingerprint,
      settings: this.#settings,
      logs: run.logs[index]!,
      onChange: () => this.#refresh(key, run),
    };
    return spec.transport === 'stdio' ? new StdioReplica(ctx) : new HttpReplica(ctx);
  }

  async #stopRun(ref: ResourceRef, run: Run): Promise<void> {
    const replicas = run.replicas.splice(0);
    for (const log of run.logs.splice(0)) log.close();
    if (run.endpoints.length > 0) {
      run.endpoints = [];
      this.#emit(ref, []);
    }
    await Promise.all(replicas.map((r) => r.stop()));
  }

  /** Recomputes the ready endpoints of a run and tells listeners when they changed. */
  #refresh(key: string, run: Run): void {
    if (this.#runs.get(key) !== run) return;
    const endpoints = run.replicas.flatMap((r) => r.endpoint() ?? []);
    if (sameEndpoints(endpoints, run.endpoints)) return;
    run.endpoints = endpoints;
    this.#emit(refOf(run.resource), endpoints);
  }

  #emit(ref: ResourceRef, endpoints: readonly ReplicaEndpoint[]): void {
    for (const listener of this.#listeners) {
      try {
        listener(ref, endpoints);
      } catch (err) {
        this.#settings.logger.warn({ err, resource: refKey(ref) }, 'an endpoints listener threw');
      }
    }
  }

  /** Runs `task` after every earlier task of the same resource: one change of a resource at a time. */
  #serial(key: string, task: () => Promise<void>): Promise<void> {
    const previous = this.#locks.get(key) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(task);
    const settled = next.catch(() => undefined);
    this.#locks.set(key, settled);
    void settled.then(() => {
      if (this.#locks.get(key) === settled) this.#locks.delete(key);
    });
    return next;
  }
}
