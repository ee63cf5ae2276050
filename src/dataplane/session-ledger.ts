/**
 * @module SessionLedger: the legacy sessions this gateway instance has open, per adapter and replica — the
 * "sessions held" half of bounded-load placement (ARCHITECTURE §3). Nothing is shared between instances; each
 * counts what passes through it: sessions it sealed, and sessions sealed elsewhere that it has seen a request of.
 *
 * Sized for many sessions: per session one entry in a map from a number (48 bits of the sealed id's random IV,
 * which is unique per session with overwhelming odds) to a number packing the replica's slot and the last-seen
 * second, and one entry in its caller's index holding the upstream session id (the one string kept per session:
 * what an eviction's DELETE names); per replica one count, per caller one index. A session is forgotten when it
 * ends (DELETE answered 2xx, or the upstream answered 404), when no request of it was seen for the adapter's idle
 * timeout, or when it is evicted; idle sessions are swept lazily, when the adapter places a new session, so there
 * is no timer.
 *
 * Eviction (issue #14 part 2): when every replica is full, the caller's own longest-idle session makes room.
 * "Idle" means no exchange of it is in flight — no request waiting for its answer, no response or GET stream
 * still open — and its idle time is counted from when its last exchange began or ended, whichever is later.
 */

/** Options for {@link SessionLedger}. */
export interface SessionLedgerOptions {
  /** Milliseconds since the epoch; default `Date.now`. */
  readonly now?: () => number;
}

/** Slots per adapter: a replica's slot is packed into the low 16 bits of an entry's value. */
const SLOTS = 65_536;
/** Characters of the sealed id read for its key: 8 base64url characters, 48 bits of the random IV. */
const KEY_CHARS = 8;
/** Where the IV starts: after the three-character format prefix (`v2.`, `v1.`). */
const KEY_START = 3;
/** Every ledger is swept at least this often, so adapters that place nothing any more still forget. */
const FULL_SWEEP_MS = 60_000;

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const DECODE = new Int8Array(128).fill(0);
for (let i = 0; i < ALPHABET.length; i++) DECODE[ALPHABET.charCodeAt(i)] = i;

/** The ledger key of a sealed id: its first 48 IV bits as a number (exact: below 2^53). */
export function sessionKeyOf(sealed: string): number {
  let key = 0;
  for (let i = KEY_START; i < KEY_START + KEY_CHARS; i++) {
    const code = sealed.charCodeAt(i);
    key = key * 64 + (code < 128 ? DECODE[code]! : 0);
  }
  return key;
}

/**
 * A caller's sessions: while it has one (the common case when every caller is a different user), one flat string
 * `upstreamSessionId NUL key`, which costs about what the upstream id alone does; from its second session on, a map
 * from key to upstream id. A map per caller is ~170 bytes, which a caller per session would pay per session.
 */
type OwnSessions = string | Map<number, string>;

/** Packs a caller's only session; flat, so the upstream id string it was built from can be collected. */
function packOne(key: number, upstreamSessionId: string): string {
  const packed = `${upstreamSessionId}\u0000${key}`;
  // A concatenation is a rope over both parts; reading a character flattens it in place.
  packed.charCodeAt(0);
  return packed;
}
const keyOfOne = (packed: string): number => Number(packed.slice(packed.lastIndexOf('\u0000') + 1));
const upstreamOfOne = (packed: string): string => packed.slice(0, packed.lastIndexOf('\u0000'));

/** One adapter incarnation's sessions. */
class AdapterSessions {
  /** Session key → last-seen second × SLOTS + replica slot. */
  readonly seen = new Map<number, number>();
  readonly slotOf = new Map<string, number>();
  readonly replicaOf: (string | undefined)[] = [];
  readonly counts: number[] = [];
  readonly free: number[] = [];
  /** Caller (principal id) → its sessions' keys and their upstream session ids ({@link OwnSessions}). */
  readonly byCaller = new Map<string, OwnSessions>();
  /** Session key → exchanges of it in flight (only sessions with one: usually a handful). */
  readonly busy = new Map<number, number>();
  lastSweepMs: number;
  idleMs = Infinity;

