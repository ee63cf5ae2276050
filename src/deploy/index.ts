/** @module deploy: what runs for each registered resource, and how to read its status and logs. */
export { blockedAddressReason, blockedUrlReason } from './remote/blocked-address.js';
export { createRuntimeInspector } from './runtime-inspector-by-kind.js';
export type { RuntimeInspectorOptions } from './runtime-inspector-by-kind.js';
export { summarizeReplicas } from './runtime-inspector.js';
export type {
  LogsOptions,
  LogsResult,
  ReplicaState,
  RuntimeInspector,
  RuntimeStatus,
  StatusResult,
  Unavailable,
} from './runtime-inspector.js';
