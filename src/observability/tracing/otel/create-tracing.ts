/**
 * @module create-tracing: builds {@link Tracing} from a {@link TracingConfig} — the span pipeline (sampler,
 * processor, exporter), the resource, and failure reporting — or {@link NO_TRACING} when nothing exports.
 */
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import {
  BatchSpanProcessor,
  ConsoleSpanExporter,
  SimpleSpanProcessor,
  TracerProvider,
} from '@opentelemetry/sdk-trace';
import type { SpanExporter, SpanProcessor } from '@opentelemetry/sdk-trace';
import type { OtlpTraceExporterConfig, TracingConfig } from '../../../config/tracing-config.js';
import { createSilentLogger } from '../../logger.js';
import type { Logger } from '../../logger.js';
import { NO_TRACING } from '../tracing.js';
import type { Tracing } from '../tracing.js';
import { logExportFailures } from './export-failure-log.js';
import { createOtelTracing } from './otel-tracing.js';
import { samplerFor } from './samplers.js';

/** Options for {@link createTracing}. */
export interface TracingOptions {
  /** Where export failures and the startup line go; silent by default. */
  readonly logger?: Logger;
  /** `service.version` of the resource, e.g. the package version. */
  readonly serviceVersion?: string;
  /**
   * Replaces the exporter the configuration names (tests: `InMemorySpanExporter`); spans are handed to it as
   * each one ends. Tracing is on whenever this is given.
   */
  readonly exporter?: SpanExporter;
  /** Longest wait in `shutdown()` for the last spans; 5 s by default. */
  readonly shutdownTimeoutMs?: number;
}

// Bounds on the batch queue: a collector that is down or slow drops spans rather than growing the heap.
const MAX_QUEUE_SIZE = 2048;
const MAX_EXPORT_BATCH_SIZE = 512;
const SCHEDULED_DELAY_MS = 5000;
// At most this many exports in flight (each ≤ MAX_EXPORT_BATCH_SIZE spans); more fail fast and are dropped.
const MAX_CONCURRENT_EXPORTS = 4;
// Long values (user agents, paths) are cut: a span's size stays bounded whatever a client sends.
const ATTRIBUTE_VALUE_LENGTH_LIMIT = 2048;
const DEFAULT_SHUTDOWN_TIMEOUT_MS = 5000;

/**
 * Tracing as configured: OTLP/HTTP (JSON) through a bounded batch processor, the console through a simple one,
 * or {@link NO_TRACING} when the exporter is `none` and none is injected. Registers nothing globally.
 */
export function createTracing(config: TracingConfig, options: TracingOptions = {}): Tracing {
  const logger = options.logger ?? createSilentLogger();
  const processor = spanProcessor(config, options, logger);
  if (!processor) return NO_TRACING;
  const provider = new TracerProvider({
    resource: defaultResource().merge(
      // The operator's OTEL_RESOURCE_ATTRIBUTES win over the built-in version; the name is settled in the config.
      resourceFromAttributes({
        ...(options.serviceVersion ? { 'service.version': options.serviceVersion } : {}),
        ...config.resourceAttributes,
        'service.name': config.serviceName,
      }),
    ),
    sampler: samplerFor(config.sampler),
    spanProcessors: [processor],
    spanLimits: { attributeValueLengthLimit: ATTRIBUTE_VALUE_LENGTH_LIMIT },
  });
  if (!options.exporter) {
    logger.info(
      {
        exporter: config.exporter.kind,
        endpoint: endpointForLog(config),
        encoding: config.exporter.kind === 'otlp' ? 'json' : undefined,
        sampler: config.sampler.name,
      },
      'tracing enabled',
    );
  }
  return createOtelTracing({
    provider,
    version: options.serviceVersion,
    shutdownTimeoutMs: options.shutdownTimeoutMs ?? DEFAULT_SHUTDOWN_TIMEOUT_MS,
    logger,
  });
}

function spanProcessor(
  config: TracingConfig,
  options: TracingOptions,
  logger: Logger,
): SpanProcessor | undefined {
  if (options.exporter) return new SimpleSpanProcessor({ exporter: options.exporter });
  switch (config.exporter.kind) {
    case 'none':
      return undefined;
    case 'console':
      return new SimpleSpanProcessor({ exporter: new ConsoleSpanExporter() });
    case 'otlp':
      return otlpProcessor(config.exporter, logger);
  }
}

function otlpProcessor(config: OtlpTraceExporterConfig, logger: Logger): SpanProcessor {
  const exporter = new OTLPTraceExporter({
    url: config.url,
    headers: { ...config.headers },
    timeoutMillis: config.timeoutMs,
    concurrencyLimit: MAX_CONCURRENT_EXPORTS,
  });
  return new BatchSpanProcessor({
    exporter: logExportFailures(exporter, { logger, secrets: Object.values(config.headers) }),
    maxQueueSize: MAX_QUEUE_SIZE,
    maxExportBatchSize: MAX_EXPORT_BATCH_SIZE,
    scheduledDelayMillis: SCHEDULED_DELAY_MS,
    // The exporter's own timeout covers its retries; the processor gives up on a batch at the same moment.
    exportTimeoutMillis: config.timeoutMs,
  });
}

/** Scheme, host and path only: a URL's credentials or query may be secrets. */
function endpointForLog(config: TracingConfig): string | undefined {
  if (config.exporter.kind !== 'otlp') return undefined;
  const url = new URL(config.exporter.url);
  return `${url.protocol}//${url.host}${url.pathname}`;
}
