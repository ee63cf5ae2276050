/**
 * @module Micro-benchmark of the data plane's placement decision per request (issue #14 part 1), before and
 * after, in one process: ns per stateless request placed by bounded HRW on the caller (the old rule) and by two
 * choices (the new default), for 1, 3 and 10 replicas; and ns per in-session request for the session ledger's
 * `touch` (new on that path). Best of rounds, interleaved, so load elsewhere on the machine skews both alike.
 *
 *   npx tsx scripts/bench/placement.ts
 */
import { randomUUID } from 'node:crypto';
import { SessionLedger } from '../../src/dataplane/session-ledger.js';
import { createSessionSealer } from '../../src/dataplane/index.js';
import { createRendezvous, pickTwoChoices } from '../../src/routing/index.js';
import { ReplicaLoad } from '../../src/dataplane/replica-load.js';

const CALLS = 200_000;
const ROUNDS = 9;
const hrw = await createRendezvous();
const load = new ReplicaLoad();
let sink = 0;

function best(run: () => void): number {
  const start = process.hrtime.bigint();
  run();
  return Number(process.hrtime.bigint() - start) / CALLS;
}

for (const n of [1, 3, 10]) {
  const ready = Array.from({ length: n }, (_, i) => ({
    id: `http://127.0.0.1:${4100 + i}/mcp`,
    url: '',
    weight: 1,
  }));
  const inFlight = (r: { id: string }) => load.of(r.id);
  let before = Infinity;
  let after = Infinity;
  for (let round = 0; round < ROUNDS; round++) {
    before = Math.min(
      before,
      best(() => {
        for (let i = 0; i < CALLS; i++)
          sink += hrw.pickBounded(ready, 'service-principal', inFlight, 0.25)!.id.length;
      }),
    );
    after = Math.min(
      after,
      best(() => {
        for (let i = 0; i < CALLS; i++) sink += pickTwoChoices(ready, inFlight)!.id.length;
      }),
    );
  }
  console.log(
    `${String(n).padStart(2)} replicas: bounded HRW on the caller ${before.toFixed(0)} ns, two choices ${after.toFixed(0)} ns (${(after / before).toFixed(2)}×)`,
  );
}

const sealer = await createSessionSealer({ secret: 'bench-secret-bench-secret-bench-secret-0123' });
const adapter = { name: 'weather', uid: randomUUID() };
const ids = await Promise.all(
  Array.from({ length: 1000 }, () =>
    sealer.seal({
      adapter: 'weather',
      incarnation: adapter.uid,
      replica: 'r0',
      upstreamSessionId: randomUUID(),
      principal: 'p',
    }),
  ),
);
const flat = ids.map((id) => (id.charCodeAt(id.length - 1), id));
const ledger = new SessionLedger();
let touch = Infinity;
for (let round = 0; round < ROUNDS; round++) {
  touch = Math.min(
    touch,
    best(() => {
      for (let i = 0; i < CALLS; i++) ledger.touch(adapter, 'r0', flat[i % 1000]!, 900_000);
    }),
  );
}
console.log(`in-session request: ledger touch ${touch.toFixed(0)} ns (1,000 open sessions)`);
console.log(`(checksum ${sink})`);
