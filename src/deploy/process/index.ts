/** @module process: the `command` runtime's deployer (local child processes). The folder's only public entry. */
export { DEFAULT_STDIO_LIMITS, ProcessDeployer } from './process-deployer.js';
export type { ProcessDeployerOptions, ProcessDeployerStart } from './process-deployer.js';
export { DEFAULT_BACKOFF } from './backoff.js';
export { KEEP_COMMAND, resolveCommand, resolutionPlan } from './command-resolution.js';
export type {
  CommandResolver,
  Launchable,
  ProbeOutcome,
  ProbeRunner,
  Resolution,
  ResolutionPlan,
} from './command-resolution.js';
export type { BackoffPolicy } from './backoff.js';
export { DEFAULT_INHERITED_VARIABLES } from './child-env.js';
export { LEDGER_FOLDER } from './child-ledger.js';
export type { LeftoverReport } from './child-ledger.js';
export { CHILD_TAG_VARIABLE, startProcessSandbox } from './process-sandbox.js';
export type {
  ProcessSandbox,
  ProcessSandboxSettings,
  ReplicaSandbox,
  SandboxStart,
  SandboxStartOptions,
} from './process-sandbox.js';
export { SANDBOX_HOME, SANDBOX_TMP } from './sandbox-argv.js';
export type { StdioBridgeLimits } from './stdio-bridge.js';
export { isProgramFile } from './program-file.js';
