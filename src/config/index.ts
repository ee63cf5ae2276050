/** @module config: typed configuration from the environment. */
export { ConfigError, DEFAULT_DATABASE_URL, parseConfig } from './config.js';
export type { Config } from './config.js';
export { AUTH_MODES, DEFAULT_ALGORITHMS, isLoopbackHost, parseAuthConfig } from './auth-config.js';
export type { AuthConfig, AuthMode, DevAuthConfig, KeySource, TokenAuthConfig } from './auth-config.js';
export { DEPLOYER_KINDS, parseDeployConfig } from './deploy-config.js';
export type {
  DeployConfig,
  DeployerKind,
  KubernetesDeployConfig,
  ProcessDeployConfig,
} from './deploy-config.js';
