/**
 * @module sse-outbound: how the data plane reaches a 2024-11-05 upstream — one HTTP request, its response
 * streaming. The same shape as the tool router's `Outbound`, so the Node runtime hands in the one over its
 * SSRF-guarded keep-alive agents (a real connect timeout, names that resolve to blocked addresses refused);
 * {@link fetchSseOutbound} serves any runtime with Fetch.
 */

/** One outbound request. */
export interface SseOutboundRequest {
  readonly url: string;
  readonly method: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string | Uint8Array;
  /** Aborts the request and its response body. */
  readonly signal?: AbortSignal;
  /** Longest wait for the connection. */
  readonly connectTimeoutMs: number;
}

/** Resolves with the response head (the body streams); rejects with an error carrying a `code` when it can. */
export type SseOutbound = (request: SseOutboundRequest) => Promise<Response>;

/** The error code (on the error or a cause) of a failed request: `ECONNREFUSED`, `EADDRBLOCKED`, … */
export function errorCodeOf(error: unknown): string | undefined {
  for (let current = error, depth = 0; current instanceof Error && depth < 5; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    current = current.cause;
  }
  return undefined;
}

/** An {@link SseOutbound} over the Fetch API (redirects not followed: a redirect could leave the origin). */
export function fetchSseOutbound(fetchImpl: typeof fetch = (input, init) => fetch(input, init)): SseOutbound {
  return (request) =>
    fetchImpl(request.url, {
      method: request.method,
      headers: request.headers,
      body: request.body as BodyInit | undefined,
      signal: request.signal,
      redirect: 'manual',
    });
}
