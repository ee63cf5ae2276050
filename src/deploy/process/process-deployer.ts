/**
 * @module ProcessDeployer: the `command` runtime — every replica a local child process, the embedded default
 * when no cluster is configured. `streamable-http` replicas serve HTTP on a port the deployer picks; `stdio`
 * replicas are bridged to Streamable HTTP by the gateway itself. Children run in a sandbox (bubblewrap, see
 * `process-sandbox.ts`) where the host has it, get only their own environment plus a small safe base, are
 * restarted with backoff, and are reaped — whole trees — on remove, scale-down and close; a state file lets
 * the next start reap what a killed gateway left behind. See `docs/deployers.md`.
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
import { NO_SECRET_SOURCE, resolveSecretEnvironment } from '../secret-environment.js';
import type { SecretSource } from '../secret-environment.js';
import { DEFAULT_BACKOFF } from './backoff.js';
import type { BackoffPolicy } from './backoff.js';
import { DEFAULT_INHERITED_VARIABLES } from './child-env.js';
import { ChildLedgerFile, NO_CHILD_LEDGER } from './child-ledger.js';
import { resolveCommand } from './command-resolution.js';
import type { CommandResolver } from './command-resolution.js';
import type { ChildLedger, LeftoverReport } from './child-ledger.js';
import { HttpReplica } from './http-replica.js';
import { LogBuffer } from './log-buffer.js';
import { PortAllocator } from './loopback-port.js';
import { startProcessSandbox } from './process-sandbox.js';
import type { ProcessSandbox, ProcessSandboxSettings } from './process-sandbox.js';
import { fingerprintOf, processSpecOf } from './replica.js';
import type { ProcessSettings, ProcessSpec, Replica, ReplicaContext } from './replica.js';
import type { StdioBridgeLimits } from './stdio-bridge.js';
import { StdioReplica } from './stdio-replica.js';

/** Options for {@link ProcessDeployer}; every field has a default. */
export interface ProcessDeployerOptions {
  /** Working directory of unsandboxed children (default: the gateway's). `npx` resolves local installs from here. */
  readonly cwd?: string;
  /** Where the inherited variables are read from (default `process.env`); nothing else of it reaches a child. */
  readonly parentEnvironment?: Readonly<Record<string, string | undefined>>;
  /** Variables copied from the parent (default `PATH`, `HOME`, `TMPDIR`, `LANG`). */
  readonly inheritedVariables?: readonly string[];
  /** How children are isolated (default `{ mode: 'auto' }`: bubblewrap when it works here). */
  readonly sandbox?: ProcessSandboxSettings;
  /**
   * Keep the state file of started children in this directory, and reap a previous run's leftovers when the
   * deployer starts (default: no state file).
   */
  readonly stateDirectory?: string;
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
  /**
   * Where `secretEnvironmentVariables` are read when replicas start (default: no secrets, so a resource that
   * references one fails to apply, naming it).
   */
  readonly secrets?: SecretSource;
  /**
   * How stdio replicas resolve a package runner's command once (default {@link resolveCommand}: `npx -y pkg` and
   * `uvx pkg` become the program they run; {@link KEEP_COMMAND} runs every command as given).
   */
  readonly commandResolver?: CommandResolver;
  /** Longest run of a resolution probe before the command runs as given (default 120 000 ms). */
  readonly resolveTimeoutMs?: number;
}

/** What {@link ProcessDeployer.start} found. */
export interface ProcessDeployerStart {
  /** Which sandbox children run in. */
  readonly sandbox: ProcessSandbox['kind'];
  /** The previous run's leftovers that were reaped (none without a state directory). */
  readonly leftovers: LeftoverReport;
}

interface Started {
  readonly sandbox: ProcessSandbox;
  readonly ledger: ChildLedger;
  readonly ledgerFile: ChildLedgerFile | undefined;
  readonly report: ProcessDeployerStart;
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
  readonly #sandboxSettings: ProcessSandboxSettings;
  readonly #stateDirectory: string | undefined;
  readonly #secrets: SecretSource;
  #started: Promise<Started> | undefined;
  #closed = false;
  #closing: Promise<void> | undefined;

