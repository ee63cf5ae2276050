/**
 * @module observability: logging, health, metrics (the port; Prometheus in `./prometheus/`), audit log, tracing
 * (the port; OpenTelemetry in `./tracing/otel/`).
 */
export { auditOutcome, createAuditLog, NO_AUDIT_LOG } from './audit-log.js';
export type {
  AuditLog,
  AuditOutcome,
  ControlWriteAudit,
  RouterToolCallAudit,
  ToolCallAudit,
  ToolDefinitionAudit,
} from './audit-log.js';
export { createHealthRoutes } from './health-routes.js';
export { traceIdOf } from './trace-id.js';
export type { HealthRoutesOptions } from './health-routes.js';
export { httpMetrics, UNMATCHED_ROUTE } from './http-metrics.js';
export type { HttpMetricsOptions } from './http-metrics.js';
export { LOG_LEVELS, createLogger, createSilentLogger } from './logger.js';
export type { LogLevel, Logger, LoggerOptions } from './logger.js';
export { NO_METRICS } from './metrics.js';
export type {
  GatewayMetrics,
  MetricsExposition,
  OpenSessionCount,
  PlacementKind,
  RateLimitBackend,
  RateLimitScope,
  UpstreamErrorKind,
} from './metrics.js';
export { timedRegistryStore } from './timed-registry-store.js';
export type { TimedRegistryStoreOptions } from './timed-registry-store.js';
export {
  HTTP_ATTR,
  MCP_ATTR,
  mcpSpanName,
  NO_SPAN,
  NO_TRACING,
  requestSpan,
  tracingMiddleware,
} from './tracing/index.js';
export type {
  SpanAttributes,
  SpanHandle,
  SpanResult,
  TraceContextHeaders,
  Tracing,
} from './tracing/index.js';
export { writeAudit } from './write-audit.js';
export type { WriteAuditOptions } from './write-audit.js';
