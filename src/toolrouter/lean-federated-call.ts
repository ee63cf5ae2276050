/**
 * @module lean-federated-call: a federated `tools/call` to a 2026-07-28 upstream made without the SDK client's
 * layers. On a pooled connection to such an upstream (stateless: no session), the router posts the call itself
 * — the very request the SDK client would send (its headers, its `_meta` envelope) through the connection's own
 * fetch, which adds identity, credentials and trace headers and keeps its failover bookkeeping — and reads a
 * plain JSON answer itself. In a CPU profile of a federated call, the client's Zod checks of request, response
 * and result, its scan of the tool's schema for `x-mcp-header` on every call, and the Fetch objects around each
 * exchange were a third of the router's own work.
 *
 * Only the plainest answer is read here: HTTP 200, `application/json`, one JSON-RPC response with this request's
 * id whose result is `resultType: 'complete'` with text content. Anything else (a JSON-RPC error, `input_required`,
 * an SSE stream, another status, other content) is handed, untouched but for the request id, to the SDK client
 * as the answer to its own send of the same call ({@link ReplayedAnswers}), so it reads it exactly as it always
 * did (its errors, its multi-round-trip result, its stream handling). Nothing is sent twice.
 */
import { PROTOCOL_VERSION_META_KEY, SdkError, SdkErrorCode } from '@modelcontextprotocol/client';
import type { CallToolResult, Tool } from '@modelcontextprotocol/client';
import { readWholeBody } from './outbound.js';
import { mcpNameValue } from './mcp-name.js';

/** The revision of the upstreams served here. */
export const LEAN_REVISION = '2026-07-28';

/** Largest answer read here; a larger one is a tool error (the SDK client reads any size). */
const MAX_ANSWER_BYTES = 64 * 1024 * 1024;

/** Names the stored answer the connection's fetch hands to the SDK client instead of sending (removed there). */
export const REPLAY_HEADER = 'x-mcp-gateway-replay';

/** The fetch of a pooled connection, with the whole-body option of {@link OutboundRequest}. */
export type ConnectionFetch = (
  url: string,
  init: RequestInit & { readonly wholeBody?: 'json' },
) => Promise<Response>;

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Tools whose input schema declares `x-mcp-header` parameters (the SDK client sends those as headers). */
const headerParams = new WeakMap<Tool, boolean>();

/** Whether `tool` can be called here: the SDK client sends some of its arguments as headers otherwise. */
export function leanCallable(tool: Tool): boolean {
  let declares = headerParams.get(tool);
  if (declares === undefined) {
    declares = JSON.stringify(tool.inputSchema ?? {}).includes('x-mcp-header');
    headerParams.set(tool, declares);
  }
  return !declares;
}

const TEXT_KEYS = new Set(['type', 'text']);
const RESULT_KEYS = new Set(['content', 'structuredContent', 'isError', '_meta', 'resultType']);

/** A complete result of text content that the SDK client's checks would hand on as it is (less `resultType`). */
function plainResultOf(result: unknown): CallToolResult | undefined {
  if (!isPlainObject(result) || result.resultType !== 'complete' || !Array.isArray(result.content))
    return undefined;
  for (const key in result) if (!RESULT_KEYS.has(key)) return undefined;
  for (const item of result.content) {
    if (!isPlainObject(item) || item.type !== 'text' || typeof item.text !== 'string') return undefined;
    for (const key in item) if (!TEXT_KEYS.has(key)) return undefined;
  }
  if (result.structuredContent !== undefined && !isPlainObject(result.structuredContent)) return undefined;
  if (result.isError !== undefined && typeof result.isError !== 'boolean') return undefined;
  if (result._meta !== undefined && !isPlainObject(result._meta)) return undefined;
  const { resultType: _complete, ...plain } = result;
  return plain as CallToolResult;
}

/** Stored answers of one connection, by replay key, each for one send of the SDK client. */
export class ReplayedAnswers {
  private readonly answers = new Map<string, { readonly response: Response; readonly id: string }>();

  /** Keeps `response` (the answer to a request with `id`) for the send that carries `key`. */
  keep(key: string, id: string, response: Response): void {
    this.answers.set(key, { response, id });
  }

  /** Drops what a call left unclaimed (it failed before the SDK client sent). */
  drop(key: string): void {
    const left = this.answers.get(key);
    this.answers.delete(key);
    void left?.response.body?.cancel().catch(() => undefined);
  }

  /**
   * The stored answer for a send with `headers` and `body`, with the request id rewritten to the one the SDK
   * client used; undefined when the send carries no (or a claimed) key, which then goes out as usual.
   */
  take(headers: Record<string, string>, body: unknown): Response | undefined {
    const key = headers[REPLAY_HEADER];
    if (key === undefined) return undefined;
    delete headers[REPLAY_HEADER];
    const stored = this.answers.get(key);
    if (!stored) return undefined;
    this.answers.delete(key);
    let theirs: unknown;
    try {
      theirs = (JSON.parse(typeof body === 'string' ? body : '') as { id?: unknown }).id;
    } catch {
      theirs = undefined;
    }
    const ours = JSON.stringify(stored.id);
    const replacement = JSON.stringify(theirs ?? null);
    const { response } = stored;
    const init = { status: response.status, statusText: response.statusText, headers: response.headers };
    if (!response.body) return new Response(null, init);
    return new Response(response.body.pipeThrough(replaceInLines(ours, replacement)), init);
  }
}

