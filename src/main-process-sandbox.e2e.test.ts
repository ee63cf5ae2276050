/**
 * @module End to end with the real gateway process (`src/main.ts`) and its process sandbox: how it starts (one
 * warning when children cannot be isolated, exit code 2 when the settings cannot be met), and what a SIGKILL —
 * which no handler can catch — leaves: with the sandbox its children (double-forked daemons included) go at
 * once with it; without, they survive it, and the next start with the same state directory stops them before
 * it reconciles, so the restart runs no duplicates.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { runGatewayToExit, startGatewayProcess } from '../test/gateway-process.js';
import type { GatewayProcess } from '../test/gateway-process.js';
import { until } from '../test/polling.js';
import { HTTP_SERVER, SANDBOX_WORKS, STDIO_SERVER } from '../test/process-fixtures.js';
import {
  MARKER_VARIABLE,
  canScanProcesses,
  killMarked,
  markedCommandProcesses,
  markedProcesses,
  newMarker,
  processesRunning,
  uniqueSleep,
} from '../test/process-tree.js';

const dir = mkdtempSync(join(tmpdir(), 'mcp-gateway-sigkill-'));
const running: GatewayProcess[] = [];
const markers: string[] = [];
const daemons: string[] = [];
afterEach(async () => {
  await Promise.all(
    running
      .splice(0)
      .map((g) => (g.child.exitCode === null && g.child.signalCode === null ? g.stop('SIGKILL') : null)),
  );
  for (const m of markers.splice(0)) killMarked(m);
  for (const line of daemons.splice(0))
    for (const pid of processesRunning(line)) process.kill(pid, 'SIGKILL');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const isAlive = (pid: number) => {
  try {
    return !/\) [ZX] /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};

async function start(env: Record<string, string>) {
  const gateway = await startGatewayProcess(env);
  running.push(gateway);
  return gateway;
}

/** Registers a command adapter whose every process also starts a double-forked daemon; waits until ready. */
async function registerWithDaemons(
  gateway: GatewayProcess,
  transport: 'stdio' | 'streamable-http',
): Promise<{ marker: string; daemon: string }> {
  const marker = newMarker();
  markers.push(marker);
  const daemon = uniqueSleep();
  daemons.push(daemon);
  const server = transport === 'stdio' ? STDIO_SERVER : HTTP_SERVER;
  const created = await fetch(`${gateway.url}/adapters`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      name: 'daemons',
      command: 'sh',
      args: ['-c', `(setsid ${daemon} &); exec ${process.execPath} ${server}`],
      transport,
      replicaCount: 2,
      environmentVariables: { [MARKER_VARIABLE]: marker },
    }),
  });
  expect(created.status).toBe(201);
  await until(
    async () =>
      ((await (await fetch(`${gateway.url}/adapters/daemons/status`)).json()) as { readyReplicas: number })
        .readyReplicas,
    (ready) => ready === 2,
    'two ready replicas',
    20_000,
  );
  return { marker, daemon };
}

describe.runIf(canScanProcesses)('a gateway killed with SIGKILL', () => {
  it.runIf(SANDBOX_WORKS)('takes every sandboxed child with it at once, daemons included', async () => {
    const gateway = await start({ DATABASE_URL: join(dir, 'sandboxed.db') });
    const { marker, daemon } = await registerWithDaemons(gateway, 'stdio');
    expect(markedCommandProcesses(marker).length).toBeGreaterThanOrEqual(2);
    expect(processesRunning(daemon).length).toBeGreaterThanOrEqual(2);
    expect(await gateway.stop('SIGKILL')).toBeNull();
    await until(
      () => markedProcesses(marker),
      (left) => left.length === 0,
      'every child gone',
      20_000,
    );
    expect(processesRunning(daemon)).toEqual([]);
  });

  it('without the sandbox: its children survive it, and the next start stops them before reconciling', async () => {
    const env = {
      DATABASE_URL: join(dir, 'unsandboxed.db'),
      MCP_GATEWAY_STATE_DIR: mkdtempSync(join(dir, 'state-')),
      MCP_GATEWAY_PROCESS_SANDBOX: 'off',
    };
    const first = await start(env);
    const { marker, daemon } = await registerWithDaemons(first, 'streamable-http');
    const leftovers = markedProcesses(marker);
    // Two servers and their two daemons.
    expect(leftovers).toHaveLength(4);
    expect(processesRunning(daemon)).toHaveLength(2);
    expect(await first.stop('SIGKILL')).toBeNull();
    // Nothing could catch that signal: everything the adapter ran is still there.
    expect(leftovers.filter(isAlive)).toEqual(leftovers);

    const second = await start(env);
    // `listening` comes after the deployers started, which is after the leftovers were stopped.
    expect(leftovers.filter(isAlive)).toEqual([]);
    const reaped = second.logs.find(
      (l) => l.msg === 'process deployer: stopped processes an earlier gateway run left running',
    );
    expect(reaped).toMatchObject({ processes: 4, forced: false });
    await until(
      async () =>
        ((await (await fetch(`${second.url}/adapters/daemons/status`)).json()) as { readyReplicas: number })
          .readyReplicas,
      (ready) => ready === 2,
      'the adapter running again',
      20_000,
    );
    // The same two servers and two daemons, not twice as many.
    await until(
      () => markedProcesses(marker),
      (now) => now.length === 4,
      'one set of processes',
      20_000,
    );
    expect(processesRunning(daemon)).toHaveLength(2);
    expect(await second.stop('SIGTERM')).toBe(0);
    expect(markedProcesses(marker)).toEqual([]);
    expect(processesRunning(daemon)).toEqual([]);
  });
});

describe('the gateway starting its process sandbox', () => {
  const noBubblewrap = { DATABASE_URL: ':memory:', PATH: join(dir, 'no-such-bin') };

  it('without bubblewrap: starts, with exactly one warning saying what children are not isolated from', async () => {
    const gateway = await start(noBubblewrap);
    const warnings = gateway.logs.filter((l) => String(l.msg).startsWith('process sandbox off'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ level: 40, sandbox: 'off' });
    expect(String(warnings[0]!.msg)).toMatch(
      /^process sandbox off: bwrap is not on PATH\. Children of command adapters/,
    );
  });

  it('exits with code 2 when bwrap is asked for and cannot work, or a read path would expose the registry', async () => {
    const asked = await runGatewayToExit({ ...noBubblewrap, MCP_GATEWAY_PROCESS_SANDBOX: 'bwrap' });
    expect(asked.code).toBe(2);
    expect(asked.stderr).toContain(
      'MCP_GATEWAY_PROCESS_SANDBOX=bwrap, but bubblewrap cannot sandbox children here: bwrap is not on PATH',
    );
    const exposing = await runGatewayToExit({
      DATABASE_URL: join(dir, 'registry', 'gw.db'),
      MCP_GATEWAY_PROCESS_READ_PATHS: dir,
    });
    expect(exposing.code).toBe(2);
    expect(exposing.stderr).toContain(
      `MCP_GATEWAY_PROCESS_READ_PATHS: ${dir} would let children see the registry's data directory (${join(dir, 'registry')})`,
    );
  });
});
