/**
 * @module Memory of the data plane's session accounting (`SessionLedger`, issue #14 part 1): the heap that
 * 30,000 open legacy sessions cost, per session, from heap deltas around forced collections; and that ended and
 * idle sessions give it back. The sealed ids are made before the first reading and kept to the end, so only what
 * the ledger itself holds is counted (the gateway never keeps a sealed id: the client sends it each time). Each
 * session has an owner (one of `CALLERS` callers) and an upstream session id, a fresh UUID string made inside the
 * measured window: the ledger keeps it for an eviction's DELETE (issue #14 part 2), so it is counted.
 *
 *   node --expose-gc --import tsx scripts/bench/session-ledger.ts    # SESSIONS=30000 REPLICAS=3 CALLERS=100
 */
import { randomUUID } from 'node:crypto';
import { createSessionSealer } from '../../src/dataplane/index.js';
import { SessionLedger } from '../../src/dataplane/session-ledger.js';

const SESSIONS = Number(process.env.SESSIONS ?? 30_000);
const REPLICAS = Number(process.env.REPLICAS ?? 3);
const CALLERS = Number(process.env.CALLERS ?? 100);
const IDLE_MS = 15 * 60 * 1000;

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');

/** Heap in use once garbage is gone: collections with event-loop turns between them (WebCrypto frees late). */
async function heapUsed(): Promise<number> {
  let last = Infinity;
  for (let i = 0; i < 20; i++) {
    gc!();
    await new Promise((resolve) => setImmediate(resolve));
    const used = process.memoryUsage().heapUsed;
    if (i >= 3 && Math.abs(used - last) < 16 * 1024) return used;
    last = used;
  }
  return last;
}

const sealer = await createSessionSealer({ secret: 'bench-secret-bench-secret-bench-secret-0123' });
const adapter = { name: 'weather', uid: randomUUID() };
const sealed: string[] = [];
for (let i = 0; i < SESSIONS; i++) {
  sealed.push(
    await sealer.seal({
      adapter: adapter.name,
      incarnation: adapter.uid,
      replica: `weather-${i % REPLICAS}`,
      upstreamSessionId: randomUUID(),
      principal: 'service-principal',
    }),
  );
}
// The sealer builds its ids by concatenation; reading one flattens it in place, which would free megabytes inside
// the measured window. A client's id arrives as one flat header string, so flatten them all now.
let flat = 0;
for (const id of sealed) flat += id.charCodeAt(id.length - 1);
const replicaOf = (i: number) => `weather-${i % REPLICAS}`;
// Principal ids are the authenticated principal's strings, alive for the request anyway: made before the readings.
const callers = Array.from({ length: CALLERS }, (_, i) => `user-${i}@example.com`);
const callerOf = (i: number) => callers[i % CALLERS]!;
// `randomUUID` builds its string by concatenation (a rope of ~20 pieces); an id read from a header is one flat string.
const flatUuid = () => Buffer.from(randomUUID(), 'latin1').toString('latin1');

// A clock the script moves, so idle-out needs no waiting; starting late, so last-seen values are not tiny.
let now = Date.now();
const ledger = new SessionLedger({ now: () => now });
ledger.touch({ name: 'warm-up', uid: 'x' }, 'r', sealed[0]!, IDLE_MS); // the ledger's own fixed cost
now += 10 * 3600 * 1000;

const base = await heapUsed();
for (let i = 0; i < SESSIONS; i++)
  ledger.touch(adapter, replicaOf(i), sealed[i]!, IDLE_MS, {
    caller: callerOf(i),
    upstreamSessionId: flatUuid(),
  });
const opened = await heapUsed();
const perSession = (opened - base) / SESSIONS;

// Every session makes a request a minute later: last-seen times change, the ledger must not grow.
now += 60_000;
for (let i = 0; i < SESSIONS; i++) ledger.touch(adapter, replicaOf(i), sealed[i]!, IDLE_MS);
const touched = await heapUsed();

const counts = () =>
  Array.from({ length: REPLICAS }, (_, r) => ledger.sessionsOn(adapter, `weather-${r}`)).join('/');
const openCounts = counts();

// Half end with DELETE; the rest idle out.
for (let i = 0; i < SESSIONS; i += 2) ledger.end(adapter, sealed[i]!, callerOf(i));
const halfCounts = counts();
const half = await heapUsed();
now += IDLE_MS + 1000;
ledger.prepare(adapter, IDLE_MS);
const idleCounts = counts();
const idled = await heapUsed();

const kb = (bytes: number) => `${(bytes / 1024).toFixed(0)} KB`;
console.log(`session ledger, ${SESSIONS} sessions over ${REPLICAS} replicas (node ${process.version})`);
console.log(
  `open:              heap +${kb(opened - base)}: ${perSession.toFixed(1)} bytes per session (target ≤ 200)`,
);
console.log(`all touched again: heap ${touched - opened >= 0 ? '+' : ''}${kb(touched - opened)} more`);
console.log(
  `counts per replica: open ${openCounts}; after ${SESSIONS / 2} DELETEs ${halfCounts}; after the idle timeout ${idleCounts}`,
);
console.log(
  `after the DELETEs: heap +${kb(half - base)} over the empty ledger; after the idle timeout: ${idled - base >= 0 ? '+' : ''}${kb(idled - base)}`,
);
if (sealed.length !== SESSIONS || flat === 0) throw new Error('unreachable'); // keeps the ids alive to the end
