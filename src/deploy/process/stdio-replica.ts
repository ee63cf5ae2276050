/**
 * @module StdioReplica: a replica of a stdio MCP server — the gateway's own bridge listener, one server
 * process per session (and per 2026-07-28 pool member), and `warmSessions` warm spare processes (default 1).
 * Spares are started (and pinged) ahead of time so the next `initialize` does not wait for a cold start, and
 * they are what proves the command works: the replica is ready once a spare answered, and each spare is
 * restarted with backoff like any supervised process when it dies. With `warmSessions: 0` one process proves
 * the command and is stopped; every session then starts its own.
 *
 * A package runner's command (`npx -y pkg`, `uvx pkg`) is resolved once per replica, in its sandbox, to the
 * program it runs (see `command-resolution.ts`); every process of the replica starts that program directly.
 * When the resolution fails, or the resolved program does not become ready where the command as given would
 * have, the command runs as given (logged).
 */
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import type { ReplicaEndpoint } from '../deployer.js';
import type { ReplicaState } from '../runtime-inspector.js';
import { childEnvironment } from './child-env.js';
import { describeExit, spawnChild } from './child-process.js';
import type { Launchable, ProbeOutcome } from './command-resolution.js';
import type { ReplicaSandbox } from './process-sandbox.js';
import { formatDelay, ownEnvironment } from './replica.js';
import type { Replica, ReplicaContext } from './replica.js';
import { StdioBridge } from './stdio-bridge.js';
import { spawnStdioChild } from './stdio-child.js';
import type { StdioChild } from './stdio-child.js';
import { Supervisor } from './supervisor.js';

/**
 * Resolves when the child answers a `ping` (any answer: a result or an error both prove it speaks JSON-RPC).
 * MCP allows pings before `initialize`, so the spare is still fresh for the session that takes it.
 */
export function pingProbe(child: StdioChild, signal: AbortSignal, id: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onMessage = (message: JSONRPCMessage) => {
      if (!('id' in message) || message.id !== id) return;
      cleanup();
      resolve();
    };
    const onAbort = () => {
      cleanup();
      reject(signal.reason as Error);
    };
    const cleanup = () => {
      if (child.onMessage === onMessage) child.onMessage = undefined;
      signal.removeEventListener('abort', onAbort);
    };
    if (signal.aborted) return onAbort();
    child.onMessage = onMessage;
    signal.addEventListener('abort', onAbort, { once: true });
    child.send({ jsonrpc: '2.0', id, method: 'ping' });
  });
}

/** A bridge plus its processes. */
export class StdioReplica implements Replica {
  readonly index: number;
  readonly fingerprint: string;
  readonly #ctx: ReplicaContext;
  readonly #token: string;
  readonly #bridge: StdioBridge;
  /** One supervisor per warm spare; with `warmSessions: 0`, the one that proves the command, then stops. */
  readonly #spares: Supervisor<StdioChild>[];
  readonly #warm: number;
  /** Set once a spare was ready, for `warmSessions: 0` (whose prover is stopped then). */
  #proven = false;
  /** What each process starts: the command as given until the resolution (at boot) says otherwise. */
  #launch: Launchable;
  #resolved = false;
  #listening = false;
  #box: ReplicaSandbox | undefined;
  #bootError: string | undefined;
  #stopped = false;
  #booting: Promise<void> | undefined;
  #sessionCrashes = 0;
  #lastExit: string | undefined;
  /** The bridge's session cap: the adapter's `maxSessionsPerReplica`, else the deployer's. */
  readonly #maxSessions: number;

