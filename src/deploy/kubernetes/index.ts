/** @module kubernetes: the Kubernetes deployer (`image` runtime). The only public entry of this folder. */
export { KubernetesDeployer, createKubernetesDeployer } from './kubernetes-deployer.js';
export { NotOwnedError } from './kube-errors.js';
export { DEFAULT_RESOURCES, FIELD_MANAGER } from './kubernetes-options.js';
export type {
  ContainerResources,
  KubeConfigSource,
  KubernetesDeployerOptions,
  WatchTuning,
  ResolvedKubernetesOptions,
  WorkloadIdentityOptions,
} from './kubernetes-options.js';
export {
  ANNOTATIONS,
  LABELS,
  MANAGED_BY,
  objectName,
  renderService,
  renderStatefulSet,
} from './manifests.js';
