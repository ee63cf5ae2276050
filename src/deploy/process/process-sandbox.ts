/**
 * @module process-sandbox: how the process deployer isolates its children from the gateway's host, chosen once
 * when the deployer starts (`MCP_GATEWAY_PROCESS_SANDBOX`):
 *
 * - **bwrap**: every child runs inside bubblewrap (argument building in `sandbox-argv.ts`) with a private HOME
 *   and `/tmp` per replica — host directories created 0700 for the child's uid, kept for the replica's life (so
 *   `npx`'s cache works) and removed when it stops. When the gateway runs as root, bubblewrap runs as root (no
 *   user namespace needed) and `setpriv` drops the command to an unprivileged uid/gid inside; otherwise the
 *   child keeps the gateway's uid and bubblewrap makes its own user namespace.
 * - **off**: children run as the gateway's user, see its files and processes; each gets a random tag variable in
 *   its environment so daemons that left its process tree can still be found and reaped.
 * - **auto** (default): bwrap when `bwrap` is on PATH and a self-test (`bwrap <the same flags> true`) succeeds;
 *   otherwise off, with one warning saying exactly what is not isolated.
 *
 * Read paths are checked again here with symlinks resolved; a problem is a {@link ConfigError} (exit code 2),
 * as is an explicit `bwrap` that cannot work.
 */
import { randomBytes } from 'node:crypto';
import { constants, existsSync, realpathSync } from 'node:fs';
import { access, chown, lstat, mkdir, mkdtemp, readdir, readlink, realpath, rm } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { ConfigError, readPathProblems } from '../../config/index.js';
import type { ProcessSandboxMode, ProtectedPath } from '../../config/index.js';
import { startupTimers } from '../timers.js';
import { describeExit, spawnChild } from './child-process.js';
import type { ChildExit, ChildLaunch } from './child-process.js';
import {
  SANDBOX_HOME,
  SANDBOX_TMP,
  SYSTEM_DIRECTORIES,
  isWithin,
  sandboxArgv,
  sandboxEnvironment,
} from './sandbox-argv.js';
import type { HostSystemPath, SandboxIdentity } from './sandbox-argv.js';

/** The variable every unsandboxed child (and everything it starts) carries, with a random value per child. */
export const CHILD_TAG_VARIABLE = 'MCP_GATEWAY_CHILD_TAG';

/** Where `setpriv` is looked for: system directories, so the sandbox sees it at the same path. */
const SETPRIV_LOCATIONS = ['/usr/bin/setpriv', '/usr/sbin/setpriv', '/bin/setpriv', '/sbin/setpriv'];

/** The replicas' private directories of one gateway run are in `<tmp>/<prefix><gateway pid>-XXXXXX`. */
const ROOT_PREFIX = 'mcp-gateway-sandbox-';

/**
 * Removes the folders of earlier gateway runs that are gone (killed before they could remove their own): a
 * folder named after a pid that no longer runs. One whose pid runs — that gateway, or a process that reused
 * its pid — is left alone.
 */
async function removeAbandonedRoots(temporaryRoot: string): Promise<void> {
  if (!existsSync('/proc/self')) return;
  for (const name of await readdir(temporaryRoot).catch(() => [])) {
    const pid = new RegExp(`^${ROOT_PREFIX}(\\d+)-`).exec(name)?.[1];
    if (pid === undefined || existsSync(`/proc/${pid}`)) continue;
    await rm(join(temporaryRoot, name), { recursive: true, force: true }).catch(() => undefined);
  }
}

/** How long the self-test may take before bubblewrap counts as not working. */
const SELF_TEST_TIMEOUT_MS = 10_000;

/** One child to start, before the sandbox wraps it. */
export interface ChildRequest {
  readonly command: string;
  readonly args: readonly string[];
  /** The child's complete environment (see `child-env.ts`). */
  readonly env: Readonly<Record<string, string>>;
  readonly network: 'host' | 'none';
}

