import { Counter, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { HotCounter, HotHistogram } from './hot-series.js';

const BUCKETS = [0.001, 0.01, 0.1, 1];

/** The exposition of `registry` with every `hot_` metric renamed to its prom-client twin. */
async function rendered(registry: Registry): Promise<string> {
  return (await registry.metrics()).replaceAll('hot_', 'plain_');
}

describe('hot series', () => {
  it('expose exactly what prom-client metrics expose for the same observations', async () => {
    const plain = new Registry();
    const hot = new Registry();
    const plainCounter = new Counter({
      name: 'plain_requests_total',
      help: 'Requests.',
      labelNames: ['adapter', 'status'] as const,
      registers: [plain],
    });
    const hotCounter = new HotCounter({
      name: 'hot_requests_total',
      help: 'Requests.',
      labelNames: ['adapter', 'status'] as const,
      registers: [hot],
    });
    const plainHistogram = new Histogram({
      name: 'plain_duration_seconds',
      help: 'Duration.',
      labelNames: ['adapter'] as const,
      buckets: BUCKETS,
      registers: [plain],
    });
    const hotHistogram = new HotHistogram<'adapter'>({
      name: 'hot_duration_seconds',
      help: 'Duration.',
      buckets: BUCKETS,
      registers: [hot],
    });
    // On a bound, between bounds, past the highest, for two series; scraped in between.
    const observations: [string, string, number][] = [
      ['a', '200', 0.001],
      ['a', '200', 0.0005],
      ['b', '502', 0.05],
      ['a', '404', 7],
      ['b', '502', 1],
    ];
    for (const [i, [adapter, status, seconds]] of observations.entries()) {
      plainCounter.inc({ adapter, status });
      hotCounter.inc(`${adapter}\u0000${status}`, { adapter, status });
      plainHistogram.observe({ adapter }, seconds);
      hotHistogram.observe(adapter, { adapter }, seconds);
      if (i === 2) expect(await rendered(hot)).toBe(await plain.metrics());
    }
    expect(await rendered(hot)).toBe(await plain.metrics());
    expect(await plain.metrics()).toContain('plain_duration_seconds_bucket{le="+Inf",adapter="a"} 3');
  });

  it('start again from zero when the registry is reset', async () => {
    const registry = new Registry();
    const histogram = new HotHistogram<'adapter'>({
      name: 'hot_duration_seconds',
      help: 'Duration.',
      buckets: BUCKETS,
      registers: [registry],
    });
    histogram.observe('a', { adapter: 'a' }, 0.5);
    registry.resetMetrics();
    histogram.observe('a', { adapter: 'a' }, 0.5);
    expect(await registry.metrics()).toContain('hot_duration_seconds_count{adapter="a"} 1');
  });
});
