/**
 * @module process-table: a snapshot of the host's processes read from `/proc` (Linux), just enough to find a
 * child's whole tree — its process group, and descendants that left the group (`setsid`, daemonising).
 * Where `/proc` is absent (macOS) the snapshot is `undefined` and callers fall back to process-group signals.
 */
import { readFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';

/** One process as `/proc/<pid>/stat` describes it. */
export interface ProcessEntry {
  readonly pid: number;
  readonly ppid: number;
  /** Process group id. */
  readonly pgrp: number;
  /** One-letter state; `Z` (zombie) and `X` (dead) are gone for every purpose here. */
  readonly state: string;
  /** Start time in clock ticks since boot: with the pid, identifies a process even after pid reuse. */
  readonly startTime: string;
}

/** Parses one `/proc/<pid>/stat` line; `undefined` when it is not one. */
export function parseStat(line: string): ProcessEntry | undefined {
  // The command name is in parentheses and may itself contain spaces and parentheses: split after the last ')'.
  const close = line.lastIndexOf(')');
  if (close < 0) return undefined;
  const pid = Number.parseInt(line.slice(0, line.indexOf(' ')), 10);
  const fields = line.slice(close + 2).split(' ');
  const [state, ppid, pgrp] = fields;
  const startTime = fields[19];
  if (!Number.isInteger(pid) || state === undefined || startTime === undefined) return undefined;
  return { pid, ppid: Number(ppid), pgrp: Number(pgrp), state, startTime };
}

/** Reads every process; `undefined` when the platform has no `/proc`. Processes that vanish meanwhile are skipped. */
export async function readProcessTable(root = '/proc'): Promise<ProcessEntry[] | undefined> {
  let names: string[];
  try {
    names = await readdir(root);
  } catch {
    return undefined;
  }
  const entries = await Promise.all(
    names
      .filter((name) => /^\d+$/.test(name))
      .map(async (name) => {
        try {
          return parseStat(await readFile(`${root}/${name}/stat`, 'utf8'));
        } catch {
          return undefined;
        }
      }),
  );
  return entries.filter((e): e is ProcessEntry => e !== undefined);
}

/** Whether a process still runs (zombies have exited; only their parent has not collected them yet). */
export function isLive(entry: ProcessEntry): boolean {
  return entry.state !== 'Z' && entry.state !== 'X';
}

/** Every live process in `pgid`'s group or descended from `root`, excluding `exclude` (the gateway itself). */
export function treeOf(table: readonly ProcessEntry[], root: number, exclude: number): ProcessEntry[] {
  const children = new Map<number, ProcessEntry[]>();
  for (const entry of table) {
    const list = children.get(entry.ppid);
    if (list) list.push(entry);
    else children.set(entry.ppid, [entry]);
  }
  const found = new Map<number, ProcessEntry>();
  for (const entry of table) if (entry.pgrp === root) found.set(entry.pid, entry);
  const queue = [root, ...found.keys()];
  while (queue.length > 0) {
    const pid = queue.pop()!;
    for (const child of children.get(pid) ?? []) {
      if (!found.has(child.pid)) {
        found.set(child.pid, child);
        queue.push(child.pid);
      }
    }
  }
  const self = table.find((e) => e.pid === root);
  if (self) found.set(root, self);
  found.delete(exclude);
  return [...found.values()].filter(isLive);
}

/** Reads one process's entry synchronously (right after a spawn, for the state file); `undefined` when gone. */
export function readProcessEntrySync(pid: number, root = '/proc'): ProcessEntry | undefined {
  try {
    return parseStat(readFileSync(`${root}/${pid}/stat`, 'utf8'));
  } catch {
    return undefined;
  }
}

/**
 * Live processes of `table` whose environment holds `assignment` (`NAME=value`). `/proc/<pid>/environ` is
 * readable for the gateway's own processes and, for root, for all; others are skipped. This finds descendants
 * that left both the process group and the parent chain (a double-forked daemon re-parents to init), as long as
 * they kept the environment they inherited.
 */
export async function processesWithEnvironment(
  table: readonly ProcessEntry[],
  assignment: string,
  root = '/proc',
): Promise<ProcessEntry[]> {
  const found = await Promise.all(
    table.filter(isLive).map(async (entry) => {
      try {
        const environ = await readFile(`${root}/${entry.pid}/environ`, 'latin1');
        return environ.split('\0').includes(assignment) ? entry : undefined;
      } catch {
        return undefined;
      }
    }),
  );
  return found.filter((e): e is ProcessEntry => e !== undefined);
}

/** This boot's id (`/proc/sys/kernel/random/boot_id`): start times are only comparable within one boot. */
export function readBootIdSync(root = '/proc'): string | undefined {
  try {
    return readFileSync(`${root}/sys/kernel/random/boot_id`, 'utf8').trim();
  } catch {
    return undefined;
  }
}