/** One replica's share of the sandbox: its private directories, and how its children are launched. */
export interface ReplicaSandbox {
  launch(request: ChildRequest): ChildLaunch;
  /** Removes the replica's private directories; call once every process of the replica is gone. */
  dispose(): Promise<void>;
}

/** The sandbox the deployer runs its children in. */
export interface ProcessSandbox {
  readonly kind: 'bwrap' | 'off';
  /** Why `network: "none"` cannot be enforced here; undefined when it can. */
  readonly networkNoneUnavailable: string | undefined;
  /** Prepares a replica (`label` names its directories, e.g. `adapter-everything-0`). */
  forReplica(label: string): Promise<ReplicaSandbox>;
  /** Removes what the sandbox keeps on the host; call after every replica was disposed. */
  close(): Promise<void>;
}

/** What the sandbox is asked to be. */
export interface ProcessSandboxSettings {
  readonly mode: ProcessSandboxMode;
  /** Absolute host paths every sandboxed child sees read-only at the same place. */
  readonly readPaths?: readonly string[];
  /** uid and gid of children when the gateway runs as root (default 65534, `nobody`/`nogroup` on Debian). */
  readonly uid?: number;
  readonly gid?: number;
  /** Paths no read path may expose (data directory, state directory, secret files). */
  readonly protectedPaths?: readonly ProtectedPath[];
  /** The gateway's working directory, which no read path may equal or contain (default `process.cwd()`). */
  readonly workingDirectory?: string;
  /** Where the replicas' private directories are created (default the OS temporary directory). */
  readonly temporaryRoot?: string;
}

/** Options of {@link startProcessSandbox} that are not settings. */
export interface SandboxStartOptions {
  /** Working directory of unsandboxed children. */
  readonly cwd: string;
  /** The PATH searched for `bwrap` (default the gateway's). */
  readonly searchPath?: string;
  /** Whether the gateway runs as root (default: its real uid is 0). */
  readonly isRoot?: boolean;
  /** A fresh random value per unsandboxed child. */
  readonly randomTag?: () => string;
}

/** The started sandbox, and the warning to log once when children are not isolated. */
export interface SandboxStart {
  readonly sandbox: ProcessSandbox;
  readonly warning: string | undefined;
}

const READ_PATHS = 'MCP_GATEWAY_PROCESS_READ_PATHS';

function notIsolated(cwd: string): string {
  const user = (() => {
    try {
      const info = userInfo();
      return `${info.username} (uid ${info.uid})`;
    } catch {
      return 'the gateway user';
    }
  })();
  return (
    `Children of command adapters and tools run as ${user}, in ${cwd}, with the gateway's own view of the host: ` +
    "they can read every file it can (the registry's data directory and the state directory included), see its " +
    "processes and read their environment through /proc (the gateway's holds its secrets), use its network, and " +
    'a daemon that double-forks and clears its environment escapes reaping. Only the environment a child is ' +
    'given is limited.'
  );
}

/** Starts the sandbox `settings` ask for; throws {@link ConfigError} for bad read paths or an unusable `bwrap`. */
export async function startProcessSandbox(
  settings: ProcessSandboxSettings,
  options: SandboxStartOptions,
): Promise<SandboxStart> {
  const randomTag = options.randomTag ?? (() => randomBytes(16).toString('hex'));
  const unsandboxed = new UnsandboxedProcesses(options.cwd, randomTag);
  if (settings.mode === 'off') {
    return {
      sandbox: unsandboxed,
      warning: `process sandbox off (MCP_GATEWAY_PROCESS_SANDBOX=off). ${notIsolated(options.cwd)}`,
    };
  }
  const attempt = await startBubblewrap(settings, options);
  if (attempt.ok) return { sandbox: attempt.sandbox, warning: undefined };
  if (settings.mode === 'bwrap') {
    throw new ConfigError([
      `MCP_GATEWAY_PROCESS_SANDBOX=bwrap, but bubblewrap cannot sandbox children here: ${attempt.reason}`,
    ]);
  }
  return {
    sandbox: unsandboxed,
    warning:
      `process sandbox off: ${attempt.reason}. ${notIsolated(options.cwd)} Install bubblewrap ` +
      '(Debian/Ubuntu: apt-get install bubblewrap) where it can create namespaces, or set ' +
      'MCP_GATEWAY_PROCESS_SANDBOX=off to choose this.',
  };
}

