/** @module Tests of power-of-two-choices placement. */
import { describe, expect, it } from 'vitest';
import { pickTwoChoices } from './index.js';
import type { WeightedReplica } from './index.js';
import { seededRandom } from '../../test/seeded-random.js';

const replicas = (n: number, weights?: number[]): WeightedReplica[] =>
  Array.from({ length: n }, (_, i) => ({ id: `r${i}`, weight: weights?.[i] ?? 1 }));

describe('pickTwoChoices', () => {
  it('spreads requests over every replica and keeps in-flight load within a small spread', () => {
    const list = replicas(8);
    const open = new Map<string, number>();
    const random = seededRandom(7);
    // 8,000 requests that stay open: each lands on the less loaded of two draws.
    for (let i = 0; i < 8000; i++) {
      const r = pickTwoChoices(list, (x) => open.get(x.id) ?? 0, random)!;
      open.set(r.id, (open.get(r.id) ?? 0) + 1);
    }
    const loads = [...open.values()];
    expect(loads).toHaveLength(8);
    // Two choices keep the gap between max and min to a few requests (one choice would be ~±90 here).
    expect(Math.max(...loads) - Math.min(...loads)).toBeLessThanOrEqual(4);
  });

  it('prefers the less loaded of the two draws', () => {
    const list = replicas(2);
    const busy = (r: WeightedReplica) => (r.id === 'r0' ? 10 : 0);
    for (let i = 0; i < 20; i++) expect(pickTwoChoices(list, busy, seededRandom(i))!.id).toBe('r1');
  });

  it('never draws a replica of weight 0, and draws by weight', () => {
    const list = replicas(3, [0, 1, 3]);
    const seen = new Map<string, number>();
    const random = seededRandom(3);
    for (let i = 0; i < 4000; i++) {
      const r = pickTwoChoices(list, () => 0, random)!;
      seen.set(r.id, (seen.get(r.id) ?? 0) + 1);
    }
    expect(seen.has('r0')).toBe(false);
    // With equal load the first draw wins: r2 is drawn first three times as often as r1.
    expect(seen.get('r2')! / seen.get('r1')!).toBeGreaterThan(2.5);
    expect(seen.get('r2')! / seen.get('r1')!).toBeLessThan(3.5);
  });

  it('returns the lone candidate, and undefined when there is none', () => {
    expect(
      pickTwoChoices(
        replicas(1),
        () => 0,
        () => 0.99,
      )!.id,
    ).toBe('r0');
    expect(pickTwoChoices(replicas(2, [0, 5]), () => 0)!.id).toBe('r1');
    expect(pickTwoChoices(replicas(2, [0, 0]), () => 0)).toBeUndefined();
    expect(pickTwoChoices([], () => 0)).toBeUndefined();
  });

  it('draws two distinct replicas even when random() returns its extremes', () => {
    const list = replicas(3);
    const load = (r: WeightedReplica) => (r.id === 'r2' ? 0 : 5);
    // 0.999… for both draws: first r2, second clamped into range and distinct from it.
    expect(pickTwoChoices(list, load, () => 0.9999999999)!.id).toBe('r2');
    expect(pickTwoChoices(list, load, () => 0)!.id).not.toBe('r2');
  });

  it('refuses a negative weight or load as a programming error', () => {
    expect(() => pickTwoChoices([{ id: 'a', weight: -1 }, { id: 'b' }], () => 0)).toThrow(RangeError);
    expect(() => pickTwoChoices(replicas(2), () => Number.NaN)).toThrow(RangeError);
  });
});
