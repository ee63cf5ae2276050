/**
 * @module otel-tracing: {@link Tracing} on the OpenTelemetry SDK. The provider is this instance's own — never
 * registered as the global one — and parents are passed explicitly (`trace.setSpan(ROOT_CONTEXT, span)`), not
 * through an async-hooks context manager: the gateway knows which request a span belongs to without one.
 */
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Span, Tracer } from '@opentelemetry/api';
import type { TracerProvider } from '@opentelemetry/sdk-trace';
import type { Logger } from '../../logger.js';
import { HTTP_ATTR } from '../attributes.js';
import type { SpanAttributes, SpanHandle, SpanResult, TraceContextHeaders, Tracing } from '../tracing.js';
import { parentContext, propagationHeadersOf } from './trace-context.js';

/** Options for {@link createOtelTracing}. */
export interface OtelTracingOptions {
  /** Owned from now on: {@link Tracing.shutdown} shuts it down. */
  readonly provider: TracerProvider;
  /** Instrumentation scope version (the gateway's version). */
  readonly version?: string;
  /** Longest wait in `shutdown` for the last spans to be exported. */
  readonly shutdownTimeoutMs: number;
  readonly logger: Logger;
}

/** Tracing through `provider`. */
export function createOtelTracing(options: OtelTracingOptions): Tracing {
  const { provider, shutdownTimeoutMs, logger } = options;
  const tracer = provider.getTracer('mcp-gateway', options.version);
  let stopped: Promise<void> | undefined;
  return {
    enabled: true,
    startServer(name: string, headers: TraceContextHeaders, attributes?: SpanAttributes): SpanHandle {
      const span = tracer.startSpan(name, { kind: SpanKind.SERVER, attributes }, parentContext(headers));
      return new OtelSpan(tracer, span, SpanKind.SERVER);
    },
    shutdown() {
      stopped ??= shutDownWithin(provider, shutdownTimeoutMs, logger);
      return stopped;
    },
  };
}

/**
 * Shuts `provider` down (flushing what is queued), but resolves after `timeoutMs` at the latest: an exporter
 * retrying a collector that is down would otherwise hold the gateway's exit for its whole export timeout.
 */
async function shutDownWithin(provider: TracerProvider, timeoutMs: number, logger: Logger): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
    timer.unref();
  });
  // The cause went to the exporter's failure log (unless that spoke within the last minute), secrets cut out.
  const flushed = provider.shutdown().then(
    () => 'done' as const,
    () => 'failed' as const,
  );
  const outcome = await Promise.race([flushed, deadline]);
  clearTimeout(timer);
  if (outcome === 'failed') logger.warn('trace export on shutdown failed; spans dropped');
  if (outcome === 'timeout') logger.warn({ timeoutMs }, 'trace export on shutdown timed out; spans dropped');
}

/** A {@link SpanHandle} over an SDK span (recording or not: unsampled spans still propagate their context). */
class OtelSpan implements SpanHandle {
  readonly traceId: string;
  #ended = false;
  #errorTypeSet = false;

  constructor(
    private readonly tracer: Tracer,
    private readonly span: Span,
    private readonly kind: SpanKind,
  ) {
    this.traceId = span.spanContext().traceId;
  }

  setAttributes(attributes: SpanAttributes): void {
    if (this.#ended) return;
    if (attributes[HTTP_ATTR.errorType] !== undefined) this.#errorTypeSet = true;
    this.span.setAttributes(attributes);
  }

  rename(name: string): void {
    if (!this.#ended) this.span.updateName(name);
  }

  startClient(name: string, attributes?: SpanAttributes): SpanHandle {
    const parent = trace.setSpan(ROOT_CONTEXT, this.span);
    return new OtelSpan(
      this.tracer,
      this.tracer.startSpan(name, { kind: SpanKind.CLIENT, attributes }, parent),
      SpanKind.CLIENT,
    );
  }

  propagationHeaders(): Readonly<Record<string, string>> {
    return propagationHeadersOf(this.span);
  }

  end(result?: SpanResult): void {
    if (this.#ended) return;
    this.#ended = true;
    const status = result?.status;
    if (status !== undefined) this.span.setAttribute(HTTP_ATTR.responseStatusCode, status);
    // HTTP semconv: a 4xx is the caller's fault on a SERVER span, but a failed call on a CLIENT span.
    const failedStatus = status !== undefined && status >= (this.kind === SpanKind.SERVER ? 500 : 400);
    if (failedStatus || result?.error !== undefined) {
      if (!this.#errorTypeSet) {
        this.span.setAttribute(HTTP_ATTR.errorType, failedStatus ? String(status) : '_OTHER');
      }
      this.span.setStatus({ code: SpanStatusCode.ERROR, message: result?.error });
    }
    this.span.end();
  }
}