type Attempt =
  | { readonly ok: true; readonly sandbox: BubblewrapSandbox }
  | { readonly ok: false; readonly reason: string };

async function startBubblewrap(
  settings: ProcessSandboxSettings,
  options: SandboxStartOptions,
): Promise<Attempt> {
  const bwrap = await findExecutable('bwrap', options.searchPath ?? process.env.PATH ?? '');
  if (!bwrap) return { ok: false, reason: 'bwrap is not on PATH' };
  const isRoot = options.isRoot ?? process.getuid?.() === 0;
  let runAs: SandboxIdentity | undefined;
  if (isRoot) {
    const setpriv = await firstExisting(SETPRIV_LOCATIONS);
    if (!setpriv) {
      return {
        ok: false,
        reason: `setpriv (util-linux) is not in ${SETPRIV_LOCATIONS.join(', ')}; the gateway runs as root and needs it to run children as an unprivileged user`,
      };
    }
    runAs = { uid: settings.uid ?? 65534, gid: settings.gid ?? 65534, setpriv };
  }
  const systemPaths = await discoverSystemPaths();
  const temporaryRoot = realpathSync(settings.temporaryRoot ?? tmpdir());
  const readPaths = checkedReadPaths(settings, systemPaths, temporaryRoot);
  // Where /etc/resolv.conf is a link out of the system directories (systemd-resolved), its target comes along.
  const resolver = await realpath('/etc/resolv.conf').catch(() => undefined);
  const visible = systemPaths.filter((p) => p.kind === 'directory').map((p) => p.path);
  const extra = resolver && !visible.some((dir) => isWithin(resolver, dir)) ? [resolver] : [];

  await removeAbandonedRoots(temporaryRoot);
  const root = await mkdtemp(join(temporaryRoot, `${ROOT_PREFIX}${process.pid}-`));
  const sandbox = new BubblewrapSandbox({
    bwrap,
    systemPaths,
    readPaths: [...extra, ...readPaths],
    runAs,
    root,
  });
  const failure = await sandbox.selfTest('host');
  if (failure) {
    await sandbox.close();
    return { ok: false, reason: `the self-test \`bwrap … true\` failed: ${failure}` };
  }
  const networkFailure = await sandbox.selfTest('none');
  if (networkFailure)
    sandbox.networkNoneUnavailable = `bubblewrap cannot unshare the network here: ${networkFailure}`;
  return { ok: true, sandbox };
}

/** `path` with symlinks resolved; undefined when it does not exist. */
function resolvedPath(path: string): string | undefined {
  try {
    return realpathSync(path);
  } catch {
    return undefined;
  }
}

/**
 * The read paths as the sandbox will mount them, after the checks that need the host: each must exist; none may
 * lie inside `/proc` or `/dev`, or cover the sandbox's own mounts or the replicas' private directories; none
 * may expose a protected path or the working directory once symlinks are resolved; and no protected path, nor
 * the working directory, may lie inside a system directory every child sees.
 */
