/**
 * @module Tests of the state file against real processes: what a starting gateway kills of an earlier run's
 * leftovers (only what it can identify), what it leaves alone (another live gateway's children, a reused pid),
 * and the file's own shape and permissions.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { canScanProcesses } from '../../../test/process-tree.js';
import { ChildLedgerFile, LEDGER_FOLDER } from './child-ledger.js';
import { readBootIdSync, readProcessEntrySync } from './process-table.js';

const scratch = mkdtempSync(join(tmpdir(), 'mcp-gateway-ledger-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const started: ChildProcess[] = [];
afterEach(() => {
  for (const child of started.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});

/** A detached `sleep`, as a leftover of an earlier gateway would be. */
function sleeper(env: Record<string, string> = {}): ChildProcess & { pid: number } {
  const child = spawn('sleep', ['1000'], {
    detached: true,
    stdio: 'ignore',
    env: { PATH: '/usr/bin:/bin', ...env },
  });
  started.push(child);
  return child as ChildProcess & { pid: number };
}

const alive = (pid: number) => {
  const entry = readProcessEntrySync(pid);
  return entry !== undefined && entry.state !== 'Z' && entry.state !== 'X';
};
const startTimeOf = (pid: number) => readProcessEntrySync(pid)!.startTime;

async function exitedPid(): Promise<number> {
  const child = spawn('true');
  await new Promise((resolve) => child.once('exit', resolve));
  return child.pid!;
}

describe.runIf(canScanProcesses)('the state file (ChildLedgerFile)', () => {
  it('kills a dead run’s verified children and tagged daemons, and nothing it cannot identify', async () => {
    const directory = mkdtempSync(join(scratch, 'state-'));
    const folder = join(directory, LEDGER_FOLDER);
    const bootId = readBootIdSync()!;
    const leader = sleeper();
    const reused = sleeper(); // recorded with another start time: its pid was reused, it is not ours
    const daemon = sleeper({ MCP_GATEWAY_CHILD_TAG: 'tag-of-the-dead-run' });
    const liveOwner = sleeper();
    const liveOwnersChild = sleeper();
    const write = (name: string, content: unknown) =>
      writeFileSync(join(folder, name), typeof content === 'string' ? content : JSON.stringify(content));
    // Opening creates the folder.
    const ledger = ChildLedgerFile.open({ directory, graceMs: 1_000 })!;
    const deadOwner = await exitedPid();
    write(`${deadOwner}.json`, {
      version: 1,
      bootId,
      gateway: { pid: deadOwner, startTime: '1' },
      children: [
        { pid: leader.pid, startTime: startTimeOf(leader.pid) },
        { pid: reused.pid, startTime: '1' },
        { pid: 999_999_999, startTime: '1', tag: 'MCP_GATEWAY_CHILD_TAG=tag-of-the-dead-run' },
      ],
    });
    write(`${liveOwner.pid}.json`, {
      version: 1,
      bootId,
      gateway: { pid: liveOwner.pid, startTime: startTimeOf(liveOwner.pid) },
      children: [{ pid: liveOwnersChild.pid, startTime: startTimeOf(liveOwnersChild.pid) }],
    });
    write('12.json', 'not json');

    const report = await ledger.reapLeftovers();
    expect(report).toEqual({ files: 2, processes: 2, forced: false });
    expect(alive(leader.pid)).toBe(false);
    expect(alive(daemon.pid)).toBe(false);
    expect(alive(reused.pid)).toBe(true);
    expect(alive(liveOwnersChild.pid)).toBe(true);
    expect(readdirSync(folder)).toEqual([`${liveOwner.pid}.json`]);
  });

  it('records children in a 0600 file in a 0700 folder, forgets them, and removes the file on close', async () => {
    const directory = mkdtempSync(join(scratch, 'state-'));
    const ledger = ChildLedgerFile.open({ directory, graceMs: 1_000 })!;
    const child = sleeper();
    ledger.record(child.pid, 'MCP_GATEWAY_CHILD_TAG=abc');
    expect(statSync(join(directory, LEDGER_FOLDER)).mode & 0o777).toBe(0o700);
    expect(statSync(ledger.path).mode & 0o777).toBe(0o600);
    const content = JSON.parse(readFileSync(ledger.path, 'utf8')) as Record<string, unknown>;
    expect(content).toEqual({
      version: 1,
      bootId: readBootIdSync(),
      gateway: { pid: process.pid, startTime: startTimeOf(process.pid) },
      children: [{ pid: child.pid, startTime: startTimeOf(child.pid), tag: 'MCP_GATEWAY_CHILD_TAG=abc' }],
    });
    ledger.forget(child.pid);
    expect((JSON.parse(readFileSync(ledger.path, 'utf8')) as { children: unknown[] }).children).toEqual([]);
    // This run's own file is never a leftover.
    ledger.record(child.pid, undefined);
    expect(await ledger.reapLeftovers()).toEqual({ files: 0, processes: 0, forced: false });
    expect(alive(child.pid)).toBe(true);
    ledger.close();
    expect(readdirSync(join(directory, LEDGER_FOLDER))).toEqual([]);
  });
});