  constructor(
    readonly incarnation: string,
    nowMs: number,
  ) {
    this.lastSweepMs = nowMs;
  }

  slot(replica: string): number {
    const known = this.slotOf.get(replica);
    if (known !== undefined) return known;
    const slot = this.free.pop() ?? this.counts.length;
    if (slot >= SLOTS) throw new RangeError(`SessionLedger: more than ${SLOTS} replicas of one adapter`);
    this.slotOf.set(replica, slot);
    this.replicaOf[slot] = replica;
    this.counts[slot] = 0;
    return slot;
  }

  drop(value: number): void {
    const slot = value % SLOTS;
    this.counts[slot] = this.counts[slot]! - 1;
  }

  /** Forgets the session `key` (counted with `value`) in every index. */
  forget(key: number, value: number, caller: string | undefined): void {
    this.seen.delete(key);
    this.busy.delete(key);
    this.drop(value);
    if (caller === undefined) return;
    const own = this.byCaller.get(caller);
    if (own === undefined) return;
    if (typeof own === 'string') {
      if (keyOfOne(own) === key) this.byCaller.delete(caller);
      return;
    }
    own.delete(key);
    if (own.size === 0) this.byCaller.delete(caller);
  }

  sweep(nowSec: number, idleMs: number): void {
    if (idleMs !== Infinity) {
      const oldest = nowSec - Math.ceil(idleMs / 1000);
      let gone = false;
      for (const [key, value] of this.seen) {
        // A session with an exchange in flight (a long call, an open GET stream) is in use, not idle.
        if (Math.floor(value / SLOTS) < oldest && !this.busy.has(key)) {
          this.seen.delete(key);
          this.drop(value);
          gone = true;
        }
      }
      if (gone) {
        for (const [caller, own] of this.byCaller) {
          if (typeof own === 'string') {
            if (!this.seen.has(keyOfOne(own))) this.byCaller.delete(caller);
            continue;
          }
          for (const key of own.keys()) if (!this.seen.has(key)) own.delete(key);
          if (own.size === 0) this.byCaller.delete(caller);
        }
      }
    }
    // A replica without sessions gives its slot back (replica ids change as pods come and go).
    for (let slot = 0; slot < this.counts.length; slot++) {
      const replica = this.replicaOf[slot];
      if (replica !== undefined && this.counts[slot] === 0) {
        this.slotOf.delete(replica);
        this.replicaOf[slot] = undefined;
        this.free.push(slot);
      }
    }
  }
}

/** Who owns a session, and what the upstream calls it (for the DELETE that ends it on eviction). */
export interface SessionOwner {
  /** The caller's principal id. */
  readonly caller: string;
  readonly upstreamSessionId: string;
}

/** A session evicted to make room: where it was, what the upstream calls it, how long it had been idle. */
export interface EvictedSession {
  readonly replica: string;
  readonly upstreamSessionId: string;
  readonly idleSeconds: number;
}

/** Which adapter a call is about: its name and its incarnation (registry uid). */
export interface LedgerAdapter {
  readonly name: string;
  readonly uid: string;
}

/** Open legacy sessions per adapter and replica, as this gateway instance has seen them. */
export class SessionLedger {
  readonly #adapters = new Map<string, AdapterSessions>();
  readonly #now: () => number;
  readonly #epochMs: number;
  #lastFullSweepMs: number;

  constructor(options: SessionLedgerOptions = {}) {
    this.#now = options.now ?? Date.now;
    this.#epochMs = this.#now();
    this.#lastFullSweepMs = this.#epochMs;
  }

