/**
 * @module hot-series: a counter and a histogram for metrics recorded on every proxied request. prom-client's
 * `inc` and `observe` validate, copy and hash a labels object on each call, about 4 µs of CPU per proxied request
 * (docs/benchmarks.md). These find their series in a map by a key the caller joins from the label values (with
 * NUL, which no label value contains), build its labels once, and give prom-client's registry the usual samples
 * when scraped.
 */
import { Counter } from 'prom-client';
import type { MetricValueWithName, Registry } from 'prom-client';

/** A counter whose increments are summed per series and added to prom-client's counter at scrape time. */
export class HotCounter<L extends string> {
  private readonly series = new Map<string, { readonly labels: Record<L, string>; pending: number }>();

  constructor(config: { name: string; help: string; labelNames: readonly L[]; registers: Registry[] }) {
    const { series } = this;
    new Counter<L>({
      ...config,
      collect() {
        for (const entry of series.values()) {
          if (entry.pending === 0) continue;
          this.inc(entry.labels, entry.pending);
          entry.pending = 0;
        }
      },
    });
  }

  /** Adds one to the series `key`; `labels` names it the first time. */
  inc(key: string, labels: Record<L, string>): void {
    const entry = this.series.get(key);
    if (entry) entry.pending += 1;
    else this.series.set(key, { labels, pending: 1 });
  }
}

interface HistogramSeries<L extends string> {
  readonly labels: Record<L, string>;
  /** Observations per bucket (not cumulative), the last one past the highest bound. */
  readonly counts: number[];
  sum: number;
  count: number;
}

/** A histogram kept per series, exposed through prom-client's registry in prom-client's own sample shape. */
export class HotHistogram<L extends string> {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  readonly name: string;
  readonly help: string;
  private readonly bounds: readonly number[];
  private series = new Map<string, HistogramSeries<L>>();

  constructor(config: { name: string; help: string; buckets: readonly number[]; registers: Registry[] }) {
    this.name = config.name;
    this.help = config.help;
    this.bounds = [...config.buckets].sort((a, b) => a - b);
    // The registry reads only `name`, `get()` and `reset()` of a metric.
    for (const registry of config.registers) registry.registerMetric(this as never);
  }

  observe(key: string, labels: Record<L, string>, value: number): void {
    let entry = this.series.get(key);
    if (!entry) {
      entry = { labels, counts: new Array<number>(this.bounds.length + 1).fill(0), sum: 0, count: 0 };
      this.series.set(key, entry);
    }
    const { bounds } = this;
    let bucket = 0;
    while (bucket < bounds.length && value > bounds[bucket]!) bucket++;
    entry.counts[bucket]! += 1;
    entry.sum += value;
    entry.count += 1;
  }

  /** Samples as prom-client's histogram gives them: `le` first, cumulative buckets, then sum and count. */
  get(): Promise<{
    name: string;
    help: string;
    type: 'histogram';
    aggregator: 'sum';
    values: MetricValueWithName<string>[];
  }> {
    const values: MetricValueWithName<string>[] = [];
    const bucketName = `${this.name}_bucket`;
    for (const { labels, counts, sum, count } of this.series.values()) {
      let cumulative = 0;
      this.bounds.forEach((le, i) => {
        cumulative += counts[i]!;
        values.push({ labels: { le, ...labels }, value: cumulative, metricName: bucketName });
      });
      values.push({ labels: { le: '+Inf', ...labels }, value: count, metricName: bucketName });
      values.push({ labels, value: sum, metricName: `${this.name}_sum` });
      values.push({ labels, value: count, metricName: `${this.name}_count` });
    }
    return Promise.resolve({
      name: this.name,
      help: this.help,
      type: this.type,
      values,
      aggregator: this.aggregator,
    });
  }

  reset(): void {
    this.series = new Map();
  }
}
