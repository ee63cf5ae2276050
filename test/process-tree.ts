/**
 * @module process-tree: finds the processes a test started, wherever they ended up in the process tree.
 * Tests give each resource an environment variable with a unique value; every descendant inherits it, even one
 * that left its process group, so scanning `/proc/<pid>/environ` finds them all (Linux only).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';

/** The variable name tests mark their processes with. */
export const MARKER_VARIABLE = 'MCPGW_TEST_MARKER';

/** A fresh marker value. */
export function newMarker(): string {
  return `m${randomBytes(6).toString('hex')}`;
}

function stateOf(pid: string): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
  } catch {
    return undefined;
  }
}

/** Pids of live (not zombie) processes whose environment holds `MCPGW_TEST_MARKER=<marker>`. */
export function markedProcesses(marker: string): number[] {
  const needle = `${MARKER_VARIABLE}=${marker}`;
  const found: number[] = [];
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    let environ: string;
    try {
      environ = readFileSync(`/proc/${pid}/environ`, 'latin1');
    } catch {
      continue;
    }
    if (!environ.split('\0').includes(needle)) continue;
    const state = stateOf(pid);
    if (state !== undefined && state !== 'Z' && state !== 'X') found.push(Number(pid));
  }
  return found;
}

function commandOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}

/**
 * Marked processes other than bubblewrap's own (the sandbox's leader and init carry the child's environment
 * too): what the command itself runs.
 */
export function markedCommandProcesses(marker: string): number[] {
  return markedProcesses(marker).filter((pid) => commandOf(pid) !== 'bwrap');
}

/** The command line of a process, its arguments joined by spaces; empty when it is gone. */
export function commandLineOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
  } catch {
    return '';
  }
}

/** Pids of live processes whose command line is exactly `line` (found without any marker or tag). */
export function processesRunning(line: string): number[] {
  const found: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    const state = stateOf(name);
    if (commandLineOf(pid) === line && state !== undefined && state !== 'Z' && state !== 'X') found.push(pid);
  }
  return found;
}

/** A `sleep` no other process runs, so a test can find it (a daemon it started) by its command line alone. */
export function uniqueSleep(): string {
  return `sleep 1000.${BigInt(`0x${randomBytes(5).toString('hex')}`)
    .toString()
    .slice(0, 9)}`;
}

/** Whether `/proc` can be scanned here (the process-tree checks are Linux-only). */
export const canScanProcesses = (() => {
  try {
    readdirSync('/proc/self');
    return true;
  } catch {
    return false;
  }
})();

/** SIGKILLs every marked process: the last-resort cleanup of a failed test, so nothing outlives the run. */
export function killMarked(marker: string): void {
  for (const pid of markedProcesses(marker)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Gone meanwhile.
    }
  }
}
