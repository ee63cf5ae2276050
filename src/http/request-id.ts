/** @module requestId: middleware that gives every request an id for logs and error bodies. */
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../core/index.js';

/** Options for {@link requestId}. */
export interface RequestIdOptions {
  /** Makes a fresh id; injected so tests can predict it. */
  readonly generate?: () => string;
}

// An inbound id is reused only when it is short and plain, so it is safe to log and to echo.
const SAFE_INBOUND_ID = /^[A-Za-z0-9._-]{1,128}$/;

/** Takes a safe inbound `X-Request-Id` or makes one, stores it and echoes it on the response. */
export function requestId(options: RequestIdOptions = {}): MiddlewareHandler<AppEnv> {
  const generate = options.generate ?? (() => crypto.randomUUID());
  return async function requestIdMiddleware(c, next) {
    const inbound = c.req.header('x-request-id');
    const id = inbound && SAFE_INBOUND_ID.test(inbound) ? inbound : generate();
    c.set('requestId', id);
    c.header('X-Request-Id', id);
    await next();
  };
}
