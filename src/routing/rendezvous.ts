/**
 * @module Rendezvous: weighted highest-random-weight (HRW) hashing, the placement rule of the data plane.
 *
 * Each replica scores a key as `weight / −ln(u)`, where `u ∈ (0,1)` comes from the top 53 bits of a 64-bit hash
 * of `replicaId ‖ 0x00 ‖ key` (UTF-8). The highest score owns the key; the descending order is the failover list.
 * Because a replica's score depends only on its own id, weight and the key, adding or removing a replica moves
 * only the keys it gains or owned (ARCHITECTURE §3, "Affinity without a session store").
 */
import xxhash from 'xxhash-wasm';

/** A candidate for placement: a ready replica of an adapter or tool server. */
export interface WeightedReplica {
  /** Stable, unique id of the replica; must not contain U+0000 (it separates the id from the key). */
  readonly id: string;
  /**
   * Relative capacity: a finite number ≥ 0, default 1. Weight 0 excludes the replica; a negative or
   * non-finite weight is a programming error and throws a RangeError.
   */
  readonly weight?: number;
}

/**
 * A 64-bit hash of the UTF-8 bytes of `input`, as an unsigned bigint in [0, 2^64).
 * The default is xxHash64 ({@link createXxh64Hash}); tests may inject their own.
 */
export type Hash64 = (input: string) => bigint;

/** How much load a replica carries now (sessions or in-flight requests this gateway instance sent to it). */
export type LoadOf<R extends WeightedReplica> = (replica: R) => number;

/** Options for {@link createRendezvous}. */
export interface RendezvousOptions {
  /** Seed of the default xxHash64, an integer in [0, 2^64); default 0. Not allowed together with `hash`. */
  readonly seed?: bigint;
  /** Use this hash instead of xxHash64 (its own seed, if any, is its business). */
  readonly hash?: Hash64;
}

/** Weighted rendezvous hashing over a caller-supplied replica list; stateless and safe to share. */
export interface Rendezvous {
  /**
   * The replica with the highest score for `key`, or `undefined` when no replica has a weight above 0.
   * Ties (practically never) go to the smaller replica id, so the result never depends on input order.
   */
  pick<R extends WeightedReplica>(replicas: readonly R[], key: string): R | undefined;
  /** Every replica with a weight above 0, best first: the failover order for `key`. `rank(…)[0]` is `pick(…)`. */
  rank<R extends WeightedReplica>(replicas: readonly R[], key: string): R[];
  /**
   * Bounded-load choice: the first replica in HRW order whose load is below its capacity
   * `ceil((totalLoad + 1) × (1 + epsilon) × weight / totalWeight)`, i.e. one that stays within (1+ε)× its
   * weighted share of the load once it takes this key. With equal weights this is the usual
   * `ceil((total + 1) / n × (1 + ε))`. When every replica carries the same load the result equals {@link pick}.
   * @param load current load of a replica; must be a finite number ≥ 0 (else RangeError).
   * @param epsilon allowed overshoot over the weighted mean, finite and ≥ 0; default {@link DEFAULT_LOAD_EPSILON}.
   */
  pickBounded<R extends WeightedReplica>(
    replicas: readonly R[],
    key: string,
    load: LoadOf<R>,
    epsilon?: number,
  ): R | undefined;
}

/** Default ε of {@link Rendezvous.pickBounded}: a replica may carry up to 1.25× its share before it is skipped. */
export const DEFAULT_LOAD_EPSILON = 0.25;

const TWO_POW_64 = 1n << 64n;
const TWO_POW_MINUS_53 = 2 ** -53;
/** The largest double below 1. */
const BELOW_ONE = 1 - 2 ** -53;

/**
 * Maps a 64-bit hash to u ∈ (0,1) from its top 53 bits: `(bits + 0.5) / 2^53`, never 0 nor 1.
 * Above 1/2 doubles are 2^-53 apart, so the half step rounds to a neighbour; only `bits = 2^53 − 1` would
 * round to exactly 1 (score w/0 = ∞), hence the clamp to the largest double below 1.
 * Exported for tests; not part of the routing package's public entry.
 */
export function unitInterval(hash: bigint): number {
  return Math.min((Number(hash >> 11n) + 0.5) * TWO_POW_MINUS_53, BELOW_ONE);
}

/**
 * Loads xxhash-wasm once and returns xxHash64 of the UTF-8 bytes of its input with the given seed.
 * Async because the WebAssembly module is compiled on first use.
 */
export async function createXxh64Hash(seed: bigint = 0n): Promise<Hash64> {
  if (seed < 0n || seed >= TWO_POW_64)
    throw new RangeError(`xxHash64 seed must be in [0, 2^64), got ${seed}.`);
  const { h64 } = await xxhash();
  // h64 writes the string straight into WebAssembly memory with TextEncoder.encodeInto: no byte copy of our own.
  return (input) => h64(input, seed);
}

/**
 * Creates the rendezvous hasher: `await` it once at start-up and share it; every call after that is synchronous.
 * @throws RangeError when both `seed` and `hash` are given (the seed would be silently ignored).
 */
