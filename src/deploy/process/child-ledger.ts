/**
 * @module child-ledger: the process deployer's state file — every child a gateway run started and has not yet
 * seen gone, so that the next run can kill what a SIGKILL'd (or crashed) gateway left behind *before* it
 * reconciles and starts the same servers again.
 *
 * Layout: `<stateDirectory>/process-children/` (mode 0700) holds one file per gateway run, named after its pid
 * (`<pid>.json`, mode 0600, replaced atomically on every change):
 * `{ version: 1, bootId, gateway: { pid, startTime }, children: [{ pid, startTime, tag? }] }`.
 * A file whose gateway is still running (same boot, pid and start time) belongs to another live gateway and is
 * left alone; any other file is a previous run's, whose children are killed — each only if its pid still has the
 * recorded start time, plus every process carrying its tag in its environment (daemons that left the process
 * group and the parent chain) — and then the file is removed. A process that cleared its environment after a
 * double fork cannot be found without the sandbox (see `docs/deployers.md`).
 */
import { mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startupTimers } from '../timers.js';
import { terminateProcesses } from './kill-tree.js';
import type { TerminateResult } from './kill-tree.js';
import {
  isLive,
  processesWithEnvironment,
  readBootIdSync,
  readProcessEntrySync,
  readProcessTable,
  treeOf,
} from './process-table.js';
import type { ProcessEntry } from './process-table.js';

/** What the deployer tells the ledger. */
export interface ChildLedger {
  /** A child was started; `tag` is the `NAME=value` all its processes inherited, when it has one. */
  record(pid: number, tag: string | undefined): void;
  /** The child and its whole tree are gone. */
  forget(pid: number): void;
}

/** Records nothing (no state directory; tests). */
export const NO_CHILD_LEDGER: ChildLedger = Object.freeze({
  record: () => undefined,
  forget: () => undefined,
});

/** The folder inside the state directory. */
export const LEDGER_FOLDER = 'process-children';

interface LedgerChild {
  readonly pid: number;
  readonly startTime: string;
  readonly tag?: string;
}

interface LedgerContent {
  readonly version: 1;
  readonly bootId: string;
  readonly gateway: { readonly pid: number; readonly startTime: string };
  readonly children: readonly LedgerChild[];
}

/** What reaping a previous run's leftovers did. */
export interface LeftoverReport {
  /** State files of earlier runs that were read (and removed). */
  readonly files: number;
  /** Processes found still running and terminated. */
  readonly processes: number;
  /** Whether SIGKILL was needed for some. */
  readonly forced: boolean;
}

/** Options for {@link ChildLedgerFile.open}. */
export interface ChildLedgerFileOptions {
  /** The state directory (`MCP_GATEWAY_STATE_DIR`). */
  readonly directory: string;
  /** SIGTERM → SIGKILL grace for leftovers. */
  readonly graceMs: number;
  /** Told when the file cannot be written (a full or read-only disk): the children keep running regardless. */
  readonly onWriteError?: (err: unknown) => void;
  /** Test seams. */
  readonly procRoot?: string;
  readonly selfPid?: number;
}

function parseLedger(text: string): LedgerContent | undefined {
  try {
    const value = JSON.parse(text) as Partial<LedgerContent>;
    if (value.version !== 1 || typeof value.bootId !== 'string' || !Array.isArray(value.children))
      return undefined;
    if (typeof value.gateway?.pid !== 'number' || typeof value.gateway.startTime !== 'string')
      return undefined;
    return value as LedgerContent;
  } catch {
    return undefined;
  }
}

/** The state file of this gateway run. */
export class ChildLedgerFile implements ChildLedger {
  readonly #folder: string;
  readonly #file: string;
  readonly #bootId: string;
  readonly #self: { readonly pid: number; readonly startTime: string };
  readonly #children = new Map<number, LedgerChild>();
  readonly #options: ChildLedgerFileOptions;
  #closed = false;

  private constructor(
    options: ChildLedgerFileOptions,
    bootId: string,
    self: { pid: number; startTime: string },
  ) {
    this.#options = options;
    this.#folder = join(options.directory, LEDGER_FOLDER);
    this.#file = join(this.#folder, `${self.pid}.json`);
    this.#bootId = bootId;
    this.#self = self;
  }