function checkedReadPaths(
  settings: ProcessSandboxSettings,
  systemPaths: readonly HostSystemPath[],
  temporaryRoot: string,
): string[] {
  const problems: string[] = [];
  const withResolved = (paths: readonly ProtectedPath[]) =>
    paths.flatMap((p) => {
      const resolved = resolvedPath(p.path);
      return resolved && resolved !== p.path ? [p, { ...p, path: resolved }] : [p];
    });
  const protectedPaths = withResolved(settings.protectedPaths ?? []);
  const workingDirectory = settings.workingDirectory ?? process.cwd();
  const workingDirectories = withResolved([
    { path: workingDirectory, what: "the gateway's working directory" },
  ]);

  const systemDirectories = systemPaths.filter((p) => p.kind === 'directory').map((p) => p.path);
  for (const guarded of [...protectedPaths, ...workingDirectories]) {
    const inside = systemDirectories.find((dir) => isWithin(guarded.path, dir));
    if (inside) {
      problems.push(
        `${guarded.what} (${guarded.path}) lies inside ${inside}, which every sandboxed child sees read-only; move it out`,
      );
    }
  }

  const existing: string[] = [];
  for (const path of settings.readPaths ?? []) {
    const resolved = resolvedPath(path);
    if (resolved === undefined) {
      problems.push(`${READ_PATHS}: ${path} does not exist`);
      continue;
    }
    existing.push(path);
    const own = ['/proc', '/dev'].find((dir) => isWithin(path, dir));
    if (own) problems.push(`${READ_PATHS}: ${path} lies inside ${own}, which the sandbox provides itself`);
    const covered = [SANDBOX_HOME, SANDBOX_TMP].find((mount) => isWithin(mount, path));
    if (covered) problems.push(`${READ_PATHS}: ${path} would cover the sandbox's private ${covered}`);
    if (isWithin(temporaryRoot, resolved) || resolved.startsWith(join(temporaryRoot, ROOT_PREFIX))) {
      problems.push(
        `${READ_PATHS}: ${path} would let children see other replicas' private directories (${temporaryRoot})`,
      );
    }
    // The same rules as at configuration time, for the path as written and where it leads.
    for (const candidate of new Set([path, resolved])) {
      const named = candidate === path ? path : `${path} (a link to ${resolved})`;
      for (const { path: dir } of workingDirectories) {
        for (const problem of readPathProblems([candidate], { protectedPaths, workingDirectory: dir })) {
          problems.push(problem.replace(`${READ_PATHS}: ${candidate} `, `${READ_PATHS}: ${named} `));
        }
      }
    }
  }
  if (problems.length > 0) throw new ConfigError([...new Set(problems)]);
  return existing;
}

async function findExecutable(name: string, searchPath: string): Promise<string | undefined> {
  for (const dir of searchPath.split(':').filter(Boolean)) {
    const candidate = join(dir, name);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not here.
    }
  }
  return undefined;
}

async function firstExisting(paths: readonly string[]): Promise<string | undefined> {
  for (const path of paths) {
    try {
      await access(path, constants.X_OK);
      return path;
    } catch {
      // Not here.
    }
  }
  return undefined;
}

/** The host's system directories as they are: directories, or symlinks on a merged-/usr host. */
export async function discoverSystemPaths(
  candidates: readonly string[] = SYSTEM_DIRECTORIES,
): Promise<HostSystemPath[]> {
  const found: HostSystemPath[] = [];
  for (const path of candidates) {
    try {
      const stat = await lstat(path);
      if (stat.isSymbolicLink()) found.push({ kind: 'symlink', path, target: await readlink(path) });
      else if (stat.isDirectory()) found.push({ kind: 'directory', path });
    } catch {
      // The host has no such directory (e.g. /libx32).
    }
  }
  return found;
}

/** A replica's directories are named after it, within what a file name may hold. */
function safeLabel(label: string): string {
  return label.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 64);
}

interface BubblewrapSandboxOptions {
  readonly bwrap: string;
  readonly systemPaths: readonly HostSystemPath[];
  readonly readPaths: readonly string[];
  readonly runAs: SandboxIdentity | undefined;
  /** The directory holding every replica's private directories (0700). */
  readonly root: string;
}

