/**
 * @module kill-tree: stops a child and everything it started. SIGTERM first, SIGKILL for whatever is left after
 * the grace period. How "everything" is found depends on how the child runs:
 *
 * - **Without the sandbox** the child leads its own process group, so one signal to the group reaches
 *   grandchildren; descendants that left the group (`setsid`) are found by their parent chain in `/proc`, and
 *   daemons that also left the parent chain (a double fork re-parents to init) by the tag variable every
 *   process of the child inherited (see `child-ledger.ts`).
 * - **In the sandbox** the leader is bubblewrap, and its direct child is bubblewrap again, as the PID
 *   namespace's init. Neither may get the SIGTERM: the leader dies of it, `--die-with-parent` then SIGKILLs the
 *   init, and the kernel SIGKILLs the whole namespace — so the command would never run its shutdown. The SIGTERM
 *   goes to every process inside instead; when the command exits, the init exits and the namespace goes with it
 *   (daemons included). SIGKILL of the leader is the forced path: it takes the namespace down at once.
 */
import { systemTimers } from '../timers.js';
import type { Timers } from '../timers.js';
import { isLive, processesWithEnvironment, readProcessTable, treeOf } from './process-table.js';
import type { ProcessEntry } from './process-table.js';

/** Options for {@link terminateTree}. */
export interface TerminateOptions {
  /** How long processes get to exit after SIGTERM before SIGKILL (e.g. 5 000 ms). */
  readonly graceMs: number;
  /** How often to look whether they are gone (default 25 ms). */
  readonly pollMs?: number;
  /** How long to wait for SIGKILL to take effect (default 2 000 ms). */
  readonly killWaitMs?: number;
  readonly timers?: Timers;
  /** Reads the process table (default `/proc`); `undefined` means none is available. */
  readonly readTable?: () => Promise<ProcessEntry[] | undefined>;
  /** `NAME=value` every process of the child inherited (unsandboxed children): finds re-parented daemons. */
  readonly tag?: string;
  /** The leader is bubblewrap and its direct children the namespace's init (see the module comment). */
  readonly sandboxed?: boolean;
  /** Finds the processes carrying {@link tag} (default: their `/proc/<pid>/environ`). */
  readonly findTagged?: (table: readonly ProcessEntry[], tag: string) => Promise<ProcessEntry[]>;
}

/** How a termination ended. */
export interface TerminateResult {
  /** SIGKILL was needed. */
  readonly forced: boolean;
  /** Processes still alive at the end (0 unless one is stuck in uninterruptible sleep). */
  readonly survivors: number;
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // ESRCH: already gone. EPERM: not ours (pid reuse); either way nothing to do.
  }
}

/** Identity of a process across pid reuse. */
const identity = (e: ProcessEntry) => `${e.pid}@${e.startTime}`;

interface Waiting {
  readonly pollMs: number;
  readonly timers: Timers;
}

/** Polls `survivors` until none are left or `ms` passed; counted in polls so injected timers alone drive it. */
async function waitGone<T>(
  survivors: () => Promise<T[] | number>,
  ms: number,
  waiting: Waiting,
  eachPoll?: () => Promise<void>,
): Promise<T[] | number> {
  for (let round = Math.ceil(ms / waiting.pollMs); ; round -= 1) {
    const left = await survivors();
    if (count(left) === 0 || round <= 0) return left;
    await new Promise<void>((resolve) => waiting.timers.setTimeout(resolve, waiting.pollMs));
    await eachPoll?.();
  }
}

const count = (s: readonly unknown[] | number) => (typeof s === 'number' ? s : s.length);

/**
 * Terminates the process tree led by `pid` (see the module comment for what belongs to it). Resolves when all
 * are gone (or, after SIGKILL, when `killWaitMs` passed). Safe to call for a leader that has already exited.
 */
