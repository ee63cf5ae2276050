/**
 * Tool-router benchmark (not a test). Starts the sample tool server (`scripts/samples/score-server.ts`), a bare
 * SDK 2.x baseline serving the same 1,000-tool list, and the gateway as it ships (compiled to dist/, its own
 * process, SQLite in memory); registers 1,000 tools; then measures
 *
 *   1. `tools/list` over 1,000 tools: one page and a full walk (10 pages of 100), router vs the SDK baseline;
 *   2. `tools/call` of a registered tool through `/mcp` vs POSTing the same JSON to the tool server directly:
 *      throughput, latency under saturation and at a fixed rate, CPU per request of the gateway process;
 *   3. the router against the data plane in the same gateway process: an SDK 2.x MCP upstream with an `echo` tool
 *      (`scripts/bench/proxy/upstream.ts`) is registered as a federated adapter, and the gateway's CPU per
 *      `tools/call` is measured through `/mcp` (the federated `fed__echo`, and the registered HTTP tool) and
 *      through the data plane (`/adapters/fed/mcp`, the same 2026-07-28 `tools/call` to the same upstream),
 *      alternating for ROUNDS rounds; the medians and their ratios are printed.
 *
 * and prints the ratios. Requests are 2026-07-28 (stateless, one POST each, JSON answers) unless noted.
 *
 *   npx tsx scripts/bench/toolrouter.ts   # DURATION=10 CONNECTIONS=16 RATE=300 WALKS=50 ROUNDS=3 ONLY=
 *
 * `ONLY=list`, `ONLY=call` or `ONLY=plane` runs one part (the tools are registered for every part);
 * `CPU_PROF_DIR=dir` runs the gateway with `--cpu-prof`, written there when it exits at the end.
 */
import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { fileURLToPath } from 'node:url';
// @ts-expect-error autocannon ships no type declarations
import autocannon from 'autocannon';
import { SCORE_TOOL } from '../samples/score-server.js';
import { cpuMicros, freePort } from './process-stats.js';

const DURATION = Number(process.env.DURATION ?? 10);
const CONNECTIONS = Number(process.env.CONNECTIONS ?? 16);
const RATE = Number(process.env.RATE ?? 300);
const WALKS = Number(process.env.WALKS ?? 50);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const ONLY = process.env.ONLY ?? '';
const runs = (part: string) => ONLY === '' || ONLY === part;
const TOOLS = 1000;
const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));
const children: ChildProcess[] = [];

const ENVELOPE = {
  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientCapabilities': {},
};
const ARGUMENTS = { text: 'a great and wonderful benchmark' };
const toolsCall = (name: string, args: Record<string, unknown> = ARGUMENTS) =>
  JSON.stringify({
    jsonrpc: '2.0',
    id: 1,
    method: 'tools/call',
    params: { name, arguments: args, _meta: ENVELOPE },
  });
const toolsList = (cursor?: string) =>
  JSON.stringify({
    jsonrpc: '2.0',
    id: 1,
    method: 'tools/list',
    params: { ...(cursor && { cursor }), _meta: ENVELOPE },
  });
const modernHeaders = (method: string, name?: string) => ({
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
  'mcp-protocol-version': '2026-07-28',
  'mcp-method': method,
  ...(name && { 'mcp-name': name }),
});

function start(args: string[], portPattern: RegExp, env: Record<string, string> = {}) {
  const loader = args[0]!.endsWith('.ts') ? ['--import', 'tsx'] : [];
  const child = spawn(process.execPath, [...loader, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  return new Promise<{ child: ChildProcess; port: number }>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = portPattern.exec(out);
      if (match) resolve({ child, port: Number(match[1]) });
    });
    child.once('exit', (code) => reject(new Error(`${args[0]} exited with ${code}`)));
  });
}

interface Target {
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly body: string;
  readonly pid?: number;
}

async function saturate(target: Target) {
  const options = {
    url: target.url,
    method: 'POST',
    headers: target.headers,
    body: target.body,
    connections: CONNECTIONS,
  };
  await autocannon({ ...options, duration: 2 });
  const before = target.pid ? cpuMicros(target.pid) : 0;
  const started = performance.now();
  const r = await autocannon({ ...options, duration: DURATION });
  const cpuTotal = target.pid ? cpuMicros(target.pid) - before : NaN;
  return {
    cpuTotal,
    seconds: (performance.now() - started) / 1000,
    requests: r.requests.total as number,
    rps: r.requests.average as number,
    p50: r.latency.p50 as number,
    p99: r.latency.p99 as number,
    errors: (r.errors as number) + (r.non2xx as number),
    cpu: cpuTotal / (r.requests.total as number),
  };
}

