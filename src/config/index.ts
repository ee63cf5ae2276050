/** @module config: typed configuration from the environment. */
export { ConfigError, DEFAULT_DATABASE_URL, parseConfig } from './config.js';
export type { Config } from './config.js';
