/** @module control: the REST control plane for adapters, tools, toolsets and secrets. */
export { mountControlRoutes } from './control-routes.js';
export type { ResourceChangeListener, ResourceRoutesOptions } from './resource-routes.js';
export { MAX_NAME_LENGTH, MAX_PAGE_SIZE, MAX_REPLICAS, RESERVED_NAMES } from './schemas.js';
export type { AdapterData, AdapterResource, ToolData, ToolResource } from './schemas.js';
export { validationHook } from './validation.js';
export { createSecretRoutes } from './secret-routes.js';
export type { SecretRoutesOptions } from './secret-routes.js';
export { MAX_SECRET_VALUE_LENGTH } from './secret-schemas.js';
export { createConnectionRoutes } from './connection-routes.js';
export type { ConnectionRoutesOptions } from './connection-routes.js';
export { createToolsetRoutes } from './toolset-routes.js';
export type { ToolsetRoutesOptions } from './toolset-routes.js';
export type { ToolsetData, ToolsetResource } from './toolset-schemas.js';
export { createToolPinRoutes } from './tool-pin-routes.js';
export type { ToolPinRoutesOptions } from './tool-pin-routes.js';
