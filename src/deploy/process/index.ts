/** @module process: the `command` runtime's deployer (local child processes). The folder's only public entry. */
export { DEFAULT_STDIO_LIMITS, ProcessDeployer } from './process-deployer.js';
export type { ProcessDeployerOptions } from './process-deployer.js';
export { DEFAULT_BACKOFF } from './backoff.js';
export type { BackoffPolicy } from './backoff.js';
export { DEFAULT_INHERITED_VARIABLES } from './child-env.js';
export type { StdioBridgeLimits } from './stdio-bridge.js';