  /** Seconds since the ledger was made: small integers, so entries stay small. */
  #second(nowMs: number): number {
    return Math.floor((nowMs - this.#epochMs) / 1000);
  }

  #of(adapter: LedgerAdapter, create: boolean): AdapterSessions | undefined {
    let sessions = this.#adapters.get(adapter.name);
    if (sessions !== undefined && sessions.incarnation !== adapter.uid) {
      // Deleted and created again: the old incarnation's sessions are gone with it.
      if (!create) return undefined;
      sessions = undefined;
    }
    if (sessions === undefined && create) {
      sessions = new AdapterSessions(adapter.uid, this.#now());
      this.#adapters.set(adapter.name, sessions);
    }
    return sessions;
  }

  /**
   * Records a request of the session `sealed` on `replica` (a new session, or one this instance sees again):
   * counts it if it is new to this instance, else refreshes its last-seen time. `idleMs` is the adapter's idle
   * timeout, after which a session without requests is forgotten. `owner` makes it evictable by its caller.
   */
  touch(adapter: LedgerAdapter, replica: string, sealed: string, idleMs: number, owner?: SessionOwner): void {
    const sessions = this.#of(adapter, true)!;
    sessions.idleMs = idleMs;
    const key = sessionKeyOf(sealed);
    const second = this.#second(this.#now());
    const value = sessions.seen.get(key);
    if (value === undefined) {
      const slot = sessions.slot(replica);
      sessions.counts[slot] = sessions.counts[slot]! + 1;
      sessions.seen.set(key, second * SLOTS + slot);
      if (owner !== undefined) {
        const own = sessions.byCaller.get(owner.caller);
        if (own === undefined) sessions.byCaller.set(owner.caller, packOne(key, owner.upstreamSessionId));
        else if (typeof own === 'string') {
          const both = new Map([[keyOfOne(own), upstreamOfOne(own)]]);
          both.set(key, owner.upstreamSessionId);
          sessions.byCaller.set(owner.caller, both);
        } else own.set(key, owner.upstreamSessionId);
      }
    } else if (Math.floor(value / SLOTS) !== second) {
      sessions.seen.set(key, second * SLOTS + (value % SLOTS));
    }
  }

  /**
   * Forgets the session `sealed` of `caller`: it ended (DELETE answered, or the upstream no longer knows it).
   * `caller` is the principal the sealed id is bound to; without it the caller's index keeps the entry until a sweep.
   */
  end(adapter: LedgerAdapter, sealed: string, caller?: string): void {
    const sessions = this.#of(adapter, false);
    if (sessions === undefined) return;
    const key = sessionKeyOf(sealed);
    const value = sessions.seen.get(key);
    if (value === undefined) return;
    sessions.forget(key, value, caller);
  }

  /**
   * An exchange of the session `sealed` begins (a request, a GET stream): the session is not idle until the
   * returned callback (safe to call more than once) says it ended; its idle time starts again then.
   */
  begin(adapter: LedgerAdapter, sealed: string): () => void {
    const sessions = this.#of(adapter, false);
    const key = sessionKeyOf(sealed);
    if (sessions === undefined || !sessions.seen.has(key)) return () => undefined;
    sessions.busy.set(key, (sessions.busy.get(key) ?? 0) + 1);
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      const left = (sessions.busy.get(key) ?? 0) - 1;
      if (left > 0) sessions.busy.set(key, left);
      else sessions.busy.delete(key);
      const value = sessions.seen.get(key);
      // Forgotten meanwhile (ended, evicted): nothing to refresh.
      if (value !== undefined) sessions.seen.set(key, this.#second(this.#now()) * SLOTS + (value % SLOTS));
    };
  }

  /**
   * Evicts `caller`'s longest-idle session on a replica `eligible` accepts, to make room for a new one of the
   * same caller: never another caller's session, never one with an exchange in flight. Forgets it and returns
   * it (the caller of this method ends it upstream), or undefined when the caller has none to give up.
   */
  evict(
    adapter: LedgerAdapter,
    caller: string,
    eligible: (replica: string) => boolean,
  ): EvictedSession | undefined {
    const sessions = this.#of(adapter, false);
    const own = sessions?.byCaller.get(caller);
    if (sessions === undefined || own === undefined) return undefined;
    let bestKey: number | undefined;
    let bestValue = Infinity;
    for (const key of typeof own === 'string' ? [keyOfOne(own)] : own.keys()) {
      const value = sessions.seen.get(key);
      if (value === undefined) {
        // Forgotten without its caller named: drop the stale entry here.
        if (typeof own === 'string') sessions.byCaller.delete(caller);
        else own.delete(key);
        continue;
      }
      if (sessions.busy.has(key)) continue;
      if (Math.floor(value / SLOTS) >= Math.floor(bestValue / SLOTS)) continue;
      if (!eligible(sessions.replicaOf[value % SLOTS]!)) continue;
      bestKey = key;
      bestValue = value;
    }
    if (bestKey === undefined) return undefined;
    const evicted = {
      replica: sessions.replicaOf[bestValue % SLOTS]!,
      upstreamSessionId: typeof own === 'string' ? upstreamOfOne(own) : own.get(bestKey)!,
      idleSeconds: Math.max(0, this.#second(this.#now()) - Math.floor(bestValue / SLOTS)),
    };
    sessions.forget(bestKey, bestValue, caller);
    return evicted;
  }

  /**
   * Before a placement: forgets the adapter's sessions idle for longer than `idleMs` (at most every quarter of
   * it), and every other adapter's once a minute. Cheap when nothing is due: two comparisons.
   */
  prepare(adapter: LedgerAdapter, idleMs: number): void {
    const nowMs = this.#now();
    const sessions = this.#of(adapter, false);
    if (sessions !== undefined) {
      sessions.idleMs = idleMs;
      if (nowMs - sessions.lastSweepMs >= idleMs / 4) {
        sessions.lastSweepMs = nowMs;
        sessions.sweep(this.#second(nowMs), idleMs);
      }
    }
    if (nowMs - this.#lastFullSweepMs >= FULL_SWEEP_MS) {
      this.#lastFullSweepMs = nowMs;
      this.#sweepAll(nowMs);
    }
  }

  /** Forgets the adapter's sessions idle for longer than `idleMs` now, whenever it last swept (before a refusal). */
  sweep(adapter: LedgerAdapter, idleMs: number): void {
    const sessions = this.#of(adapter, false);
    if (sessions === undefined) return;
    const nowMs = this.#now();
    sessions.idleMs = idleMs;
    sessions.lastSweepMs = nowMs;
    sessions.sweep(this.#second(nowMs), idleMs);
  }

  #sweepAll(nowMs: number): void {
    for (const [name, sessions] of this.#adapters) {
      sessions.lastSweepMs = nowMs;
      sessions.sweep(this.#second(nowMs), sessions.idleMs);
      if (sessions.seen.size === 0) this.#adapters.delete(name);
    }
  }

  /** Open sessions of `adapter` on `replica` that this instance knows of. */
  sessionsOn(adapter: LedgerAdapter, replica: string): number {
    const sessions = this.#of(adapter, false);
    if (sessions === undefined) return 0;
    const slot = sessions.slotOf.get(replica);
    return slot === undefined ? 0 : sessions.counts[slot]!;
  }

  /** Every adapter's open sessions per replica (replicas without any left out), e.g. for a metrics scrape. */
  snapshot(): { adapter: string; replica: string; sessions: number }[] {
    const out: { adapter: string; replica: string; sessions: number }[] = [];
    for (const [adapter, sessions] of this.#adapters) {
      for (const [replica, slot] of sessions.slotOf) {
        const count = sessions.counts[slot]!;
        if (count > 0) out.push({ adapter, replica, sessions: count });
      }
    }
    return out;
  }

  /** What the per-caller index of `adapter` holds: callers, and sessions over all of them (for tests and checks). */
  indexed(adapter: LedgerAdapter): { callers: number; sessions: number } {
    const sessions = this.#of(adapter, false);
    let count = 0;
    for (const own of sessions?.byCaller.values() ?? []) count += typeof own === 'string' ? 1 : own.size;
    return { callers: sessions?.byCaller.size ?? 0, sessions: count };
  }

  /** Open sessions of `adapter` per replica id (replicas without any left out). */
  openSessions(adapter: LedgerAdapter): Map<string, number> {
    const out = new Map<string, number>();
    const sessions = this.#of(adapter, false);
    if (sessions === undefined) return out;
    for (const [replica, slot] of sessions.slotOf) {
      const count = sessions.counts[slot]!;
      if (count > 0) out.set(replica, count);
    }
    return out;
  }
}
