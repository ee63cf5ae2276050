/**
 * @module observability/tracing/otel: the OpenTelemetry implementation of the tracing port. Imported only by the
 * Node entry and tests, so builds that never export spans (the edge worker) never load the SDK.
 */
export { createTracing } from './create-tracing.js';
export type { TracingOptions } from './create-tracing.js';