/** CPU the process spends per second while nothing is sent to it (its background work), in µs. */
async function idleCpu(pid: number, seconds: number): Promise<number> {
  const before = cpuMicros(pid);
  const started = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  return (cpuMicros(pid) - before) / ((performance.now() - started) / 1000);
}

const agent = new Agent({ keepAlive: true, maxSockets: 64 });

/** One POST, resolving with the parsed JSON answer and the time it took. */
function post(target: Pick<Target, 'url' | 'headers'>, body: string): Promise<{ ms: number; json: unknown }> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const req = request(target.url, { method: 'POST', agent, headers: target.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.once('end', () => {
        const ms = Number(process.hrtime.bigint() - started) / 1e6;
        if (res.statusCode !== 200)
          return reject(new Error(`HTTP ${res.statusCode}: ${Buffer.concat(chunks).toString()}`));
        resolve({ ms, json: JSON.parse(Buffer.concat(chunks).toString()) });
      });
    });
    req.once('error', reject);
    req.end(body);
  });
}

const quantile = (values: number[], q: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
};

/** Fixed-rate load, each request timed with hrtime. */
async function paced(target: Target, rate: number, seconds: number) {
  const latencies: number[] = [];
  let errors = 0;
  const pending: Promise<void>[] = [];
  const begin = performance.now();
  for (let i = 0; i < rate * seconds; i++) {
    const wait = begin + (i * 1000) / rate - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    pending.push(
      post(target, target.body).then(
        (r) => void latencies.push(r.ms),
        () => void errors++,
      ),
    );
  }
  await Promise.all(pending);
  return { p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99), errors };
}

/** Walks every page of tools/list; returns the time of each walk and the tools seen in the last. */
async function walks(target: Pick<Target, 'url' | 'headers'>, count: number) {
  const times: number[] = [];
  let seen = 0;
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    let cursor: string | undefined;
    seen = 0;
    do {
      const { json } = await post(target, toolsList(cursor));
      const result = (json as { result: { tools: unknown[]; nextCursor?: string } }).result;
      seen += result.tools.length;
      cursor = result.nextCursor;
    } while (cursor);
    times.push(performance.now() - started);
  }
  return { p50: quantile(times, 0.5), p99: quantile(times, 0.99), seen };
}

const fmt = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : '–');
const row = (name: string, r: Awaited<ReturnType<typeof saturate>>) =>
  `${name.padEnd(22)} | ${fmt(r.rps, 0).padStart(7)} | ${fmt(r.p50).padStart(6)} | ${fmt(r.p99).padStart(6)} | ${fmt(r.cpu, 0).padStart(10)} | ${r.errors}`;

