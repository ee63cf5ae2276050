/**
 * @module observability/tracing: the tracing port, its null objects, the Hono middleware and the attribute names.
 * The OpenTelemetry implementation (`createTracing`) is in `./otel/`, imported only by the Node entry.
 */
export { HTTP_ATTR, MCP_ATTR, mcpSpanName } from './attributes.js';
export { requestSpan, tracingMiddleware } from './hono-tracing.js';
export { NO_SPAN, NO_TRACING } from './tracing.js';
export type { SpanAttributes, SpanHandle, SpanResult, TraceContextHeaders, Tracing } from './tracing.js';
