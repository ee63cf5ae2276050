/**
 * @module Micro-benchmark of era classification: ns per `classifyRequest` for the requests the proxy sees most
 * (a legacy call in a session, a modern call, initialize, a notification, a GET stream, a refusal), with headers
 * viewed as the Node listener views them. With `BASELINE=path/to/module.ts` it times that module's
 * `classifyRequest` too, in the same process and interleaved round by round, and prints the ratio.
 *
 * Run: `npx tsx scripts/bench/classify.ts` (or `BASELINE=/tmp/era-before.ts npx tsx scripts/bench/classify.ts`).
 * Figures vary with the machine; compare ratios, not absolutes.
 */
import { pathToFileURL } from 'node:url';
import { classifyRequest, parseJsonBody } from '../../src/dataplane/index.js';
import type { HeaderSource } from '../../src/dataplane/index.js';

type Classify = (method: string, headers: HeaderSource, body?: unknown) => unknown;

const CALLS = Number(process.env.CALLS ?? 100_000);
const ROUNDS = Number(process.env.ROUNDS ?? 25);
const BOTH = 'application/json, text/event-stream';

/** A header view shaped like the Node listener's (a lookup in `IncomingMessage.headers`). */
const view = (headers: Record<string, string>): HeaderSource => ({ get: (name) => headers[name] ?? null });

const cases: { label: string; method: string; headers: HeaderSource; body?: string }[] = [
  {
    label: 'legacy tools/call in a session',
    method: 'POST',
    headers: view({
      accept: BOTH,
      'content-type': 'application/json',
      'mcp-protocol-version': '2025-06-18',
      'mcp-session-id': 'v1.sealed',
    }),
    body: '{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"echo","arguments":{"message":"hi"}}}',
  },
  {
    label: 'modern tools/call',
    method: 'POST',
    headers: view({
      accept: BOTH,
      'content-type': 'application/json',
      'mcp-protocol-version': '2026-07-28',
      'mcp-method': 'tools/call',
      'mcp-name': 'echo',
    }),
    body: '{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"echo","arguments":{"message":"hi"}}}',
  },
  {
    label: 'initialize',
    method: 'POST',
    headers: view({ accept: BOTH, 'content-type': 'application/json' }),
    body: '{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"c","version":"1"}}}',
  },
  {
    label: 'notification',
    method: 'POST',
    headers: view({
      accept: BOTH,
      'content-type': 'application/json',
      'mcp-protocol-version': '2025-11-25',
      'mcp-session-id': 'v1.sealed',
    }),
    body: '{"jsonrpc":"2.0","method":"notifications/initialized"}',
  },
  {
    label: 'GET stream',
    method: 'GET',
    headers: view({ accept: 'text/event-stream', 'mcp-session-id': 'v1.sealed' }),
  },
  {
    label: 'refused: bad params',
    method: 'POST',
    headers: view({ accept: BOTH, 'content-type': 'application/json' }),
    body: '{"jsonrpc":"2.0","id":1,"method":"tools/list","params":[1]}',
  },
];

// Bodies are parsed once: the proxy parses before it classifies, and JSON.parse would dominate the figure.
const parsed = cases.map((c) => (typeof c.body === 'string' ? parseJsonBody(c.body) : undefined));

let sink = 0;

function timeRound(classify: Classify, index: number): number {
  const { method, headers } = cases[index]!;
  const body = parsed[index];
  const start = process.hrtime.bigint();
  for (let i = 0; i < CALLS; i++) if (classify(method, headers, body) !== undefined) sink++;
  return Number(process.hrtime.bigint() - start) / CALLS;
}

const baselinePath = process.env.BASELINE;
const baseline = baselinePath
  ? ((await import(pathToFileURL(baselinePath).href)) as { classifyRequest: Classify }).classifyRequest
  : undefined;

console.log(`node ${process.version}, ${CALLS} calls per round, best of ${ROUNDS} rounds (ns per call)`);
for (let index = 0; index < cases.length; index++) {
  let current = Infinity;
  let before = Infinity;
  for (let round = 0; round < ROUNDS; round++) {
    // Alternate which goes first, so neither gains from running second in a round.
    if (baseline && round % 2 === 1) before = Math.min(before, timeRound(baseline, index));
    current = Math.min(current, timeRound(classifyRequest, index));
    if (baseline && round % 2 === 0) before = Math.min(before, timeRound(baseline, index));
  }
  const label = cases[index]!.label.padEnd(32);
  if (baseline) {
    console.log(
      `${label} ${current.toFixed(1)} (baseline ${before.toFixed(1)}, ratio ${(current / before).toFixed(3)})`,
    );
  } else {
    console.log(`${label} ${current.toFixed(1)}`);
  }
}
console.log(`checksum ${sink}`);
