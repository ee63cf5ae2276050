/**
 * @module fast-call: the router's lean path for its most common request, a plain 2026-07-28 `tools/call` POST on
 * `/mcp` or a toolset's endpoint, answered without the SDK's per-request `Server` (in a CPU profile of a call,
 * that server's per-request set-up, its Zod checks of envelope, request and result, and the error with a stack
 * it makes when each per-request transport closes were the largest share of the router's own work).
 *
 * The call itself is never re-implemented: the router's own `tools/call` handler body (lookup, permissions, tool
 * policy, pinning, argument and output checks, audit and metrics, executors, multi-round trips) runs exactly as
 * it does under the SDK, with a request context holding what the SDK would hand it for such a request. Only
 * the protocol around it is done here, and only where it is plain:
 *
 * - **Which requests.** {@link plainToolCallOf} takes a request only when everything about it is a shape the SDK
 *   is known to accept and to treat plainly: the standard headers present and agreeing with the body, a JSON body
 *   of one request with `name`, `arguments` and `_meta` only, a `_meta` of the envelope (protocol version,
 *   client info and capabilities, checked with the SDK's own schemas) and W3C trace context only. Anything else
 *   — a progress token, a multi-round-trip retry, task augmentation or a caller that takes tasks, a log level,
 *   a session header, an SSE-only `Accept`, a name the headers carry encoded, unknown fields — goes the SDK way,
 *   before anything was done, so its answers (errors included) stay its own.
 * - **Which answers.** A successful result made of text content, plain structured content, `isError` and `_meta`
 *   is encoded here as the SDK encodes it (`resultType`, the server's identity in `_meta`, a 200 JSON body).
 *   Every other outcome — a thrown error, an `input_required` or task result, a connection the caller must make,
 *   any other content — is handed to the SDK path to answer ({@link FastCallOutcome} rides on the request's
 *   `authInfo`, and the router's handler returns or throws it instead of calling again), so error codes, HTTP
 *   statuses and era-specific shaping are the SDK's own.
 */
import {
  BAGGAGE_META_KEY,
  CLIENT_CAPABILITIES_META_KEY,
  CLIENT_INFO_META_KEY,
  PROTOCOL_VERSION_META_KEY,
  SERVER_INFO_META_KEY,
  TRACEPARENT_META_KEY,
  TRACESTATE_META_KEY,
  isJsonContentType,
  specTypeSchemas,
} from '@modelcontextprotocol/server';
import type { CallToolRequestParams, ServerContext } from '@modelcontextprotocol/server';
import { TASKS_EXTENSION } from './tasks.js';

/** The revision the fast path serves. */
const MODERN = '2026-07-28';

/** What a router's `tools/call` handler produced: a result (and whatever the router keeps with it), or an error. */
export type FastCallOutcome<T> = { readonly value: T } | { readonly error: unknown };