/** Registers the echo upstream as a federated adapter and waits until the router lists its tool. */
async function federate(gatewayUrl: string, upstreamPort: number): Promise<void> {
  const res = await fetch(`${gatewayUrl}/adapters`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      name: 'fed',
      endpoints: [`http://127.0.0.1:${upstreamPort}/mcp`],
      federate: true,
    }),
  });
  if (res.status !== 201) throw new Error(`register fed: ${res.status} ${await res.text()}`);
  const target = { url: `${gatewayUrl}/mcp`, headers: modernHeaders('tools/call', 'fed__echo') };
  for (let i = 0; ; i++) {
    const { json } = await post(target, toolsCall('fed__echo', { text: 'ready?' }));
    if ((json as { result?: unknown }).result) return;
    if (i > 100) throw new Error(`fed__echo never became callable: ${JSON.stringify(json)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const medianOf = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/**
 * The router against the data plane, in one gateway process: CPU per `tools/call` of each, saturated, the
 * targets alternating for ROUNDS rounds.
 */
async function routerVersusDataPlane(
  gateways: { label: string; url: string; pid: number }[],
  upstreamPort: number,
) {
  const echo = { text: 'a great and wonderful benchmark' };
  const targets: Record<string, Target> = {};
  for (const { label, url: gatewayUrl, pid } of gateways) {
    await federate(gatewayUrl, upstreamPort);
    targets[`${label}data plane /adapters`] = {
      url: `${gatewayUrl}/adapters/fed/mcp`,
      headers: modernHeaders('tools/call', 'echo'),
      body: toolsCall('echo', echo),
      pid,
    };
    targets[`${label}router, federated`] = {
      url: `${gatewayUrl}/mcp`,
      headers: modernHeaders('tools/call', 'fed__echo'),
      body: toolsCall('fed__echo', echo),
      pid,
    };
    targets[`${label}router, HTTP tool`] = {
      url: `${gatewayUrl}/mcp`,
      headers: modernHeaders('tools/call', 'bench-0500'),
      body: toolsCall('bench-0500'),
      pid,
    };
  }
  // `TARGETS=federated` (a part of the names) measures only those; for profiling one path.
  const only = process.env.TARGETS;
  if (only) for (const name of Object.keys(targets)) if (!name.includes(only)) delete targets[name];
  for (const [name, target] of Object.entries(targets)) {
    const answer = (await post(target, target.body)).json as { result?: { isError?: boolean } };
    if (!answer.result || answer.result.isError) throw new Error(`${name}: ${JSON.stringify(answer)}`);
  }
  console.log(
    `\n3. router vs data plane, same gateway process, ${ROUNDS} alternating rounds (${CONNECTIONS} connections, ${DURATION} s)`,
  );
  console.log('round | target                 | req/s   | p50 ms | p99 ms | CPU µs/req | errors');
  const cpu: Record<string, number[]> = Object.fromEntries(Object.keys(targets).map((n) => [n, []]));
  const net: Record<string, number[]> = Object.fromEntries(Object.keys(targets).map((n) => [n, []]));
  // The gateway's own background work (probes, reconciling 1,000 tools) goes on under load too; at the low
  // request rates of a busy machine it is a visible share of each request, so it is also reported net of it.
  // Measured before and after the rounds (the lower of the two: right after the registrations the catalog and
  // the deployers may still be busy with them).
  await new Promise((r) => setTimeout(r, 3000));
  const pidOf = (name: string) => targets[name]!.pid!;
  const pids = [...new Set(gateways.map((g) => g.pid))];
  const idleBefore = new Map(await Promise.all(pids.map(async (p) => [p, await idleCpu(p, 5)] as const)));
  const measured: Record<string, { cpuTotal: number; seconds: number; requests: number }[]> = {};
  for (let round = 1; round <= ROUNDS; round++) {
    for (const [name, target] of Object.entries(targets)) {
      const r = await saturate(target);
      cpu[name]!.push(r.cpu);
      (measured[name] ??= []).push(r);
      console.log(`${String(round).padStart(5)} | ${row(name, r)}`);
    }
  }
  const idleAfter = new Map(await Promise.all(pids.map(async (p) => [p, await idleCpu(p, 5)] as const)));
  for (const [name, rounds] of Object.entries(measured)) {
    const idle = Math.min(idleBefore.get(pidOf(name))!, idleAfter.get(pidOf(name))!);
    for (const r of rounds) net[name]!.push((r.cpuTotal - idle * r.seconds) / r.requests);
  }
  for (const { label, pid } of gateways) {
    console.log(
      `${label}gateway CPU when idle: ${fmt(idleBefore.get(pid)! / 1000, 1)} ms/s before the rounds, ${fmt(idleAfter.get(pid)! / 1000, 1)} ms/s after`,
    );
  }
  if (only) return;
  for (const { label } of gateways) summary(label, cpu, net);
  if (gateways.length === 2) {
    console.log(
      'B/A CPU per call (medians, net of idle): ' +
        ['data plane /adapters', 'router, federated', 'router, HTTP tool']
          .map((n) => `${n} ${fmt(medianOf(net[`B ${n}`]!) / medianOf(net[n]!), 2)}×`)
          .join(', '),
    );
  }
}

/** Medians and ratios of one gateway's targets. */
function summary(label: string, cpu: Record<string, number[]>, net: Record<string, number[]>) {
  const pick = (m: Record<string, number[]>, n: string) => m[`${label}${n}`]!;
  const netPlane = medianOf(pick(net, 'data plane /adapters'));
  console.log(
    `${label}net of idle CPU (medians): data plane ${fmt(netPlane, 0)} µs, router federated ${fmt(medianOf(pick(net, 'router, federated')), 0)} µs ` +
      `(${fmt(medianOf(pick(net, 'router, federated')) / netPlane, 2)}×), router HTTP tool ${fmt(medianOf(pick(net, 'router, HTTP tool')), 0)} µs ` +
      `(${fmt(medianOf(pick(net, 'router, HTTP tool')) / netPlane, 2)}×)`,
  );
  const plane = medianOf(pick(cpu, 'data plane /adapters'));
  const federated = medianOf(pick(cpu, 'router, federated'));
  const http = medianOf(pick(cpu, 'router, HTTP tool'));
  console.log(
    `${label}medians: data plane ${fmt(plane, 0)} µs, router federated ${fmt(federated, 0)} µs, router HTTP tool ${fmt(http, 0)} µs`,
  );
  console.log(
    `${label}router/data plane CPU per call: federated ${fmt(federated / plane, 2)}×, HTTP tool ${fmt(http / plane, 2)}× ` +
      `(rounds: ${pick(cpu, 'router, federated')
        .map((v, i) => fmt(v / pick(cpu, 'data plane /adapters')[i]!, 2))
        .join(', ')} / ` +
      `${pick(cpu, 'router, HTTP tool')
        .map((v, i) => fmt(v / pick(cpu, 'data plane /adapters')[i]!, 2))
        .join(', ')})`,
  );
}

/** Starts a gateway from `mainJs` (SQLite in memory, default settings) and waits until it is ready. */
async function startGateway(mainJs: string, profile: string | undefined) {
  const port = await freePort();
  const args = [
    ...(profile ? ['--cpu-prof', '--cpu-prof-dir', profile, '--cpu-prof-interval', '100'] : []),
    mainJs,
  ];
  const child = spawn(process.execPath, args, {
    env: { ...process.env, PORT: String(port), DATABASE_URL: ':memory:', MCP_GATEWAY_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  // First in the list: stopped first, so it does not log the tool server's going away.
  children.unshift(child);
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${url}/readyz`)).ok) break;
    } catch {
      if (i > 100) throw new Error('gateway did not start');
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { url, child };
}

