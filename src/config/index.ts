/** @module config: typed configuration from the environment. */
export { ConfigError, DEFAULT_DATABASE_URL, parseConfig } from './config.js';
export type { Config } from './config.js';
export { AUTH_MODES, DEFAULT_ALGORITHMS, isLoopbackHost, parseAuthConfig } from './auth-config.js';
export type { AuthConfig, AuthMode, DevAuthConfig, KeySource, TokenAuthConfig } from './auth-config.js';
export {
  DEFAULT_STATE_DIRECTORY,
  DEPLOYER_KINDS,
  PROCESS_SANDBOX_MODES,
  SECRET_FILE_VARIABLES,
  parseDeployConfig,
  readPathProblems,
  sqliteDirectory,
} from './deploy-config.js';
export type {
  DeployConfig,
  DeployConfigContext,
  DeployerKind,
  KubernetesDeployConfig,
  ProcessDeployConfig,
  ProcessSandboxConfig,
  ProcessSandboxMode,
  ProtectedPath,
} from './deploy-config.js';
export { MIN_METRICS_TOKEN_LENGTH, parseOpsConfig } from './ops-config.js';
export type { MetricsServing, OpsConfig, OpsConfigContext, RateLimit } from './ops-config.js';
export { parseToolRouterConfig } from './toolrouter-config.js';
export type { ToolRouterConfig, ToolRouterConfigContext } from './toolrouter-config.js';
export { parseTracingConfig, TRACE_EXPORTERS, TRACE_SAMPLERS } from './tracing-config.js';
export type {
  OtlpTraceExporterConfig,
  TraceExporterConfig,
  TraceSamplerConfig,
  TraceSamplerName,
  TracingConfig,
} from './tracing-config.js';
export {
  DEFAULT_MAX_NAME_LENGTH,
  DEFAULT_SEPARATOR,
  TOOL_DISCOVERY_MODES,
  TOOL_NAME_ALPHABET,
  TOOL_PINNING_MODES,
  TOOL_ROUTER_DEFAULTS,
  separatorProblem,
} from './toolrouter-settings.js';
export type { ToolDiscoveryMode, ToolPinningMode, ToolRouterSettings } from './toolrouter-settings.js';