  /**
   * Opens the ledger of this run; `undefined` where processes cannot be identified (no `/proc`). Creates the
   * folder (0700), throwing when it cannot; the run's own file is written with the first child.
   */
  static open(options: ChildLedgerFileOptions): ChildLedgerFile | undefined {
    const root = options.procRoot ?? '/proc';
    const pid = options.selfPid ?? process.pid;
    const bootId = readBootIdSync(root);
    const self = readProcessEntrySync(pid, root);
    if (bootId === undefined || !self) return undefined;
    mkdirSync(join(options.directory, LEDGER_FOLDER), { recursive: true, mode: 0o700 });
    return new ChildLedgerFile(options, bootId, { pid, startTime: self.startTime });
  }

  /** The path of this run's own state file. */
  get path(): string {
    return this.#file;
  }

  /**
   * Kills the children of every earlier run whose gateway is gone, and removes their files. Call before the
   * first child starts. A file that cannot be parsed is removed (and reported in the count) without killing.
   */
  async reapLeftovers(): Promise<LeftoverReport> {
    const root = this.#options.procRoot ?? '/proc';
    const table = (await readProcessTable(root)) ?? [];
    const byIdentity = new Map(table.filter(isLive).map((e) => [`${e.pid}@${e.startTime}`, e]));
    const targets = new Map<string, ProcessEntry>();
    const stale: string[] = [];
    for (const name of readdirSync(this.#folder)) {
      if (!/^\d+\.json$/.test(name)) continue;
      const path = join(this.#folder, name);
      let content: LedgerContent | undefined;
      try {
        content = parseLedger(readFileSync(path, 'utf8'));
      } catch {
        continue;
      }
      if (content && content.bootId === this.#bootId) {
        // This run's own file, or another gateway's that is alive: their children are not leftovers.
        if (byIdentity.has(`${content.gateway.pid}@${content.gateway.startTime}`)) continue;
        for (const child of content.children) {
          const leader = byIdentity.get(`${child.pid}@${child.startTime}`);
          // The group and descendants count only while their leader is verified: a dead leader's id may be reused.
          if (leader)
            for (const e of treeOf(table, leader.pid, this.#self.pid))
              targets.set(`${e.pid}@${e.startTime}`, e);
          if (child.tag !== undefined) {
            for (const e of await processesWithEnvironment(table, child.tag, root)) {
              if (e.pid !== this.#self.pid) targets.set(`${e.pid}@${e.startTime}`, e);
            }
          }
        }
      }
      // Another boot's processes are gone with that boot; an unreadable file names nothing to kill.
      stale.push(path);
    }
    let result: TerminateResult = { forced: false, survivors: 0 };
    if (targets.size > 0) {
      result = await terminateProcesses([...targets.values()], {
        graceMs: this.#options.graceMs,
        readTable: () => readProcessTable(root),
        timers: startupTimers,
      });
    }
    for (const path of stale) rmSync(path, { force: true });
    return { files: stale.length, processes: targets.size, forced: result.forced };
  }

  record(pid: number, tag: string | undefined): void {
    if (this.#closed) return;
    const entry = readProcessEntrySync(pid, this.#options.procRoot);
    if (!entry) return;
    this.#children.set(pid, { pid, startTime: entry.startTime, ...(tag !== undefined && { tag }) });
    this.#write();
  }

  forget(pid: number): void {
    if (this.#closed || !this.#children.delete(pid)) return;
    this.#write();
  }

  /** Every child is gone (deployer closed): the file goes too. */
  close(): void {
    this.#closed = true;
    this.#children.clear();
    rmSync(this.#file, { force: true });
  }

  #write(): void {
    const content: LedgerContent = {
      version: 1,
      bootId: this.#bootId,
      gateway: this.#self,
      children: [...this.#children.values()],
    };
    // Synchronous and atomic: a SIGKILL right after a spawn must find the child recorded, and never half a file.
    const temporary = `${this.#file}.tmp`;
    try {
      writeFileSync(temporary, JSON.stringify(content), { mode: 0o600 });
      renameSync(temporary, this.#file);
    } catch (err) {
      this.#options.onWriteError?.(err);
    }
  }
}
