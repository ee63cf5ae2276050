/**
 * @module HttpReplica: a replica whose command serves HTTP itself (`transport: "streamable-http"`, and every
 * tool). It gets a free loopback port as `PORT`, is ready once that port answers HTTP, and is restarted with
 * backoff when it exits. Its endpoint id changes with every restart: a new process has lost the old one's
 * MCP sessions, and the data plane must know.
 */
import type { ReplicaEndpoint } from '../deployer.js';
import type { ReplicaState } from '../runtime-inspector.js';
import { childEnvironment } from './child-env.js';
import { describeExit, spawnChild } from './child-process.js';
import type { ChildHandle } from './child-process.js';
import { waitForHttp } from './http-probe.js';
import { LineSplitter } from './line-splitter.js';
import type { ReplicaSandbox } from './process-sandbox.js';
import { formatDelay, ownEnvironment } from './replica.js';
import type { Replica, ReplicaContext } from './replica.js';
import { Supervisor } from './supervisor.js';

const PHASE_WORDS = {
  starting: 'Starting',
  slow: 'NotReady',
  ready: 'Running',
  backoff: 'BackOff',
  stopped: 'Stopped',
};

/** A supervised HTTP server process on its own port. */
export class HttpReplica implements Replica {
  readonly index: number;
  readonly fingerprint: string;
  readonly #ctx: ReplicaContext;
  readonly #token: string;
  #port: number | undefined;
  #supervisor: Supervisor<ChildHandle> | undefined;
  #box: ReplicaSandbox | undefined;
  #bootError: string | undefined;
  #lastProbe: string | undefined;
  #stopped = false;
  #booting: Promise<void> | undefined;

  constructor(ctx: ReplicaContext) {
    this.#ctx = ctx;
    this.index = ctx.index;
    this.fingerprint = ctx.fingerprint;
    this.#token = ctx.settings.randomId();
  }

  start(): void {
    this.#booting ??= this.#boot();
  }

  async #boot(): Promise<void> {
    const { settings, spec } = this.#ctx;
    try {
      this.#port = await settings.ports.acquire();
    } catch (err) {
      this.#bootError = err instanceof Error ? err.message : String(err);
      this.#ctx.onChange();
      return;
    }
    if (this.#stopped) {
      settings.ports.release(this.#port);
      return;
    }
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
    const box = this.#box;
    const log = (line: string) => this.#ctx.logs.append(line);
    this.#supervisor = new Supervisor<ChildHandle>({
      spawn: () => {
        this.#lastProbe = undefined;
        const env = childEnvironment({
          parent: settings.parentEnvironment,
          inherited: settings.inheritedVariables,
          own: ownEnvironment(spec),
          forced: { PORT: String(this.#port) },
        });
        const stdout = new LineSplitter({ maxLineBytes: 16 * 1024, onLine: log });
        const stderr = new LineSplitter({ maxLineBytes: 16 * 1024, onLine: log });
        return spawnChild({
          launch: box.launch({ command: spec.command, args: spec.args, env, network: spec.network }),
          ledger: this.#ctx.ledger,
          stdin: false,
          onStdout: (chunk) => stdout.push(chunk),
          onStderr: (chunk) => stderr.push(chunk),
          onOutputEnd: () => {
            stdout.end();
            stderr.end();
          },
        });
      },
      probe: (_child, signal) => {
        const port = this.#port;
        return waitForHttp(this.#url()!, {
          intervalMs: settings.probeIntervalMs,
          timers: settings.timers,
          signal,
          onAttempt: (outcome) => {
            this.#lastProbe = `port ${port}: ${outcome.detail}`;
          },
        });
      },
      // A child that died before its port answered may have lost the port to another program: pick again.
      beforeRestart: async (wasReady) => {
        if (wasReady || this.#stopped || this.#port === undefined) return;
        const previous = this.#port;
        const next = await settings.ports.acquire();
        settings.ports.release(previous);
        if (this.#stopped) settings.ports.release(next);
        else this.#port = next;
      },
      describeExit: (exit) => describeExit(exit, spec.command),
      startTimeoutMs: settings.startTimeoutMs,
      backoff: settings.backoff,
      stop: { graceMs: settings.stopGraceMs, timers: settings.timers },
      timers: settings.timers,
      clock: settings.clock,
      random: settings.random,
      log,
      onChange: this.#ctx.onChange,
    });
    this.#supervisor.start();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#booting;
    await this.#supervisor?.stop();
    await this.#box?.dispose();
    if (this.#port !== undefined) this.#ctx.settings.ports.release(this.#port);
  }

  endpoint(): ReplicaEndpoint | undefined {
    const snapshot = this.#supervisor?.snapshot();
    const url = this.#url();
    if (!snapshot?.ready || !url) return undefined;
    return {
      id: `${this.#ctx.ref.name}-${this.index}.${this.#token}.${snapshot.generation}`,
      url,
      weight: 1,
    };
  }

  failure(): string | undefined {
    if (this.#bootError) return this.#bootError;
    const snapshot = this.#supervisor?.snapshot();
    if (!snapshot || snapshot.ready) return undefined;
    if (snapshot.phase === 'backoff') return snapshot.reason;
    if (snapshot.phase === 'slow') return [snapshot.reason, this.#lastProbe].filter(Boolean).join('; ');
    return undefined;
  }

  state(): ReplicaState {
    const { settings } = this.#ctx;
    const now = settings.clock();
    const snapshot = this.#supervisor?.snapshot();
    const url = this.#url();
    const base = { instance: this.index, ...(url && { endpoint: url }), checkedAt: now };
    if (!snapshot) {
      const detail = this.#bootError ?? 'picking a port';
      return { ...base, ready: false, state: this.#bootError ? 'Failed' : 'Starting', detail };
    }
    const parts: string[] = [];
    if (snapshot.pid !== undefined && snapshot.phase !== 'backoff') parts.push(`pid ${snapshot.pid}`);
    parts.push(`restarts ${snapshot.restarts}`);
    if (snapshot.lastExit) parts.push(`last exit: ${snapshot.lastExit}`);
    if (!snapshot.ready && snapshot.reason) parts.push(snapshot.reason);
    if (!snapshot.ready && snapshot.phase !== 'backoff' && this.#lastProbe) parts.push(this.#lastProbe);
    if (snapshot.nextStartAt)
      parts.push(`next start in ${formatDelay(snapshot.nextStartAt.getTime() - now.getTime())}`);
    return { ...base, ready: snapshot.ready, state: PHASE_WORDS[snapshot.phase], detail: parts.join('; ') };
  }

  #url(): string | undefined {
    return this.#port === undefined ? undefined : `http://127.0.0.1:${this.#port}${this.#ctx.spec.path}`;
  }
}
