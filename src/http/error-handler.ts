/** @module errorHandler: the single `onError` and `notFound` of the app. */
import type { Context, ErrorHandler, NotFoundHandler } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { HTTPException } from 'hono/http-exception';
import type { Logger } from '../observability/index.js';
import { HttpError } from './http-error.js';

/** Options for {@link createErrorHandler}. */
export interface ErrorHandlerOptions {
  readonly logger: Logger;
}

function requestIdOf(c: Context): string | undefined {
  return c.get('requestId') as string | undefined;
}

// Rendered through the context so headers set earlier in the request (X-Request-Id) are kept.
function render(c: Context, error: HttpError): Response {
  return c.json(error.toBody(), error.status as ContentfulStatusCode, error.headers);
}

/**
 * Renders HttpError as is; maps Hono's own HTTPException (malformed JSON, body limit) to the same JSON shape;
 * logs anything else with the request id and answers 500 without internals.
 */
export function createErrorHandler(options: ErrorHandlerOptions): ErrorHandler {
  const { logger } = options;
  return function onError(err, c) {
    if (err instanceof HttpError) return render(c, err);
    if (err instanceof HTTPException && err.status < 500) {
      const message = err.message || 'Bad request.';
      return render(
        c,
        new HttpError(err.status, err.status === 400 ? 'invalid_request' : 'http_error', message),
      );
    }
    const requestId = requestIdOf(c);
    logger.error({ err, requestId, method: c.req.method, path: c.req.path }, 'unhandled error');
    const suffix = requestId ? ` (request id ${requestId})` : '';
    return render(c, new HttpError(500, 'internal_error', `Internal server error${suffix}.`));
  };
}

/** 404 for routes that do not exist, in the same JSON shape as every other error. */
export const notFoundHandler: NotFoundHandler = (c) =>
  render(c, new HttpError(404, 'not_found', `No route for ${c.req.method} ${c.req.path}.`));
