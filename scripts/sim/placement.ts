/**
 * @module Placement simulation (issue #14 part 1; not a test): 1,000 replicas, 1M legacy sessions, 3 gateway
 * instances that each place independently, sharing nothing — each bounds only the sessions it placed itself.
 * Prints the max/mean and min/mean share per replica, the spill under bounded load (sessions not placed on their
 * first HRW choice), what moves when a replica is added or removed, and checks the model against the real code.
 *
 * A fresh random key makes the HRW order of a new session a uniformly random permutation of the replicas (equal
 * weights, an ideal hash), so the 1M-session runs draw that permutation lazily instead of hashing 1,000 replicas
 * per session (0.8 ms each here: 13 minutes per run). The smaller runs use the real `pickBounded` and the real
 * xxHash64 rendezvous, to show the model agrees. Seeded, so every run prints the same figures.
 *
 *   npx tsx scripts/sim/placement.ts    # REPLICAS=1000 SESSIONS=1000000 INSTANCES=3 EPSILON=0.25 REAL=20000
 */
import { createRendezvous, DEFAULT_LOAD_EPSILON } from '../../src/routing/index.js';
import type { WeightedReplica } from '../../src/routing/index.js';
import { seededRandom } from '../../test/seeded-random.js';

const REPLICAS = Number(process.env.REPLICAS ?? 1000);
const SESSIONS = Number(process.env.SESSIONS ?? 1_000_000);
const INSTANCES = Number(process.env.INSTANCES ?? 3);
const EPSILON = Number(process.env.EPSILON ?? DEFAULT_LOAD_EPSILON);
const REAL = Number(process.env.REAL ?? 20_000);
const MOVE_KEYS = Number(process.env.MOVE_KEYS ?? 10_000);

/** The bounded-load capacity of one replica as `pickBounded` computes it (equal weights). */
const capacity = (total: number, n: number, epsilon: number) => Math.ceil(((total + 1) * (1 + epsilon)) / n);

interface Outcome {
  readonly global: Int32Array;
  readonly spilled: number;
}

/**
 * The model: each session goes to a random instance, which walks a random permutation of the replicas until one is
 * under its capacity by that instance's own counts (epsilon = Infinity: plain HRW on a fresh key). `addAt`: a
 * replica joins after that many sessions (it exists for later sessions only; sessions never move).
 */
function model(replicas: number, sessions: number, epsilon: number, seed: number, addAt = -1): Outcome {
  const random = seededRandom(seed);
  const size = addAt >= 0 ? replicas + 1 : replicas;
  const own = Array.from({ length: INSTANCES }, () => new Int32Array(size));
  const totals = new Float64Array(INSTANCES);
  const global = new Int32Array(size);
  const tried: number[] = [];
  let spilled = 0;
  for (let s = 0; s < sessions; s++) {
    const n = addAt >= 0 && s >= addAt ? replicas + 1 : replicas;
    const i = Math.floor(random() * INSTANCES);
    const counts = own[i]!;
    const cap = epsilon === Infinity ? Infinity : capacity(totals[i]!, n, epsilon);
    tried.length = 0;
    let chosen: number;
    for (;;) {
      const r = Math.floor(random() * n);
      if (tried.includes(r)) continue; // a permutation: each replica once
      tried.push(r);
      if (counts[r]! < cap) {
        chosen = r;
        break;
      }
    }
    if (tried.length > 1) spilled++;
    counts[chosen] = counts[chosen]! + 1;
    totals[i] = totals[i]! + 1;
    global[chosen] = global[chosen]! + 1;
  }
  return { global, spilled };
}

function shares(counts: Int32Array, upTo = counts.length) {
  let max = 0;
  let min = Infinity;
  let total = 0;
  for (let r = 0; r < upTo; r++) {
    const c = counts[r]!;
    max = Math.max(max, c);
    min = Math.min(min, c);
    total += c;
  }
  const mean = total / upTo;
  return { max: max / mean, min: min / mean, mean };
}

const pct = (x: number) => `${(x * 100).toFixed(2)}%`;
const ratio = (x: number) => `${x.toFixed(3)}`;

function report(label: string, outcome: Outcome, sessions: number) {
  const s = shares(outcome.global);
  console.log(
    `${label.padEnd(46)} max/mean ${ratio(s.max)}  min/mean ${ratio(s.min)}  spill ${pct(outcome.spilled / sessions)}`,
  );
}

