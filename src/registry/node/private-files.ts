/**
 * @module private-files: the registry's files at rest are readable by the gateway's user only — the SQLite file
 * and its `-wal`/`-shm` 0600, the directory holding them 0700, the gateway secret file 0600. Node-only.
 *
 * An existing file that is more open is tightened (and reported once, so the operator learns of it). An existing
 * directory is tightened only when it holds nothing but the gateway's own files: a database pointed into a shared
 * folder (`/var/lib`, a project checkout, `/tmp`) must not take that folder away from everyone else, so such a
 * folder is reported and left alone.
 */
import {
  chmodSync,
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  statSync,
} from 'node:fs';
import type { Stats } from 'node:fs';
import type { FilePermissionsNotice } from '../registry-store.js';

/** Mode of every file the gateway keeps secrets or registry data in. */
export const PRIVATE_FILE_MODE = 0o600;
/** Mode of the directory holding them. */
export const PRIVATE_DIRECTORY_MODE = 0o700;
/** Group and other permission bits: what "more open than private" means. */
const OPEN_BITS = 0o077;
const STICKY_BIT = 0o1000;

/** Something the gateway did, or could not do, to a file's permissions; told once per start. */
export type PermissionsNotice = FilePermissionsNotice;

/** Told about every permission change or refusal; the gateway logs it. */
export type PermissionsListener = (notice: PermissionsNotice) => void;

/** No-op listener, for callers that do not log (tests, the CLI). */
export const IGNORE_PERMISSIONS: PermissionsListener = () => undefined;

const octal = (mode: number) => `0${(mode & 0o777).toString(8).padStart(3, '0')}`;

/** File modes mean nothing on Windows; the checks are skipped there. */
const MODES_APPLY = process.platform !== 'win32';

function ownedByUs(stats: Stats): boolean {
  return typeof process.getuid !== 'function' || stats.uid === process.getuid();
}

/**
 * Drops the group and other bits of an existing file (0644 → 0600), reporting it. A file that cannot be changed
 * (another user's, a read-only mount such as a Kubernetes Secret volume) is reported as left open, not an error.
 */
export function tightenFile(path: string, listener: PermissionsListener): void {
  if (!MODES_APPLY) return;
  let stats: Stats;
  try {
    stats = statSync(path);
  } catch {
    return;
  }
  if ((stats.mode & OPEN_BITS) === 0) return;
  const target = stats.mode & 0o700;
  try {
    chmodSync(path, target);
    listener({ path, kind: 'file', action: 'tightened', from: octal(stats.mode), to: octal(target) });
  } catch (error) {
    listener({ path, kind: 'file', action: 'left-open', from: octal(stats.mode), reason: codeOf(error) });
  }
}

/** Options for {@link preparePrivateDirectory}. */
export interface PrivateDirectoryOptions {
  /**
   * Names of the entries the gateway itself keeps in the directory (the database, its `-wal`/`-shm`, the secret
   * file). An existing open directory is tightened only when it holds nothing else.
   */
  readonly ownEntries: (name: string) => boolean;
  readonly listener: PermissionsListener;
}

/**
 * Makes sure `dir` exists and only its owner can enter it: a missing directory (and any missing parent) is
 * created 0700; an existing, more open one is tightened when it holds only the gateway's own files and belongs to
 * the gateway's user, and reported as left open otherwise.
 */
export function preparePrivateDirectory(dir: string, options: PrivateDirectoryOptions): void {
  if (!existsSync(dir)) {
    mkdirSync(dir, { recursive: true, mode: PRIVATE_DIRECTORY_MODE });
    // mkdir's mode passes through the umask; a umask that removes owner bits would lock the gateway out.
    if (MODES_APPLY) chmodSync(dir, PRIVATE_DIRECTORY_MODE);
    return;
  }
  if (!MODES_APPLY) return;
  const stats = statSync(dir);
  if ((stats.mode & OPEN_BITS) === 0) return;
  const leftOpen = (reason: string) =>
    options.listener({ path: dir, kind: 'directory', action: 'left-open', from: octal(stats.mode), reason });
  if (stats.mode & STICKY_BIT)
    return leftOpen('a shared directory (sticky bit): keep the database in a directory of its own');
  if (!ownedByUs(stats)) return leftOpen('owned by another user');
  const others = readdirSync(dir).filter((name) => !options.ownEntries(name));
  if (others.length > 0) {
    return leftOpen(
      `it holds files that are not the gateway's (${others.slice(0, 3).join(', ')}${others.length > 3 ? ', …' : ''}); keep the database in a directory of its own`,
    );
  }
  const target = stats.mode & 0o700;
  try {
    chmodSync(dir, target);
    options.listener({
      path: dir,
      kind: 'directory',
      action: 'tightened',
      from: octal(stats.mode),
      to: octal(target),
    });
  } catch (error) {
    leftOpen(codeOf(error));
  }
}

/** Creates `path` empty with mode 0600 unless it exists (O_EXCL, so a file made meanwhile by another process stays). */
export function createPrivateFile(path: string): void {
  let fd: number;
  try {
    fd = openSync(path, 'wx', PRIVATE_FILE_MODE);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return;
    throw error;
  }
  closeSync(fd);
  // The mode passed to open goes through the umask; the file must still be readable and writable by the gateway.
  if (MODES_APPLY) chmodSync(path, PRIVATE_FILE_MODE);
}

/** Flushes a directory's entries (a new name) to disk; a no-op where directories cannot be opened (Windows). */
export function fsyncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Best effort: the file itself was synced; only the name's durability across power loss is at stake.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function codeOf(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  return typeof code === 'string' ? code : error instanceof Error ? error.message : String(error);
}
