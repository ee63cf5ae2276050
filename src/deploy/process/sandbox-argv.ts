/**
 * @module sandbox-argv: the bubblewrap command line of one sandboxed child — a pure function of the child's
 * spec and the sandbox settings, so what the sandbox mounts and unshares can be read (and tested) in one place.
 *
 * The sandbox gets its own PID and IPC namespaces (and network namespace with `network: "none"`), its own
 * `/proc` and a minimal `/dev`, the host's system directories read-only (symlinks where the host has merged
 * `/usr`), a private writable HOME and `/tmp`, the operator's read paths read-only at the same place, and
 * nothing else: the root is an empty tmpfs, remounted read-only at the end. It dies with the gateway.
 */

/** Where the child's private HOME is mounted inside the sandbox; it is also the child's working directory. */
export const SANDBOX_HOME = '/home/mcp';
/** Where the child's private temporary directory is mounted inside the sandbox. */
export const SANDBOX_TMP = '/tmp';

/** The host's top-level system directories the sandbox shows; those the host lacks are skipped. */
export const SYSTEM_DIRECTORIES: readonly string[] = Object.freeze([
  '/usr',
  '/bin',
  '/sbin',
  '/lib',
  '/lib32',
  '/lib64',
  '/libx32',
  '/etc',
]);

/** A system path as the host has it: a directory bound read-only, or a symlink recreated as it is. */
export type HostSystemPath =
  | { readonly kind: 'directory'; readonly path: string }
  | { readonly kind: 'symlink'; readonly path: string; readonly target: string };

/** Who the command runs as when the gateway is root: bubblewrap runs as root, `setpriv` drops to this. */
export interface SandboxIdentity {
  readonly uid: number;
  readonly gid: number;
  /** Absolute path of `setpriv` (util-linux), inside a system directory so the sandbox sees it. */
  readonly setpriv: string;
}

/** Everything one child's bubblewrap command line depends on. */
export interface SandboxArgvOptions {
  readonly systemPaths: readonly HostSystemPath[];
  /** Absolute host paths bound read-only at the same place (`MCP_GATEWAY_PROCESS_READ_PATHS` and the like). */
  readonly readPaths: readonly string[];
  /** Host directory mounted writable at {@link SANDBOX_HOME}. */
  readonly homeDirectory: string;
  /** Host directory mounted writable at {@link SANDBOX_TMP}. */
  readonly tmpDirectory: string;
  readonly network: 'host' | 'none';
  /** Set when the gateway runs as root (see {@link SandboxIdentity}); otherwise the child keeps the gateway's uid. */
  readonly runAs: SandboxIdentity | undefined;
  readonly command: string;
  readonly args: readonly string[];
}

/** Whether `path` is `dir` or lies inside it (both absolute and normalised). */
export function isWithin(path: string, dir: string): boolean {
  if (dir === '/') return true;
  return path === dir || path.startsWith(`${dir}/`);
}

function ancestorsOf(path: string): string[] {
  const parts = path.split('/').filter(Boolean);
  return parts.slice(0, -1).map((_, i) => `/${parts.slice(0, i + 1).join('/')}`);
}

/**
 * bubblewrap's arguments (everything after `bwrap`) for one child. Read paths already visible through a system
 * directory or an earlier read path are left out; the parents of the others are created 0755 (bubblewrap would
 * create them 0700 root, which an unprivileged child cannot traverse).
 */
export function sandboxArgv(options: SandboxArgvOptions): string[] {
  const argv = ['--die-with-parent', '--unshare-pid', '--unshare-ipc'];
  if (options.network === 'none') argv.push('--unshare-net');
  if (options.runAs) {
    // Only what setpriv needs to drop to the child's uid, and what entering the child's 0700 HOME as root takes;
    // the change of uid clears even these.
    argv.push('--cap-drop', 'ALL');
    for (const cap of ['CAP_SETUID', 'CAP_SETGID', 'CAP_SETPCAP', 'CAP_DAC_READ_SEARCH'])
      argv.push('--cap-add', cap);
  }
  argv.push('--proc', '/proc', '--dev', '/dev');

  const readOnly: string[] = [];
  for (const entry of options.systemPaths) {
    if (entry.kind === 'directory') argv.push('--ro-bind', entry.path, entry.path);
    else argv.push('--symlink', entry.target, entry.path);
    readOnly.push(entry.path);
  }
  const created = new Set(['/', '/proc', '/dev', '/home', SANDBOX_HOME, SANDBOX_TMP]);
  argv.push('--perms', '0755', '--dir', '/home');
  argv.push('--bind', options.homeDirectory, SANDBOX_HOME);
  argv.push('--bind', options.tmpDirectory, SANDBOX_TMP);

  const depth = (p: string) => p.split('/').length;
  const readPaths = [...new Set(options.readPaths)].sort((a, b) => depth(a) - depth(b) || (a < b ? -1 : 1));
  for (const path of readPaths) {
    if (readOnly.some((dir) => isWithin(path, dir))) continue;
    for (const ancestor of ancestorsOf(path)) {
      if (created.has(ancestor)) continue;
      argv.push('--perms', '0755', '--dir', ancestor);
      created.add(ancestor);
    }
    argv.push('--ro-bind', path, path);
    readOnly.push(path);
    created.add(path);
  }

  argv.push('--chdir', SANDBOX_HOME, '--remount-ro', '/', '--');
  if (options.runAs) {
    const { uid, gid, setpriv } = options.runAs;
    argv.push(
      setpriv,
      `--reuid=${uid}`,
      `--regid=${gid}`,
      '--clear-groups',
      '--no-new-privs',
      '--bounding-set=-all',
      '--inh-caps=-all',
      '--',
    );
  }
  argv.push(options.command, ...options.args);
  return argv;
}

/** The child's environment inside the sandbox: its own, with HOME and TMPDIR pointing at its private dirs. */
export function sandboxEnvironment(env: Readonly<Record<string, string>>): Record<string, string> {
  return { ...env, HOME: SANDBOX_HOME, TMPDIR: SANDBOX_TMP };
}
