/** @module accessLog: one structured log line per request. */
import type { MiddlewareHandler } from 'hono';
import type { Logger } from '../observability/index.js';
import type { AppEnv } from '../core/index.js';

/** Options for {@link accessLog}. */
export interface AccessLogOptions {
  readonly logger: Logger;
  /** Paths logged at debug instead of info, so probes do not flood the log. */
  readonly quietPaths?: readonly string[];
}

/** Logs method, path (never the query, which may carry tokens), status and duration. */
export function accessLog(options: AccessLogOptions): MiddlewareHandler<AppEnv> {
  const { logger } = options;
  const quiet = new Set(options.quietPaths ?? []);
  return async function accessLogMiddleware(c, next) {
    const started = performance.now();
    await next();
    const line = {
      requestId: c.get('requestId'),
      method: c.req.method,
      path: c.req.path,
      status: c.res.status,
      durationMs: Math.round((performance.now() - started) * 10) / 10,
    };
    if (quiet.has(c.req.path)) logger.debug(line, 'request');
    else logger.info(line, 'request');
  };
}
