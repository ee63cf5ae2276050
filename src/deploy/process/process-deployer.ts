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
import { NOTHING_HELD, acceptingNew } from '../deployer.js';
import type {
  Deployer,
  DeployerLogs,
  DeployerLogsOptions,
  EndpointsListener,
  ReplicaEndpoint,
  ResourceRef,
  SessionCount,
} from '../deployer.js';
import { refKey, refOf } from '../resource-change.js';
import type { RuntimeStatus } from '../runtime-inspector.js';
import { systemTimers } from '../timers.js';
import type { TimerHandle, Timers } from '../timers.js';
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
  /** Told when a resource with `minReplicas` below `replicaCount` scales up (a request) or down (idle). */
  readonly onScale?: (ref: ResourceRef, event: ScaleEvent) => void;
  /** How often a scaled-up resource with sessions or requests open is checked for idleness (default 1 000 ms). */
  readonly idleCheckMs?: number;
}

/** A resource scaled on demand. */
export interface ScaleEvent {
  readonly direction: 'up' | 'down';
  /** Replicas it runs from now on. */
  readonly replicas: number;
}

/** Default `idleSeconds`: five minutes. */
export const DEFAULT_IDLE_SECONDS = 300;

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

/** How a resource scales on demand: `min` replicas while idle, `replicaCount` once a request came. */
interface Scaling {
  readonly min: number;
  readonly idleMs: number;
}

interface Run {
  resource: Registered;
  spec: ProcessSpec;
  fingerprint: string;
  readonly replicas: Replica[];
  readonly logs: LogBuffer[];
  endpoints: readonly ReplicaEndpoint[];
  /** Undefined when the resource always runs `replicaCount` replicas (no `minReplicas` below it). */
  scaling: Scaling | undefined;
  /** Scaled up (to `replicaCount`) since the last request; false while at `scaling.min`. */
  awake: boolean;
  /** Exchanges in flight ({@link ProcessDeployer.hold}). */
  inFlight: number;
  /** Last time (ms) the resource was seen in use: a request began or ended, or sessions were open at a check. */
  activeAt: number;
  idleTimer: TimerHandle | undefined;
  /** Wakers waiting for a ready endpoint. */
  readonly waiters: Set<() => void>;
}

