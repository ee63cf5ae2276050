/**
 * @module http-probe: readiness of a replica that serves HTTP itself — its port accepts a connection and answers
 * an HTTP request. `OPTIONS` is safe by HTTP semantics: it opens no MCP stream and calls no tool.
 */
import { request } from 'node:http';
import { delay } from '../timers.js';
import type { Timers } from '../timers.js';

/** One probe's outcome. */
export interface ProbeOutcome {
  readonly ok: boolean;
  /** `HTTP 404`, `ECONNREFUSED`, `no answer within 1000 ms`… */
  readonly detail: string;
}

/** Sends one `OPTIONS` to `url`; any status below 500 counts as an answer (a 404 or 405 server is up). */
export function probeHttp(url: string, timeoutMs: number): Promise<ProbeOutcome> {
  return new Promise<ProbeOutcome>((resolve) => {
    // No keep-alive agent: a probe must not leave idle sockets behind for every replica it checks.
    const req = request(url, { method: 'OPTIONS', agent: false, timeout: timeoutMs }, (res) => {
      res.resume();
      const status = res.statusCode ?? 0;
      resolve({ ok: status > 0 && status < 500, detail: `HTTP ${status}` });
    });
    req.on('timeout', () => {
      req.destroy();
      resolve({ ok: false, detail: `no answer within ${timeoutMs} ms` });
    });
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ ok: false, detail: err.code ?? err.message }));
    req.end();
  });
}

/** Options for {@link waitForHttp}. */
export interface WaitForHttpOptions {
  readonly intervalMs: number;
  readonly timers: Timers;
  readonly signal: AbortSignal;
  /** Told each failed attempt's detail, so status can say why the replica is not ready yet. */
  readonly onAttempt?: (outcome: ProbeOutcome) => void;
}

/** Probes until `url` answers; rejects only when `signal` aborts (the child exited or is being stopped). */
export async function waitForHttp(url: string, options: WaitForHttpOptions): Promise<void> {
  for (;;) {
    options.signal.throwIfAborted();
    const outcome = await probeHttp(url, Math.max(options.intervalMs, 1_000));
    options.signal.throwIfAborted();
    if (outcome.ok) return;
    options.onAttempt?.(outcome);
    await delay(options.intervalMs, options.timers, options.signal);
  }
}
