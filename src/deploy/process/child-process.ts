/**
 * @module child-process: starts one child in its own process group and hands back a handle that knows how to
 * stop the child's whole tree. The only module of the process deployer that calls `node:child_process`; what it
 * starts (the command itself, or bubblewrap around it) is prepared by the process sandbox.
 */
import { spawn } from 'node:child_process';
import type { Writable } from 'node:stream';
import type { Timers } from '../timers.js';
import { NO_CHILD_LEDGER } from './child-ledger.js';
import type { ChildLedger } from './child-ledger.js';
import { terminateTree } from './kill-tree.js';
import type { TerminateResult } from './kill-tree.js';

/** What {@link spawnChild} starts, as the process sandbox prepared it. */
export interface ChildLaunch {
  /** The program to execute: the command itself, or bubblewrap. */
  readonly file: string;
  readonly args: readonly string[];
  /** The complete environment (see `child-env.ts`); nothing of the gateway's own is added. */
  readonly env: Record<string, string>;
  /** Host working directory of the spawned program. */
  readonly cwd: string;
  /** `NAME=value` every process of the child inherits (unsandboxed children), to find daemons; see kill-tree. */
  readonly tag: string | undefined;
  /** `file` is bubblewrap: signals go past it to the command (see kill-tree), and its start errors are read. */
  readonly sandboxed: boolean;
}

/** Options for {@link spawnChild}. */
export interface SpawnChildOptions {
  readonly launch: ChildLaunch;
  /** A pipe to stdin (stdio servers) or none (HTTP servers, which must not read the gateway's stdin). */
  readonly stdin: boolean;
  readonly onStdout: (chunk: Buffer) => void;
  readonly onStderr: (chunk: Buffer) => void;
  /** Called once when the process has ended its output (both streams closed or the process never started). */
  readonly onOutputEnd?: () => void;
  /** Told of every child started and of every child whose tree is gone (the state file). */
  readonly ledger?: ChildLedger;
}

/** How a child ended. */
export interface ChildExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Set when the process never started (`ENOENT`, `EACCES`…). */
  readonly spawnError?: { readonly code: string | undefined; readonly message: string };
  /** Set when bubblewrap or setpriv could not start the command (their first line on stderr said so). */
  readonly sandboxFailure?: SandboxFailure;
}

/** Why the sandbox did not run the command. */
export type SandboxFailure =
  /** The command (or its interpreter) could not be executed inside the sandbox's view of the host. */
  | { readonly kind: 'exec'; readonly path: string; readonly reason: string }
  /** bubblewrap itself failed (a mount, a namespace). */
  | { readonly kind: 'setup'; readonly message: string };

/**
 * Reads the first stderr line of a sandboxed child: bubblewrap and setpriv report there why they could not run
 * the command, before the command itself can write anything.
 */