/** Registers the 1,000 tools, all served by the sample tool server. */
async function registerTools(gatewayUrl: string, toolUrl: string) {
  const names = Array.from({ length: TOOLS }, (_, i) => `bench-${String(i).padStart(4, '0')}`);
  for (let i = 0; i < names.length; i += 25) {
    await Promise.all(
      names.slice(i, i + 25).map(async (name) => {
        const res = await fetch(`${gatewayUrl}/tools`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            name,
            endpoints: [toolUrl],
            toolDefinition: { tool: { ...SCORE_TOOL, name } },
          }),
        });
        if (res.status !== 201) throw new Error(`register ${name}: ${res.status} ${await res.text()}`);
      }),
    );
  }
}

async function main() {
  const tool = await start([here('../samples/score-server.ts'), '--port', '0'], /127\.0\.0\.1:(\d+)\/score/);
  const baseline = await start([here('toolrouter-baseline.ts')], /"port":(\d+)/, { TOOLS: String(TOOLS) });
  const upstream = await start([here('proxy/upstream.ts')], /"port":(\d+)/);

  // The gateway as it ships: compiled by tsc, no loader in its process. Errors elsewhere in the tree must not
  // stop the measurement as long as the entry point was emitted.
  try {
    execFileSync(
      process.execPath,
      [here('../../node_modules/typescript/bin/tsc'), '-p', here('../../tsconfig.build.json')],
      {
        stdio: 'ignore',
      },
    );
  } catch {
    if (!existsSync(here('../../dist/main.js'))) throw new Error('tsc did not emit dist/main.js');
    console.warn('tsc reported errors; measuring the emitted dist/ anyway');
  }
  const { url: gatewayUrl, child: gateway } = await startGateway(
    here('../../dist/main.js'),
    process.env.CPU_PROF_DIR,
  );
  const toolUrl = `http://127.0.0.1:${tool.port}/score`;
  await registerTools(gatewayUrl, toolUrl);
  // `AB_DIST=/other/checkout/dist/main.js`: a second gateway (another build, started and loaded alike) measured in
  // part 3 beside this one, rounds alternating between the two.
  const other = process.env.AB_DIST ? await startGateway(process.env.AB_DIST, undefined) : undefined;
  if (other) await registerTools(other.url, toolUrl);

  const mcp = `${gatewayUrl}/mcp`;
  const baselineUrl = `http://127.0.0.1:${baseline.port}/mcp`;
  const listHeaders = modernHeaders('tools/list');
  console.log(
    `node ${process.version}; ${TOOLS} registered tools; ${CONNECTIONS} connections; ${DURATION} s per load`,
  );

  if (runs('list')) {
    console.log(`\n1. tools/list over ${TOOLS} tools (pages of 100)`);
    const routerWalk = await walks({ url: mcp, headers: listHeaders }, WALKS);
    const baseWalk = await walks({ url: baselineUrl, headers: listHeaders }, WALKS);
    console.log(
      `full walk (${routerWalk.seen} tools, 10 requests): router p50 ${fmt(routerWalk.p50, 2)} ms, p99 ${fmt(routerWalk.p99, 2)} ms; ` +
        `SDK baseline p50 ${fmt(baseWalk.p50, 2)} ms → ${fmt(routerWalk.p50 / baseWalk.p50, 2)}×`,
    );
    console.log('target                 | req/s   | p50 ms | p99 ms | CPU µs/req | errors');
    const routerPage = await saturate({
      url: mcp,
      headers: listHeaders,
      body: toolsList(),
      pid: gateway.pid,
    });
    console.log(row('router, first page', routerPage));
    const basePage = await saturate({
      url: baselineUrl,
      headers: listHeaders,
      body: toolsList(),
      pid: baseline.child.pid,
    });
    console.log(row('SDK baseline, page', basePage));
    console.log(
      `router/baseline: throughput ${fmt(routerPage.rps / basePage.rps, 2)}×, CPU per request ${fmt(routerPage.cpu / basePage.cpu, 2)}×`,
    );
  }

  if (runs('call')) {
    console.log('\n2. tools/call of a registered tool vs POST to the tool server directly');
    const direct: Target = {
      url: toolUrl,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(ARGUMENTS),
    };
    const viaRouter: Target = {
      url: mcp,
      headers: modernHeaders('tools/call', 'bench-0500'),
      body: toolsCall('bench-0500'),
      pid: gateway.pid,
    };
    const check = (await post(viaRouter, viaRouter.body)).json as { result: { structuredContent?: unknown } };
    if (!check.result.structuredContent)
      throw new Error(`unexpected tools/call answer: ${JSON.stringify(check)}`);
    console.log('target                 | req/s   | p50 ms | p99 ms | CPU µs/req | errors');
    const sDirect = await saturate(direct);
    console.log(row('direct POST /score', sDirect));
    const sRouter = await saturate(viaRouter);
    console.log(row('tools/call via /mcp', sRouter));
    const sBase = await saturate({
      url: baselineUrl,
      headers: modernHeaders('tools/call', 'bench-0500'),
      body: toolsCall('bench-0500'),
      pid: baseline.child.pid,
    });
    console.log(row('SDK baseline, no tool', sBase));
    console.log(
      `throughput router/direct: ${fmt(sRouter.rps / sDirect.rps, 2)}×; router CPU per call vs the bare SDK answering ` +
        `without a tool: ${fmt(sRouter.cpu / sBase.cpu, 2)}× (+${fmt(sRouter.cpu - sBase.cpu, 0)} µs)`,
    );

    console.log(`\nfixed rate ${RATE} req/s for ${DURATION} s (hrtime per request)`);
    const pDirect = await paced(direct, RATE, DURATION);
    const pRouter = await paced(viaRouter, RATE, DURATION);
    console.log(
      `direct POST /score     | p50 ${fmt(pDirect.p50, 3)} ms | p99 ${fmt(pDirect.p99, 3)} ms | errors ${pDirect.errors}`,
    );
    console.log(
      `tools/call via /mcp    | p50 ${fmt(pRouter.p50, 3)} ms | p99 ${fmt(pRouter.p99, 3)} ms | errors ${pRouter.errors}`,
    );
    console.log(
      `added by the router: p50 +${fmt(pRouter.p50 - pDirect.p50, 3)} ms (${fmt(pRouter.p50 / pDirect.p50, 2)}×), ` +
        `p99 +${fmt(pRouter.p99 - pDirect.p99, 3)} ms`,
    );
  }

  if (runs('plane')) {
    const measured = [{ label: '', url: gatewayUrl, pid: gateway.pid! }];
    if (other) measured.push({ label: 'B ', url: other.url, pid: other.child.pid! });
    await routerVersusDataPlane(measured, upstream.port);
  }
}

main()
  .catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(async () => {
    agent.destroy();
    for (const child of children) child.kill('SIGTERM');
    // The gateway drains before it exits (and writes its profile then).
    await Promise.all(
      children.map((child) =>
        child.exitCode === null ? new Promise((resolve) => child.once('exit', resolve)) : undefined,
      ),
    );
  });
