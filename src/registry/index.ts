/** @module The registry: persistence of adapters, tools and gateway settings. The only public entry. */
export {
  ResourceExistsError,
  ResourceNotFoundError,
  SchemaTooNewError,
  VersionMismatchError,
} from './registry-store.js';
export type {
  Clock,
  JsonObject,
  ListOptions,
  RegistryStore,
  RegistryStoreOptions,
  ResourceKind,
  StoredResource,
  WriteConditionOptions,
} from './registry-store.js';
export { openRegistryStore } from './open-registry-store.js';
export { asRegistered, runtimeOf } from './resource-spec.js';
export type {
  AdapterSpec,
  CommonSpec,
  McpToolDefinition,
  ProcessTransport,
  Registered,
  RuntimeKind,
  SpecByKind,
  ToolSpec,
} from './resource-spec.js';
