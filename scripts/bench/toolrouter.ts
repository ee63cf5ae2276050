/**
 * Tool-router benchmark (not a test). Starts the sample tool server (`scripts/samples/score-server.ts`), a bare
 * SDK 2.x baseline serving the same 1,000-tool list, and the gateway as it ships (compiled to dist/, its own
 * process, SQLite in memory); registers 1,000 tools; then measures
 *
 *   1. `tools/list` over 1,000 tools: one page and a full walk (10 pages of 100), router vs the SDK baseline;
 *   2. `tools/call` of a registered tool through `/mcp` vs POSTing the same JSON to the tool server directly:
 *      throughput, latency under saturation and at a fixed rate, CPU per request of the gateway process.
 *
 * and prints the ratios. Requests are 2026-07-28 (stateless, one POST each, JSON answers) unless noted.
 *
 *   npx tsx scripts/bench/toolrouter.ts          # DURATION=10 CONNECTIONS=16 RATE=300 WALKS=50
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
const TOOLS = 1000;
const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));
const children: ChildProcess[] = [];

const ENVELOPE = {
  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientCapabilities': {},
};
const ARGUMENTS = { text: 'a great and wonderful benchmark' };
const toolsCall = (name: string) =>
  JSON.stringify({
    jsonrpc: '2.0',
    id: 1,
    method: 'tools/call',
    params: { name, arguments: ARGUMENTS, _meta: ENVELOPE },
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
  const r = await autocannon({ ...options, duration: DURATION });
  return {
    rps: r.requests.average as number,
    p50: r.latency.p50 as number,
    p99: r.latency.p99 as number,
    errors: (r.errors as number) + (r.non2xx as number),
    cpu: target.pid ? (cpuMicros(target.pid) - before) / (r.requests.total as number) : NaN,
  };
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

async function main() {
  const tool = await start([here('../samples/score-server.ts'), '--port', '0'], /127\.0\.0\.1:(\d+)\/score/);
  const baseline = await start([here('toolrouter-baseline.ts')], /"port":(\d+)/, { TOOLS: String(TOOLS) });

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
  const gatewayPort = await freePort();
  const gateway = spawn(process.execPath, [here('../../dist/main.js')], {
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

  const toolUrl = `http://127.0.0.1:${tool.port}/score`;
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

  const mcp = `${gatewayUrl}/mcp`;
  const baselineUrl = `http://127.0.0.1:${baseline.port}/mcp`;
  const listHeaders = modernHeaders('tools/list');
  console.log(
    `node ${process.version}; ${TOOLS} registered tools; ${CONNECTIONS} connections; ${DURATION} s per load`,
  );

  console.log(`\n1. tools/list over ${TOOLS} tools (pages of 100)`);
  const routerWalk = await walks({ url: mcp, headers: listHeaders }, WALKS);
  const baseWalk = await walks({ url: baselineUrl, headers: listHeaders }, WALKS);
  console.log(
    `full walk (${routerWalk.seen} tools, 10 requests): router p50 ${fmt(routerWalk.p50, 2)} ms, p99 ${fmt(routerWalk.p99, 2)} ms; ` +
      `SDK baseline p50 ${fmt(baseWalk.p50, 2)} ms → ${fmt(routerWalk.p50 / baseWalk.p50, 2)}×`,
  );
  console.log('target                 | req/s   | p50 ms | p99 ms | CPU µs/req | errors');
  const routerPage = await saturate({ url: mcp, headers: listHeaders, body: toolsList(), pid: gateway.pid });
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

main()
  .catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(() => {
    agent.destroy();
    for (const child of children) child.kill('SIGTERM');
  });
