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
export type { ExchangeObserver } from './proxy-observer.js';
export { createFetchIo, readRequestBody } from './fetch-io.js';
export type { ProxyIo, RequestBody, RequestHeaders } from './fetch-io.js';
export type { ReplicaResolver } from './mcp-proxy.js';
export { corsHeaders, createOriginCheck, isAlreadySent, originGuard } from './origin-guard.js';
export type { OriginCheck, OriginGuardOptions, OriginVerdict } from './origin-guard.js';
export {
  classifyRequest,
  DEFAULT_LEGACY_VERSION,
  isRejection,
  JSON_RPC_ERROR,
  LATEST_LEGACY_VERSION,
  LEGACY_PROTOCOL_VERSIONS,
  MODERN_PROTOCOL_VERSION,
  parseJsonBody,
  rejectionResponse,
  SUPPORTED_PROTOCOL_VERSIONS,
  UNPARSEABLE_BODY,
  type Classification,
  type EraError,
  type EraRejection,
  type JsonRpcId,
  type LegacyBatch,
  type LegacyClassification,
  type LegacyInitialize,
  type LegacyNotification,
  type LegacyProtocolVersion,
  type LegacyRequest,
  type LegacyResponse,
  type LegacyStream,
  type LegacyTerminate,
  type ModernClassification,
  type ModernNotification,
  type ModernProtocolVersion,
  type ModernRequest,
  type ProtocolVersion,
} from './era.js';
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
