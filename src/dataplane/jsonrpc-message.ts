/**
 * @module jsonrpc-message: one JSON-RPC 2.0 message checked as MCP constrains it, returned as a narrowed union
 * (request, notification or response, with typed `id`, `method` and `params`), or the fixed refusal that says
 * what is wrong with it. Classification reads only this result, never the raw body.
 */
import {
  BAD_ID,
  BAD_JSONRPC,
  BAD_METHOD,
  BAD_PARAMS,
  BAD_RESPONSE,
  NOT_AN_OBJECT,
} from './era-rejections.js';
import type { EraRejection } from './era-rejections.js';
import type { JsonRpcId } from './mcp-protocol.js';

/** A JSON object as `JSON.parse` returns it. */
export type JsonRpcObject = Readonly<Record<string, unknown>>;

/** A call that expects an answer. */
export interface JsonRpcRequest {
  readonly kind: 'request';
  readonly id: JsonRpcId;
  readonly method: string;
  readonly params: JsonRpcObject | undefined;
}

/** A call without an id: no answer is expected. */
export interface JsonRpcNotification {
  readonly kind: 'notification';
  readonly id: undefined;
  readonly method: string;
  readonly params: JsonRpcObject | undefined;
}

/** An answer to a call (here: from a client, to a server-initiated request). */
export interface JsonRpcResponse {
  readonly kind: 'response';
  /** Null only for an error response that could not name its request. */
  readonly id: JsonRpcId | null;
  readonly method: undefined;
  readonly params: undefined;
}

/** Any message {@link parseMessage} accepts. */
export type JsonRpcMessage = JsonRpcRequest | JsonRpcNotification | JsonRpcResponse;

function isObject(value: unknown): value is JsonRpcObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const isId = (id: unknown): id is JsonRpcId => typeof id === 'string' || typeof id === 'number';

// Every message is built with the same members in the same order: one object shape, so the classifier's
// reads of them stay monomorphic on the per-request path.
const response = (id: JsonRpcId | null): JsonRpcResponse => ({
  kind: 'response',
  id,
  method: undefined,
  params: undefined,
});

/**
 * Checks one JSON-RPC message (an element of a batch, or a whole body). Narrow the result with
 * `'error' in result`: a message has no `error` member (an error *response* is a `response` here).
 */
export function parseMessage(value: unknown): JsonRpcMessage | EraRejection {
  if (!isObject(value)) return NOT_AN_OBJECT;
  if (value.jsonrpc !== '2.0') return BAD_JSONRPC;
  const { method, id, params } = value;
  if (method !== undefined) {
    if (typeof method !== 'string') return BAD_METHOD;
    if (params !== undefined && !isObject(params)) return BAD_PARAMS;
    if (id === undefined) return { kind: 'notification', id, method, params };
    return isId(id) ? { kind: 'request', id, method, params } : BAD_ID;
  }
  const hasResult = value.result !== undefined;
  const hasError = value.error !== undefined;
  if (hasResult === hasError) return BAD_RESPONSE;
  if (hasError) {
    // JSON-RPC lets an error response carry a null (or, per MCP 2025-11-25, no) id when the request's id was
    // unreadable; a result response always names its request.
    if (typeof value.error !== 'object' || value.error === null) return BAD_RESPONSE;
    if (id === undefined || id === null) return response(null);
  }
  return isId(id) ? response(id) : BAD_ID;
}
