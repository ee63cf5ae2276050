/**
 * @module StdioReplica: a replica of a stdio MCP server — the gateway's own bridge listener, one server
 * process per session, and one warm spare process. The spare is started (and pinged) ahead of time so the
 * next `initialize` does not wait for a cold start, and it is what proves the command works: the replica is
 * ready once a spare answered, and is restarted with backoff like any supervised process when it dies.
 */
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import type { ReplicaEndpoint } from '../deployer.js';
import type { ReplicaState } from '../runtime-inspector.js';
import { childEnvironment } from './child-env.js';
import { describeExit } from './child-process.js';
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
  readonly #spare: Supervisor<StdioChild>;
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
    // Called only after #boot prepared the sandbox: the spare starts, and the bridge listens, after it.
    const spawn = () =>
      spawnStdioChild({
        launch: this.#box!.launch({ command: spec.command, args: spec.args, env, network: spec.network }),
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
    this.#spare = new Supervisor<StdioChild>({
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
      onChange: ctx.onChange,
      onUnexpectedExit: (description) => {
        this.#lastExit = description;
      },
      stayReadyAcrossRestart: true,
    });
    this.#maxSessions = spec.maxSessions ?? settings.stdio.maxSessions;
    this.#bridge = new StdioBridge({
      ...settings.stdio,
      maxSessions: this.#maxSessions,
      idleTimeoutMs: spec.sessionIdleMs ?? settings.stdio.idleTimeoutMs,
      path: spec.path,
      acquireChild: () => {
        const spare = this.#spare.take();
        if (spare) {
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
    try {
      await this.#bridge.listen();
    } catch (err) {
      this.#bootError = `the bridge cannot listen: ${err instanceof Error ? err.message : String(err)}`;
      this.#ctx.onChange();
      return;
    }
    if (this.#stopped) return;
    this.#listening = true;
    this.#spare.start();
    this.#ctx.onChange();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#booting;
    this.#listening = false;
    await Promise.all([this.#bridge.close(), this.#spare.stop()]);
    await this.#box?.dispose();
  }

  endpoint(): ReplicaEndpoint | undefined {
    if (!this.#listening || !this.#spare.ready) return undefined;
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
    const snapshot = this.#spare.snapshot();
    if (!this.#listening || snapshot.ready) return undefined;
    return snapshot.phase === 'backoff' || snapshot.phase === 'slow' ? snapshot.reason : undefined;
  }

  state(): ReplicaState {
    const now = this.#ctx.settings.clock();
    const url = this.#url();
    const base = { instance: this.index, ...(url && { endpoint: url }), checkedAt: now };
    if (this.#bootError) return { ...base, ready: false, state: 'Failed', detail: this.#bootError };
    const spare = this.#spare.snapshot();
    const ready = this.#listening && spare.ready;
    const pids = this.#bridge.sessionPids;
    const parts = [
      `sessions ${this.#bridge.sessionCount}/${this.#maxSessions}${pids.length ? ` (pids ${pids.join(', ')})` : ''}`,
      spare.phase === 'backoff'
        ? `spare restarting in ${formatDelay((spare.nextStartAt?.getTime() ?? now.getTime()) - now.getTime())}`
        : `spare ${spare.phase === 'ready' ? 'ready' : spare.phase}${spare.pid ? ` (pid ${spare.pid})` : ''}`,
      `restarts ${spare.restarts + this.#sessionCrashes}`,
    ];
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
