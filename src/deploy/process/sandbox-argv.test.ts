/**
 * @module Unit tests of the bubblewrap command line: what a sandboxed child is given of the host, and nothing
 * more. The integration with a real bubblewrap is `process-sandbox.e2e.test.ts`.
 */
import { describe, expect, it } from 'vitest';
import { SANDBOX_HOME, SANDBOX_TMP, sandboxArgv, sandboxEnvironment } from './sandbox-argv.js';
import type { HostSystemPath, SandboxArgvOptions } from './sandbox-argv.js';

const MERGED_USR: HostSystemPath[] = [
  { kind: 'directory', path: '/usr' },
  { kind: 'symlink', path: '/bin', target: 'usr/bin' },
  { kind: 'symlink', path: '/lib', target: 'usr/lib' },
  { kind: 'symlink', path: '/lib64', target: 'usr/lib64' },
  { kind: 'directory', path: '/etc' },
];

const base: SandboxArgvOptions = {
  systemPaths: MERGED_USR,
  readPaths: [],
  homeDirectory: '/tmp/sb/r1/home',
  tmpDirectory: '/tmp/sb/r1/tmp',
  network: 'host',
  runAs: undefined,
  command: 'npx',
  args: ['-y', 'server'],
};

/** The argv as `flag operands…` groups, for readable assertions. */
function groups(argv: readonly string[]): string[] {
  const arity: Record<string, number> = {
    '--ro-bind': 2,
    '--bind': 2,
    '--symlink': 2,
    '--proc': 1,
    '--dev': 1,
    '--dir': 1,
    '--perms': 1,
    '--chdir': 1,
    '--remount-ro': 1,
    '--cap-drop': 1,
    '--cap-add': 1,
  };
  const out: string[] = [];
  for (let i = 0; i < argv.length;) {
    const flag = argv[i]!;
    if (flag === '--') {
      out.push(`-- ${argv.slice(i + 1).join(' ')}`);
      break;
    }
    const n = arity[flag] ?? 0;
    out.push([flag, ...argv.slice(i + 1, i + 1 + n)].join(' '));
    i += 1 + n;
  }
  return out;
}

describe('sandboxArgv', () => {
  it('unshares PID and IPC, dies with the gateway, shows system dirs read-only and a private HOME and /tmp', () => {
    expect(groups(sandboxArgv(base))).toEqual([
      '--die-with-parent',
      '--unshare-pid',
      '--unshare-ipc',
      '--proc /proc',
      '--dev /dev',
      '--ro-bind /usr /usr',
      '--symlink usr/bin /bin',
      '--symlink usr/lib /lib',
      '--symlink usr/lib64 /lib64',
      '--ro-bind /etc /etc',
      '--perms 0755',
      '--dir /home',
      `--bind /tmp/sb/r1/home ${SANDBOX_HOME}`,
      `--bind /tmp/sb/r1/tmp ${SANDBOX_TMP}`,
      `--chdir ${SANDBOX_HOME}`,
      '--remount-ro /',
      '-- npx -y server',
    ]);
  });

  it('binds read paths at the same place, creating their parents 0755, skipping what is already visible', () => {
    const argv = sandboxArgv({
      ...base,
      readPaths: [
        '/srv/repo/node_modules',
        '/srv/repo/src/testing',
        '/usr/local/lib',
        '/srv/repo/node_modules/x',
      ],
    });
    const mounts = groups(argv).slice(groups(argv).indexOf(`--bind /tmp/sb/r1/tmp ${SANDBOX_TMP}`) + 1);
    expect(mounts).toEqual([
      '--perms 0755',
      '--dir /srv',
      '--perms 0755',
      '--dir /srv/repo',
      '--ro-bind /srv/repo/node_modules /srv/repo/node_modules',
      '--perms 0755',
      '--dir /srv/repo/src',
      '--ro-bind /srv/repo/src/testing /srv/repo/src/testing',
      `--chdir ${SANDBOX_HOME}`,
      '--remount-ro /',
      '-- npx -y server',
    ]);
    // Never the parent directories themselves: only what was listed is visible.
    expect(argv.join(' ')).not.toMatch(/--ro-bind \/srv\/repo \/srv\/repo/);
  });

  it('network "none" adds a network namespace of its own', () => {
    expect(sandboxArgv({ ...base, network: 'none' })).toContain('--unshare-net');
    expect(sandboxArgv(base)).not.toContain('--unshare-net');
  });

  it('as root: drops every capability but those setpriv needs, and setpriv runs the command unprivileged', () => {
    const argv = sandboxArgv({ ...base, runAs: { uid: 65534, gid: 65534, setpriv: '/usr/bin/setpriv' } });
    const g = groups(argv);
    expect(g).toContain('--cap-drop ALL');
    expect(g.filter((x) => x.startsWith('--cap-add')).sort()).toEqual([
      '--cap-add CAP_DAC_READ_SEARCH',
      '--cap-add CAP_SETGID',
      '--cap-add CAP_SETPCAP',
      '--cap-add CAP_SETUID',
    ]);
    expect(g.at(-1)).toBe(
      '-- /usr/bin/setpriv --reuid=65534 --regid=65534 --clear-groups --no-new-privs --bounding-set=-all --inh-caps=-all -- npx -y server',
    );
    // No user namespace: `--unshare-user --uid` run by root would map the child to uid 0 outside.
    expect(argv).not.toContain('--unshare-user');
    expect(argv).not.toContain('--uid');
  });

  it('never mounts the host root, /home or the gateway`s directories', () => {
    const argv = sandboxArgv({ ...base, readPaths: ['/srv/tools'] });
    const sources = groups(argv)
      .filter((g) => g.startsWith('--ro-bind') || g.startsWith('--bind'))
      .map((g) => g.split(' ')[1]);
    expect(sources).toEqual(['/usr', '/etc', '/tmp/sb/r1/home', '/tmp/sb/r1/tmp', '/srv/tools']);
  });
});

describe('sandboxEnvironment', () => {
  it("is the child's own environment with HOME and TMPDIR pointing inside the sandbox", () => {
    expect(sandboxEnvironment({ PATH: '/usr/bin', HOME: '/root', TMPDIR: '/var/tmp', K: 'v' })).toEqual({
      PATH: '/usr/bin',
      HOME: SANDBOX_HOME,
      TMPDIR: SANDBOX_TMP,
      K: 'v',
    });
  });
});
