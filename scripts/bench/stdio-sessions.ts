/**
 * @module What one stdio session costs, before and after issue #14 part 3: server-everything registered as
 * `npx --prefix <repo> -y @modelcontextprotocol/server-everything` (offline, from this repository's install),
 * run through the process deployer (bubblewrap where it works) four ways:
 *
 * - `npx, cold`: the command as given (`KEEP_COMMAND`), `warmSessions: 0` — every session starts npx → npm exec
 *   → node and waits for it (the cost of a session without a ready spare);
 * - `npx, warm`: as given, `warmSessions: 1` (before this change: one warm spare, the npx tree);
 * - `resolved, cold`: `npx` resolved once per replica to `node <bin>`, `warmSessions: 0`;
 * - `resolved, warm`: resolved, `warmSessions: 1` (the default now).
 *
 * Per way, N sessions are opened one after the other with the SDK 1.x client (waiting for the spare to be ready
 * again between two, in the warm ways) and kept open; it prints the median session start latency (client
 * `connect`: initialize + initialized through the bridge) and the median RSS of one session's whole process tree
 * (bubblewrap included, summed from /proc), and the ratios against `npx, cold`/`npx, warm` in the same run.
 *
 * Run: `N=5 npx tsx scripts/bench/stdio-sessions.ts`.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { KEEP_COMMAND, ProcessDeployer, resolveCommand } from '../../src/deploy/process/index.js';
import type { CommandResolver } from '../../src/deploy/process/index.js';
import type { Registered } from '../../src/registry/index.js';
import { rssKb } from './process-stats.js';

const N = Number(process.env.N ?? 5);
const REPO = fileURLToPath(new URL('../..', import.meta.url)).replace(/\/$/, '');

/** Every descendant of `pid` (and itself), from /proc's children lists. */
function tree(pid: number): number[] {
  const out = [pid];
  for (const task of readdirSync(`/proc/${pid}/task`, { withFileTypes: false }) as string[]) {
    const children = readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim();
    for (const child of children.split(/\s+/).filter(Boolean)) out.push(...tree(Number(child)));
  }
  return out;
}
const treeRssKb = (pid: number) => tree(pid).reduce((sum, p) => sum + rssKb(p), 0);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function adapter(name: string, warmSessions: number): Registered {
  const meta = { name, version: 1, createdBy: 'bench', createdAt: new Date(0), lastUpdatedAt: new Date(0) };
  return {
    ...meta,
    uid: `uid-${name}`,
    kind: 'adapter',
    spec: {
      command: 'npx',
      args: ['--prefix', REPO, '-y', '@modelcontextprotocol/server-everything'],
      environmentVariables: {
        PATH: `${join(REPO, 'node_modules', '.bin')}:${process.env.PATH ?? '/usr/bin:/bin'}`,
        npm_config_offline: 'true',
        npm_config_update_notifier: 'false',
      },
      replicaCount: 1,
      description: '',
      useWorkloadIdentity: false,
      requiredRoles: [],
      transport: 'stdio',
      port: 8000,
      path: '/mcp',
      warmSessions,
      maxSessionsPerReplica: N + 1,
    },
  } as Registered;
}

async function until(check: () => Promise<boolean> | boolean, what: string, ms = 120_000) {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function measure(label: string, resolver: CommandResolver, warm: number) {
  const deployer = new ProcessDeployer({
    commandResolver: resolver,
    cwd: REPO,
    sandbox: { mode: 'auto', readPaths: [join(REPO, 'node_modules')], workingDirectory: REPO },
    stdio: { maxSessions: N + 1 },
  });
  const resource = adapter(label.replace(/\W+/g, '-'), warm);
  const clients: Client[] = [];
  const latencies: number[] = [];
  const rss: number[] = [];
  try {
    await deployer.apply(resource);
    await until(() => deployer.endpoints(resource).length === 1, 'a ready replica');
    const url = deployer.endpoints(resource)[0]!.url;
    const detail = async () => (await deployer.status(resource)).replicas[0]?.detail ?? '';
    for (let i = 0; i < N; i += 1) {
      if (warm > 0) await until(async () => /spare ready/.test(await detail()), 'a ready spare');
      const client = new Client({ name: 'bench', version: '1' });
      const started = process.hrtime.bigint();
      await client.connect(new StreamableHTTPClientTransport(new URL(url)));
      latencies.push(Number(process.hrtime.bigint() - started) / 1e6);
      clients.push(client);
      await client.listTools();
    }
    // Every session answered a request: its process is fully started.
    const pids = (/\(pids ([\d, ]+)\)/.exec(await detail())?.[1] ?? '').split(', ').map(Number);
    for (const pid of pids) rss.push(treeRssKb(pid) / 1024);
    const breakdown = tree(pids[0]!)
      .map((pid) => {
        const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
        const name = argv[0]?.split('/').pop() ?? '?';
        const shown = name === 'node' && argv[1] ? `node ${argv[1].split('/').slice(-3).join('/')}` : name;
        return `${shown} ${(rssKb(pid) / 1024).toFixed(1)} MB`;
      })
      .join(', ');
    return {
      label,
      latency: median(latencies),
      rss: median(rss),
      processes: tree(pids[0]!).length,
      breakdown,
    };
  } finally {
    await Promise.allSettled(clients.map((c) => c.close()));
    await deployer.close();
  }
}

// The deployer's own timers are unref'd (they never hold a stopping gateway); a gateway's listener holds the
// loop, here this does, or the wait for a stopped tree's last exit could end the script.
const keepAlive = setInterval(() => undefined, 1_000);
const rows = [];
rows.push(await measure('npx, cold', KEEP_COMMAND, 0));
rows.push(await measure('resolved, cold', resolveCommand, 0));
rows.push(await measure('npx, warm', KEEP_COMMAND, 1));
rows.push(await measure('resolved, warm', resolveCommand, 1));
for (const row of rows) {
  const base = rows.find((r) => r.label === (row.label.endsWith('cold') ? 'npx, cold' : 'npx, warm'))!;
  console.log(
    `${row.label.padEnd(15)} session start median ${row.latency.toFixed(0).padStart(5)} ms ` +
      `(${(row.latency / base.latency).toFixed(2)}× ${base.label}), ` +
      `RSS per session median ${row.rss.toFixed(1).padStart(6)} MB (${(row.rss / base.rss).toFixed(2)}×), ` +
      `${row.processes} processes per session`,
  );
}
for (const row of rows) console.log(`  ${row.label}: ${row.breakdown}`);
clearInterval(keepAlive);
const coldNpx = rows[0]!;
const warmResolved = rows[3]!;
console.log(
  `resolved+warm vs npx+cold: start ${(warmResolved.latency / coldNpx.latency).toFixed(3)}×, RSS ${(warmResolved.rss / coldNpx.rss).toFixed(2)}×`,
);