export function parseSandboxFailure(firstLine: string): SandboxFailure | undefined {
  const exec =
    /^bwrap: execvp (.+?): (.+)$/.exec(firstLine) ??
    /^setpriv: failed to execute (.+?): (.+)$/.exec(firstLine);
  if (exec) return { kind: 'exec', path: exec[1]!, reason: exec[2]! };
  const setup = /^(?:bwrap|setpriv): (.+)$/.exec(firstLine);
  return setup ? { kind: 'setup', message: firstLine } : undefined;
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

/** What a sandboxed child sees of the host, for messages. */
const SANDBOX_VIEW =
  'the sandbox sees only the system directories (/usr, /bin, /sbin, /lib*, /etc), its private HOME and /tmp, ' +
  'and the paths listed in MCP_GATEWAY_PROCESS_READ_PATHS';

/** A one-line description of how a child ended, for status details and logs. */
export function describeExit(exit: ChildExit, command: string): string {
  if (exit.sandboxFailure?.kind === 'exec') {
    const { path, reason } = exit.sandboxFailure;
    if (!path.includes('/') && /no such file/i.test(reason)) {
      return `command not found inside the sandbox: '${path}' (not on its PATH; ${SANDBOX_VIEW})`;
    }
    return `cannot run '${path}' inside the sandbox: ${reason} (${SANDBOX_VIEW})`;
  }
  if (exit.sandboxFailure) return `the sandbox could not start '${command}': ${exit.sandboxFailure.message}`;
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

/** Starts the launch as the leader of a new process group. Never throws: a failed start resolves `exited`. */
export function spawnChild(options: SpawnChildOptions): ChildHandle {
  const { launch } = options;
  const ledger = options.ledger ?? NO_CHILD_LEDGER;
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
  // A sandboxed child's exit waits for its output: bubblewrap's start error may arrive after its exit, and once
  // bubblewrap is gone its namespace is too, so nothing can hold the pipes open.
  let exitSeen: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  let sandboxFailure: SandboxFailure | undefined;
  const settleExit = () => {
    if (!exitSeen || (launch.sandboxed && outputOpen > 0)) return;
    // bubblewrap and setpriv exit non-zero when they could not run the command; a zero exit is the command's own.
    resolveExit({ ...exitSeen, ...(sandboxFailure && exitSeen.code !== 0 && { sandboxFailure }) });
  };
  const outputClosed = () => {
    outputOpen -= 1;
    if (outputOpen === 0) options.onOutputEnd?.();
    settleExit();
  };

  let child;
  try {
    child = spawn(launch.file, [...launch.args], {
      cwd: launch.cwd,
      env: launch.env,
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
  if (pid !== undefined) {
    liveGroups.add(pid);
    ledger.record(pid, launch.tag);
  }
  const firstLine = launch.sandboxed
    ? firstLineReader((line) => (sandboxFailure = parseSandboxFailure(line)))
    : undefined;
  // Both are pipes (see `stdio` above); a failed start still creates them, and closes them.
  const { stdout, stderr } = child as unknown as {
    stdout: NodeJS.ReadableStream;
    stderr: NodeJS.ReadableStream;
  };
  stdout.on('data', options.onStdout);
  stderr.on('data', (chunk: Buffer) => {
    firstLine?.push(chunk);
    options.onStderr(chunk);
  });
  stdout.on('close', outputClosed);
  stderr.on('close', () => {
    firstLine?.end();
    outputClosed();
  });
  // Stream errors (EPIPE on a dead child's stdin) are expected when a child dies; its exit is what counts.
  child.stdin?.on('error', () => undefined);
  stdout.on('error', () => undefined);
  stderr.on('error', () => undefined);
  child.on('error', (err: NodeJS.ErrnoException) => {
    // After a successful start 'error' only reports a failed kill() or write; the exit event still follows.
    if (child.pid !== undefined) return;
    resolveExit({ code: null, signal: null, spawnError: { code: err.code, message: err.message } });
  });
  child.on('exit', (code, signalName) => {
    exitSeen = { code, signal: signalName };
    settleExit();
  });

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
        const result = await terminateTree(pid, {
          graceMs: stop.graceMs,
          timers: stop.timers,
          tag: launch.tag,
          sandboxed: launch.sandboxed,
        });
        if (result.survivors === 0) {
          liveGroups.delete(pid);
          ledger.forget(pid);
        }
        return result;
      })();
      return stopping;
    },
  };
}

/** Calls `onLine` once with the first line of a stream (at most 1 KiB of it), then ignores the rest. */
function firstLineReader(onLine: (line: string) => void): { push(chunk: Buffer): void; end(): void } {
  let buffered = '';
  let done = false;
  const deliver = (line: string) => {
    done = true;
    onLine(line.trimEnd());
  };
  return {
    push(chunk) {
      if (done) return;
      buffered += chunk.toString('utf8');
      const newline = buffered.indexOf('\n');
      if (newline >= 0) deliver(buffered.slice(0, newline));
      else if (buffered.length >= 1024) deliver(buffered.slice(0, 1024));
    },
    end() {
      if (!done && buffered !== '') deliver(buffered);
    },
  };
}
