/**
 * @module export-failure-log: a span exporter decorator that reports failed exports to the gateway's log —
 * the SDK reports them only through its global diagnostics, which we leave alone — at most once per interval,
 * so a collector that stays down costs one warning a minute rather than one per batch.
 */
import { ExportResultCode } from '@opentelemetry/core';
import type { ExportResult } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace';
import type { Logger } from '../../logger.js';

/** Options for {@link logExportFailures}. */
export interface ExportFailureLogOptions {
  readonly logger: Logger;
  /** Strings that must never reach the log (exporter header values), cut out of error messages. */
  readonly secrets?: readonly string[];
  /** Shortest time between two warnings; 60 s by default. */
  readonly intervalMs?: number;
  /** Milliseconds since an arbitrary origin; injected for tests. */
  readonly now?: () => number;
}

/** Wraps `exporter` so that failed exports are logged at warn, throttled, with the spans they dropped. */
export function logExportFailures(exporter: SpanExporter, options: ExportFailureLogOptions): SpanExporter {
  const { logger } = options;
  const intervalMs = options.intervalMs ?? 60_000;
  const now = options.now ?? (() => performance.now());
  // Short values would blank out ordinary words; credentials are longer.
  const secrets = (options.secrets ?? []).filter((s) => s.length >= 4);
  let lastLogged = -Infinity;
  let failedExports = 0;
  let droppedSpans = 0;

  function failed(spans: number, error: Error | undefined): void {
    failedExports++;
    droppedSpans += spans;
    const at = now();
    if (at - lastLogged < intervalMs) return;
    lastLogged = at;
    logger.warn(
      { failedExports, droppedSpans, error: redact(error?.message ?? 'unknown error', secrets) },
      'trace export failed; spans dropped',
    );
    failedExports = 0;
    droppedSpans = 0;
  }

  return {
    export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
      exporter.export(spans, (result) => {
        if (result.code !== ExportResultCode.SUCCESS) failed(spans.length, result.error);
        resultCallback(result);
      });
    },
    shutdown: () => exporter.shutdown(),
    forceFlush: () => exporter.forceFlush?.() ?? Promise.resolve(),
  };
}

function redact(message: string, secrets: readonly string[]): string {
  return secrets.reduce((text, secret) => text.split(secret).join('[redacted]'), message);
}
