/** @module http: the error type, error handlers and request middleware shared by every router. */
export { accessLog } from './access-log.js';
export type { AccessLogOptions } from './access-log.js';
export type { AppEnv, AppVariables } from '../core/index.js';
export { createErrorHandler, notFoundHandler } from './error-handler.js';
export type { ErrorHandlerOptions } from './error-handler.js';
export {
  HttpError,
  badRequest,
  conflict,
  forbidden,
  notFound,
  notImplemented,
  payloadTooLarge,
  preconditionFailed,
  unsupportedMediaType,
} from './http-error.js';
export type { ErrorBody, ErrorDetail, HttpErrorOptions } from './http-error.js';
export { hostOriginGuard } from './host-origin-guard.js';
export type { HostOriginGuardOptions } from './host-origin-guard.js';
export { createOriginCheck, isLoopbackName } from './origin-check.js';
export type {
  OriginCheck,
  OriginPolicy,
  OriginRefusal,
  OriginVerdict,
  RenderRefusal,
} from './origin-check.js';
export { createSecretMatcher } from './secret-matcher.js';
export { jsonBody } from './json-body.js';
export type { JsonBodyOptions } from './json-body.js';
export { requestId } from './request-id.js';
export type { RequestIdOptions } from './request-id.js';
export { createRateLimits, firstRefusal, inSequence } from './rate-limit.js';
export type {
  McpRateLimits,
  RateLimitAnswer,
  RateLimits,
  RateLimitScope,
  RateLimitSpec,
  RateLimitsOptions,
} from './rate-limit.js';
export { memoryRateLimiterStore } from './rate-limiter.js';
export type { MemoryRateLimiterStoreOptions, RateLimiter, RateLimiterStore } from './rate-limiter.js';
export { createFailoverRateLimiterStore } from './failover-rate-limiter-store.js';
export type {
  FailoverRateLimiterStore,
  FailoverRateLimiterStoreOptions,
} from './failover-rate-limiter-store.js';
export { TokenBuckets } from './token-buckets.js';
export type { TokenBucketsOptions } from './token-buckets.js';
export { createMetricsApp } from './metrics-app.js';
export type { MetricsAppOptions } from './metrics-app.js';
export { metricsHandler } from './metrics-route.js';
export type { MetricsRouteOptions } from './metrics-route.js';
