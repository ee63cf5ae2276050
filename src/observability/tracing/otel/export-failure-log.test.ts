/** Tests of the throttled export-failure log. */
import { ExportResultCode } from '@opentelemetry/core';
import type { ExportResult } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../logger.js';
import { logExportFailures } from './export-failure-log.js';

/** An exporter whose next results the test decides. */
function scriptedExporter() {
  const results: ExportResult[] = [];
  const exporter: SpanExporter = {
    export: (_spans, done) => done(results.shift() ?? { code: ExportResultCode.SUCCESS }),
    shutdown: () => Promise.resolve(),
  };
  return { exporter, results };
}

const spans = (n: number) => Array.from({ length: n }, () => ({}) as ReadableSpan);
const failure = (message: string): ExportResult => ({
  code: ExportResultCode.FAILED,
  error: new Error(message),
});

function setup() {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({
    level: 'info',
    destination: { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) },
  });
  let clock = 0;
  const { exporter, results } = scriptedExporter();
  const logged = logExportFailures(exporter, {
    logger,
    secrets: ['Bearer s3cr3t', 'ab'],
    intervalMs: 60_000,
    now: () => clock,
  });
  const run = (n: number) => new Promise<ExportResult>((resolve) => logged.export(spans(n), resolve));
  return { lines, results, run, advance: (ms: number) => (clock += ms) };
}

describe('logExportFailures', () => {
  it('warns at the first failure, then at most once per interval with what was dropped meanwhile', async () => {
    const { lines, results, run, advance } = setup();
    results.push(failure('connect ECONNREFUSED'), failure('again'), failure('and again'));
    await run(5);
    advance(30_000);
    await run(7);
    advance(30_000);
    await run(11);
    expect(lines.map((l) => [l.level, l.failedExports, l.droppedSpans, l.error])).toEqual([
      [40, 1, 5, 'connect ECONNREFUSED'],
      [40, 2, 18, 'and again'],
    ]);
  });

  it('passes every result through and stays quiet on success', async () => {
    const { lines, results, run } = setup();
    results.push(failure('boom'));
    expect((await run(1)).code).toBe(ExportResultCode.FAILED);
    expect((await run(1)).code).toBe(ExportResultCode.SUCCESS);
    expect(lines).toHaveLength(1);
  });

  it('cuts header values out of error messages, ignoring values too short to be secrets', async () => {
    const { lines, results, run } = setup();
    results.push(failure('401 Unauthorized: token Bearer s3cr3t rejected, about'));
    await run(1);
    expect(lines[0]?.error).toBe('401 Unauthorized: token [redacted] rejected, about');
  });
});
