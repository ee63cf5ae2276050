/**
 * @module identify: authentication as a function of the request's headers and path, so every front end runs
 * the same code — Hono middleware, and the Node listener's fast path for `/adapters/{name}/mcp`.
 */
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../http/index.js';
import type { Principal } from '../core/index.js';

/** What authentication reads of a request. */
export interface IdentifyRequest {
  readonly path: string;
  /** Absolute URL (authentication refuses tokens in its query string). */
  readonly url: string;
  /** A header value by lower-case name. */
  header(name: string): string | undefined;
  /** For log lines; absent where the front end assigns none. */
  readonly requestId?: string;
}

/** Names the caller, or throws an `HttpError` (401 with a challenge, 400, 503). */
export type Identify = (request: IdentifyRequest) => Principal | Promise<Principal>;

/** The middleware that sets `principal`, carrying its {@link Identify} for front ends that skip Hono. */
export type IdentifyingMiddleware = MiddlewareHandler<AppEnv> & { readonly identify: Identify };

/** Wraps `identify` as the middleware that sets `principal`. */
export function identifyingMiddleware(identify: Identify): IdentifyingMiddleware {
  const middleware: MiddlewareHandler<AppEnv> = async function identifyMiddleware(c, next) {
    const principal = identify({
      path: c.req.path,
      url: c.req.url,
      header: (name) => c.req.header(name),
      requestId: c.get('requestId'),
    });
    c.set('principal', principal instanceof Promise ? await principal : principal);
    await next();
  };
  return Object.assign(middleware, { identify });
}

/** The {@link Identify} behind an authentication middleware, when it has one (custom test middleware has not). */
export function identifyOf(middleware: MiddlewareHandler<AppEnv>): Identify | undefined {
  return (middleware as Partial<IdentifyingMiddleware>).identify;
}
