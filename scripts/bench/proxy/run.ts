/**
 * Proxy benchmark (not a test). One run starts an MCP upstream, the `node:http` pipe floor and the gateway,
 * each in its own process (the gateway compiled to dist/, the floor plain JavaScript: no loader in either); drives `tools/call` load at the upstream directly, through the floor and through
 * the gateway; and prints requests/s, p50/p99 latency, CPU µs per request of each proxy process, and the
 * gateway/floor ratios. Then it opens many SSE streams through the gateway and reports RSS growth per stream.
 *
 * The floor and the gateway are measured alternately for ROUNDS rounds, saturated and then at a fixed RATE; each
 * figure reported is the median of the rounds' figures, so a spell of load from elsewhere on the machine skews one
 * round, not the result.
 *
 *   npx tsx scripts/bench/proxy/run.ts    # DURATION=10 CONNECTIONS=16 RATE=500 STREAMS=5000 ROUNDS=3
 */
import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { Agent, request } from 'node:http';
import { fileURLToPath } from 'node:url';
// @ts-expect-error autocannon ships no type declarations
import autocannon from 'autocannon';
import { cpuMicros, freePort, rssKb } from '../process-stats.js';

const DURATION = Number(process.env.DURATION ?? 10);
const CONNECTIONS = Number(process.env.CONNECTIONS ?? 16);
const RATE = Number(process.env.RATE ?? 500);
const STREAMS = Number(process.env.STREAMS ?? 5000);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));
const children: ChildProcess[] = [];

const TOOLS_CALL = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'tools/call',
  params: {
    name: 'echo',
    arguments: { text: 'hello' },
    // The 2026-07-28 per-request envelope.
    _meta: {
      'io.modelcontextprotocol/protocolVersion': '2026-07-28',
      'io.modelcontextprotocol/clientCapabilities': {},
    },
  },
});
const MODERN_HEADERS = {
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
  'mcp-protocol-version': '2026-07-28',
  'mcp-method': 'tools/call',
  'mcp-name': 'echo',
};

function start(args: string[], env: Record<string, string>): Promise<{ child: ChildProcess; port: number }> {
  const loader = args[0]!.endsWith('.ts') ? ['--import', 'tsx'] : [];
  const child = spawn(process.execPath, [...loader, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /"port":(\d+)/.exec(out);
      if (match) resolve({ child, port: Number(match[1]) });
    });
    child.once('exit', (code) => reject(new Error(`${args[0]} exited with ${code}`)));
  });
}

interface LoadResult {
  rps: number;
  p50: number;
  p99: number;
  requests: number;
  errors: number;
}

async function load(
  url: string,
  options: { connections: number; duration: number; rate?: number },
): Promise<LoadResult> {
  const result = await autocannon({
    url,
    method: 'POST',
    headers: MODERN_HEADERS,
    body: TOOLS_CALL,
    connections: options.connections,
    duration: options.duration,
    ...(options.rate && { overallRate: options.rate }),
  });
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    requests: result.requests.total,
    errors: result.errors + result.non2xx,
  };
}

async function measured(url: string, pid: number | undefined) {
  await load(url, { connections: CONNECTIONS, duration: 2 });
  const before = pid ? cpuMicros(pid) : 0;
  const result = await load(url, { connections: CONNECTIONS, duration: DURATION });
  const cpuPerRequest = pid ? (cpuMicros(pid) - before) / result.requests : NaN;
  return { ...result, cpuPerRequest };
}

interface Paced {
  p50: number;
  p99: number;
  errors: number;
}