/** Children inside bubblewrap. */
class BubblewrapSandbox implements ProcessSandbox {
  readonly kind = 'bwrap' as const;
  networkNoneUnavailable: string | undefined;
  readonly #o: BubblewrapSandboxOptions;

  constructor(options: BubblewrapSandboxOptions) {
    this.#o = options;
  }

  async forReplica(label: string): Promise<ReplicaSandbox> {
    const { runAs, root } = this.#o;
    const directory = await mkdtemp(join(root, `${safeLabel(label)}-`));
    const homeDirectory = join(directory, 'home');
    const tmpDirectory = join(directory, 'tmp');
    for (const dir of [homeDirectory, tmpDirectory]) {
      await mkdir(dir, { mode: 0o700 });
      if (runAs) await chown(dir, runAs.uid, runAs.gid);
    }
    return {
      launch: (request) => ({
        file: this.#o.bwrap,
        args: sandboxArgv({
          systemPaths: this.#o.systemPaths,
          readPaths: this.#o.readPaths,
          homeDirectory,
          tmpDirectory,
          network: request.network,
          runAs,
          command: request.command,
          args: request.args,
        }),
        env: sandboxEnvironment(request.env),
        cwd: directory,
        tag: undefined,
        sandboxed: true,
      }),
      dispose: () => rm(directory, { recursive: true, force: true }),
    };
  }

  /** Runs `true` in the sandbox with the flags every child gets; resolves with why it failed, if it did. */
  async selfTest(network: 'host' | 'none'): Promise<string | undefined> {
    const replica = await this.forReplica(`self-test-${network}`);
    let stderr = '';
    const child = spawnChild({
      launch: replica.launch({ command: 'true', args: [], env: { PATH: '/usr/bin:/bin' }, network }),
      stdin: false,
      onStdout: () => undefined,
      onStderr: (chunk) => {
        if (stderr.length < 4096) stderr += chunk.toString('utf8');
      },
    });
    let timer: NodeJS.Timeout | undefined;
    const exit = await Promise.race([
      child.exited,
      new Promise<ChildExit | undefined>((resolve) => {
        timer = setTimeout(() => resolve(undefined), SELF_TEST_TIMEOUT_MS);
        timer.unref();
      }),
    ]);
    clearTimeout(timer);
    await child.terminate({ graceMs: 1_000, timers: startupTimers });
    await replica.dispose();
    if (exit === undefined) return `no answer within ${SELF_TEST_TIMEOUT_MS} ms`;
    if (exit.code === 0) return undefined;
    const said = stderr.trim().split('\n')[0];
    return said || describeExit(exit, 'bwrap');
  }

  async close(): Promise<void> {
    await rm(this.#o.root, { recursive: true, force: true });
  }
}

/** Children as plain processes of the gateway's user; each tagged so its whole tree can be found. */
class UnsandboxedProcesses implements ProcessSandbox, ReplicaSandbox {
  readonly kind = 'off' as const;
  readonly networkNoneUnavailable = 'the process sandbox is off (MCP_GATEWAY_PROCESS_SANDBOX, bubblewrap)';
  readonly #cwd: string;
  readonly #randomTag: () => string;

  constructor(cwd: string, randomTag: () => string) {
    this.#cwd = cwd;
    this.#randomTag = randomTag;
  }

  async forReplica(): Promise<ReplicaSandbox> {
    return this;
  }

  launch(request: ChildRequest): ChildLaunch {
    const tag = `${CHILD_TAG_VARIABLE}=${this.#randomTag()}`;
    return {
      file: request.command,
      args: request.args,
      env: { ...request.env, [CHILD_TAG_VARIABLE]: tag.slice(CHILD_TAG_VARIABLE.length + 1) },
      cwd: this.#cwd,
      tag,
      sandboxed: false,
    };
  }

  async dispose(): Promise<void> {}

  async close(): Promise<void> {}
}
