import { describe, expect, it } from 'vitest';
import { ProbeScheduler } from './probe-scheduler.js';
import type { ProbeSchedulerOptions } from './probe-scheduler.js';

/** A scheduler on a hand-driven clock whose probes resolve only when the test says so. */
function harness(options: Partial<ProbeSchedulerOptions<boolean>> = {}) {
  let now = 0;
  const sent: string[] = [];
  const pending = new Map<string, ((up: boolean) => void)[]>();
  let inFlight = 0;
  let maxInFlight = 0;
  const results: [string, boolean][] = [];
  const scheduler = new ProbeScheduler<boolean>({
    intervalMs: 10_000,
    jitter: 0,
    random: () => 0,
    now: () => now,
    probe: (url) => {
      sent.push(url);
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      return new Promise<boolean>((resolve) => {
        const list = pending.get(url) ?? [];
        list.push((up) => {
          inFlight--;
          resolve(up);
        });
        pending.set(url, list);
      });
    },
    isUp: (up) => up,
    onResult: (url, up) => results.push([url, up]),
    ...options,
  });
  /** Answers every probe in flight of `url` and lets the promise callbacks run. */
  const answer = async (url: string, up: boolean) => {
    for (const resolve of pending.get(url)?.splice(0) ?? []) resolve(up);
    await new Promise((r) => setImmediate(r));
  };
  return {
    scheduler,
    sent,
    results,
    answer,
    maxInFlight: () => maxInFlight,
    at: (ms: number) => {
      now = ms;
      scheduler.runDue();
    },
  };
}

describe('ProbeScheduler', () => {
  it('spreads the first probes of new URLs over the interval instead of one burst', () => {
    const values = Array.from({ length: 100 }, (_, i) => i / 100);
    const h = harness({ random: () => values.shift() ?? 0, concurrency: 1000 });
    for (let i = 0; i < 100; i++) h.scheduler.add(`http://127.0.0.1:${1000 + i}/mcp`);
    h.at(0);
    expect(h.sent).toHaveLength(1);
    h.at(2_499);
    expect(h.sent).toHaveLength(25);
    h.at(9_999);
    expect(h.sent).toHaveLength(100);
  });

  it('never has more probes in flight than its bound, and starts the waiting ones as slots free up', async () => {
    const h = harness({ concurrency: 4 });
    const urls = Array.from({ length: 20 }, (_, i) => `http://127.0.0.1:${2000 + i}/mcp`);
    for (const url of urls) h.scheduler.add(url);
    h.at(0);
    expect(h.sent).toHaveLength(4);
    // On-demand probes (an apply, a status read) wait for a slot too.
    const asked = urls.slice(10).map((url) => h.scheduler.probe(url));
    expect(h.sent).toHaveLength(4);
    for (const url of urls.slice(0, 4)) await h.answer(url, true);
    expect(h.sent).toHaveLength(8);
    for (const url of urls) await h.answer(url, true);
    for (const url of urls) await h.answer(url, true);
    await Promise.all(asked);
    expect(h.maxInFlight()).toBe(4);
  });

  it('joins a probe of a URL that is already in flight', async () => {
    const h = harness();
    const url = 'http://127.0.0.1:3000/mcp';
    const first = h.scheduler.probe(url);
    const second = h.scheduler.probe(url);
    expect(h.sent).toEqual([url]);
    await h.answer(url, true);
    expect(await first).toBe(true);
    expect(await second).toBe(true);
    expect(h.results).toEqual([[url, true]]);
  });

  it('backs a URL that stays down off, doubling up to the ceiling, and resets once it is up', async () => {
    const h = harness({ maxBackoffMs: 40_000 });
    const url = 'http://127.0.0.1:3001/mcp';
    h.scheduler.add(url);
    const probeTimes: number[] = [];
    let now = 0;
    for (let step = 0; step < 6; step++) {
      // Walk the clock forward one second at a time: a probe is sent exactly when it falls due.
      for (h.at(now); h.sent.length === probeTimes.length; h.at(now)) now += 1_000;
      probeTimes.push(now);
      await h.answer(url, step >= 4);
    }
    const gaps = probeTimes.slice(1).map((t, i) => t - probeTimes[i]!);
    // Failures at 0, 10, 30, 70 s; the fourth failure's wait is capped at 40 s; then up: back to 10 s.
    expect(gaps).toEqual([10_000, 20_000, 40_000, 40_000, 10_000]);
  });

  it('skips the probe of a URL that just answered the data plane', async () => {
    const h = harness();
    const url = 'http://127.0.0.1:3002/mcp';
    h.scheduler.add(url);
    h.at(0);
    await h.answer(url, true);
    h.at(8_000);
    h.scheduler.answered(url);
    h.at(10_000);
    expect(h.sent).toHaveLength(1);
    h.at(18_000);
    expect(h.sent).toHaveLength(2);
  });

  it('forgets a deleted URL', () => {
    const h = harness();
    h.scheduler.add('http://127.0.0.1:3003/mcp');
    h.scheduler.delete('http://127.0.0.1:3003/mcp');
    h.at(60_000);
    expect(h.sent).toEqual([]);
    expect(h.scheduler.size).toBe(0);
  });
});
