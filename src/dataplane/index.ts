/** @module dataplane: the Streamable HTTP proxy at `/adapters/{name}/mcp`. */
export { createAdapterCache } from './adapter-cache.js';
export type { AdapterCache, AdapterCacheOptions } from './adapter-cache.js';
export { compatIdentityHeaders, mountDataPlane } from './data-plane.js';
export type {
  DataPlaneHooks,
  DataPlaneOptions,
  McpEndpoint,
  McpEndpointAnswer,
  McpEndpointRequest,
} from './data-plane.js';
export { IGNORED_EXCHANGE } from './proxy-observer.js';
export { toolCallsOf } from './tool-calls.js';
export type { ToolCallParams } from './tool-calls.js';
export { fetchSseOutbound } from './sse-upstream/index.js';
export type { SseOutbound, SseOutboundRequest } from './sse-upstream/index.js';
export { SessionLedger } from './session-ledger.js';
export { withSessionCounts } from './session-status.js';
export type { ExchangeObserver } from './proxy-observer.js';
export { createFetchIo, readRequestBody } from './fetch-io.js';
export type { ProxyIo, RequestBody, RequestHeaders } from './fetch-io.js';
export type { ReplicaResolver } from './mcp-proxy.js';
export { corsHeaders, createOriginCheck, isAlreadySent, originGuard } from './origin-guard.js';
export type { OriginCheck, OriginGuardOptions, OriginVerdict } from './origin-guard.js';
export {
  DEFAULT_LEGACY_VERSION,
  JSON_RPC_ERROR,
  LATEST_LEGACY_VERSION,
  LEGACY_PROTOCOL_VERSIONS,
  MODERN_PROTOCOL_VERSION,
  SUPPORTED_PROTOCOL_VERSIONS,
  type JsonRpcId,
  type LegacyProtocolVersion,
  type ModernProtocolVersion,
  type ProtocolVersion,
} from './mcp-protocol.js';
export type { EraError, EraRejection } from './era-rejections.js';
export {
  classifyRequest,
  isRejection,
  parseJsonBody,
  UNPARSEABLE_BODY,
  type Classification,
  type HeaderSource,
  type LegacyBatch,
  type LegacyClassification,
  type LegacyInitialize,
  type LegacyNotification,
  type LegacyRequest,
  type LegacyResponse,
  type LegacyStream,
  type LegacyTerminate,
  type ModernClassification,
  type ModernNotification,
  type ModernRequest,
} from './era-classification.js';
export { rejectionResponse } from './jsonrpc-error.js';
export {
  createSessionSealer,
  DEFAULT_SESSION_CLOCK_SKEW_MS,
  DEFAULT_SESSION_MAX_AGE_MS,
  MAX_SEALED_ID_LENGTH,
  MIN_SECRET_LENGTH,
  SEALED_ID_PREFIX,
  type OpenedSessionClaims,
  type OpenFailureReason,
  type OpenResult,
  type SessionClaims,
  type SessionExpectation,
  type SessionSealer,
  type SessionSealerOptions,
} from './session-seal.js';
export { createDataPlaneObservation, onResponseClosed } from './data-plane-observer.js';
export type {
  DataPlaneObservation,
  DataPlaneObservationOptions,
  WatchedExchange,
} from './data-plane-observer.js';
