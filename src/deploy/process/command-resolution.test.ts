/**
 * @module Tests of how a package runner's command is resolved: which `npx` and `uvx` command lines are read
 * (and which are kept as given), the probe each runs, what is started instead, and the fallback. The probe
 * runner is injected: `uvx` is not installed where these run, so its path is checked with a fake uv.
 */
import { describe, expect, it } from 'vitest';
import { KEEP_COMMAND, resolutionPlan, resolveCommand } from './command-resolution.js';
import type { Launchable, ProbeRunner } from './command-resolution.js';

const npx = (...args: string[]): Launchable => ({ command: 'npx', args });
const uvx = (...args: string[]): Launchable => ({ command: '/usr/local/bin/uvx', args });
const answering =
  (answer: Record<string, unknown>, seen: Launchable[] = []): ProbeRunner =>
  async (probe) => {
    seen.push(probe);
    return { code: 0, stdout: `npm notice something\nMCP_GATEWAY_RESOLVED ${JSON.stringify(answer)}\n` };
  };

describe('resolutionPlan', () => {
  it('reads npx options, the package (scoped, with a version) and the server arguments', () => {
    const plan = resolutionPlan(npx('--prefix', '/srv/app', '-y', '@scope/server@1.2.3', 'stdio', '--flag'));
    expect(plan?.runner).toBe('npx');
    expect(plan?.spec).toBe('@scope/server@1.2.3');
    const args = plan!.probe.args;
    expect(args.slice(0, 6)).toEqual([
      '--prefix',
      '/srv/app',
      '-y',
      '--yes',
      '--package',
      '@scope/server@1.2.3',
    ]);
    expect(args.slice(6, 9)).toEqual(['--', 'node', '-e']);
    // The script gets the package name, without the version.
    expect(args.at(-1)).toBe('@scope/server');
  });

  it.each([
    ['a command that is not a package runner', { command: 'node', args: ['server.js'] }],
    ['npx --package (the command runs another program)', npx('--package', 'a', 'b')],
    ['npx --call', npx('-c', 'echo hi')],
    ['an npx option it does not know', npx('--foo', 'pkg')],
    ['a git spec', npx('-y', 'github:owner/repo')],
    ['a local path', npx('-y', './server')],
    ['no package', npx('-y')],
    ['uvx --isolated (a throw-away environment)', uvx('--isolated', 'mcp-server-time')],
  ])('keeps %s as given', (_case, original) => {
    expect(resolutionPlan(original)).toBeUndefined();
  });

  it('reads uvx with a package, and with --from', () => {
    const plain = resolutionPlan(uvx('mcp-server-time==1.0', '--local-timezone', 'UTC'))!;
    expect(plain.probe.args.slice(0, 3)).toEqual(['--from', 'mcp-server-time==1.0', 'python']);
    expect(plain.probe.args.at(-1)).toBe('mcp-server-time');
    const from = resolutionPlan(uvx('--from', 'git+https://example/x', 'x-server', 'serve'))!;
    expect(from.spec).toBe('git+https://example/x');
    expect(from.probe.args.at(-1)).toBe('x-server');
  });
});

describe('resolveCommand', () => {
  it('starts node with the resolved bin and the server arguments when the bin is a node script', async () => {
    const seen: Launchable[] = [];
    const resolution = await resolveCommand(
      npx('-y', '@modelcontextprotocol/server-everything', 'stdio'),
      answering({ file: '/home/mcp/.npm/_npx/1/node_modules/x/dist/index.js', node: '/usr/bin/node' }, seen),
    );
    expect(seen).toHaveLength(1);
    expect(resolution).toMatchObject({
      resolved: true,
      launch: {
        command: '/usr/bin/node',
        args: ['/home/mcp/.npm/_npx/1/node_modules/x/dist/index.js', 'stdio'],
      },
    });
    expect(resolution.note).toMatch(/resolved npx package @modelcontextprotocol\/server-everything to/);
  });

  it('starts a bin that is not a node script itself', async () => {
    const resolution = await resolveCommand(
      npx('-y', 'native-server'),
      answering({ file: '/opt/bin/native' }),
    );
    expect(resolution.launch).toEqual({ command: '/opt/bin/native', args: [] });
  });

  it('resolves uvx to the executable of the environment uv made (injected uv)', async () => {
    const seen: Launchable[] = [];
    const resolution = await resolveCommand(
      uvx('mcp-server-time', '--local-timezone', 'UTC'),
      answering({ file: '/home/mcp/.cache/uv/archive-v0/abc/bin/mcp-server-time' }, seen),
    );
    expect(seen[0]!.command).toBe('uvx');
    expect(resolution).toMatchObject({
      resolved: true,
      launch: {
        command: '/home/mcp/.cache/uv/archive-v0/abc/bin/mcp-server-time',
        args: ['--local-timezone', 'UTC'],
      },
    });
  });

  it.each([
    ['a failing probe', async () => ({ code: 1, stdout: '' }), /the probe exited with code 1/],
    [
      'a probe that names nothing',
      async () => ({ code: 0, stdout: 'hello\n' }),
      /the probe named no program/,
    ],
    ['a relative path', answering({ file: 'bin.js', node: '/usr/bin/node' }), /the probe named no program/],
    [
      'a probe that cannot start',
      async () => {
        throw new Error('spawn npx ENOENT');
      },
      /spawn npx ENOENT/,
    ],
  ] as [string, ProbeRunner, RegExp][])(
    'falls back to the command as given after %s',
    async (_case, run, why) => {
      const original = npx('-y', 'pkg', 'arg');
      const resolution = await resolveCommand(original, run);
      expect(resolution.launch).toBe(original);
      expect(resolution.resolved).toBe(false);
      expect(resolution.note).toMatch(why);
      expect(resolution.note).toContain('running `npx -y pkg arg` as given');
    },
  );

  it('runs no probe for a command it does not resolve, nor with KEEP_COMMAND', async () => {
    const seen: Launchable[] = [];
    const plain = { command: 'node', args: ['s.js'] };
    expect(await resolveCommand(plain, answering({}, seen))).toEqual({
      launch: plain,
      resolved: false,
      note: undefined,
    });
    expect((await KEEP_COMMAND(npx('-y', 'pkg'), answering({}, seen))).resolved).toBe(false);
    expect(seen).toEqual([]);
  });
});
