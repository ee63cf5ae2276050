/** @module jsonBody: middleware that admits only JSON bodies within a size limit (415, 413). */
import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { payloadTooLarge, unsupportedMediaType } from './http-error.js';

/** Options for {@link jsonBody}. */
export interface JsonBodyOptions {
  /** Largest accepted body in bytes. */
  readonly maxBytes: number;
}

const JSON_MEDIA_TYPE = /^application\/(?:[a-z0-9.+-]+\+)?json\s*(?:;|$)/i;

/**
 * For POST, PUT and PATCH: refuses a non-JSON Content-Type with 415 and a body over the limit with 413
 * (by Content-Length up front, and by counting for chunked bodies). Other methods pass through.
 */
export function jsonBody(options: JsonBodyOptions): MiddlewareHandler {
  const { maxBytes } = options;
  if (!Number.isInteger(maxBytes) || maxBytes < 1) throw new RangeError('jsonBody: maxBytes must be ≥ 1');
  const limit = bodyLimit({
    maxSize: maxBytes,
    onError: () => {
      throw payloadTooLarge(maxBytes);
    },
  });
  return async function jsonBodyMiddleware(c, next) {
    if (c.req.method !== 'POST' && c.req.method !== 'PUT' && c.req.method !== 'PATCH') return next();
    const type = c.req.header('content-type');
    if (!type || !JSON_MEDIA_TYPE.test(type)) throw unsupportedMediaType(type);
    return limit(c, next);
  };
}
