/**
 * @module core: the leaf every layer may import — the caller (`Principal`), the Hono environment of the app,
 * log levels, which request headers never travel upstream, a response body that tells when it is over. It imports nothing of the project, so it can never take part in an import cycle.
 */
export { ADMIN_ROLE } from './principal.js';
export type { Principal } from './principal.js';
export type { AppEnv, AppVariables } from './app-env.js';
export { LOG_LEVELS } from './log-levels.js';
export type { LogLevel } from './log-levels.js';
export {
  CALLER_CREDENTIAL_HEADERS,
  DROPPED_REQUEST_HEADERS,
  GATEWAY_ONLY_HEADER_PREFIXES,
  connectionTokens,
  credentialHeaderRefusal,
  isDroppedRequestHeader,
} from './upstream-headers.js';
export { watchedBody, withBodyEnd } from './watched-body.js';