/** Sends requests at a fixed rate over keep-alive connections and times each one with hrtime. */
async function pacedLoad(url: string, rate: number, seconds: number): Promise<Paced> {
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const latencies: number[] = [];
  let errors = 0;
  const one = () =>
    new Promise<void>((resolve) => {
      const started = process.hrtime.bigint();
      const req = request(url, { method: 'POST', agent, headers: MODERN_HEADERS }, (res) => {
        res.resume();
        res.once('end', () => {
          if (res.statusCode === 200) latencies.push(Number(process.hrtime.bigint() - started) / 1e6);
          else errors++;
          resolve();
        });
      });
      req.once('error', () => {
        errors++;
        resolve();
      });
      req.end(TOOLS_CALL);
    });
  const total = rate * seconds;
  const pending: Promise<void>[] = [];
  const start = performance.now();
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    pending.push(one());
  }
  await Promise.all(pending);
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const at = (q: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN;
  return { p50: at(0.5), p99: at(0.99), errors };
}

async function openStreams(url: string, count: number): Promise<() => void> {
  const agent = new Agent({ keepAlive: false, maxSockets: Infinity });
  const requests: ReturnType<typeof request>[] = [];
  let opened = 0;
  await new Promise<void>((resolve, reject) => {
    for (let i = 0; i < count; i++) {
      const req = request(url, { method: 'POST', agent, headers: MODERN_HEADERS }, (res) => {
        res.once('data', () => {
          opened++;
          if (opened === count) resolve();
        });
      });
      req.on('error', reject);
      req.end(TOOLS_CALL);
      requests.push(req);
    }
  });
  return () => requests.forEach((r) => r.destroy());
}