  constructor(options: ProcessDeployerOptions = {}) {
    this.#sandboxSettings = options.sandbox ?? { mode: 'auto' };
    this.#stateDirectory = options.stateDirectory;
    this.#secrets = options.secrets ?? NO_SECRET_SOURCE;
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
      commandResolver: options.commandResolver ?? resolveCommand,
      resolveTimeoutMs: options.resolveTimeoutMs ?? 120_000,
    };
  }

  /**
   * Starts the sandbox (a self-test of bubblewrap) and reaps what an earlier gateway run left running (see
   * `child-ledger.ts`). Idempotent; `apply` waits for it, so call it first only to fail early: it rejects with a
   * `ConfigError` when the sandbox settings cannot be met.
   */
  start(): Promise<ProcessDeployerStart> {
    this.#started ??= this.#start();
    return this.#started.then((started) => started.report);
  }

  async #start(): Promise<Started> {
    const { logger } = this.#settings;
    const { sandbox, warning } = await startProcessSandbox(this.#sandboxSettings, {
      cwd: this.#settings.cwd,
    });
    if (warning) logger.warn({ sandbox: sandbox.kind }, warning);
    else
      logger.info(
        { sandbox: sandbox.kind, readPaths: this.#sandboxSettings.readPaths ?? [] },
        'process sandbox: bubblewrap',
      );
    let ledgerFile: ChildLedgerFile | undefined;
    let leftovers: LeftoverReport = { files: 0, processes: 0, forced: false };
    if (this.#stateDirectory !== undefined) {
      const directory = this.#stateDirectory;
      let warned = false;
      try {
        ledgerFile = ChildLedgerFile.open({
          directory,
          graceMs: this.#settings.stopGraceMs,
          onWriteError: (err) => {
            if (warned) return;
            warned = true;
            logger.warn({ err, stateDirectory: directory }, 'process deployer: cannot write the state file');
          },
        });
      } catch (err) {
        // Not fatal: children run as before; only a killed gateway's leftovers would go unnoticed at the next start.
        logger.warn(
          { err, stateDirectory: directory },
          'process deployer: no state file (MCP_GATEWAY_STATE_DIR is not writable); children a killed gateway leaves running will not be stopped at the next start',
        );
      }
      if (ledgerFile) {
        leftovers = await ledgerFile.reapLeftovers();
        if (leftovers.processes > 0) {
          logger.warn(
            { processes: leftovers.processes, forced: leftovers.forced, stateFiles: leftovers.files },
            'process deployer: stopped processes an earlier gateway run left running',
          );
        }
      }
    }
    return {
      sandbox,
      ledger: ledgerFile ?? NO_CHILD_LEDGER,
      ledgerFile,
      report: { sandbox: sandbox.kind, leftovers },
    };
  }

  async apply(resource: Registered): Promise<void> {
    if (this.#closed) throw new Error('the process deployer is closed');
    const runtime = runtimeOf(resource.spec);
    if (runtime !== 'command') {
      throw new Error(`${resource.kind} '${resource.name}' uses the ${runtime} runtime, not command`);
    }
    // Read at every apply, so a rotation (the control plane notifies, and every periodic pass re-applies) gives a
    // new revision, hence a new fingerprint, and the replicas restart with the new value. A missing secret fails
    // here, before anything running is touched: replicas that already run keep the value they were given.
    const spec = processSpecOf(resource, await resolveSecretEnvironment(this.#secrets, resource));
    const fingerprint = fingerprintOf(spec);
    const key = refKey(resource);
    this.#started ??= this.#start();
    const started = await this.#started;
    const refusal = this.#refusal(resource, spec, started.sandbox);
    if (refusal) {
      // What runs was started for another spec; this one cannot run here at all.
      await this.remove(resource);
      throw new Error(refusal);
    }
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
        const replica = this.#create(run, index, spec, fingerprint, started);
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
    // A replica at its session cap takes no new session: say so, rather than Healthy.
    const full = replicas.filter(
      (r) => r.ready && r.maxSessions !== undefined && (r.sessions ?? 0) >= r.maxSessions,
    ).length;
    if (ready === desired && ready > 0 && full === ready)
      replicaStatus = `Full: every replica is at its session cap (${ready}/${desired})`;
    else if (ready === desired && full > 0)
      replicaStatus = `Degraded: ${full}/${desired} replicas at their session cap`;
    else if (ready === desired) replicaStatus = 'Healthy';
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
      const started = await this.#started?.catch(() => undefined);
      started?.ledgerFile?.close();
      await started?.sandbox.close();
    })();
    return this.#closing;
  }

  /** Why `spec` cannot run with this sandbox, if it cannot. */
  #refusal(resource: Registered, spec: ProcessSpec, sandbox: ProcessSandbox): string | undefined {
    if (spec.network !== 'none') return undefined;
    const what = `${resource.kind} '${resource.name}' asks for network "none"`;
    if (spec.transport !== 'stdio')
      return `${what}, which only stdio servers can have (the gateway could not reach it)`;
    if (sandbox.networkNoneUnavailable)
      return `${what}, which cannot be enforced: ${sandbox.networkNoneUnavailable}`;
    return undefined;
  }

  #create(run: Run, index: number, spec: ProcessSpec, fingerprint: string, started: Started): Replica {
    const ref = refOf(run.resource);
    const key = refKey(ref);
    const ctx: ReplicaContext = {
      ref,
      index,
      spec,
      fingerprint,
      settings: this.#settings,
      sandbox: started.sandbox,
      ledger: started.ledger,
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