console.log(
  `${REPLICAS} replicas, ${INSTANCES} gateway instances placing independently, ε = ${EPSILON} (node ${process.version})`,
);
console.log(
  `\nmodel (fresh random keys), ${SESSIONS.toLocaleString('en')} sessions, mean ${SESSIONS / REPLICAS} per replica:`,
);
report('bounded load, per-instance counts', model(REPLICAS, SESSIONS, EPSILON, 1), SESSIONS);
report('plain HRW on a fresh key (no bound)', model(REPLICAS, SESSIONS, Infinity, 1), SESSIONS);
const sparse = REPLICAS * 10;
console.log(`\nmodel, ${sparse.toLocaleString('en')} sessions (10 per replica):`);
report('bounded load, per-instance counts', model(REPLICAS, sparse, EPSILON, 2), sparse);
report('plain HRW on a fresh key (no bound)', model(REPLICAS, sparse, Infinity, 2), sparse);

// A replica added halfway: sessions are sealed to their replica, so none moves; the newcomer fills from new ones.
const added = model(REPLICAS, SESSIONS, EPSILON, 3, SESSIONS / 2);
const before = shares(added.global, REPLICAS);
console.log(
  `\nreplica added after ${(SESSIONS / 2).toLocaleString('en')} sessions: existing sessions moved 0 (sealed);` +
    ` it ends with ${added.global[REPLICAS]} sessions (${ratio(added.global[REPLICAS]! / before.mean)}× the others' mean; it saw half the arrivals)`,
);
console.log(
  `replica removed: its sessions (1/${REPLICAS} = ${pct(1 / REPLICAS)}) get 404 and re-initialise elsewhere; no other session moves`,
);

// The real code: pickBounded over real replica ids with the xxHash64 rendezvous, one ledger per instance.
const hrw = await createRendezvous();
const ids: WeightedReplica[] = Array.from({ length: REPLICAS }, (_, r) => ({ id: `adapter-${r}` }));
const index = new Map(ids.map((r, i) => [r, i]));
function real(sessions: number, epsilon: number, seed: number): Outcome {
  const random = seededRandom(seed);
  const own = Array.from({ length: INSTANCES }, () => new Int32Array(REPLICAS));
  const global = new Int32Array(REPLICAS);
  let spilled = 0;
  for (let s = 0; s < sessions; s++) {
    const counts = own[Math.floor(random() * INSTANCES)]!;
    const key = Math.floor(random() * 2 ** 53).toString(36);
    const chosen = hrw.pickBounded(ids, key, (r) => counts[index.get(r)!]!, epsilon)!;
    const r = index.get(chosen)!;
    if (epsilon !== Infinity && chosen !== hrw.pick(ids, key)) spilled++;
    counts[r] = counts[r]! + 1;
    global[r] = global[r]! + 1;
  }
  return { global, spilled };
}
console.log(`\nreal pickBounded (xxHash64) against the model, ${REAL.toLocaleString('en')} sessions:`);
let started = performance.now();
report('real code, bounded load', real(REAL, EPSILON, 4), REAL);
console.log(
  `  (${((performance.now() - started) / REAL).toFixed(2)} ms per session over ${REPLICAS} replicas)`,
);
report('model, bounded load', model(REPLICAS, REAL, EPSILON, 4), REAL);

// Keys moved, for HRW keys (affinity principal / header): only keys the change concerns move.
started = performance.now();
const keys = Array.from({ length: MOVE_KEYS }, (_, k) => `caller-${k}`);
const owner = keys.map((key) => hrw.pick(ids, key)!.id);
const grown = [...ids, { id: `adapter-${REPLICAS}` }];
const shrunk = ids.slice(1);
let movedAdd = 0;
let movedElsewhere = 0;
let movedRemove = 0;
let removedOwned = 0;
keys.forEach((key, k) => {
  const after = hrw.pick(grown, key)!.id;
  if (after !== owner[k]) {
    movedAdd++;
    if (after !== `adapter-${REPLICAS}`) movedElsewhere++;
  }
  const left = hrw.pick(shrunk, key)!.id;
  if (owner[k] === ids[0]!.id) removedOwned++;
  if (left !== owner[k] && owner[k] !== ids[0]!.id) movedRemove++;
});
console.log(`\nHRW keys (affinity principal or header), ${MOVE_KEYS.toLocaleString('en')} keys, real code:`);
console.log(
  `replica added:   ${movedAdd} keys moved (${pct(movedAdd / MOVE_KEYS)}; ideal 1/${REPLICAS + 1} = ${pct(1 / (REPLICAS + 1))}), ${movedElsewhere} of them to an old replica`,
);
console.log(
  `replica removed: its ${removedOwned} keys moved (${pct(removedOwned / MOVE_KEYS)}; ideal ${pct(1 / REPLICAS)}), ${movedRemove} other keys moved`,
);
console.log(`  (${((performance.now() - started) / 1000).toFixed(1)} s)`);
