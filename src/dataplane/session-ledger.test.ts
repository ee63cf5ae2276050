/** @module Tests of the per-instance session ledger: counts per replica, ends, idle-out, incarnations. */
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
});
