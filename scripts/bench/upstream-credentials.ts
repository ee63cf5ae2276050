/**
 * @module Micro-benchmark of `upstreamAuth` resolution: µs per `resolve()` — a secret row read from a SQLite
 * registry file and its AES-256-GCM value opened — which every request to an adapter or tool with `upstreamAuth`
 * pays, since values are not cached (a rotation must count from the next request on every replica). The
 * baselines, interleaved round by round in the same process, are the row read alone (`store.getSecret`), so the
 * ratio says how much of it is decryption, and an adapter row read (what the data plane's adapter cache saves
 * each request). Compare both with the gateway's CPU per proxied request
 * (docs/benchmarks.md) to judge whether a cache would pay.
 *
 * Run: `npx tsx scripts/bench/upstream-credentials.ts`. Figures vary with the machine; compare ratios.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createUpstreamCredentials } from '../../src/auth/index.js';
import { createSilentLogger } from '../../src/observability/index.js';
import { createSecretCipher, openRegistryStore, readSecretValue } from '../../src/registry/index.js';

const CALLS = Number(process.env.CALLS ?? 5_000);
const ROUNDS = Number(process.env.ROUNDS ?? 10);

const dir = mkdtempSync(join(tmpdir(), 'bench-upstream-credentials-'));
const store = await openRegistryStore(join(dir, 'registry.db'));
const cipher = await createSecretCipher('benchmark-gateway-secret-0123456789abcdef');
await store.create('adapter', 'a', { endpoints: ['http://127.0.0.1:1/mcp'] }, 'bench');
await store.createSecret('key', await cipher.seal('key', `sk-${'x'.repeat(40)}`), 'bench');
const credentials = createUpstreamCredentials({
  readSecret: (name) => readSecretValue(store, cipher, name),
  logger: createSilentLogger(),
});
// What the gateway runs: values reused for the registry cache's TTL (default 1 s), so most requests hit.
const cached = createUpstreamCredentials({
  readSecret: (name) => readSecretValue(store, cipher, name),
  logger: createSilentLogger(),
  ttlMs: 1000,
});
const adapter = {
  kind: 'adapter' as const,
  name: 'a',
  spec: { upstreamAuth: { type: 'bearer' as const, secret: 'key' } },
};

async function time(run: () => Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint();
  for (let i = 0; i < CALLS; i++) await run();
  return Number(process.hrtime.bigint() - start) / 1000 / CALLS;
}

const resolveUs: number[] = [];
const readUs: number[] = [];
const adapterUs: number[] = [];
const cachedUs: number[] = [];
for (let round = 0; round < ROUNDS; round++) {
  resolveUs.push(await time(() => credentials.resolve(adapter)));
  cachedUs.push(await time(() => cached.resolve(adapter)));
  readUs.push(await time(() => store.getSecret('key')));
  adapterUs.push(await time(() => store.get('adapter', 'a')));
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const resolve = median(resolveUs);
const read = median(readUs);
console.log(`resolve (read + decrypt): ${resolve.toFixed(1)} µs/call (median of ${ROUNDS} rounds)`);
console.log(`row read alone (baseline): ${read.toFixed(1)} µs/call`);
console.log(`resolve with the 1 s cache, hits: ${median(cachedUs).toFixed(2)} µs/call`);
const adapterRead = median(adapterUs);
console.log(`ratio resolve / read: ${(resolve / read).toFixed(2)}×`);
console.log(
  `adapter row read (what the data plane's adapter cache saves per request): ${adapterRead.toFixed(1)} µs/call; resolve / that: ${(resolve / adapterRead).toFixed(2)}×`,
);
await store.close();
rmSync(dir, { recursive: true, force: true });
