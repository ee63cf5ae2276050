/** @module The registry: persistence of adapters, tools and gateway settings. The only public entry. */
export {
  DEFAULT_CHANGE_POLL_MS,
  ResourceExistsError,
  ResourceNotFoundError,
  STATIC_REGISTRY_FEED,
  SchemaTooNewError,
  VersionMismatchError,
  randomUid,
} from './registry-store.js';
export type {
  Clock,
  FilePermissionsNotice,
  JsonObject,
  ListOptions,
  RegistryChangeFeed,
  RegistryStore,
  RegistryStoreOptions,
  RegistryEntryKind,
  ResourceKind,
  StoredKind,
  RevisionListener,
  SealedSecretValue,
  StoredResource,
  StoredGrant,
  StoredSecret,
  UidGenerator,
  WriteConditionOptions,
} from './registry-store.js';
export type { NewToolPin, ToolPin, ToolPinStore } from './tool-pin-store.js';
export { openRegistryStore, parseDatabaseUrl } from './open-registry-store.js';
export type { DatabaseTarget } from './open-registry-store.js';
// D1 is opened from a Workers binding, not a URL, so it sits beside openRegistryStore rather than inside it.
export { D1RegistryStore, d1Migrations } from './d1/index.js';
export type { D1DatabaseBinding, D1Migration, D1RegistryStoreOptions, MigrationJournal } from './d1/index.js';
export {
  SealedSettingError,
  createSettingsCipher,
  getOrCreateSealedSetting,
  isSealedSetting,
  sealedSettingKeyId,
} from './sealed-settings.js';
export type { SettingsCipher } from './sealed-settings.js';
export { SecretDecryptionError, createSecretCipher, readSecretValue } from './secret-cipher.js';
export type { SecretCipher } from './secret-cipher.js';
export { asRegistered, isOfKind, registeredOf, runtimeOf, upstreamAuthSecretName } from './resource-spec.js';
export { isWildcard, memberSpecOf, toolsetOf, wildcardAdapter } from './toolset-spec.js';
export type {
  RegisteredToolset,
  ToolsetDiscovery,
  ToolsetMember,
  ToolsetMemberSpec,
  ToolsetPolicySpec,
  ToolsetSpec,
} from './toolset-spec.js';
export { DEFAULT_LIST_ALL_PAGE_SIZE, listAll, readAll, type ListAllOptions } from './list-all.js';
export type {
  AdapterSpec,
  Affinity,
  CommonSpec,
  McpToolDefinition,
  ProcessTransport,
  Registered,
  RuntimeKind,
  SpecByKind,
  ToolSpec,
  UpstreamAuthSpec,
} from './resource-spec.js';
export { base64Url, fromBase64Url } from './key-derivation.js';