/** The scaling of a resource: only adapters of the command runtime with `minReplicas` below `replicaCount`. */
function scalingOf(resource: Registered): Scaling | undefined {
  if (resource.kind !== 'adapter') return undefined;
  const { minReplicas, idleSeconds, replicaCount } = (resource as Registered<'adapter'>).spec;
  if (minReplicas === undefined || minReplicas >= replicaCount) return undefined;
  return { min: minReplicas, idleMs: (idleSeconds ?? DEFAULT_IDLE_SECONDS) * 1000 };
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
  readonly #onScale: ((ref: ResourceRef, event: ScaleEvent) => void) | undefined;
  readonly #idleCheckMs: number;
  #sessionCount: SessionCount = () => 0;
  #started: Promise<Started> | undefined;
  #closed = false;
  #closing: Promise<void> | undefined;

  constructor(options: ProcessDeployerOptions = {}) {
    this.#sandboxSettings = options.sandbox ?? { mode: 'auto' };
    this.#stateDirectory = options.stateDirectory;
    this.#secrets = options.secrets ?? NO_SECRET_SOURCE;
    this.#onScale = options.onScale;
    this.#idleCheckMs = options.idleCheckMs ?? 1_000;
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
        run = {
          resource,
          spec,
          fingerprint,
          replicas: [],
          logs: [],
          endpoints: [],
          scaling: undefined,
          awake: false,
          inFlight: 0,
          activeAt: this.#now(),
          idleTimer: undefined,
          waiters: new Set(),
        };
        this.#runs.set(key, run);
      }
      run.resource = resource;
      run.spec = spec;
      run.fingerprint = fingerprint;
      const wasScaling = run.scaling !== undefined;
      run.scaling = scalingOf(resource);
      if (!run.scaling) this.#disarmIdle(run);
      else if (!wasScaling && run.replicas.length > 0) {
        // Scaling just turned on for replicas that run (and may hold sessions): they count as in use now, and
        // go when idle, not at this apply.
        run.awake = true;
        run.activeAt = this.#now();
      }
      await this.#converge(key, run, started);
      this.#armIdle(key, run);
    });
  }

  /** How many replicas a run should have now: its minimum while idle, else `replicaCount`. */
  #target(run: Run): number {
    return run.scaling && !run.awake ? run.scaling.min : run.resource.spec.replicaCount;
  }

  /**
   * Starts missing or outdated replicas and stops surplus ones, toward {@link #target}. The surplus leaves the
   * endpoint set before this returns its promise (synchronously), so no request is placed on a replica being
   * stopped; resolves when the stopped ones are gone.
   */
  async #converge(key: string, run: Run, started: Started): Promise<void> {
    const { spec, fingerprint } = run;
    const count = this.#target(run);
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
      // A replica scaled down keeps its log (the next scale-up appends to it); one removed for good closes it.
      if (index >= (run.scaling ? run.resource.spec.replicaCount : count)) run.logs[index]?.close();
      else run.logs[index]?.append('[mcp-gateway] idle: stopped (scaled down; the next request starts it)');
    }
    run.replicas.length = Math.min(run.replicas.length, count);
    const kept = run.scaling ? run.resource.spec.replicaCount : count;
    run.logs.length = Math.min(run.logs.length, kept);
    this.#refresh(key, run);
    if (retired.length > 0) {
      this.#settings.logger.info(
        { resource: key, replaced: retired.length, replicas: count },
        'process deployer: stopping replaced or surplus replicas',
      );
    }
    await Promise.all(retired.map((r) => r.stop()));
  }

  #now(): number {
    return this.#settings.clock().getTime();
  }

  /**
   * Starts a resource scaled down (its `minReplicas` below `replicaCount`) and resolves with its ready endpoints
   * once one takes new work, or after `timeoutMs` with what is ready then. Every caller of one idle period shares
   * the one scale-up. Undefined for a resource that does not scale (or is not applied yet): nothing to wait for.
   */
  wake(ref: ResourceRef, timeoutMs: number): Promise<readonly ReplicaEndpoint[]> | undefined {
    const key = refKey(ref);
    const run = this.#runs.get(key);
    if (!run?.scaling || this.#closed) return undefined;
    run.activeAt = this.#now();
    if (!run.awake) {
      run.awake = true;
      this.#scaled(run, 'up');
      this.#serial(key, async () => {
        if (this.#runs.get(key) !== run || !run.awake || this.#closed) return;
        await this.#converge(key, run, await this.#started!);
        this.#armIdle(key, run);
      }).catch((err: unknown) =>
        this.#settings.logger.warn({ err, resource: key }, 'process deployer: scale-up failed'),
      );
    }
    if (acceptingNew(run.endpoints).length > 0) return Promise.resolve(run.endpoints);
    return new Promise((resolve) => {
      const { timers } = this.#settings;
      const done = () => {
        run.waiters.delete(done);
        timers.clearTimeout(timer);
        resolve(run.endpoints);
      };
      const timer = timers.setTimeout(done, timeoutMs);
      run.waiters.add(done);
    });
  }

  /** Marks an exchange with a scaling resource in flight; a no-op for every other resource. */
  hold(ref: ResourceRef): () => void {
    const run = this.#runs.get(refKey(ref));
    if (!run?.scaling) return NOTHING_HELD;
    run.inFlight += 1;
    run.activeAt = this.#now();
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      run.inFlight -= 1;
      run.activeAt = this.#now();
    };
  }

  /**
   * Where scale-down decisions read the data plane's open sessions (its session ledger): a replica serving HTTP
   * itself holds sessions only the data plane sees. The stdio bridge's own count is read as well.
   */
  countSessionsWith(count: SessionCount): void {
    this.#sessionCount = count;
  }

  /** Open sessions, exchanges in flight, or requests waiting for the run's first ready replica. */
  #busy(run: Run): boolean {
    for (const endpoint of run.endpoints) if (this.#sessionCount(run.resource, endpoint.id) > 0) return true;
    for (const replica of run.replicas) if ((replica.sessions?.() ?? 0) > 0) return true;
    return run.inFlight > 0 || run.waiters.size > 0;
  }

  /** Schedules the next idle check of an awake scaling run (one timer per run). */
  #armIdle(key: string, run: Run): void {
    if (!run.scaling || !run.awake || run.idleTimer !== undefined || this.#closed) return;
    const left = run.activeAt + run.scaling.idleMs - this.#now();
    // While in use, look again soon: the idle period starts when the last session or request ends.
    const wait = Math.max(
      0,
      run.inFlight > 0 || run.waiters.size > 0 ? Math.min(left, this.#idleCheckMs) : left,
    );
    run.idleTimer = this.#settings.timers.setTimeout(() => {
      run.idleTimer = undefined;
      this.#idleCheck(key, run);
    }, wait);
  }

  #disarmIdle(run: Run): void {
    if (run.idleTimer !== undefined) this.#settings.timers.clearTimeout(run.idleTimer);
    run.idleTimer = undefined;
  }

  #idleCheck(key: string, run: Run): void {
    if (this.#runs.get(key) !== run || !run.scaling || !run.awake || this.#closed) return;
    if (this.#busy(run)) {
      run.activeAt = this.#now();
      run.idleTimer = this.#settings.timers.setTimeout(
        () => {
          run.idleTimer = undefined;
          this.#idleCheck(key, run);
        },
        Math.min(run.scaling.idleMs, this.#idleCheckMs),
      );
      return;
    }
    if (this.#now() - run.activeAt < run.scaling.idleMs) {
      this.#armIdle(key, run);
      return;
    }
    this.#serial(key, async () => {
      const started = await this.#started!;
      // Decided and done in one turn: no request can be placed on a replica between the check and its removal.
      if (this.#runs.get(key) !== run || !run.scaling || !run.awake || this.#closed) return;
      if (this.#busy(run) || this.#now() - run.activeAt < run.scaling.idleMs) {
        this.#armIdle(key, run);
        return;
      }
      run.awake = false;
      this.#scaled(run, 'down');
      await this.#converge(key, run, started);
    }).catch((err: unknown) =>
      this.#settings.logger.warn({ err, resource: key }, 'process deployer: scale-down failed'),
    );
  }

  #scaled(run: Run, direction: 'up' | 'down'): void {
    const ref = refOf(run.resource);
    const replicas = this.#target(run);
    this.#settings.logger.info(
      { resource: refKey(ref), direction, replicas },
      direction === 'up'
        ? 'process deployer: a request woke an idle resource; starting its replicas'
        : 'process deployer: idle; stopping replicas down to minReplicas',
    );
    try {
      this.#onScale?.(ref, { direction, replicas });
    } catch (err) {
      this.#settings.logger.warn({ err, resource: refKey(ref) }, 'a scale listener threw');
    }
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
    const idle = run?.scaling !== undefined && !run.awake;
    const desired = run && idle ? run.scaling!.min : resource.spec.replicaCount;
    const replicas = run?.replicas.map((r) => r.state()) ?? [];
    const ready = replicas.filter((r) => r.ready).length;
    let replicaStatus: string;
    // A replica at its session cap takes no new session: say so, rather than Healthy.
    const full = replicas.filter(
      (r) => r.ready && r.maxSessions !== undefined && (r.sessions ?? 0) >= r.maxSessions,
    ).length;
    if (idle && ready === desired)
      replicaStatus =
        desired === 0
          ? 'Idle: scaled to zero; the next request starts it'
          : `Idle: ${ready}/${resource.spec.replicaCount} replicas until the next request`;
    else if (ready === desired && ready > 0 && full === ready)
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
    this.#disarmIdle(run);
    for (const waiter of [...run.waiters]) waiter();
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
    if (run.waiters.size > 0 && acceptingNew(endpoints).length > 0)
      for (const waiter of [...run.waiters]) waiter();
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
