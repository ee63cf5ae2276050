/** @module log-levels: the levels the gateway logs at, shared by configuration and the logger. */

/** Every level `MCP_GATEWAY_LOG_LEVEL` accepts, most severe first. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
/** One of {@link LOG_LEVELS}. */
export type LogLevel = (typeof LOG_LEVELS)[number];
