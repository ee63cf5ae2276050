/**
 * @module Tests of the failover store: a shared store that fails or times out is replaced by this instance's
 * buckets at once, the outage is logged once, the backend in use is reported, and the shared store is used again
 * once it answers. The shared store here is a stand-in whose answers the test controls.
 */
import { describe, expect, it } from 'vitest';
import { createLogger } from '../observability/index.js';
import type { RateLimitBackend } from '../observability/index.js';
import { createFailoverRateLimiterStore } from './failover-rate-limiter-store.js';
import { memoryRateLimiterStore } from './rate-limiter.js';
import type { RateLimiterStore } from './rate-limiter.js';

function capturingLogger() {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({
    level: 'info',
    destination: { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) },
  });
  return { logger, lines, warnings: () => lines.filter((l) => l.level === 40) };
}

/** A shared store that answers `wait` from a promise, or fails, as `mode` says. */
function standIn() {
  const state = { mode: 'ok' as 'ok' | 'fail', calls: 0 };
  const store: RateLimiterStore = {
    limiter: () => ({
      take: () => {
        state.calls++;
        return state.mode === 'ok' ? Promise.resolve(0) : Promise.reject(new Error('Command timed out'));
      },
    }),
  };
  return { store, state };
}

function setup() {
  let t = 0;
  const shared = standIn();
  const log = capturingLogger();
  const backends: RateLimitBackend[] = [];
  let probeAnswers = false;
  let probes = 0;
  const store = createFailoverRateLimiterStore({
    shared: shared.store,
    local: memoryRateLimiterStore({ now: () => t }),
    probe: () => {
      probes++;
      return probeAnswers ? Promise.resolve('PONG') : Promise.reject(new Error('down'));
    },
    retryMs: 1000,
    now: () => t,
    logger: log.logger,
    onBackend: (backend) => backends.push(backend),
  });
  return {
    store,
    shared,
    log,
    backends,
    advance: (ms: number) => (t += ms),
    probeAnswers: (answers: boolean) => (probeAnswers = answers),
    probes: () => probes,
  };
}

describe('FailoverRateLimiterStore', () => {
  it('answers from local buckets, synchronously, until the shared store is up', () => {
    const s = setup();
    const limiter = s.store.limiter('tool', { perSecond: 1, burst: 2 });
    expect(s.store.backend).toBe('local');
    expect([limiter.take('k'), limiter.take('k'), limiter.take('k')]).toEqual([0, 0, 1000]);
    expect(s.shared.state.calls).toBe(0);
    expect(s.backends).toEqual(['local']);
  });

  it('uses the shared store once up; a failed call is answered locally, logged once per outage', async () => {
    const s = setup();
    const limiter = s.store.limiter('tool', { perSecond: 1, burst: 1 });
    s.store.up();
    expect(s.store.backend).toBe('redis');
    expect(await limiter.take('k')).toBe(0);
    expect(s.shared.state.calls).toBe(1);

    s.shared.state.mode = 'fail';
    // The failing call still gets an answer: the local bucket's (full, so granted).
    expect(await limiter.take('k')).toBe(0);
    expect(s.store.backend).toBe('local');
    // From now on local, at once, without asking the shared store; the local bucket is now empty.
    expect(limiter.take('k')).toBe(1000);
    expect(s.shared.state.calls).toBe(2);
    s.store.down(new Error('connection closed'));
    s.store.down(new Error('ECONNREFUSED'));
    expect(s.log.warnings()).toHaveLength(1);
    expect(s.log.warnings()[0]).toMatchObject({
      err: 'Command timed out',
      msg: 'rate limits: Redis unreachable; limits hold per instance until it is back',
    });

    s.store.up();
    s.shared.state.mode = 'ok';
    expect(await limiter.take('k')).toBe(0);
    expect(s.backends).toEqual(['local', 'redis', 'local', 'redis']);
    // A second outage is logged again.
    s.store.down(new Error('again'));
    expect(s.log.warnings()).toHaveLength(2);
  });

  it('probes a store that stopped answering in the background, at most once per interval, and returns to it', async () => {
    const s = setup();
    const limiter = s.store.limiter('principal', { perSecond: 100, burst: 100 });
    s.store.up();
    s.store.down(new Error('Command timed out'));
    limiter.take('k');
    limiter.take('k');
    expect(s.probes()).toBe(1);
    await Promise.resolve();
    s.advance(1000);
    s.probeAnswers(true);
    limiter.take('k');
    expect(s.probes()).toBe(2);
    // The probe's answer arrives after the check (which was answered locally).
    await Promise.resolve();
    await Promise.resolve();
    expect(s.store.backend).toBe('redis');
    expect(s.log.lines.at(-1)?.msg).toBe('rate limits: Redis is back; limits hold across instances again');
  });
});