const fmt = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : '–');
const medianOf = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function main() {
  const upstream = await start([here('upstream.ts')], {});
  const floor = await start([here('floor.mjs')], { UPSTREAM: `127.0.0.1:${upstream.port}` });
  const gatewayPort = await freePort();
  // The gateway as it ships: compiled by tsc, no loader in the process.
  execFileSync(process.execPath, [
    here('../../../node_modules/typescript/bin/tsc'),
    '-p',
    here('../../../tsconfig.build.json'),
  ]);
  const gateway = spawn(process.execPath, [here('../../../dist/main.js')], {
    env: {
      ...process.env,
      PORT: String(gatewayPort),
      DATABASE_URL: ':memory:',
      MCP_GATEWAY_LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  children.push(gateway);
  const gatewayUrl = `http://127.0.0.1:${gatewayPort}`;
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${gatewayUrl}/readyz`)).ok) break;
    } catch {
      if (i > 100) throw new Error('gateway did not start');
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  for (const [name, path] of [
    ['bench', '/mcp'],
    ['sse', '/sse'],
  ]) {
    const res = await fetch(`${gatewayUrl}/adapters`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name, endpoints: [`http://127.0.0.1:${upstream.port}${path}`] }),
    });
    if (res.status !== 201) throw new Error(`register ${name}: ${res.status}`);
  }

  const targets = {
    direct: { url: `http://127.0.0.1:${upstream.port}/mcp`, pid: undefined },
    floor: { url: `http://127.0.0.1:${floor.port}/mcp`, pid: floor.child.pid },
    gateway: { url: `${gatewayUrl}/adapters/bench/mcp`, pid: gateway.pid },
  };
  console.log(`tools/call, ${CONNECTIONS} connections, ${DURATION} s per target (node ${process.version})`);
  console.log('round | target   | req/s   | p50 ms | p99 ms | CPU µs/req (proxy) | errors');
  const ratios: number[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    const saturated: Record<string, Awaited<ReturnType<typeof measured>>> = {};
    // The upstream alone once: it bounds what any proxy in front of it can serve.
    for (const [name, target] of Object.entries(targets)) {
      if (name === 'direct' && round > 1) continue;
      const r = await measured(target.url, target.pid);
      saturated[name] = r;
      console.log(
        `${String(round).padStart(5)} | ${name.padEnd(8)} | ${fmt(r.rps, 0).padStart(7)} | ${fmt(r.p50).padStart(6)} | ${fmt(r.p99).padStart(6)} | ${fmt(r.cpuPerRequest, 0).padStart(18)} | ${r.errors}`,
      );
    }
    ratios.push(saturated.gateway!.cpuPerRequest / saturated.floor!.cpuPerRequest);
  }
  console.log(
    `gateway/floor CPU per request: median ${fmt(medianOf(ratios), 2)}× of rounds ${ratios.map((r) => fmt(r, 2)).join(', ')} (target ≤ 1.3×)`,
  );

  // Latency at a fixed rate, in rounds as above (the median of each round's difference to the upstream alone);
  // and CPU per request with both proxies at the same rate: a second view of the CPU ratio, without the batching
  // a saturated proxy gets (more requests per wake-up), which differs when the two serve different rates.
  console.log(`\nfixed rate ${RATE} req/s for ${DURATION} s (latency measured per request with hrtime)`);
  const added: Record<'floor' | 'gateway', number[]> = { floor: [], gateway: [] };
  const pacedRatios: number[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    const paced: Record<string, Paced & { cpuPerRequest: number }> = {};
    for (const [name, target] of Object.entries(targets)) {
      const before = target.pid ? cpuMicros(target.pid) : 0;
      const r = await pacedLoad(target.url, RATE, DURATION);
      const cpuPerRequest = target.pid ? (cpuMicros(target.pid) - before) / (RATE * DURATION) : NaN;
      paced[name] = { ...r, cpuPerRequest };
      console.log(
        `${String(round).padStart(5)} | ${name.padEnd(8)} | p50 ${fmt(r.p50, 3)} ms | p99 ${fmt(r.p99, 3)} ms | CPU µs/req ${fmt(cpuPerRequest, 0)} | errors ${r.errors}`,
      );
    }
    added.floor.push(paced.floor!.p50 - paced.direct!.p50);
    added.gateway.push(paced.gateway!.p50 - paced.direct!.p50);
    pacedRatios.push(paced.gateway!.cpuPerRequest / paced.floor!.cpuPerRequest);
  }
  console.log(
    `added p50 latency: gateway ${fmt(medianOf(added.gateway), 3)} ms, floor ${fmt(medianOf(added.floor), 3)} ms, medians of ${ROUNDS} rounds (target ≤ 0.5 ms)`,
  );
  console.log(
    `gateway/floor CPU per request at ${RATE} req/s: median ${fmt(medianOf(pacedRatios), 2)}× of rounds ${pacedRatios.map((r) => fmt(r, 2)).join(', ')}`,
  );

  // Streams are opened in two halves: the growth over the second half is what one more stream costs, without
  // the fixed costs the first streams bring (pools, compiled code, the young generation filling with garbage).
  console.log(`\n${STREAMS} open SSE streams through each proxy (opened in two halves)`);
  const streamTargets = [
    ['floor', `http://127.0.0.1:${floor.port}/sse`, floor.child.pid!],
    ['gateway', `${gatewayUrl}/adapters/sse/mcp`, gateway.pid!],
  ] as const;
  for (const [name, url, pid] of streamTargets) {
    const before = rssKb(pid);
    const closeFirst = await openStreams(url, STREAMS / 2);
    await new Promise((r) => setTimeout(r, 1000));
    const middle = rssKb(pid);
    const closeSecond = await openStreams(url, STREAMS / 2);
    await new Promise((r) => setTimeout(r, 1000));
    const after = rssKb(pid);
    closeFirst();
    closeSecond();
    console.log(
      `${name.padEnd(8)} | RSS ${before} KB → ${after} KB: ${fmt((after - before) / STREAMS, 1)} KB per stream ` +
        `(second half alone: ${fmt((after - middle) / (STREAMS / 2), 1)} KB)` +
        (name === 'gateway' ? ' (target ≤ 30 KB)' : ''),
    );
    await new Promise((r) => setTimeout(r, 2000));
  }
}

main()
  .catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(() => {
    for (const child of children) child.kill('SIGKILL');
  });
