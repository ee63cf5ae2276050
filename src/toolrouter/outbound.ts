/**
 * @module outbound: how the tool router sends HTTP requests to tool servers and adapter replicas. A port with a
 * Fetch implementation here (any runtime) and a Node-native one in `node/` (the data plane's SSRF-guarded
 * keep-alive pools, a real connect timeout). Failures say whether the request may have reached the server, which
 * decides whether the next replica in rendezvous order may be tried.
 */

/** One outbound request. */
export interface OutboundRequest {
  readonly url: string;
  readonly method: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string | Uint8Array;
  /** Aborts the request and its response body (deadline or the caller going away). */
  readonly signal?: AbortSignal;
  /** Longest wait for the connection; a Fetch implementation may leave this to the runtime. */
  readonly connectTimeoutMs: number;
  /**
   * The caller reads the answer only with {@link readWholeBody}, never through `Response.body`: an implementation
   * may then hand the body over without a Fetch stream (the Node one does; a stream per answer was a visible
   * share of a `tools/call`'s CPU). `'json'`: so only when the answer is `application/json` (any other answer,
   * an SSE stream say, is read through `Response.body` as usual).
   */
  readonly wholeBody?: boolean | 'json';
}

/** Sends a request; resolves with the response head (the body streams), rejects with {@link OutboundError}. */
export type Outbound = (request: OutboundRequest) => Promise<Response>;

/** Bodies an {@link Outbound} made readable without a Fetch stream, by the response they belong to. */
const wholeBodies = new WeakMap<Response, (maxBytes: number) => Promise<Uint8Array | undefined>>();

/**
 * Marks `response` (whose own body is empty) as carrying the body `read` yields: the whole body up to `maxBytes`,
 * or undefined when it is larger (the rest is then discarded). Called once, by {@link readWholeBody}.
 */
export function withWholeBody(
  response: Response,
  read: (maxBytes: number) => Promise<Uint8Array | undefined>,
): Response {
  wholeBodies.set(response, read);
  return response;
}

/** The whole body of `response` up to `maxBytes`; undefined when it is larger (and then no more is read). */
export async function readWholeBody(response: Response, maxBytes: number): Promise<Uint8Array | undefined> {
  const whole = wholeBodies.get(response);
  if (whole) return whole(maxBytes);
  if (!response.body) return new Uint8Array(0);
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => undefined);
      return undefined;
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return chunks[0]!;
  const all = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    all.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return all;
}

/** Error codes that mean no byte of the request reached the server: the next replica may be tried. */
const NOT_SENT_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'EADDRBLOCKED',
  'UND_ERR_CONNECT_TIMEOUT',
  'CONNECT_TIMEOUT',
]);

/** A request that failed before a response head arrived. */
export class OutboundError extends Error {
  constructor(
    message: string,
    /** `ECONNREFUSED`, `CONNECT_TIMEOUT`, `EADDRBLOCKED` (SSRF guard), `ABORTED`, … */
    readonly code: string,
    /** False when the server certainly got nothing (safe to try another replica). */
    readonly sent: boolean,
    /**
     * A kept-alive connection that the server had closed when it was reused: the request most likely never
     * reached a handler, but that cannot be proven, so only idempotent calls are repeated on it.
     */
    readonly stale = false,
  ) {
    super(message);
    this.name = 'OutboundError';
  }

  /** An error from a code, `sent` derived from it. */
  static of(code: string, message: string, sentOverride?: boolean, stale = false): OutboundError {
    return new OutboundError(message, code, sentOverride ?? !NOT_SENT_CODES.has(code), stale);
  }
}

/** True when the failure means the replica refuses connections (worth reporting to its deployer). */
export function isRefusal(error: OutboundError): boolean {
  return error.code === 'ECONNREFUSED' || error.code === 'EHOSTUNREACH' || error.code === 'CONNECT_TIMEOUT';
}

function codeOf(error: unknown): string | undefined {
  for (let current = error, depth = 0; current instanceof Error && depth < 5; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    current = current.cause;
  }
  return undefined;
}

/**
 * An {@link Outbound} over the Fetch API. The connect timeout is the runtime's (Fetch has no such option);
 * errors are classified by the cause code the runtime attaches (undici on Node).
 */
export function fetchOutbound(fetchImpl: typeof fetch = (input, init) => fetch(input, init)): Outbound {
  return async (request) => {
    try {
      return await fetchImpl(request.url, {
        method: request.method,
        headers: request.headers,
        body: request.body as BodyInit | undefined,
        signal: request.signal,
        redirect: 'manual',
      });
    } catch (error) {
      if (request.signal?.aborted) throw OutboundError.of('ABORTED', 'the request was aborted', true);
      const code = codeOf(error) ?? 'EFETCH';
      const cause = error instanceof Error && error.cause instanceof Error ? error.cause.message : undefined;
      throw OutboundError.of(code, cause ?? (error instanceof Error ? error.message : String(error)));
    }
  };
}

/** Adapts an {@link Outbound} to the `fetch` shape the MCP SDK's HTTP client transport takes. */
export function outboundFetch(
  outbound: Outbound,
  connectTimeoutMs: number,
): (
  url: string | URL,
  init?: RequestInit & { wholeBody?: OutboundRequest['wholeBody'] },
) => Promise<Response> {
  return (url, init = {}) => {
    const headers: Record<string, string> = {};
    new Headers(init.headers).forEach((value, name) => {
      headers[name] = value;
    });
    return outbound({
      url: String(url),
      method: init.method ?? 'GET',
      headers,
      body: init.body as string | Uint8Array | undefined,
      signal: init.signal ?? undefined,
      connectTimeoutMs,
      ...(init.wholeBody !== undefined && { wholeBody: init.wholeBody }),
    });
  };
}