export async function terminateTree(pid: number, options: TerminateOptions): Promise<TerminateResult> {
  // -1 and 0 address every process or the gateway's own group: never signal those.
  if (!Number.isInteger(pid) || pid <= 1 || pid === process.pid)
    throw new Error(`refusing to kill pid ${pid}`);
  const waiting = { pollMs: options.pollMs ?? 25, timers: options.timers ?? systemTimers };
  const readTable = options.readTable ?? (() => readProcessTable());
  const findTagged = options.findTagged ?? processesWithEnvironment;
  const tagged = async (table: readonly ProcessEntry[] | undefined) =>
    options.tag !== undefined && table ? findTagged(table, options.tag) : [];

  // Processes outside the group are remembered by pid and start time, so a reused pid is never signalled.
  const strays = new Map<number, string>();
  const remember = (entries: readonly ProcessEntry[]) => {
    for (const entry of entries) if (entry.pgrp !== pid) strays.set(entry.pid, entry.startTime);
  };
  const before = await readTable();
  remember(before ? treeOf(before, pid, process.pid) : []);
  remember(await tagged(before));

  const survivors = async (): Promise<ProcessEntry[] | number> => {
    const table = await readTable();
    if (!table) {
      try {
        process.kill(-pid, 0);
        return 1;
      } catch {
        return 0;
      }
    }
    return table.filter(
      (e) => isLive(e) && e.pid !== process.pid && (e.pgrp === pid || strays.get(e.pid) === e.startTime),
    );
  };

  let eachPoll: (() => Promise<void>) | undefined;
  if (options.sandboxed) {
    // Right after a spawn bubblewrap may not have started the command yet: keep looking until it has.
    let commandSignalled = false;
    const signalCommand = async (table: readonly ProcessEntry[] | undefined) => {
      if (commandSignalled || !table) return;
      const tree = treeOf(table, pid, process.pid);
      const bubblewrap = new Set([pid, ...tree.filter((e) => e.ppid === pid).map((e) => e.pid)]);
      const inside = tree.filter((e) => !bubblewrap.has(e.pid));
      for (const entry of inside) signal(entry.pid, 'SIGTERM');
      commandSignalled = inside.length > 0;
    };
    await signalCommand(before);
    // Without a process table there is no telling bubblewrap from the command: its leader is all there is.
    if (!before) signal(pid, 'SIGTERM');
    eachPoll = async () => signalCommand(await readTable());
  } else {
    signal(-pid, 'SIGTERM');
    for (const stray of strays.keys()) signal(stray, 'SIGTERM');
  }
  const afterTerm = await waitGone(survivors, options.graceMs, waiting, eachPoll);
  if (count(afterTerm) === 0) return { forced: false, survivors: 0 };

  signal(-pid, 'SIGKILL');
  if (typeof afterTerm !== 'number') for (const e of afterTerm) if (e.pgrp !== pid) signal(e.pid, 'SIGKILL');
  // A daemon started during the grace period carries the tag too.
  const late = await tagged(await readTable());
  remember(late);
  for (const e of late) signal(e.pid, 'SIGKILL');
  const afterKill = await waitGone(survivors, options.killWaitMs ?? 2_000, waiting);
  return { forced: true, survivors: count(afterKill) };
}

/**
 * Terminates exactly these processes — leftovers of an earlier gateway run, identified by pid and start time —
 * one by one, never by process group (their group's leader may be long gone and its id reused).
 */
export async function terminateProcesses(
  targets: readonly ProcessEntry[],
  options: Pick<TerminateOptions, 'graceMs' | 'pollMs' | 'killWaitMs' | 'timers' | 'readTable'>,
): Promise<TerminateResult> {
  const waiting = { pollMs: options.pollMs ?? 25, timers: options.timers ?? systemTimers };
  const readTable = options.readTable ?? (() => readProcessTable());
  const wanted = new Set(targets.filter((t) => t.pid > 1 && t.pid !== process.pid).map(identity));
  if (wanted.size === 0) return { forced: false, survivors: 0 };
  const survivors = async () =>
    ((await readTable()) ?? []).filter((e) => isLive(e) && wanted.has(identity(e)));
  for (const entry of await survivors()) signal(entry.pid, 'SIGTERM');
  const afterTerm = await waitGone(survivors, options.graceMs, waiting);
  if (count(afterTerm) === 0) return { forced: false, survivors: 0 };
  if (typeof afterTerm !== 'number') for (const entry of afterTerm) signal(entry.pid, 'SIGKILL');
  const afterKill = await waitGone(survivors, options.killWaitMs ?? 2_000, waiting);
  return { forced: true, survivors: count(afterKill) };
}
