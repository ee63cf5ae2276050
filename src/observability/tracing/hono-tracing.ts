/**
 * @module hono-tracing: one SERVER span per HTTP request, named by route pattern, and the way handlers reach it
 * ({@link requestSpan}) to add attributes and start CLIENT children for their upstream calls.
 */
import type { Context, MiddlewareHandler } from 'hono';
import { routePath } from 'hono/route';
import type { AppEnv } from '../../core/index.js';
import { HTTP_ATTR } from './attributes.js';
import { NO_SPAN } from './tracing.js';
import type { SpanHandle, TraceContextHeaders, Tracing } from './tracing.js';

// Per request, without a typed context variable: the middleware stays usable with any Hono Env, and the entry
// dies with the request's context.
const spans = new WeakMap<Context, SpanHandle>();

/** The span {@link tracingMiddleware} started for this request; {@link NO_SPAN} when none did. */
export function requestSpan(c: Context): SpanHandle {
  return spans.get(c) ?? NO_SPAN;
}

// Methods semconv knows; any other is recorded as `_OTHER` so a client cannot mint span names.
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'CONNECT', 'TRACE']);
// Patterns of catch-all middleware: when they are the last match, no route matched.
const CATCH_ALL = new Set(['/*', '*', '']);

/** Options for {@link tracingMiddleware}. */
export interface TracingMiddlewareOptions {
  /**
   * Where a request without a `traceparent` header may name its parent instead: an MCP request's
   * `params._meta` (SEP-414). Asked only when the header is absent; undefined for none.
   */
  readonly traceContextOf?: (c: Context) => Promise<TraceContextHeaders | undefined>;
}

/**
 * Hono middleware: one SERVER span per request named `${method} ${route}`, with `http.request.method`,
 * `url.path`, `http.route`, `user_agent.original` and, at the end, `http.response.status_code`; the parent comes
 * from the request's `traceparent` (or, without one, from `options.traceContextOf`). The route is the pattern of
 * the last route matching the path — the handler's, even when a middleware answered (a 401) — never the raw path
 * with its ids; unmatched requests are named by method alone. The span ends when the handler returns (for a stream: once its head is ready).
 * With tracing off, the middleware only calls `next`.
 */
export function tracingMiddleware(
  tracing: Tracing,
  options: TracingMiddlewareOptions = {},
): MiddlewareHandler<AppEnv> {
  if (!tracing.enabled) {
    return async function tracingMiddlewareOff(_c, next) {
      await next();
    };
  }
  return async function tracingMiddlewareOn(c, next) {
    const known = METHODS.has(c.req.method);
    const method = known ? c.req.method : '_OTHER';
    const pattern = routePath(c, -1);
    const route = CATCH_ALL.has(pattern) ? undefined : pattern;
    const name = `${known ? method : 'HTTP'}${route ? ` ${route}` : ''}`;
    const traceparent = c.req.header('traceparent');
    const parent =
      (traceparent === undefined && (await options.traceContextOf?.(c))) ||
      ({ traceparent, tracestate: c.req.header('tracestate') } satisfies TraceContextHeaders);
    const span = tracing.startServer(name, parent, {
      [HTTP_ATTR.requestMethod]: method,
      [HTTP_ATTR.requestMethodOriginal]: known ? undefined : c.req.method,
      [HTTP_ATTR.urlPath]: c.req.path,
      [HTTP_ATTR.route]: route,
      [HTTP_ATTR.userAgent]: c.req.header('user-agent'),
    });
    spans.set(c, span);
    try {
      await next();
    } catch (err) {
      // Only without an onError does the error reach here; the server will answer 500.
      span.setAttributes({ [HTTP_ATTR.errorType]: errorType(err) });
      span.end({ status: 500 });
      throw err;
    }
    // `c.error` is also set for HttpErrors rendered as 4xx: only a 5xx is the server's failure.
    if (c.res.status >= 500 && c.error) span.setAttributes({ [HTTP_ATTR.errorType]: errorType(c.error) });
    span.end({ status: c.res.status });
  };
}

/** The exception's class name, never its message (which may carry user data). */
function errorType(err: unknown): string {
  return err instanceof Error && err.name ? err.name : '_OTHER';
}
