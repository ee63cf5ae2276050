/**
 * @module The registry's Node-only part: the gateway secret file and private files at rest. Imported by
 * `main.ts` (and the SQLite dialect); never by code the edge build bundles.
 */
export {
  DEFAULT_SECRET_FILE_NAME,
  GatewaySecretError,
  LEGACY_SECRET_SETTING,
  MIN_GATEWAY_SECRET_LENGTH,
  defaultSecretFile,
  resolveGatewaySecret,
  secretFileEntries,
} from './gateway-secret.js';
export type {
  GatewaySecret,
  GatewaySecretNotice,
  GatewaySecretOptions,
  GatewaySecretSource,
} from './gateway-secret.js';
export { PRIVATE_DIRECTORY_MODE, PRIVATE_FILE_MODE } from './private-files.js';
