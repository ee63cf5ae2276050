/**
 * @module Cold start of a scaled-to-zero adapter: `npx -y @modelcontextprotocol/server-everything` (offline, from
 * this repository's install, as the e2e tests run it), registered with `minReplicas: 0, idleSeconds: 1` on a
 * test gateway with the process deployer (sandboxed where bubblewrap works). Each round waits until the adapter
 * is scaled down and its processes are gone, then times an SDK 1.x client's `initialize` through
 * `/adapters/{name}/mcp` — the request that starts it — to its answer ("cold"), and the first `tools/call` after.
 *
 * Baselines in the same run: the same `initialize` on an adapter that already runs (`warm`: what a client waits
 * without scale to zero), and `npx` started directly by this script, unsandboxed and without the gateway, to its
 * answer of `initialize` over stdio (`npx alone`: the floor a cold start through npx cannot beat). A second
 * scaled-to-zero adapter runs the package's resolved bin with node (no npm start-up) to show what npx costs.
 * Prints medians and ratios.
 *
 * Run: `N=10 npx tsx scripts/bench/cold-start.ts`.
 */
import { spawn } from 'node:child_process';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { join } from 'node:path';
import { REPO_ROOT, npxFromRepository } from '../../test/process-fixtures.js';
import { MARKER_VARIABLE, killMarked, markedCommandProcesses, newMarker } from '../../test/process-tree.js';
import { startTestGateway } from '../../test/test-gateway.js';

const N = Number(process.env.N ?? 10);
const everything = npxFromRepository('@modelcontextprotocol/server-everything');
const marker = newMarker();
const binMarker = newMarker();
const warmMarker = newMarker();
/** The package's bin resolved (what `npx` ends up running), started by node without npm. */
const BIN = join(REPO_ROOT, 'node_modules', '@modelcontextprotocol', 'server-everything', 'dist', 'index.js');
const events: string[] = [];
const gateway = await startTestGateway({
  processDeployer: true,
  connectTimeoutMs: 60_000,
  onScale: (ref, direction) => events.push(`${ref.name}:${direction}`),
});

async function register(name: string, value: string, fields: Record<string, unknown>) {
  const res = await fetch(`${gateway.url}/adapters`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      name,
      command: everything.command,
      args: everything.args,
      environmentVariables: { ...everything.environmentVariables, [MARKER_VARIABLE]: value },
      ...fields,
    }),
  });
  if (res.status !== 201) throw new Error(`register ${name}: ${res.status} ${await res.text()}`);
}

async function statusOf(name: string): Promise<{ replicaStatus: string; readyReplicas: number }> {
  return (await (await fetch(`${gateway.url}/adapters/${name}/status`)).json()) as {
    replicaStatus: string;
    readyReplicas: number;
  };
}

async function until(probe: () => boolean | Promise<boolean>, what: string, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** One session through the gateway: ms to the `initialize` answer, then to the first `tools/call` answer. */
async function session(name: string): Promise<{ initialize: number; call: number }> {
  const client = new Client({ name: 'bench', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(`${gateway.url}/adapters/${name}/mcp`));
  const started = performance.now();
  await client.connect(transport);
  const initialized = performance.now();
  await client.callTool({ name: 'echo', arguments: { message: 'x' } });
  const called = performance.now();
  await transport.terminateSession();
  await client.close();
  return { initialize: initialized - started, call: called - started };
}

/** A server spawned here (no sandbox, no gateway) until it answers `initialize` on stdout. */
function alone(command: string, args: readonly string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(command, args, {
      cwd: REPO_ROOT,
      env: { ...process.env, ...everything.environmentVariables },
      stdio: ['pipe', 'pipe', 'ignore'],
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (!out.includes('"id":1')) return;
      const elapsed = performance.now() - started;
      child.kill('SIGTERM');
      resolve(elapsed);
    });
    child.on('error', reject);
    child.stdin.write(
      `${JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'b', version: '1' } },
      })}\n`,
    );
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const ms = (x: number) => `${x.toFixed(0)} ms`;

try {
  await register('cold', marker, { minReplicas: 0, idleSeconds: 1 });
  await register('cold-bin', binMarker, {
    command: process.execPath,
    args: [BIN, 'stdio'],
    minReplicas: 0,
    idleSeconds: 1,
  });
  await register('warm', warmMarker, {});
  await until(async () => (await statusOf('warm')).readyReplicas === 1, 'the warm adapter');
  for (const name of ['cold', 'cold-bin'])
    await until(async () => (await statusOf(name)).replicaStatus.startsWith('Idle'), `${name} to be idle`);
  // Warm-up: page cache, npx's own start-up, the sandbox's binary.
  await alone(everything.command, everything.args);
  await alone(process.execPath, [BIN, 'stdio']);
  await session('warm');

  const cold: number[] = [];
  const coldCall: number[] = [];
  const coldBin: number[] = [];
  const warm: number[] = [];
  const npxAlone: number[] = [];
  const binAlone: number[] = [];
  for (let i = 0; i < N; i += 1) {
    for (const [name, value, into] of [
      ['cold', marker, cold],
      ['cold-bin', binMarker, coldBin],
    ] as const) {
      const downs = events.filter((e) => e === `${name}:down`).length;
      const run = await session(name);
      into.push(run.initialize);
      if (name === 'cold') coldCall.push(run.call);
      // Scaled down again (idleSeconds 1 after the session ended), its processes gone, before the next round.
      await until(() => events.filter((e) => e === `${name}:down`).length > downs, 'the scale-down');
      await until(async () => (await statusOf(name)).replicaStatus.startsWith('Idle'), 'idle status');
      await until(() => markedCommandProcesses(value).length === 0, `${name}'s processes to stop`);
    }
    warm.push((await session('warm')).initialize);
    npxAlone.push(await alone(everything.command, everything.args));
    binAlone.push(await alone(process.execPath, [BIN, 'stdio']));
  }
  const floor = median(npxAlone);
  const binFloor = median(binAlone);
  console.log(`N=${N} rounds; server-everything through npx (offline, repository install)`);
  console.log(
    `cold start, initialize answered:  median ${ms(median(cold))} (${(median(cold) / floor).toFixed(2)}× npx alone)  min ${ms(Math.min(...cold))}  max ${ms(Math.max(...cold))}`,
  );
  console.log(`cold start, first tools/call:     median ${ms(median(coldCall))}`);
  console.log(
    `cold start, resolved bin (no npx): median ${ms(median(coldBin))} (${(median(coldBin) / binFloor).toFixed(2)}× the bin alone)`,
  );
  console.log(`warm adapter, initialize:         median ${ms(median(warm))}`);
  console.log(`npx alone (no sandbox, no gateway): median ${ms(floor)}`);
  console.log(`bin alone (no sandbox, no gateway): median ${ms(binFloor)}`);
  console.log(
    `load average at the end: ${(await import('node:os'))
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
  console.log(`scale events: ${events.length} (${4 * N} expected: up and down per cold round)`);
} finally {
  await gateway.close();
  killMarked(marker);
  killMarked(warmMarker);
  killMarked(binMarker);
}
