/** @module HttpError: the one error type of the gateway; it renders itself as `{ error: { code, message } }`. */

/** A detail about one bad input field, for validation errors. */
export interface ErrorDetail {
  readonly path: string;
  readonly message: string;
}

/** JSON body of every error response. */
export interface ErrorBody {
  error: { code: string; message: string; details?: ErrorDetail[] };
}

/** Options for {@link HttpError}. */
export interface HttpErrorOptions {
  readonly headers?: Record<string, string>;
  readonly details?: ErrorDetail[];
  readonly cause?: unknown;
}

/** An error that knows its HTTP status and renders a clear JSON body. */
export class HttpError extends Error {
  readonly headers: Record<string, string>;
  readonly details: ErrorDetail[] | undefined;

  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    options: HttpErrorOptions = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'HttpError';
    this.headers = options.headers ?? {};
    this.details = options.details;
  }

  /** The body this error is answered with. */
  toBody(): ErrorBody {
    const error: ErrorBody['error'] = { code: this.code, message: this.message };
    if (this.details?.length) error.details = this.details;
    return { error };
  }

  /** This error as a Fetch response, for front ends outside Hono's `onError`. */
  toResponse(): Response {
    return new Response(JSON.stringify(this.toBody()), {
      status: this.status,
      headers: { 'content-type': 'application/json', ...this.headers },
    });
  }
}

export const badRequest = (message: string, details?: ErrorDetail[]): HttpError =>
  new HttpError(400, 'invalid_request', message, { details });
export const forbidden = (message: string): HttpError => new HttpError(403, 'forbidden', message);
export const notFound = (message: string): HttpError => new HttpError(404, 'not_found', message);
export const conflict = (message: string): HttpError => new HttpError(409, 'conflict', message);
export const preconditionFailed = (message: string): HttpError =>
  new HttpError(412, 'precondition_failed', message);
export const payloadTooLarge = (limitBytes: number): HttpError =>
  new HttpError(413, 'payload_too_large', `Request body is larger than the limit of ${limitBytes} bytes.`);
export const unsupportedMediaType = (got: string | undefined): HttpError =>
  new HttpError(
    415,
    'unsupported_media_type',
    `Request body must be JSON (Content-Type: application/json), got ${got ? `'${got}'` : 'no Content-Type'}.`,
  );
export const notImplemented = (message: string): HttpError => new HttpError(501, 'not_implemented', message);
