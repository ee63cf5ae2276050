/**
 * What health checking costs an idle gateway with many remote endpoints (not a test). In one process, for 1,000
 * and 10,000 registered endpoints that do not answer, measures CPU (% of one core) and RSS over a window of
 * several probe intervals, twice: with the burst every interval the remote deployer used to send (`Promise.all`
 * over every URL, the baseline), and with the `RemoteDeployer` as it is (spread schedule, bounded concurrency,
 * backoff), both sending through the Node gateway's probe sender. Two kinds of dead endpoint on loopback: one that refuses at once (a closed port) and one that accepts
 * and never answers (each probe runs into its timeout, holding its socket). Prints a row per case and the ratios.
 *
 *   npx tsx scripts/bench/health-checks.ts        # WINDOW_S=30 INTERVAL_MS=10000 TIMEOUT_MS=2000 SIZES=1000,10000
 *
 * WARMUP_S starts the window that long after the start, so that the scheduled case is measured once dead URLs
 * have backed off (steady state: 10 + 20 + 40 + 80 + 160 s); STRATEGIES=scheduled skips the baseline.
 */
import { createServer } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import { createNodeAgents } from '../../src/dataplane/node/node-forwarder.js';
import { createNodeProbeSender } from '../../src/dataplane/node/node-probe-sender.js';
import { probeEndpoint } from '../../src/deploy/remote/probe-endpoint.js';
import { RemoteDeployer } from '../../src/deploy/remote/remote-deployer.js';
import type { Registered } from '../../src/registry/index.js';

const WINDOW_S = Number(process.env.WINDOW_S ?? 30);
const INTERVAL_MS = Number(process.env.INTERVAL_MS ?? 10_000);
const TIMEOUT_MS = Number(process.env.TIMEOUT_MS ?? 2000);
const SIZES = (process.env.SIZES ?? '1000,10000').split(',').map(Number);
const WARMUP_S = Number(process.env.WARMUP_S ?? 0);
const STRATEGIES = (process.env.STRATEGIES ?? 'burst,scheduled').split(',');

interface Running {
  stop(): Promise<void>;
}

function adapter(name: string, url: string): Registered {
  const spec = { endpoints: [url], environmentVariables: {}, replicaCount: 1, description: '' };
  return {
    kind: 'adapter',
    name,
    uid: name,
    version: 1,
    createdBy: 'bench',
    createdAt: new Date(0),
    lastUpdatedAt: new Date(0),
    spec: { ...spec, useWorkloadIdentity: false, requiredRoles: [] },
  };
}

/** How the Node gateway sends probes: its guarded keep-alive agents. */
const send = createNodeProbeSender(createNodeAgents());

/** The strategy the remote deployer had: every interval, every URL at once. */
function burstEveryInterval(urls: readonly string[]): Running {
  const probe = { timeoutMs: TIMEOUT_MS, send };
  const tick = () => void Promise.all(urls.map((url, i) => probeEndpoint(i, url, probe)));
  tick();
  const timer = setInterval(tick, INTERVAL_MS);
  return { stop: async () => clearInterval(timer) };
}

async function scheduled(urls: readonly string[]): Promise<Running> {
  const deployer = new RemoteDeployer({ probeIntervalMs: INTERVAL_MS, probeTimeoutMs: TIMEOUT_MS, send });
  // Applied as the reconciler applies them at start: each apply probes its own endpoints once.
  await Promise.all(urls.map((url, i) => deployer.apply(adapter(`a${i}`, url))));
  deployer.start();
  return { stop: () => deployer.close() };
}

async function measure(start: () => Promise<Running> | Running) {
  globalThis.gc?.();
  const rss: number[] = [];
  const sampler = setInterval(() => rss.push(process.memoryUsage().rss), 250);
  const running = await start();
  // The window starts once every resource is applied (and the warm-up is over): what an idle gateway spends.
  await new Promise((resolve) => setTimeout(resolve, WARMUP_S * 1000));
  const cpu = process.cpuUsage();
  const began = performance.now();
  await new Promise((resolve) => setTimeout(resolve, WINDOW_S * 1000));
  const used = process.cpuUsage(cpu);
  const wallMs = performance.now() - began;
  await running.stop();
  clearInterval(sampler);
  // Let the last probes run into their timeout before the next case starts.
  await new Promise((resolve) => setTimeout(resolve, TIMEOUT_MS + 500));
  const mb = (bytes: number) => Math.round(bytes / 1024 / 1024);
  return {
    cpuPercent: ((used.user + used.system) / 1000 / wallMs) * 100,
    rssMinMb: mb(Math.min(...rss)),
    rssMaxMb: mb(Math.max(...rss)),
  };
}

async function main() {
  // Accepts and never answers: every probe of it waits out its timeout.
  const held = new Set<Socket>();
  const silent = createServer((socket) => {
    held.add(socket);
    // Probes that time out reset their connection: expected here. Reading (and dropping) what arrives is what
    // lets this side see the client close; a socket never read would stay open here and skew the figures.
    socket.on('error', () => undefined);
    socket.resume();
    socket.on('close', () => held.delete(socket));
  });
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const silentPort = (silent.address() as AddressInfo).port;
  // Port 9 (discard) has no listener here: connections are refused at once.
  const kinds = {
    refused: (i: number) => `http://127.0.0.1:9/e${i}`,
    silent: (i: number) => `http://127.0.0.1:${silentPort}/e${i}`,
  };
  console.log(
    `window ${WINDOW_S} s after ${WARMUP_S} s, probe interval ${INTERVAL_MS} ms, probe timeout ${TIMEOUT_MS} ms`,
  );
  console.log('endpoints  kind     strategy   CPU % of a core   RSS min–max MB');
  for (const size of SIZES) {
    for (const [kind, urlOf] of Object.entries(kinds)) {
      const urls = Array.from({ length: size }, (_, i) => urlOf(i));
      const rows: [string, Awaited<ReturnType<typeof measure>>][] = [];
      if (STRATEGIES.includes('burst')) rows.push(['burst', await measure(() => burstEveryInterval(urls))]);
      if (STRATEGIES.includes('scheduled')) rows.push(['scheduled', await measure(() => scheduled(urls))]);
      for (const [name, r] of rows) {
        console.log(
          `${String(size).padStart(9)}  ${kind.padEnd(7)}  ${name.padEnd(9)}  ${r.cpuPercent.toFixed(2).padStart(15)}   ${r.rssMinMb}–${r.rssMaxMb}`,
        );
      }
      if (rows.length === 2) {
        const [[, burst], [, spread]] = rows as [
          [string, (typeof rows)[0][1]],
          [string, (typeof rows)[0][1]],
        ];
        console.log(
          `${' '.repeat(11)}scheduled/burst CPU ${(spread.cpuPercent / burst.cpuPercent).toFixed(3)}×, RSS swing ${spread.rssMaxMb - spread.rssMinMb} vs ${burst.rssMaxMb - burst.rssMinMb} MB`,
        );
      }
    }
  }
  for (const socket of held) socket.destroy();
  silent.close();
}

await main();