  constructor(ctx: ReplicaContext) {
    this.#ctx = ctx;
    this.index = ctx.index;
    this.fingerprint = ctx.fingerprint;
    const { settings, spec } = ctx;
    this.#token = settings.randomId();
    const env = childEnvironment({
      parent: settings.parentEnvironment,
      inherited: settings.inheritedVariables,
      own: ownEnvironment(spec),
    });
    const log = (line: string) => ctx.logs.append(line);
    this.#env = env;
    this.#launch = { command: spec.command, args: spec.args };
    // Called only after #boot prepared the sandbox: the spare starts, and the bridge listens, after it.
    const spawn = () =>
      spawnStdioChild({
        launch: this.#box!.launch({
          command: this.#launch.command,
          args: this.#launch.args,
          env,
          network: spec.network,
        }),
        ledger: ctx.ledger,
        log,
        maxMessageBytes: settings.stdio.maxMessageBytes,
      });
    const stop = {
      graceMs: settings.stopGraceMs,
      closeStdinFirstMs: settings.stdinCloseGraceMs,
      timers: settings.timers,
    };
    const explain = (exit: Parameters<typeof describeExit>[0]) => describeExit(exit, spec.command);
    this.#warm = spec.warmSessions ?? 1;
    this.#spares = Array.from({ length: Math.max(1, this.#warm) }, () => {
      const spare: Supervisor<StdioChild> = new Supervisor<StdioChild>({
        spawn,
        probe: (child, signal) => pingProbe(child, signal, `mcp-gateway-probe-${settings.randomId()}`),
        describeExit: explain,
        startTimeoutMs: settings.startTimeoutMs,
        backoff: settings.backoff,
        stop,
        timers: settings.timers,
        clock: settings.clock,
        random: settings.random,
        log,
        onChange: () => {
          if (spare.ready && !this.#proven) {
            this.#proven = true;
            // Nothing is kept warm: the process that proved the command goes.
            if (this.#warm === 0) void spare.stop();
          }
          ctx.onChange();
        },
        onUnexpectedExit: (description) => {
          this.#lastExit = description;
          this.#unresolveIfBroken(description);
        },
        stayReadyAcrossRestart: true,
      });
      return spare;
    });
    this.#maxSessions = spec.maxSessions ?? settings.stdio.maxSessions;
    this.#bridge = new StdioBridge({
      ...settings.stdio,
      maxSessions: this.#maxSessions,
      idleTimeoutMs: spec.sessionIdleMs ?? settings.stdio.idleTimeoutMs,
      path: spec.path,
      acquireChild: () => {
        for (const supervisor of this.#spares) {
          const spare = supervisor.take();
          if (!spare) continue;
          spare.onMessage = undefined;
          return spare;
        }
        const fresh = spawn();
        if (fresh.pid !== undefined) log(`[mcp-gateway] started pid ${fresh.pid} (no warm spare was ready)`);
        return fresh;
      },
      stopChild: (child) => child.terminate(stop),
      describeExit: explain,
      onCrash: (reason) => {
        this.#sessionCrashes += 1;
        this.#lastExit = reason.replace(/^its server process ended: /, '');
        ctx.onChange();
      },
      log,
      onChange: ctx.onChange,
      timers: settings.timers,
      clock: settings.clock,
      initializeTimeoutMs: settings.startTimeoutMs,
    });
  }

  readonly #env: Record<string, string>;

  /** A resolved program that never became ready is given up for the command as given (one retry's worth). */
  #unresolveIfBroken(description: string): void {
    if (!this.#resolved || this.#proven) return;
    this.#resolved = false;
    this.#launch = { command: this.#ctx.spec.command, args: this.#ctx.spec.args };
    this.#ctx.logs.append(
      `[mcp-gateway] the resolved program exited before it was ready (${description}); running the command as given`,
    );
  }

  /** Runs a resolution probe in the replica's sandbox with the replica's environment; stdout only, bounded. */
  #runProbe(probe: Launchable): Promise<ProbeOutcome> {
    const { settings, spec } = this.#ctx;
    let stdout = '';
    const child = spawnChild({
      launch: this.#box!.launch({
        command: probe.command,
        args: probe.args,
        env: this.#env,
        network: spec.network,
      }),
      ledger: this.#ctx.ledger,
      stdin: false,
      onStdout: (chunk) => {
        if (stdout.length < 64 * 1024) stdout += chunk.toString('utf8');
      },
      onStderr: () => undefined,
    });
    return new Promise<ProbeOutcome>((resolve) => {
      const timer = settings.timers.setTimeout(() => {
        void child.terminate({ graceMs: settings.stopGraceMs, timers: settings.timers });
        resolve({ code: undefined, stdout, failure: `no answer within ${settings.resolveTimeoutMs} ms` });
      }, settings.resolveTimeoutMs);
      void child.exited.then((exit) => {
        settings.timers.clearTimeout(timer);
        // Whatever it left behind goes with its group.
        void child.terminate({ graceMs: settings.stopGraceMs, timers: settings.timers });
        resolve({
          code: exit.code ?? undefined,
          stdout,
          ...(exit.code === null || exit.spawnError ? { failure: describeExit(exit, probe.command) } : {}),
        });
      });
    });
  }

  start(): void {
    this.#booting ??= this.#boot();
  }

  async #boot(): Promise<void> {
    try {
      this.#box = await this.#ctx.sandbox.forReplica(
        `${this.#ctx.ref.kind}-${this.#ctx.ref.name}-${this.index}`,
      );
    } catch (err) {
      this.#bootError = `cannot prepare the sandbox: ${err instanceof Error ? err.message : String(err)}`;
      this.#ctx.onChange();
      return;
    }
    if (this.#stopped) return;
    const resolution = await this.#ctx.settings.commandResolver(this.#launch, (probe) =>
      this.#runProbe(probe),
    );
    if (resolution.note) this.#ctx.logs.append(resolution.note);
    this.#launch = resolution.launch;
    this.#resolved = resolution.resolved;
    if (this.#stopped) return;
    try {
      await this.#bridge.listen();
    } catch (err) {
      this.#bootError = `the bridge cannot listen: ${err instanceof Error ? err.message : String(err)}`;
      this.#ctx.onChange();
      return;
    }
    if (this.#stopped) return;
    this.#listening = true;
    for (const spare of this.#spares) spare.start();
    this.#ctx.onChange();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#booting;
    this.#listening = false;
    await Promise.all([this.#bridge.close(), ...this.#spares.map((spare) => spare.stop())]);
    await this.#box?.dispose();
  }

  /** Ready: listening, and the command proved to work (a spare answered; spares stay ready across restarts). */
  #ready(): boolean {
    return (
      this.#listening && (this.#spares.some((spare) => spare.ready) || (this.#warm === 0 && this.#proven))
    );
  }

  endpoint(): ReplicaEndpoint | undefined {
    if (!this.#ready()) return undefined;
    return {
      id: `${this.#ctx.ref.name}-${this.index}.${this.#token}`,
      url: this.#url()!,
      weight: 1,
      maxSessions: this.#maxSessions,
    };
  }

  sessions(): number {
    return this.#bridge.sessionCount;
  }

  failure(): string | undefined {
    if (this.#bootError) return this.#bootError;
    const snapshot = this.#spares[0]!.snapshot();
    if (!this.#listening || this.#ready()) return undefined;
    return snapshot.phase === 'backoff' || snapshot.phase === 'slow' ? snapshot.reason : undefined;
  }

  state(): ReplicaState {
    const now = this.#ctx.settings.clock();
    const url = this.#url();
    const base = { instance: this.index, ...(url && { endpoint: url }), checkedAt: now };
    if (this.#bootError) return { ...base, ready: false, state: 'Failed', detail: this.#bootError };
    const snapshots = this.#spares.map((s) => s.snapshot());
    // The spare status words read from the first one that is not ready (else the first).
    const spare = snapshots.find((s) => s.phase !== 'ready' && s.phase !== 'stopped') ?? snapshots[0]!;
    const ready = this.#ready();
    const pids = this.#bridge.sessionPids;
    const poolPids = this.#bridge.poolPids;
    const restarts = snapshots.reduce((sum, s) => sum + s.restarts, 0);
    const parts = [
      `sessions ${this.#bridge.sessionCount}/${this.#maxSessions}${pids.length ? ` (pids ${pids.join(', ')})` : ''}`,
    ];
    if (this.#bridge.poolSize > 0)
      parts.push(`2026 pool ${this.#bridge.poolSize} (pids ${poolPids.join(', ')})`);
    if (this.#warm === 0 && this.#proven) parts.push('no warm spare (warmSessions 0)');
    else if (spare.phase === 'backoff')
      parts.push(
        `spare restarting in ${formatDelay((spare.nextStartAt?.getTime() ?? now.getTime()) - now.getTime())}`,
      );
    else if (this.#spares.length === 1)
      parts.push(
        `spare ${spare.phase === 'ready' ? 'ready' : spare.phase}${spare.pid ? ` (pid ${spare.pid})` : ''}`,
      );
    else {
      const warm = snapshots.filter((s) => s.phase === 'ready');
      const warmPids = warm.flatMap((s) => (s.pid === undefined ? [] : [s.pid]));
      parts.push(
        `spares ${warm.length}/${snapshots.length} ready${warmPids.length ? ` (pids ${warmPids.join(', ')})` : ''}`,
      );
    }
    parts.push(`restarts ${restarts + this.#sessionCrashes}`);
    if (this.#lastExit) parts.push(`last exit: ${this.#lastExit}`);
    if (!ready && spare.reason) parts.push(spare.reason);
    const word = ready
      ? 'Running'
      : spare.phase === 'backoff'
        ? 'BackOff'
        : spare.phase === 'slow'
          ? 'NotReady'
          : 'Starting';
    return {
      ...base,
      ready,
      state: this.#stopped ? 'Stopped' : word,
      detail: parts.join('; '),
      sessions: this.#bridge.sessionCount,
      maxSessions: this.#maxSessions,
    };
  }

  #url(): string | undefined {
    const port = this.#bridge.port;
    return port ? `http://127.0.0.1:${port}${this.#ctx.spec.path}` : undefined;
  }
}
