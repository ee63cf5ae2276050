/**
 * @module Start-up cost of the process sandbox: a trivial child (`true`, then `node -e ''`) started N times
 * through the deployer's own `spawnChild`, once unsandboxed and once inside bubblewrap, alternating so both see
 * the same machine load. Prints, per command, the median and mean wall time from spawn to exit in each mode,
 * their ratio and their difference in ms.
 *
 * Run: `N=200 npx tsx scripts/bench/process-sandbox.ts` (as the gateway would run: as root, children then drop
 * to uid 65534 through setpriv). Needs a working bubblewrap.
 */
import { spawnChild } from '../../src/deploy/process/child-process.js';
import { startProcessSandbox } from '../../src/deploy/process/index.js';
import type { ReplicaSandbox } from '../../src/deploy/process/index.js';
import { startupTimers } from '../../src/deploy/timers.js';

const N = Number(process.env.N ?? 200);

const { sandbox: bwrap } = await startProcessSandbox({ mode: 'bwrap' }, { cwd: process.cwd() });
const { sandbox: off } = await startProcessSandbox({ mode: 'off' }, { cwd: process.cwd() });
const modes = { off: await off.forReplica('bench'), bwrap: await bwrap.forReplica('bench') };

async function once(replica: ReplicaSandbox, command: string, args: string[]): Promise<number> {
  const started = process.hrtime.bigint();
  const child = spawnChild({
    launch: replica.launch({ command, args, env: { PATH: '/usr/bin:/bin' }, network: 'host' }),
    stdin: false,
    onStdout: () => undefined,
    onStderr: () => undefined,
  });
  const exit = await child.exited;
  const elapsed = Number(process.hrtime.bigint() - started) / 1e6;
  await child.terminate({ graceMs: 1_000, timers: startupTimers });
  if (exit.code !== 0) throw new Error(`${command} exited with ${JSON.stringify(exit)}`);
  return elapsed;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const ms = (x: number) => `${x.toFixed(2)} ms`;

for (const [command, args] of [
  ['true', []],
  ['node', ['-e', '']],
] as const) {
  const times: Record<keyof typeof modes, number[]> = { off: [], bwrap: [] };
  // Warm-up: page cache, bubblewrap's binary, node's start-up snapshot.
  for (const replica of Object.values(modes)) await once(replica, command, [...args]);
  for (let i = 0; i < N; i += 1) {
    const order = i % 2 === 0 ? (['off', 'bwrap'] as const) : (['bwrap', 'off'] as const);
    for (const mode of order) times[mode].push(await once(modes[mode], command, [...args]));
  }
  const [offMedian, bwrapMedian] = [median(times.off), median(times.bwrap)];
  console.log(
    `${[command, ...args.map((a) => (a === '' ? "''" : a))].join(' ')} ×${N}: ` +
      `off median ${ms(offMedian)} (mean ${ms(mean(times.off))}), ` +
      `bwrap median ${ms(bwrapMedian)} (mean ${ms(mean(times.bwrap))}); ` +
      `ratio ${(bwrapMedian / offMedian).toFixed(2)}×, +${ms(bwrapMedian - offMedian)} per child`,
  );
}

await Promise.all(Object.values(modes).map((m) => m.dispose()));
await bwrap.close();
await off.close();
