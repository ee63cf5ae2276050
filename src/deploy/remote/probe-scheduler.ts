/**
 * @module probe-scheduler: when each remote endpoint is probed, so that health checking stays cheap with
 * thousands of them. Every URL has its own due time instead of one burst per interval: a new URL's first periodic
 * probe falls at a random point of the interval (so N endpoints spread evenly), each later one an interval on,
 * with jitter so they stay spread. A URL that keeps failing backs off (doubling, up to a ceiling). A URL that
 * just answered the data plane needs no probe: {@link ProbeScheduler.answered} moves its due time on. At most
 * `concurrency` probes run at once, whatever asks for them (the schedule, an apply, a status read), and a probe
 * of a URL already in flight is joined, never sent twice.
 */
import { systemTimers } from '../timers.js';
import type { TimerHandle, Timers } from '../timers.js';

/** Options of {@link ProbeScheduler}. */
export interface ProbeSchedulerOptions<R> {
  /** Probes one URL; never rejects (a failure is a result). */
  readonly probe: (url: string) => Promise<R>;
  /** Whether a result counts as up: a down URL backs off. */
  readonly isUp: (result: R) => boolean;
  /** Told every result, whoever asked for the probe. */
  readonly onResult: (url: string, result: R) => void;
  /** The spacing of probes of one healthy URL. */
  readonly intervalMs: number;
  /** The longest spacing a failing URL backs off to; default the larger of five minutes and `intervalMs`. */
  readonly maxBackoffMs?: number;
  /** Probes in flight at most; default 64. */
  readonly concurrency?: number;
  /** Each spacing is stretched or shrunk by up to this fraction at random; default 0.1. */
  readonly jitter?: number;
  readonly random?: () => number;
  readonly now?: () => number;
  readonly timers?: Timers;
}

interface Tracked {
  /** When the next periodic probe is due (ms since the epoch). */
  due: number;
  /** Failed probes in a row. */
  failures: number;
}

/** Schedules and bounds the probes of a set of URLs. */
export class ProbeScheduler<R> {
  private readonly tracked = new Map<string, Tracked>();
  private readonly inFlight = new Map<string, Promise<R>>();
  /** Probes waiting for a free slot, in the order they were asked for. */
  private readonly waiting: (() => void)[] = [];
  private running = 0;
  private timer: TimerHandle | undefined;
  private readonly concurrency: number;
  private readonly maxBackoffMs: number;
  private readonly jitter: number;
  private readonly random: () => number;
  private readonly now: () => number;
  private readonly timers: Timers;

  constructor(private readonly options: ProbeSchedulerOptions<R>) {
    if (!(options.intervalMs > 0)) throw new RangeError('intervalMs must be positive');
    this.concurrency = options.concurrency ?? 64;
    if (!Number.isInteger(this.concurrency) || this.concurrency < 1)
      throw new RangeError('concurrency must be a positive integer');
    this.maxBackoffMs = Math.max(options.maxBackoffMs ?? 300_000, options.intervalMs);
    this.jitter = options.jitter ?? 0.1;
    this.random = options.random ?? Math.random;
    this.now = options.now ?? Date.now;
    this.timers = options.timers ?? systemTimers;
  }

  /** URLs on the schedule. */
  get size(): number {
    return this.tracked.size;
  }

  /** Starts the periodic probes; the timer wakes often enough to keep each URL near its due time. */
  start(): void {
    if (this.timer !== undefined) return;
    const tickMs = Math.min(1000, Math.max(50, Math.round(this.options.intervalMs / 20)));
    this.timer = this.timers.setInterval(() => this.runDue(), tickMs);
  }

  close(): void {
    if (this.timer !== undefined) this.timers.clearInterval(this.timer);
    this.timer = undefined;
    this.tracked.clear();
    for (const wake of this.waiting.splice(0)) wake();
  }

  /** Puts `url` on the schedule; one already there keeps its place. */
  add(url: string): void {
    // Spread: a URL's first periodic probe is anywhere in the next interval, not all at its start.
    if (!this.tracked.has(url))
      this.tracked.set(url, { due: this.now() + this.random() * this.options.intervalMs, failures: 0 });
  }

  /** Takes `url` off the schedule (a probe in flight still reports). */
  delete(url: string): void {
    this.tracked.delete(url);
  }

  /** The URL answered a request just now: it is up, and its next probe can wait a whole interval. */
  answered(url: string): void {
    const entry = this.tracked.get(url);
    if (!entry) return;
    entry.failures = 0;
    entry.due = this.now() + this.spacing(this.options.intervalMs);
  }

  /** Probes `url` now (joining a probe already in flight), within the concurrency bound. */
  probe(url: string): Promise<R> {
    const pending = this.inFlight.get(url);
    if (pending) return pending;
    const started = this.withSlot(() => this.options.probe(url)).then((result) => {
      this.inFlight.delete(url);
      this.record(url, result);
      return result;
    });
    this.inFlight.set(url, started);
    return started;
  }

  /** Starts the probes that are due, oldest first; the rest wait for the next tick. */
  runDue(): void {
    const now = this.now();
    const due: [string, number][] = [];
    for (const [url, entry] of this.tracked) {
      if (entry.due <= now && !this.inFlight.has(url)) due.push([url, entry.due]);
    }
    due.sort((a, b) => a[1] - b[1]);
    // Only as many as can start: a long queue would hold results that are stale by the time they arrive.
    const free = Math.max(0, this.concurrency - this.running - this.waiting.length);
    for (const [url] of due.slice(0, free)) void this.probe(url);
  }

  private record(url: string, result: R): void {
    const entry = this.tracked.get(url);
    if (entry) {
      entry.failures = this.options.isUp(result) ? 0 : entry.failures + 1;
      const base =
        entry.failures === 0
          ? this.options.intervalMs
          : Math.min(this.maxBackoffMs, this.options.intervalMs * 2 ** (entry.failures - 1));
      entry.due = this.now() + this.spacing(base);
    }
    this.options.onResult(url, result);
  }

  private spacing(ms: number): number {
    return ms * (1 + this.jitter * (2 * this.random() - 1));
  }

  private async withSlot<T>(run: () => Promise<T>): Promise<T> {
    if (this.running >= this.concurrency) await new Promise<void>((wake) => this.waiting.push(wake));
    this.running++;
    try {
      return await run();
    } finally {
      this.running--;
      this.waiting.shift()?.();
    }
  }
}
