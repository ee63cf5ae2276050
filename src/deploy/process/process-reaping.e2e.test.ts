/**
 * @module End to end against real processes: nothing a child starts survives it, with the sandbox (the PID
 * namespace takes everything down) and without (the process group, the parent chain, and the tag variable
 * for daemons that left both) — and a well-behaved tree stops on SIGTERM alone, its shutdown handlers run,
 * in both modes. Sandbox cases run where bubblewrap works.
 */
import { readFileSync } from 'node:fs';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { eventually } from '../../../test/polling.js';
import {
  FIXTURE_SANDBOX,
  REPO_ROOT,
  SANDBOX_WORKS,
  fastDeployer,
  killAllMarked,
  marker,
  processResource,
  running,
} from '../../../test/process-fixtures.js';
import { canScanProcesses, processesRunning, uniqueSleep } from '../../../test/process-tree.js';
import type { Deployer } from '../deployer.js';
import { refOf } from '../resource-change.js';
import { systemTimers } from '../timers.js';
import { spawnChild } from './child-process.js';
import type { ProcessSandboxSettings } from './process-sandbox.js';
import { startProcessSandbox } from './process-sandbox.js';

afterAll(() => killAllMarked());

const MODES = [
  ...(SANDBOX_WORKS ? [{ name: 'in the sandbox', sandbox: FIXTURE_SANDBOX }] : []),
  { name: 'without the sandbox', sandbox: { ...FIXTURE_SANDBOX, mode: 'off' } as ProcessSandboxSettings },
];

const open: Deployer[] = [];
const strays: string[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((d) => d.close()));
  for (const line of strays.splice(0)) {
    for (const pid of processesRunning(line)) process.kill(pid, 'SIGKILL');
  }
});

describe.runIf(canScanProcesses)('reaping', () => {
  for (const mode of MODES) {
    describe(mode.name, () => {
      it('stops a well-behaved tree on SIGTERM alone, and its shutdown handler runs', async () => {
        const { sandbox } = await startProcessSandbox(mode.sandbox, { cwd: REPO_ROOT });
        const replica = await sandbox.forReplica('graceful');
        let stdout = '';
        const handles: ReturnType<typeof spawnChild>[] = [];
        const ready = new Promise<void>((resolve) => {
          const child = spawnChild({
            launch: replica.launch({
              command: process.execPath,
              // A program that cleans up on SIGTERM, with a child of its own in the same tree. Not a shell's
              // `trap … ; wait`: a signal that lands between `echo ready` and `wait` was once left pending
              // until the grace ran out (seen in a clean-clone run).
              args: [
                '-e',
                `const c = require('node:child_process').spawn('sleep', ['1000'], { stdio: 'ignore' });
                 process.on('SIGTERM', () => { console.log('cleaning up'); c.kill(); process.exit(0); });
                 console.log('ready');`,
              ],
              env: { PATH: '/usr/bin:/bin' },
              network: 'host',
            }),
            stdin: false,
            onStdout: (chunk) => {
              stdout += chunk.toString();
              if (stdout.includes('ready')) resolve();
            },
            onStderr: () => undefined,
          });
          handles.push(child);
        });
        await ready;
        const child = handles[0]!;
        // A long grace: the tree exits as soon as its handler ran; on a busy machine that has taken over 5 s.
        const result = await child.terminate({ graceMs: 30_000, timers: systemTimers });
        expect(result).toEqual({ forced: false, survivors: 0 });
        expect((await child.exited).code).toBe(0);
        expect(stdout).toContain('cleaning up');
        await replica.dispose();
        await sandbox.close();
      });

      it('reaps a double-forked setsid daemon when its adapter is removed', async () => {
        const deployer = fastDeployer({ sandbox: mode.sandbox });
        open.push(deployer);
        const value = marker();
        const daemon = uniqueSleep();
        strays.push(daemon);
        // The subshell exits at once: its setsid'd sleep leaves the process group and is re-parented.
        const resource = processResource(`daemon-${value}`, {
          command: 'sh',
          args: ['-c', `(setsid ${daemon} &); exec sleep 2000`],
          marker: value,
        });
        await deployer.apply(resource);
        await eventually(() => processesRunning(daemon).length === 1, 'the daemon running', 10_000);
        const [pid] = processesRunning(daemon);
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const [ppid, pgrp] = stat
          .slice(stat.lastIndexOf(')') + 2)
          .split(' ')
          .slice(1, 3)
          .map(Number);
        // It really left the group; without the sandbox it also left the parent chain (re-parented outside the
        // tree, only its inherited environment ties it to the adapter); in the sandbox its parent is the
        // namespace's init.
        expect(pgrp).toBe(pid);
        if (mode.sandbox.mode === 'off') expect(running(value)).not.toContain(ppid);
        await deployer.remove(refOf(resource));
        expect(processesRunning(daemon)).toEqual([]);
        expect(running(value)).toEqual([]);
      });
    });
  }

  it.runIf(SANDBOX_WORKS)(
    'in the sandbox even a daemon that cleared its environment goes with its adapter',
    async () => {
      const deployer = fastDeployer({ sandbox: FIXTURE_SANDBOX });
      open.push(deployer);
      const value = marker();
      const daemon = uniqueSleep();
      strays.push(daemon);
      const resource = processResource(`clean-env-${value}`, {
        command: 'sh',
        args: ['-c', `(setsid env -i ${daemon} &); exec sleep 2000`],
        marker: value,
      });
      await deployer.apply(resource);
      await eventually(() => processesRunning(daemon).length === 1, 'the daemon running', 10_000);
      await deployer.remove(refOf(resource));
      expect(processesRunning(daemon)).toEqual([]);
    },
  );
});
