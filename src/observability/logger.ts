/** @module logger: JSON logs (pino) with secrets redacted at the source. */
import { pino } from 'pino';
import type { DestinationStream, Logger as PinoLogger } from 'pino';
import { LOG_LEVELS } from '../core/index.js';
import type { LogLevel } from '../core/index.js';

/** The logger type used across the gateway. */
export type Logger = PinoLogger;

/** Levels accepted by `MCP_GATEWAY_LOG_LEVEL`. */
export { LOG_LEVELS };
export type { LogLevel };

/** Options for {@link createLogger}. */
export interface LoggerOptions {
  readonly level: LogLevel;
  /** Where lines go; stdout by default. */
  readonly destination?: DestinationStream;
}

// Paths that may carry credentials or user secrets; redacted wherever a log call passes such an object.
const REDACT_PATHS = [
  'secret',
  '*.secret',
  'config.secret',
  'databaseUrl',
  'config.databaseUrl',
  'authorization',
  'headers.authorization',
  'req.headers.authorization',
  'headers.cookie',
  'environmentVariables',
  '*.environmentVariables',
  // A process spec's resolved secret variables (deploy/process): never logged, and redacted should one slip in.
  'secretEnvironment',
  '*.secretEnvironment',
];

/** Builds the JSON logger. */
export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      level: options.level,
      base: { service: 'mcp-gateway' },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    },
    options.destination,
  );
}

/** A logger that writes nothing: the default in tests. */
export function createSilentLogger(): Logger {
  return pino({ level: 'silent' });
}
