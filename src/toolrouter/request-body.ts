/**
 * @module request-body: reads an MCP POST's body once, for the SDK handler's `parsedBody`. Given the parsed body,
 * the handler neither clones the request (a stream tee) nor reads it through a second stream; on Node,
 * `@hono/node-server`'s request then reads the socket directly instead of building a Fetch body stream at all.
 * In a profile of `tools/call` through `/mcp` those streams were the largest part of the request handling.
 *
 * Only a body that declares its length within the limit and parses as a JSON object or array is handed over
 * parsed. Anything else reaches the SDK as it would have (unread, or rebuilt from the text read), so its own
 * answers (415, 413, parse errors, the legacy fallback) stay exactly what they were.
 */

/** What {@link parsedBodyOf} read: the request to hand on and, when it parsed, the body. */
export type ReadBody =
  | { readonly request: Request; readonly parsedBody?: object }
  /** The client went away while its body was read. */
  | { readonly unreadable: true };

/** Reads `request`'s body when that is safe and cheap; see the module header. */
export async function parsedBodyOf(request: Request, maxBytes: number): Promise<ReadBody> {
  if (request.method !== 'POST') return { request };
  const declared = request.headers.get('content-length');
  const length = declared === null ? NaN : Number(declared);
  // Without a declared length the SDK's own bounded read applies; no body: the SDK answers it.
  if (!(Number.isSafeInteger(length) && length > 0 && length <= maxBytes)) return { request };
  let text: string;
  try {
    text = await request.text();
  } catch {
    return { unreadable: true };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (typeof parsed === 'object' && parsed !== null) return { request, parsedBody: parsed };
  // Not JSON, or JSON the SDK answers itself (a number, a string): the text as the body it would have read.
  return {
    request: new Request(request.url, {
      method: request.method,
      headers: request.headers,
      body: text,
      signal: request.signal,
    }),
  };
}

/**
 * The body of `request` as text when it is at most `maxBytes`, read from a copy (the SDK or the router reads the
 * original); undefined when it is larger, which they refuse with 413.
 */
export async function smallBodyOf(request: Request, maxBytes: number): Promise<string | undefined> {
  const declared = Number(request.headers.get('content-length') ?? NaN);
  if (declared > maxBytes || !request.body) return undefined;
  const reader = request.clone().body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      return undefined;
    }
    text += decoder.decode(value, { stream: true });
  }
  return text + decoder.decode();
}
