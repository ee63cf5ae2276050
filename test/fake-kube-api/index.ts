/** @module fake-kube-api: a Kubernetes API server for tests, and the fake cluster behind it. */
export { startFakeKubeApi } from './fake-kube-api.js';
export type { AuditRecord, DropOptions, FakeKubeApi, FakeKubeApiOptions } from './fake-kube-api.js';
export { FakeController } from './fake-controller.js';
export {
  CONTROLLER_NAME,
  EndpointSliceController,
  MANAGED_BY_LABEL,
  SERVICE_NAME_LABEL,
} from './endpoint-slice-controller.js';
export type { FakeControllerOptions, WaitingState } from './fake-controller.js';
export { KINDS, ObjectStore } from './object-store.js';
export type { JsonObject, KubeObject, ObjectMeta, Plural, StoreEvent } from './object-store.js';
export { findUnknownFields, validateObject } from './validation.js';
export type { Cause } from './validation.js';
export { parseLabelSelector } from './label-selector.js';
export type { LabelSelector } from './label-selector.js';
export {
  RBAC_MANIFEST,
  TEST_NAMESPACE,
  TEST_REGISTRY,
  fixedSecrets,
  grantedPairs,
  imageResource,
  rbacPairs,
  readManifests,
  startKubeTestKit,
  ungrantedRequests,
  waitFor,
} from './kube-test-kit.js';
export type { ImageSpecOverrides, KubeTestKit, KubeTestKitOptions } from './kube-test-kit.js';