/** A request the fast path takes: its id, the params as the SDK hands them to the handler, and the envelope. */
export interface PlainToolCall {
  readonly id: string | number;
  readonly params: CallToolRequestParams;
  readonly envelope: Readonly<Record<string, unknown>>;
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const REQUEST_KEYS = new Set(['jsonrpc', 'id', 'method', 'params']);
const PARAMS_KEYS = new Set(['name', 'arguments', '_meta']);
/** `_meta` keys taken as they are (strings): W3C trace context (SEP-414). */
const TRACE_KEYS = new Set([TRACEPARENT_META_KEY, TRACESTATE_META_KEY, BAGGAGE_META_KEY]);

/**
 * Envelopes (client info and capabilities, serialised) the SDK's own schemas accepted: a client sends the same
 * one on every request, so each is checked once. Bounded; emptied when full.
 */
const acceptedEnvelopes = new Map<string, boolean>();
const ENVELOPE_CACHE_MAX = 512;

/** Whether the SDK's own (synchronous, Standard Schema) spec type schema accepts `value`. */
function valid(
  schema: { readonly '~standard': { validate(value: unknown): unknown } },
  value: unknown,
): boolean {
  const result = schema['~standard'].validate(value) as { issues?: unknown } | Promise<unknown>;
  return !(result instanceof Promise) && result.issues === undefined;
}

function envelopeAccepted(clientInfo: unknown, capabilities: unknown): boolean {
  const key = JSON.stringify([clientInfo ?? null, capabilities]);
  let accepted = acceptedEnvelopes.get(key);
  if (accepted === undefined) {
    accepted =
      valid(specTypeSchemas.ClientCapabilities, capabilities) &&
      (clientInfo === undefined || valid(specTypeSchemas.Implementation, clientInfo));
    if (acceptedEnvelopes.size >= ENVELOPE_CACHE_MAX) acceptedEnvelopes.clear();
    acceptedEnvelopes.set(key, accepted);
  }
  return accepted;
}

/**
 * The request as the fast path takes it, or undefined when it must go the SDK way (see the module header).
 * `reserved` names tools of the endpoint's own the fast path leaves to the SDK (search mode's two tools).
 */
export function plainToolCallOf(
  request: Request,
  body: unknown,
  reserved: (name: string) => boolean,
): PlainToolCall | undefined {
  if (request.method !== 'POST') return undefined;
  const headers = request.headers;
  if (headers.get('mcp-protocol-version') !== MODERN || headers.get('mcp-method') !== 'tools/call')
    return undefined;
  if (headers.has('mcp-session-id') || !isJsonContentType(headers.get('content-type'))) return undefined;
  if (!(headers.get('accept') ?? '').toLowerCase().includes('application/json')) return undefined;
  if (!isPlainObject(body) || body.jsonrpc !== '2.0' || body.method !== 'tools/call') return undefined;
  for (const key in body) if (!REQUEST_KEYS.has(key)) return undefined;
  const { id, params } = body;
  if (!(typeof id === 'string' || Number.isSafeInteger(id)) || !isPlainObject(params)) return undefined;
  for (const key in params) if (!PARAMS_KEYS.has(key)) return undefined;
  const { name, arguments: args, _meta: meta } = params;
  // Visible ASCII only: any other name travels base64-encoded in `Mcp-Name`, which the SDK decodes and compares.
  if (typeof name !== 'string' || !/^[\x21-\x7e]+$/.test(name) || name.startsWith('=?base64?'))
    return undefined;
  if (headers.get('mcp-name') !== name || reserved(name)) return undefined;
  if (args !== undefined && !isPlainObject(args)) return undefined;
  if (!isPlainObject(meta)) return undefined;
  const envelope: Record<string, unknown> = {};
  const rest: Record<string, unknown> = {};
  for (const key in meta) {
    const value = meta[key];
    if (
      key === PROTOCOL_VERSION_META_KEY ||
      key === CLIENT_INFO_META_KEY ||
      key === CLIENT_CAPABILITIES_META_KEY
    ) {
      envelope[key] = value;
    } else if (TRACE_KEYS.has(key) && typeof value === 'string') {
      rest[key] = value;
    } else {
      return undefined;
    }
  }
  if (envelope[PROTOCOL_VERSION_META_KEY] !== MODERN) return undefined;
  const capabilities = envelope[CLIENT_CAPABILITIES_META_KEY];
  if (!isPlainObject(capabilities)) return undefined;
  // A caller that takes tasks may get a task handle: the Tasks extension's path is the SDK's.
  if (isPlainObject(capabilities.extensions) && TASKS_EXTENSION in capabilities.extensions) return undefined;
  if (!envelopeAccepted(envelope[CLIENT_INFO_META_KEY], capabilities)) return undefined;
  return {
    id: id as string | number,
    params: {
      name,
      ...(args !== undefined && { arguments: args }),
      ...(Object.keys(rest).length > 0 && { _meta: rest }),
    } as CallToolRequestParams,
    envelope,
  };
}

const NO_REQUEST_STATE = () => undefined;
const NOTHING_TO_NOTIFY = async () => undefined;

/**
 * The handler context the SDK would build for `call` (only what the router's `tools/call` handler reads): no
 * request state, no input responses, no progress token (so nothing is ever notified), the caller's envelope.
 */
export function fastCallContext(call: PlainToolCall, signal: AbortSignal, authInfo: unknown): ServerContext {
  return {
    sessionId: undefined,
    mcpReq: {
      id: call.id,
      method: 'tools/call',
      _meta: call.params._meta,
      envelope: call.envelope,
      requestState: NO_REQUEST_STATE,
      signal,
      notify: NOTHING_TO_NOTIFY,
      send: () => Promise.reject(new Error('the fast path sends no server requests')),
    },
    http: { authInfo },
  } as unknown as ServerContext;
}

const TEXT_KEYS = new Set(['type', 'text']);
const RESULT_KEYS = new Set(['content', 'structuredContent', 'isError', '_meta']);
const ENVELOPE_PREFIX = 'io.modelcontextprotocol/';

/**
 * True for a result the fast path encodes itself: text content, an object (or no) `structuredContent`, `isError`,
 * and a `_meta` without protocol keys. The SDK's projection, normalisation and checks leave such a result as it is.
 */
export function isPlainResult(result: unknown): result is Record<string, unknown> & { content: unknown[] } {
  if (!isPlainObject(result) || !Array.isArray(result.content)) return false;
  for (const key in result) if (!RESULT_KEYS.has(key)) return false;
  for (const item of result.content) {
    if (!isPlainObject(item) || item.type !== 'text' || typeof item.text !== 'string') return false;
    for (const key in item) if (!TEXT_KEYS.has(key)) return false;
  }
  if (result.structuredContent !== undefined && !isPlainObject(result.structuredContent)) return false;
  if (result.isError !== undefined && typeof result.isError !== 'boolean') return false;
  const meta = result._meta;
  if (meta !== undefined) {
    if (!isPlainObject(meta)) return false;
    for (const key in meta) if (key.startsWith(ENVELOPE_PREFIX)) return false;
  }
  return true;
}

/**
 * The HTTP answer the SDK gives a plain result of a 2026-07-28 request: `resultType: 'complete'` stamped, the
 * server's identity added to `_meta`, one JSON-RPC response in a 200 JSON body.
 */
export function plainResultResponse(
  id: string | number,
  result: Record<string, unknown>,
  serverInfo: Readonly<Record<string, unknown>>,
): Response {
  fastPathCounts.answered++;
  const stamped: Record<string, unknown> = { ...result, resultType: 'complete' };
  const meta = result._meta as Record<string, unknown> | undefined;
  stamped._meta = meta
    ? { ...meta, [SERVER_INFO_META_KEY]: serverInfo }
    : { [SERVER_INFO_META_KEY]: serverInfo };
  return new Response(JSON.stringify({ result: stamped, jsonrpc: '2.0', id }), {
    status: 200,
    headers: { 'content-type': 'application/json' },
  });
}

/**
 * How many requests this process's fast path answered itself, and how many it made and handed to the SDK path to
 * answer (its tests read them to know which way a request went).
 */
export const fastPathCounts = { answered: 0, handedOver: 0 };

/** Where a {@link FastCallOutcome} rides to the SDK path, in the request's `authInfo.extra`. */
const OUTCOME_KEY = 'fastCallOutcome';

/** `extra` with `outcome` on it, for the SDK path to answer. */
export function withOutcome<T>(
  extra: Record<string, unknown>,
  outcome: FastCallOutcome<T>,
): Record<string, unknown> {
  fastPathCounts.handedOver++;
  return { ...extra, [OUTCOME_KEY]: outcome };
}

/**
 * The outcome the fast path already has for the request of `ctx`, as the router's handler must give it (return
 * the value, throw the error), or undefined when the call is still to be made.
 */
export function settledOutcomeOf<T>(ctx: ServerContext): (() => T) | undefined {
  const extra = (ctx.http?.authInfo as { extra?: Record<string, unknown> } | undefined)?.extra;
  const outcome = extra?.[OUTCOME_KEY] as FastCallOutcome<T> | undefined;
  if (!outcome) return undefined;
  return () => {
    if ('error' in outcome) throw outcome.error;
    return outcome.value;
  };
}
