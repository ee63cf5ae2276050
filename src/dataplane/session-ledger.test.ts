/** @module Tests of the per-instance session ledger: counts per replica, ends, idle-out, incarnations, eviction. */
import { describe, expect, it } from 'vitest';
import { SessionLedger, sessionKeyOf } from './session-ledger.js';

const adapter = { name: 'weather', uid: 'uid-1' };
const IDLE = 900_000;

/** A sealed-looking id whose IV characters are `iv` (the ledger reads only those). */
const sealedId = (iv: string) => `v2.${iv.padEnd(8, 'A')}rest-of-the-sealed-id`;

function clock(start = 1_700_000_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe('SessionLedger', () => {
  it('counts sessions per replica and forgets one that ended', () => {
    const t = clock();
    const ledger = new SessionLedger({ now: t.now });
    ledger.touch(adapter, 'r0', sealedId('AAAAAAAB'), IDLE);
    ledger.touch(adapter, 'r0', sealedId('AAAAAAAC'), IDLE);
    ledger.touch(adapter, 'r1', sealedId('AAAAAAAD'), IDLE);
    // A repeat request of a known session does not count it twice.
    ledger.touch(adapter, 'r0', sealedId('AAAAAAAB'), IDLE);
    expect(ledger.sessionsOn(adapter, 'r0')).toBe(2);
    expect(ledger.sessionsOn(adapter, 'r1')).toBe(1);
    expect(ledger.sessionsOn(adapter, 'r2')).toBe(0);

    ledger.end(adapter, sealedId('AAAAAAAB'));
    ledger.end(adapter, sealedId('AAAAAAAB')); // twice: no effect the second time
    ledger.end(adapter, sealedId('ZZZZZZZZ')); // never seen
    expect(ledger.sessionsOn(adapter, 'r0')).toBe(1);
    expect(ledger.openSessions(adapter)).toEqual(
      new Map([
        ['r0', 1],
        ['r1', 1],
      ]),
    );
  });

  it('forgets sessions without a request for the idle timeout, and keeps those still in use', () => {
    const t = clock();
    const ledger = new SessionLedger({ now: t.now });
    ledger.touch(adapter, 'r0', sealedId('AAAAAAAB'), IDLE);
    ledger.touch(adapter, 'r0', sealedId('AAAAAAAC'), IDLE);
    t.advance(IDLE / 2);
    ledger.touch(adapter, 'r0', sealedId('AAAAAAAC'), IDLE); // still in use
    t.advance(IDLE / 2 + 2000);
    ledger.prepare(adapter, IDLE);
    expect(ledger.sessionsOn(adapter, 'r0')).toBe(1);
    t.advance(IDLE / 2 + 2000);
    ledger.prepare(adapter, IDLE);
    expect(ledger.sessionsOn(adapter, 'r0')).toBe(0);
    expect(ledger.openSessions(adapter).size).toBe(0);
  });

  it('sweeps adapters that place nothing any more within a minute past their idle timeout', () => {
    const t = clock();
    const ledger = new SessionLedger({ now: t.now });
    const other = { name: 'other', uid: 'u' };
    ledger.touch(other, 'r0', sealedId('AAAAAAAB'), 30_000);
    t.advance(61_000);
    ledger.prepare(adapter, IDLE); // another adapter's placement
    expect(ledger.sessionsOn(other, 'r0')).toBe(0);
  });

  it('starts from nothing for an adapter deleted and created again under the same name', () => {
    const ledger = new SessionLedger();
    ledger.touch(adapter, 'r0', sealedId('AAAAAAAB'), IDLE);
    const again = { name: 'weather', uid: 'uid-2' };
    expect(ledger.sessionsOn(again, 'r0')).toBe(0);
    ledger.touch(again, 'r0', sealedId('AAAAAAAC'), IDLE);
    expect(ledger.sessionsOn(again, 'r0')).toBe(1);
    expect(ledger.sessionsOn(adapter, 'r0')).toBe(0);
  });

  it('keys a session by 48 bits of its IV, so distinct IVs are distinct sessions', () => {
    expect(sessionKeyOf(sealedId('AAAAAAAB'))).toBe(1);
    expect(sessionKeyOf(sealedId('________'))).toBe(2 ** 48 - 1);
    expect(sessionKeyOf('v1.BAAAAAAA...')).toBe(2 ** 42);
  });

  it('gives the slot of a replica without sessions back after a sweep', () => {
    const t = clock();
    const ledger = new SessionLedger({ now: t.now });
    for (let i = 0; i < 100; i++) {
      t.advance(2000);
      ledger.prepare(adapter, 1000);
      ledger.touch(adapter, `pod-${i}`, sealedId(`AAAAA${String(i).padStart(3, '0')}`), 1000);
    }
    // Every earlier pod's session idled out and its slot went to the next pod, which starts at 1, not more.
    expect(ledger.openSessions(adapter)).toEqual(new Map([['pod-99', 1]]));
    expect(ledger.sessionsOn(adapter, 'pod-98')).toBe(0);
  });

  describe('eviction (every replica full)', () => {
    const owner = (caller: string, upstream: string) => ({ caller, upstreamSessionId: upstream });
    const any = () => true;

    it("evicts the caller's longest-idle session, never another caller's, and forgets it", () => {
      const t = clock();
      const ledger = new SessionLedger({ now: t.now });
      ledger.touch(adapter, 'r0', sealedId('AAAAAAAB'), IDLE, owner('alice', 'up-a1'));
      t.advance(5000);
      ledger.touch(adapter, 'r1', sealedId('AAAAAAAC'), IDLE, owner('alice', 'up-a2'));
      // Bob's session is the longest idle of all, but it is not Alice's to give up.
      ledger.touch(adapter, 'r1', sealedId('AAAAAAAD'), IDLE, owner('bob', 'up-b1'));
      t.advance(5000);
      ledger.touch(adapter, 'r0', sealedId('AAAAAAAB'), IDLE, owner('alice', 'up-a1')); // a1 in use again
      t.advance(3000);

      expect(ledger.evict(adapter, 'alice', any)).toEqual({
        replica: 'r1',
        upstreamSessionId: 'up-a2',
        idleSeconds: 8,
      });
      expect(ledger.sessionsOn(adapter, 'r1')).toBe(1); // only Bob's is left there
      expect(ledger.evict(adapter, 'alice', any)).toEqual({
        replica: 'r0',
        upstreamSessionId: 'up-a1',
        idleSeconds: 3,
      });
      expect(ledger.sessionsOn(adapter, 'r0')).toBe(0);
      // Alice has none left; a caller with no session never takes Bob's.
      expect(ledger.evict(adapter, 'alice', any)).toBeUndefined();
      expect(ledger.evict(adapter, 'carol', any)).toBeUndefined();
      expect(ledger.openSessions(adapter)).toEqual(new Map([['r1', 1]]));
    });

    it('never evicts a session with an exchange in flight, and counts idle time from when it ended', () => {
      const t = clock();
      const ledger = new SessionLedger({ now: t.now });
      ledger.touch(adapter, 'r0', sealedId('AAAAAAAB'), IDLE, owner('alice', 'up-1'));
      t.advance(1000);
      ledger.touch(adapter, 'r0', sealedId('AAAAAAAC'), IDLE, owner('alice', 'up-2'));
      const stream = ledger.begin(adapter, sealedId('AAAAAAAB')); // an open GET stream
      t.advance(60_000);
      expect(ledger.evict(adapter, 'alice', any)?.upstreamSessionId).toBe('up-2');
      expect(ledger.evict(adapter, 'alice', any)).toBeUndefined(); // the streaming one stays
      t.advance(IDLE + 1000);
      ledger.sweep(adapter, IDLE); // nor is it swept as idle while its stream is open
      expect(ledger.sessionsOn(adapter, 'r0')).toBe(1);
      stream();
      stream(); // twice: no effect the second time
      t.advance(4000);
      expect(ledger.evict(adapter, 'alice', any)).toEqual({
        replica: 'r0',
        upstreamSessionId: 'up-1',
        idleSeconds: 4,
      });
    });

    it('keeps a caller with one session in the compact form, and grows and empties it correctly', () => {
      const t = clock();
      const ledger = new SessionLedger({ now: t.now });
      // An upstream id of any shape (digits, colons) comes back exactly.
      ledger.touch(adapter, 'r0', sealedId('AAAAAAAB'), IDLE, owner('solo', 'up:1:0'));
      expect(ledger.indexed(adapter)).toEqual({ callers: 1, sessions: 1 });
      t.advance(2000);
      expect(ledger.evict(adapter, 'solo', any)).toEqual({
        replica: 'r0',
        upstreamSessionId: 'up:1:0',
        idleSeconds: 2,
      });
      expect(ledger.indexed(adapter)).toEqual({ callers: 0, sessions: 0 });
      // One, then a second (the map form), then ended one by one.
      ledger.touch(adapter, 'r0', sealedId('AAAAAAAC'), IDLE, owner('solo', 'up-2'));
      t.advance(1000);
      ledger.touch(adapter, 'r1', sealedId('AAAAAAAD'), IDLE, owner('solo', 'up-3'));
      expect(ledger.indexed(adapter)).toEqual({ callers: 1, sessions: 2 });
      ledger.end(adapter, sealedId('AAAAAAAC'), 'solo');
      expect(ledger.evict(adapter, 'solo', any)?.upstreamSessionId).toBe('up-3');
      expect(ledger.indexed(adapter)).toEqual({ callers: 0, sessions: 0 });
      // Ended without its caller named, the compact entry is dropped when the caller next evicts, or by a sweep.
      ledger.touch(adapter, 'r0', sealedId('AAAAAAAE'), IDLE, owner('solo', 'up-4'));
      ledger.touch(adapter, 'r0', sealedId('AAAAAAAF'), IDLE, owner('other', 'up-5'));
      ledger.end(adapter, sealedId('AAAAAAAE'));
      ledger.end(adapter, sealedId('AAAAAAAF'));
      expect(ledger.evict(adapter, 'solo', any)).toBeUndefined();
      expect(ledger.indexed(adapter)).toEqual({ callers: 1, sessions: 1 });
      ledger.touch(adapter, 'r0', sealedId('AAAAAAAG'), IDLE, owner('third', 'up-6'));
      t.advance(IDLE + 2000);
      ledger.sweep(adapter, IDLE);
      expect(ledger.indexed(adapter)).toEqual({ callers: 0, sessions: 0 });
    });

    it('evicts only on replicas that take new sessions', () => {
      const t = clock();
      const ledger = new SessionLedger({ now: t.now });
      ledger.touch(adapter, 'draining', sealedId('AAAAAAAB'), IDLE, owner('alice', 'up-1'));
      t.advance(1000);
      ledger.touch(adapter, 'r1', sealedId('AAAAAAAC'), IDLE, owner('alice', 'up-2'));
      expect(ledger.evict(adapter, 'alice', (r) => r !== 'draining')?.replica).toBe('r1');
      expect(ledger.evict(adapter, 'alice', (r) => r !== 'draining')).toBeUndefined();
    });

    it('forgets every index entry of sessions that ended, idled out or were evicted', () => {
      const t = clock();
      const ledger = new SessionLedger({ now: t.now });
      const id = (i: number) => sealedId(`AAAA${String(i).padStart(4, '0')}`);
      for (let i = 0; i < 300; i++)
        ledger.touch(adapter, `r${i % 3}`, id(i), IDLE, owner(`user-${i % 10}`, `up-${i}`));
      for (let i = 0; i < 100; i++) ledger.end(adapter, id(i), `user-${i % 10}`);
      for (let i = 100; i < 110; i++) ledger.end(adapter, id(i)); // its caller not named
      for (let c = 0; c < 10; c++) ledger.evict(adapter, `user-${c}`, any);
      expect([...ledger.openSessions(adapter).values()].reduce((a, b) => a + b, 0)).toBe(180);
      // The index holds the open sessions, and at most the few ended without their caller named.
      expect(ledger.indexed(adapter).sessions).toBeGreaterThanOrEqual(180);
      expect(ledger.indexed(adapter).sessions).toBeLessThanOrEqual(190);
      t.advance(IDLE + 2000);
      ledger.sweep(adapter, IDLE);
      expect(ledger.openSessions(adapter).size).toBe(0);
      // Nothing is left to evict: the caller indexes went with the sessions.
      for (let c = 0; c < 10; c++) expect(ledger.evict(adapter, `user-${c}`, any)).toBeUndefined();
      expect(ledger.indexed(adapter)).toEqual({ callers: 0, sessions: 0 });
    });
  });
});