/** A stream with every occurrence of `from` replaced by `to`, line by line (the id is never split by a line). */
function replaceInLines(from: string, to: string): TransformStream<Uint8Array, Uint8Array> {
  const decoder = new TextDecoder();
  const encoder = new TextEncoder();
  let pending = '';
  return new TransformStream({
    transform(chunk, controller) {
      pending += decoder.decode(chunk, { stream: true });
      const end = pending.lastIndexOf('\n');
      if (end < 0) return;
      controller.enqueue(encoder.encode(pending.slice(0, end + 1).replaceAll(from, to)));
      pending = pending.slice(end + 1);
    },
    flush(controller) {
      pending += decoder.decode();
      if (pending) controller.enqueue(encoder.encode(pending.replaceAll(from, to)));
    },
  });
}

/** One lean call. */
export interface LeanCallOptions {
  /** The connection's fetch (identity, credentials, trace headers, failover bookkeeping). */
  readonly fetch: ConnectionFetch;
  readonly url: string;
  readonly tool: string;
  readonly args: Record<string, unknown> | undefined;
  /** The whole `_meta`: the SDK client's envelope with the call's own keys over it. */
  readonly meta: Record<string, unknown>;
  readonly signal: AbortSignal;
  readonly timeoutMs: number;
}

/** What a lean call got: a result read here, or an answer to hand to the SDK client (kept under `replay`). */
export type LeanAnswer =
  { readonly result: CallToolResult } | { readonly id: string; readonly response: Response };

/**
 * How many lean calls this process read itself, and how many answers it handed to the SDK client (its tests
 * read them to know which way a call went).
 */
export const leanCallCounts = { read: 0, replayed: 0 };

let sequence = 0;
/** Random per process, made on first use: edge runtimes refuse random values at module scope. */
let idPrefix: string | undefined;

/**
 * Posts the call; rejects as the SDK client would on the way (the fetch's own errors, a timeout as the SDK's
 * `RequestTimeout`, an abort of the caller's signal as it is).
 */
export async function leanToolCall(options: LeanCallOptions): Promise<LeanAnswer> {
  idPrefix ??= `gw-${crypto.getRandomValues(new Uint32Array(1))[0]!.toString(36)}-`;
  const id = `${idPrefix}${++sequence}`;
  const body = JSON.stringify({
    jsonrpc: '2.0',
    id,
    method: 'tools/call',
    params: {
      name: options.tool,
      ...(options.args !== undefined && { arguments: options.args }),
      _meta: options.meta,
    },
  });
  const timeout = new AbortController();
  const onAbort = () => timeout.abort(options.signal.reason);
  options.signal.addEventListener('abort', onAbort, { once: true });
  const timer = setTimeout(() => timeout.abort(), options.timeoutMs);
  try {
    const response = await options.fetch(options.url, {
      method: 'POST',
      headers: {
        'mcp-protocol-version': String(options.meta[PROTOCOL_VERSION_META_KEY] ?? LEAN_REVISION),
        'mcp-method': 'tools/call',
        'mcp-name': mcpNameValue(options.tool),
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body,
      signal: timeout.signal,
      wholeBody: 'json',
    });
    const type = (response.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== 'application/json' || response.status === 204 || response.status === 202) {
      leanCallCounts.replayed++;
      return { id, response };
    }
    const bytes = await readWholeBody(response, MAX_ANSWER_BYTES);
    if (bytes === undefined) {
      return {
        result: {
          isError: true,
          content: [{ type: 'text', text: `The answer is larger than ${MAX_ANSWER_BYTES} bytes.` }],
        },
      };
    }
    const text = new TextDecoder().decode(bytes);
    const stored = () => ({
      id: (leanCallCounts.replayed++, id),
      response: new Response(text, {
        status: response.status,
        statusText: response.statusText,
        headers: response.headers,
      }),
    });
    if (response.status !== 200) return stored();
    let message: unknown;
    try {
      message = JSON.parse(text);
    } catch {
      return stored();
    }
    if (!isPlainObject(message) || message.id !== id || message.jsonrpc !== '2.0' || 'error' in message) {
      return stored();
    }
    const result = plainResultOf(message.result);
    if (!result) return stored();
    leanCallCounts.read++;
    return { result };
  } catch (error) {
    if (timeout.signal.aborted && !options.signal.aborted) {
      throw new SdkError(SdkErrorCode.RequestTimeout, 'Request timed out', { timeout: options.timeoutMs });
    }
    throw error;
  } finally {
    clearTimeout(timer);
    options.signal.removeEventListener('abort', onAbort);
  }
}
