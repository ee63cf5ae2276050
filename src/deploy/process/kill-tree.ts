/**
 * @module kill-tree: stops a child and everything it started. Each child is spawned as the leader of its own
 * process group, so one signal to the group reaches grandchildren too; descendants that left the group are
 * found in `/proc` and signalled one by one. SIGTERM first, SIGKILL for whatever is left after the grace period.
 */
import { systemTimers } from '../timers.js';
import type { Timers } from '../timers.js';
import { isLive, readProcessTable, treeOf } from './process-table.js';
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

/**
 * Terminates the process group led by `pid` and every descendant of `pid`. Resolves when all are gone (or,
 * after SIGKILL, when `killWaitMs` passed). Safe to call for a leader that has already exited.
 */
export async function terminateTree(pid: number, options: TerminateOptions): Promise<TerminateResult> {
  // -1 and 0 address every process or the gateway's own group: never signal those.
  if (!Number.isInteger(pid) || pid <= 1 || pid === process.pid)
    throw new Error(`refusing to kill pid ${pid}`);
  const timers = options.timers ?? systemTimers;
  const pollMs = options.pollMs ?? 25;
  const readTable = options.readTable ?? (() => readProcessTable());
  const before = await readTable();
  // Descendants outside the group are remembered by pid and start time, so a reused pid is never signalled.
  const strays = new Map<number, string>();
  for (const entry of before ? treeOf(before, pid, process.pid) : []) {
    if (entry.pgrp !== pid) strays.set(entry.pid, entry.startTime);
  }

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
  const count = (s: ProcessEntry[] | number) => (typeof s === 'number' ? s : s.length);
  const waitGone = async (ms: number): Promise<ProcessEntry[] | number> => {
    // Counted in polls rather than read from a clock, so injected timers alone drive it.
    for (let round = Math.ceil(ms / pollMs); ; round -= 1) {
      const left = await survivors();
      if (count(left) === 0 || round <= 0) return left;
      await new Promise<void>((resolve) => timers.setTimeout(resolve, pollMs));
    }
  };

  signal(-pid, 'SIGTERM');
  for (const stray of strays.keys()) signal(stray, 'SIGTERM');
  const afterTerm = await waitGone(options.graceMs);
  if (count(afterTerm) === 0) return { forced: false, survivors: 0 };

  signal(-pid, 'SIGKILL');
  if (typeof afterTerm !== 'number') for (const e of afterTerm) if (e.pgrp !== pid) signal(e.pid, 'SIGKILL');
  const afterKill = await waitGone(options.killWaitMs ?? 2_000);
  return { forced: true, survivors: count(afterKill) };
}