export async function createRendezvous(options: RendezvousOptions = {}): Promise<Rendezvous> {
  const { seed, hash } = options;
  if (hash !== undefined && seed !== undefined) {
    throw new RangeError('Rendezvous options: give either a seed for the default hash or a hash, not both.');
  }
  // An injected hash may return negative or wider values; folding them keeps u inside (0,1). The default
  // xxHash64 already returns unsigned 64-bit values, so the hot path skips the extra bigint.
  const hash64: Hash64 =
    hash === undefined ? await createXxh64Hash(seed) : (input) => BigInt.asUintN(64, hash(input));
  return rendezvousOver(hash64);
}

function rendezvousOver(hash: Hash64): Rendezvous {
  function score(id: string, weight: number, key: string): number {
    // U+0000 encodes to the single byte 0x00, which the id never contains: `id ‖ 0x00 ‖ key` is unambiguous.
    return weight / -Math.log(unitInterval(hash(id + '\0' + key)));
  }

  function pick<R extends WeightedReplica>(replicas: readonly R[], key: string): R | undefined {
    if (replicas.length === 1) {
      // A lone replica wins whatever its score: skip the hash, still validate.
      const only = replicas[0] as R;
      return weightOf(only) === 0 ? undefined : only;
    }
    let best: R | undefined;
    let bestScore = 0; // every real score is > 0
    for (const replica of replicas) {
      const weight = weightOf(replica);
      if (weight === 0) continue;
      const s = score(replica.id, weight, key);
      if (best === undefined || s > bestScore || (s === bestScore && replica.id < best.id)) {
        best = replica;
        bestScore = s;
      }
    }
    return best;
  }

  function rank<R extends WeightedReplica>(replicas: readonly R[], key: string): R[] {
    const scored: { replica: R; score: number }[] = [];
    for (const replica of replicas) {
      const weight = weightOf(replica);
      if (weight !== 0) scored.push({ replica, score: score(replica.id, weight, key) });
    }
    // Scores are finite and positive, so the difference is a valid comparator; ids break ties as in pick.
    scored.sort((a, b) => b.score - a.score || compareIds(a.replica.id, b.replica.id));
    return scored.map((entry) => entry.replica);
  }

  function pickBounded<R extends WeightedReplica>(
    replicas: readonly R[],
    key: string,
    load: LoadOf<R>,
    epsilon: number = DEFAULT_LOAD_EPSILON,
  ): R | undefined {
    if (!(epsilon >= 0 && epsilon < Infinity)) {
      throw new RangeError(`Load epsilon must be a finite number >= 0, got ${epsilon}.`);
    }
    // A lone replica is always under its capacity, ceil((load + 1) × (1 + ε)) > load: no hashing needed.
    if (replicas.length === 1) return pick(replicas, key);
    let totalWeight = 0;
    let totalLoad = 0;
    for (const replica of replicas) {
      const weight = weightOf(replica);
      if (weight === 0) continue;
      totalWeight += weight;
      totalLoad += loadOf(replica, load);
    }
    if (totalWeight === 0) return undefined;
    // Capacity per unit of weight, counting the key being placed. The first replica in HRW order that is under
    // its capacity is the highest-scoring one among those under capacity, so one pass finds it without sorting,
    // and replicas already at capacity are never hashed.
    const capacityPerWeight = ((totalLoad + 1) * (1 + epsilon)) / totalWeight;
    let best: R | undefined;
    let bestScore = 0;
    for (const replica of replicas) {
      const weight = replica.weight ?? 1; // validated in the first pass
      if (weight === 0 || loadOf(replica, load) >= Math.ceil(capacityPerWeight * weight)) continue;
      const s = score(replica.id, weight, key);
      if (best === undefined || s > bestScore || (s === bestScore && replica.id < best.id)) {
        best = replica;
        bestScore = s;
      }
    }
    // Some replica is always under capacity when `load` answers consistently (the capacities sum to more than
    // the total load); if it does not, fall back to the plain first choice rather than to nothing.
    return best ?? pick(replicas, key);
  }

  return { pick, rank, pickBounded };
}

/** The weight of a replica after validation: a finite number ≥ 0 (0 means "excluded"). */
function weightOf(replica: WeightedReplica): number {
  const weight = replica.weight ?? 1;
  // Written so that NaN fails too.
  if (!(weight >= 0 && weight < Infinity)) {
    throw new RangeError(
      `Replica ${JSON.stringify(replica.id)}: weight must be a finite number >= 0, got ${weight}.`,
    );
  }
  if (replica.id.includes('\0')) {
    throw new RangeError(`Replica ${JSON.stringify(replica.id)}: id must not contain U+0000.`);
  }
  return weight;
}

function loadOf<R extends WeightedReplica>(replica: R, load: LoadOf<R>): number {
  const value = load(replica);
  if (!(value >= 0 && value < Infinity)) {
    throw new RangeError(
      `Replica ${JSON.stringify(replica.id)}: load must be a finite number >= 0, got ${value}.`,
    );
  }
  return value;
}

/** Code-unit order, the same order `<` uses in {@link Rendezvous.pick}. */
function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
