/**
 * @module Micro-benchmark of rendezvous hashing: ns per `pick` (and `pickBounded`) for 3, 10 and 50 replicas
 * over 200k keys, next to the cost of one bare xxHash64 call measured in the same run.
 *
 * Run: `npx tsx scripts/bench/rendezvous.ts`. Figures vary with the machine; compare ratios, not absolutes.
 */
import { createRendezvous, createXxh64Hash, type WeightedReplica } from '../../src/routing/index.js';

const KEY_COUNT = 200_000;
const ROUNDS = 5;

const keys = Array.from({ length: KEY_COUNT }, (_, i) => `user-${i}`);

// Every result feeds this checksum, printed at the end, so no work can be optimised away.
let sink = 0;

/** Best-of-rounds ns per call; the first round also warms the JIT. */
function nsPerCall(run: () => number): number {
  let best = Infinity;
  for (let round = 0; round < ROUNDS; round++) {
    const start = process.hrtime.bigint();
    sink += run();
    const elapsed = Number(process.hrtime.bigint() - start);
    best = Math.min(best, elapsed / KEY_COUNT);
  }
  return best;
}

const hash = await createXxh64Hash();
const hrw = await createRendezvous();

// The bare hash on input shaped like the real one (`id ‖ 0x00 ‖ key`), joined beforehand so only the call counts.
const joined = keys.map((key) => `replica-0\u0000${key}`);
const hashNs = nsPerCall(() => {
  let acc = 0;
  for (const input of joined) acc += Number(hash(input) & 1n);
  return acc;
});

console.log(`node ${process.version}, ${KEY_COUNT} keys, best of ${ROUNDS} rounds`);
console.log(`bare xxHash64 call: ${hashNs.toFixed(1)} ns`);
console.log('replicas | pick ns | pick / hash | pick / (n × hash) | pickBounded ns');
for (const n of [3, 10, 50]) {
  const replicas: WeightedReplica[] = Array.from({ length: n }, (_, i) => ({
    id: `replica-${i}`,
    weight: 1,
  }));
  const pickNs = nsPerCall(() => {
    let acc = 0;
    for (const key of keys) acc += hrw.pick(replicas, key)?.id.length ?? 0;
    return acc;
  });
  // Equal loads: nothing is over capacity, so pickBounded hashes every replica (its worst case) plus 2n lookups.
  const loads = new Map(replicas.map((r) => [r.id, 5]));
  const boundedNs = nsPerCall(() => {
    let acc = 0;
    for (const key of keys)
      acc += hrw.pickBounded(replicas, key, (r) => loads.get(r.id) ?? 0)?.id.length ?? 0;
    return acc;
  });
  console.log(
    [
      String(n).padStart(8),
      pickNs.toFixed(0).padStart(7),
      `${(pickNs / hashNs).toFixed(1)}×`.padStart(11),
      `${(pickNs / (n * hashNs)).toFixed(2)}×`.padStart(17),
      boundedNs.toFixed(0).padStart(14),
    ].join(' | '),
  );
}
console.log(`(checksum ${sink})`);
