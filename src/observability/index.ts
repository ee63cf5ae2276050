/** @module observability: logging, health (and, later, metrics). */
export { createHealthRoutes } from './health-routes.js';
export type { HealthRoutesOptions } from './health-routes.js';
export { LOG_LEVELS, createLogger, createSilentLogger } from './logger.js';
export type { LogLevel, Logger, LoggerOptions } from './logger.js';
