/**
 * @module Supervisor: keeps one child process running — spawn, wait until a probe says it is ready, and after
 * every unexpected exit (or failed start) sweep its leftovers and restart it with exponential backoff. It
 * records what status needs: phase, restarts, the last exit, and why the child is not ready.
 */
import type { Timers, TimerHandle } from '../timers.js';
import { backoffDelay } from './backoff.js';
import type { BackoffPolicy } from './backoff.js';
import type { ChildExit, ChildHandle, StopOptions } from './child-process.js';

/** Where the supervised child is in its life. */
export type SupervisorPhase = 'starting' | 'slow' | 'ready' | 'backoff' | 'stopped';

/** Options for {@link Supervisor}. */
export interface SupervisorOptions<C extends ChildHandle> {
  /** Starts a child; never throws (a failed start resolves the child's `exited`). */
  readonly spawn: () => C;
  /** Resolves when the child is ready to serve; rejects when `signal` aborts (exit or stop). */
  readonly probe: (child: C, signal: AbortSignal) => Promise<void>;
  /** Describes an exit for status and logs. */
  readonly describeExit: (exit: ChildExit) => string;
  /** After this long without a ready probe the status says the child is slow (it keeps waiting). */
  readonly startTimeoutMs: number;
  readonly backoff: BackoffPolicy;
  readonly stop: StopOptions;
  readonly timers: Timers;
  readonly clock: () => Date;
  readonly random: () => number;
  /** A gateway note for the replica's log. */
  readonly log: (line: string) => void;
  /** Called after every change a status or endpoint set could show. */
  readonly onChange: () => void;
  /** Told how each unexpected exit (or failed start) ended. */
  readonly onUnexpectedExit?: (description: string) => void;
  /** Runs after the dead child was swept and before the restart is scheduled (e.g. to pick another port). */
  readonly beforeRestart?: (wasReady: boolean) => Promise<void>;
  /**
   * Keep `ready` while a child that had been ready is restarted. For the stdio bridge, whose readiness means
   * "the command works" rather than "this process serves": flapping it on every crash of a spare would drop
   * the replica (and every session it holds) from the endpoint set.
   */
  readonly stayReadyAcrossRestart?: boolean;
}

/** What status shows of a supervised child. */
export interface SupervisorSnapshot {
  readonly phase: SupervisorPhase;
  readonly ready: boolean;
  readonly pid: number | undefined;
  /** Restarts after an unexpected exit or a failed start. */
  readonly restarts: number;
  /** How the last unexpected exit ended, e.g. `exit code 1`, `killed by SIGKILL`, `command not found: …`. */
  readonly lastExit: string | undefined;
  /** Why the child is not ready now, when known. */
  readonly reason: string | undefined;
  readonly nextStartAt: Date | undefined;
  /** Increments with every spawn: a new generation has lost every in-memory state of the previous one. */
  readonly generation: number;
}

/** Keeps one child alive. */
export class Supervisor<C extends ChildHandle> {
  readonly #o: SupervisorOptions<C>;
  #child: C | undefined;
  #abort: AbortController | undefined;
  #slowTimer: TimerHandle | undefined;
  #restartTimer: TimerHandle | undefined;
  #phase: SupervisorPhase = 'starting';
  #ready = false;
  #readyAt: number | undefined;
  #failures = 0;
  #restarts = 0;
  #lastExit: string | undefined;
  #reason: string | undefined;
  #nextStartAt: Date | undefined;
  #generation = 0;
  #stopped = false;
  #started = false;
  /** Children taken over (handed to a session) or replaced, still being swept. */
  readonly #sweeps = new Set<Promise<unknown>>();

  constructor(options: SupervisorOptions<C>) {
    this.#o = options;
  }

