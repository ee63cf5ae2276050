/** @module deploy: what runs for each registered resource, and how to read its status and logs. */
export { blockedAddressReason, blockedUrlReason } from './remote/blocked-address.js';
export { ssrfPolicy } from './remote/ssrf-policy.js';
export type { SsrfPolicy } from './remote/ssrf-policy.js';
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
export { createReconciler } from './reconciler.js';
export type { Reconciler, ReconcilerOptions, ReconcileResult, ReconcileSummary } from './reconciler.js';
export { createDeployerInspector } from './deployer-inspector.js';
export type { DeployerInspector, DeployerInspectorOptions, FollowLogsOptions } from './deployer-inspector.js';
export { nullResourceChangeListener, refKey, refOf } from './resource-change.js';
export type { ResourceChangeListener } from './resource-change.js';
export { NOTHING_HELD, acceptingNew } from './deployer.js';
export type {
  Deployer,
  DeployerLogs,
  DeployerLogsOptions,
  EndpointsListener,
  ReplicaEndpoint,
  ResourceRef,
  SessionCount,
} from './deployer.js';
export { createReplicaResolver } from './replica-resolver.js';
export type { DeployerReplicaResolver } from './replica-resolver.js';
export { BLOCKED_ADDRESS_CODE, fetchProbeSender, fetchSseProbeSender } from './remote/probe-endpoint.js';
export type { ProbeSender, SseProbeSender } from './remote/probe-endpoint.js';
export { RemoteDeployer } from './remote/remote-deployer.js';
export type { RemoteDeployerOptions } from './remote/remote-deployer.js';
export { startDeployers } from './start-deployers.js';
export {
  EMPTY_SECRET_ENVIRONMENT,
  NO_SECRET_SOURCE,
  resolveSecretEnvironment,
  storedSecretSource,
} from './secret-environment.js';
export type { ResolvedSecret, SecretEnvironment, SecretSource } from './secret-environment.js';
export type { RunningDeployers, StartDeployersOptions } from './start-deployers.js';
