/**
 * @module two-choices: power-of-two-choices placement, the default for stateless requests (ARCHITECTURE §3,
 * "Affinity without a session store"). Two replicas are drawn at random, weighted by capacity, and the one with
 * less load per unit of weight takes the request. Nothing is hashed, so it costs two draws and two load reads.
 */
import type { LoadOf, WeightedReplica } from './rendezvous.js';

/** A uniform random number in [0, 1), as `Math.random` returns; injected so tests are deterministic. */
export type UnitRandom = () => number;

/**
 * Picks one of `replicas` by the power of two choices: two distinct draws (by weight; weight 0 never drawn), the
 * one with the smaller `load / weight` wins, the first draw on a tie. `undefined` when no replica has a weight
 * above 0. A lone candidate is returned without drawing.
 * @param load current load of a replica (requests in flight this instance sent to it).
 */
export function pickTwoChoices<R extends WeightedReplica>(
  replicas: readonly R[],
  load: LoadOf<R>,
  random: UnitRandom = Math.random,
): R | undefined {
  let total = 0;
  let positive = 0;
  let uniform = true;
  let firstWeight = -1;
  for (const replica of replicas) {
    const weight = replica.weight ?? 1;
    if (!(weight >= 0 && weight < Infinity)) {
      throw new RangeError(
        `Replica ${JSON.stringify(replica.id)}: weight must be a finite number >= 0, got ${weight}.`,
      );
    }
    if (weight === 0) {
      uniform = false;
      continue;
    }
    if (firstWeight < 0) firstWeight = weight;
    else if (weight !== firstWeight) uniform = false;
    total += weight;
    positive += 1;
  }
  if (positive === 0) return undefined;
  if (positive === 1) return replicas.find((r) => (r.weight ?? 1) > 0);

  let a: number;
  let b: number;
  if (uniform) {
    // Equal weights (the common case): two distinct indexes without a scan.
    const n = replicas.length;
    a = Math.min(Math.floor(random() * n), n - 1);
    b = Math.min(Math.floor(random() * (n - 1)), n - 2);
    if (b >= a) b += 1;
  } else {
    a = drawByWeight(replicas, total, random, -1);
    const without = total - (replicas[a]!.weight ?? 1);
    b = drawByWeight(replicas, without, random, a);
  }
  const first = replicas[a]!;
  const second = replicas[b]!;
  const perWeight = (r: R) => {
    const value = load(r);
    if (!(value >= 0 && value < Infinity)) {
      throw new RangeError(
        `Replica ${JSON.stringify(r.id)}: load must be a finite number >= 0, got ${value}.`,
      );
    }
    return value / (r.weight ?? 1);
  };
  return perWeight(second) < perWeight(first) ? second : first;
}

/** The index of a replica drawn with probability weight/total, skipping `except` (already drawn). */
function drawByWeight(
  replicas: readonly WeightedReplica[],
  total: number,
  random: UnitRandom,
  except: number,
): number {
  let target = random() * total;
  let last = -1;
  for (let i = 0; i < replicas.length; i++) {
    if (i === except) continue;
    const weight = replicas[i]!.weight ?? 1;
    if (weight === 0) continue;
    last = i;
    if (target < weight) return i;
    target -= weight;
  }
  // Rounding can leave a sliver past the last weight: the last candidate takes it.
  return last;
}