  /** Starts the first child. */
  start(): void {
    if (this.#started || this.#stopped) return;
    this.#started = true;
    this.#spawn();
  }

  get ready(): boolean {
    return this.#ready;
  }

  /** The current child once it is ready (and not taken). */
  get readyChild(): C | undefined {
    return this.#phase === 'ready' ? this.#child : undefined;
  }

  snapshot(): SupervisorSnapshot {
    return {
      phase: this.#phase,
      ready: this.#ready,
      pid: this.#child?.pid,
      restarts: this.#restarts,
      lastExit: this.#lastExit,
      reason: this.#reason,
      nextStartAt: this.#nextStartAt,
      generation: this.#generation,
    };
  }

  /**
   * Hands the ready child to the caller (who now owns it, exit and all) and starts a fresh one at once — a
   * hand-over is not a failure, so no backoff. Undefined when no ready child is waiting.
   */
  take(): C | undefined {
    const child = this.readyChild;
    if (!child || this.#stopped) return undefined;
    this.#detach();
    this.#spawn();
    return child;
  }

  /** Stops the child (and any restart pending); resolves when its tree is gone. */
  async stop(): Promise<void> {
    if (this.#stopped) {
      await Promise.allSettled([...this.#sweeps]);
      return;
    }
    this.#stopped = true;
    this.#phase = 'stopped';
    this.#ready = false;
    if (this.#restartTimer !== undefined) this.#o.timers.clearTimeout(this.#restartTimer);
    this.#restartTimer = undefined;
    const child = this.#child;
    this.#detach();
    if (child) this.#track(child.terminate(this.#o.stop));
    await Promise.allSettled([...this.#sweeps]);
  }

  #track(work: Promise<unknown>): void {
    const settled = work.catch(() => undefined).finally(() => this.#sweeps.delete(settled));
    this.#sweeps.add(settled);
  }

  /** Forgets the current child without touching it. */
  #detach(): void {
    this.#abort?.abort();
    this.#abort = undefined;
    if (this.#slowTimer !== undefined) this.#o.timers.clearTimeout(this.#slowTimer);
    this.#slowTimer = undefined;
    this.#child = undefined;
  }

  #spawn(): void {
    if (this.#stopped) return;
    this.#restartTimer = undefined;
    this.#nextStartAt = undefined;
    this.#generation += 1;
    this.#phase = 'starting';
    if (!this.#o.stayReadyAcrossRestart || this.#readyAt === undefined) this.#ready = false;
    const child = this.#o.spawn();
    const abort = new AbortController();
    this.#child = child;
    this.#abort = abort;
    if (child.pid !== undefined) this.#o.log(`[mcp-gateway] started pid ${child.pid}`);
    this.#slowTimer = this.#o.timers.setTimeout(() => {
      if (this.#child !== child || this.#phase !== 'starting') return;
      this.#phase = 'slow';
      this.#reason = `not ready after ${this.#o.startTimeoutMs} ms (still waiting)`;
      this.#o.log(`[mcp-gateway] ${this.#reason}`);
      this.#o.onChange();
    }, this.#o.startTimeoutMs);
    this.#o.probe(child, abort.signal).then(
      () => {
        if (this.#child !== child || abort.signal.aborted) return;
        if (this.#slowTimer !== undefined) this.#o.timers.clearTimeout(this.#slowTimer);
        this.#slowTimer = undefined;
        this.#phase = 'ready';
        this.#ready = true;
        this.#readyAt = this.#o.clock().getTime();
        this.#reason = undefined;
        this.#o.onChange();
      },
      () => undefined,
    );
    void child.exited.then((exit) => this.#onExit(child, exit));
    this.#o.onChange();
  }

  #onExit(child: C, exit: ChildExit): void {
    // A child handed over or stopped is someone else's business.
    if (this.#child !== child || this.#stopped) return;
    const now = this.#o.clock().getTime();
    const wasReady = this.#phase === 'ready';
    const readySince = wasReady ? this.#readyAt : undefined;
    this.#detach();
    this.#failures =
      readySince !== undefined && now - readySince >= this.#o.backoff.resetAfterMs ? 1 : this.#failures + 1;
    // A child that never became ready proves the command is broken, whatever an earlier child did.
    if (!wasReady) this.#readyAt = undefined;
    if (!this.#o.stayReadyAcrossRestart || !wasReady) this.#ready = false;
    this.#restarts += 1;
    this.#lastExit = this.#o.describeExit(exit);
    this.#o.onUnexpectedExit?.(this.#lastExit);
    // A command that never ran (not found, on the host or inside the sandbox) did not "exit before ready".
    this.#reason =
      exit.spawnError || exit.sandboxFailure?.kind === 'exec'
        ? this.#lastExit
        : `${wasReady ? 'exited' : 'exited before ready'}: ${this.#lastExit}`;
    const wait = backoffDelay(this.#o.backoff, this.#failures, this.#o.random);
    this.#phase = 'backoff';
    this.#nextStartAt = new Date(now + wait);
    this.#o.log(`[mcp-gateway] ${this.#reason}; restarting in ${wait} ms`);
    this.#o.onChange();
    // Grandchildren may outlive the leader (and hold its port): sweep the group before the restart.
    const sweep = child.terminate(this.#o.stop);
    this.#track(sweep);
    void sweep
      .catch(() => undefined)
      .then(() => this.#o.beforeRestart?.(wasReady))
      .catch(() => undefined)
      .then(() => {
        if (this.#stopped) return;
        this.#restartTimer = this.#o.timers.setTimeout(() => this.#spawn(), wait);
      });
  }
}
