/**
 * @module child-process: starts one child in its own process group and hands back a handle that knows how to
 * stop the child's whole tree. The only module of the process deployer that calls `node:child_process`.
 */
import { spawn } from 'node:child_process';
import type { Writable } from 'node:stream';
import type { Timers } from '../timers.js';
import { terminateTree } from './kill-tree.js';
import type { TerminateResult } from './kill-tree.js';

/** Options for {@link spawnChild}. */
export interface SpawnChildOptions {
  readonly command: string;
  readonly args: readonly string[];
  /** The complete environment (see `child-env.ts`); nothing of the gateway's own is added. */
  readonly env: Record<string, string>;
  readonly cwd: string;
  /** A pipe to stdin (stdio servers) or none (HTTP servers, which must not read the gateway's stdin). */
  readonly stdin: boolean;
  readonly onStdout: (chunk: Buffer) => void;
  readonly onStderr: (chunk: Buffer) => void;
  /** Called once when the process has ended its output (both streams closed or the process never started). */
  readonly onOutputEnd?: () => void;
}

/** How a child ended. */
export interface ChildExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Set when the process never started (`ENOENT`, `EACCES`…). */
  readonly spawnError?: { readonly code: string | undefined; readonly message: string };
}

/** Options of {@link ChildHandle.terminate}. */
export interface StopOptions {
  /** SIGTERM → SIGKILL grace period. */
  readonly graceMs: number;
  /**
   * Close stdin first and give the child this long to exit on its own — the shutdown the MCP stdio transport
   * asks clients to do — before signalling it.
   */
  readonly closeStdinFirstMs?: number;
  readonly timers: Timers;
}

/** A started (or failed) child. */
export interface ChildHandle {
  /** Undefined when the process never started. */
  readonly pid: number | undefined;
  readonly stdin: Writable | undefined;
  /** Resolves once, when the leader exits or fails to start. */
  readonly exited: Promise<ChildExit>;
  /** Whether {@link exited} has resolved. */
  readonly hasExited: boolean;
  /** Stops the child and every process it started; idempotent; resolves when all are gone. */
  terminate(options: StopOptions): Promise<TerminateResult>;
}

/** Process groups started and not yet confirmed gone: killed synchronously if the gateway exits first. */
const liveGroups = new Set<number>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // `process.exit()` skips every async cleanup; a synchronous SIGKILL per group is the last line of defence
  // (a SIGKILL of the gateway itself cannot be caught — see docs/deployers.md).
  process.on('exit', () => {
    for (const pgid of liveGroups) {
      try {
        process.kill(-pgid, 'SIGKILL');
      } catch {
        // Gone already.
      }
    }
  });
}

/** A one-line description of how a child ended, for status details and logs. */
export function describeExit(exit: ChildExit, command: string): string {
  if (exit.spawnError) {
    if (exit.spawnError.code === 'ENOENT') {
      return `command not found: '${command}' (not on PATH, or the working directory does not exist)`;
    }
    if (exit.spawnError.code === 'EACCES') return `permission denied running '${command}'`;
    return `cannot start '${command}': ${exit.spawnError.message}`;
  }
  if (exit.signal) return `killed by ${exit.signal}`;
  return `exit code ${exit.code ?? 'unknown'}`;
}

/** Starts `command` as the leader of a new process group. Never throws: a failed start resolves `exited`. */
export function spawnChild(options: SpawnChildOptions): ChildHandle {
  installExitHook();
  let resolveExit!: (exit: ChildExit) => void;
  let hasExited = false;
  const exited = new Promise<ChildExit>((resolve) => {
    resolveExit = (exit) => {
      if (hasExited) return;
      hasExited = true;
      resolve(exit);
    };
  });
  let outputOpen = 2;
  const outputClosed = () => {
    outputOpen -= 1;
    if (outputOpen === 0) options.onOutputEnd?.();
  };

  let child;
  try {
    child = spawn(options.command, [...options.args], {
      cwd: options.cwd,
      env: options.env,
      // Own process group: the whole tree can be signalled at once, and a Ctrl-C meant for the gateway's
      // terminal does not hit children before the gateway has drained.
      detached: true,
      stdio: [options.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
      windowsHide: true,
    });
  } catch (err) {
    // Synchronous failures: invalid arguments (e.g. a NUL byte in an argument).
    const message = err instanceof Error ? err.message : String(err);
    const code = (err as { code?: string }).code;
    resolveExit({ code: null, signal: null, spawnError: { code, message } });
    queueMicrotask(() => options.onOutputEnd?.());
    return {
      pid: undefined,
      stdin: undefined,
      exited,
      get hasExited() {
        return true;
      },
      terminate: async () => ({ forced: false, survivors: 0 }),
    };
  }

  const pid = child.pid;
  if (pid !== undefined) liveGroups.add(pid);
  // Both are pipes (see `stdio` above); a failed start still creates them, and closes them.
  const { stdout, stderr } = child as unknown as {
    stdout: NodeJS.ReadableStream;
    stderr: NodeJS.ReadableStream;
  };
  stdout.on('data', options.onStdout);
  stderr.on('data', options.onStderr);
  stdout.on('close', outputClosed);
  stderr.on('close', outputClosed);
  // Stream errors (EPIPE on a dead child's stdin) are expected when a child dies; its exit is what counts.
  child.stdin?.on('error', () => undefined);
  stdout.on('error', () => undefined);
  stderr.on('error', () => undefined);
  child.on('error', (err: NodeJS.ErrnoException) => {
    // After a successful start 'error' only reports a failed kill() or write; the exit event still follows.
    if (child.pid !== undefined) return;
    resolveExit({ code: null, signal: null, spawnError: { code: err.code, message: err.message } });
  });
  child.on('exit', (code, signalName) => resolveExit({ code, signal: signalName }));

  let stopping: Promise<TerminateResult> | undefined;
  return {
    pid,
    stdin: child.stdin ?? undefined,
    exited,
    get hasExited() {
      return hasExited;
    },
    terminate(stop: StopOptions): Promise<TerminateResult> {
      if (pid === undefined) return Promise.resolve({ forced: false, survivors: 0 });
      stopping ??= (async () => {
        if (stop.closeStdinFirstMs && child.stdin && !hasExited) {
          child.stdin.end();
          await Promise.race([
            exited,
            new Promise<void>((resolve) => stop.timers.setTimeout(resolve, stop.closeStdinFirstMs!)),
          ]);
        }
        // Even after the leader exited on its own, grandchildren may still hold its group: sweep it.
        const result = await terminateTree(pid, { graceMs: stop.graceMs, timers: stop.timers });
        if (result.survivors === 0) liveGroups.delete(pid);
        return result;
      })();
      return stopping;
    },
  };
}
