/**
 * @module era-classification: classifies one MCP Streamable HTTP request as legacy (2025-03-26 … 2025-11-25) or
 * modern (2026-07-28), or rejects it with the HTTP status and JSON-RPC error the transport rules require.
 *
 * Classification happens once per request (ARCHITECTURE §3, "Protocol eras"); everything downstream reads the
 * result instead of re-reading headers. The function is pure: it only reads its inputs, and allocates the
 * parsed message and the returned object (fixed rejections are shared, frozen constants). Rules cited as
 * `rules §x` refer to `reference/mcp-rules.md`.
 */
import {
  EMPTY_BATCH,
  GET_NOT_ACCEPTABLE,
  INITIALIZE_IN_BATCH,
  INITIALIZE_WITHOUT_VERSION,
  MCP_METHOD_REQUIRED,
  MCP_METHOD_WITHOUT_METHOD,
  METHOD_NOT_ALLOWED,
  MIXED_BATCH,
  MODERN_METHOD_NOT_ALLOWED,
  MODERN_RESPONSE,
  PARSE_ERROR,
  POST_NOT_ACCEPTABLE,
  UNSUPPORTED_MEDIA_TYPE,
  batchRemoved,
  methodMismatch,
  nameMismatch,
  unsupportedVersion,
} from './era-rejections.js';
import type { EraRejection } from './era-rejections.js';
import { parseMessage } from './jsonrpc-message.js';
import type { JsonRpcMessage, JsonRpcNotification, JsonRpcRequest } from './jsonrpc-message.js';
import {
  DEFAULT_LEGACY_VERSION,
  LATEST_LEGACY_VERSION,
  MCP_HEADER,
  MODERN_PROTOCOL_VERSION,
  isLegacyVersion,
  nameMemberOf,
} from './mcp-protocol.js';
import type { JsonRpcId, LegacyProtocolVersion, ModernProtocolVersion } from './mcp-protocol.js';

/** Fields every legacy classification has. */
interface LegacyBase {
  readonly era: 'legacy';
  readonly version: LegacyProtocolVersion;
  /** The client's `Mcp-Session-Id` (a sealed gateway id), if it sent one. */
  readonly sessionId: string | undefined;
}

/** A legacy POST of `initialize`: opens a session. */
export interface LegacyInitialize extends LegacyBase {
  readonly kind: 'initialize';
  readonly id: JsonRpcId;
  /** `params.protocolVersion` as the client sent it, even when the gateway does not support it. */
  readonly requestedVersion: string;
}

/** A legacy POST of any other request. */
export interface LegacyRequest extends LegacyBase {
  readonly kind: 'request';
  readonly id: JsonRpcId;
  readonly method: string;
  /** `params.name` (tools/call, prompts/get) or `params.uri` (resources/read), when the body has one. */
  readonly name: string | undefined;
}

/** A legacy POST of a notification (answered 202 by the upstream). */
export interface LegacyNotification extends LegacyBase {
  readonly kind: 'notification';
  readonly method: string;
}

/** A legacy POST of a response to a server-initiated request (answered 202 by the upstream). */
export interface LegacyResponse extends LegacyBase {
  readonly kind: 'response';
  /** Null or absent only for an error response that could not name its request. */
  readonly id: JsonRpcId | null;
}

/** A 2025-03-26 JSON-RPC batch; either requests and notifications, or responses. */
export interface LegacyBatch extends LegacyBase {
  readonly kind: 'batch';
  readonly version: '2025-03-26';
  /** Number of messages in the batch (≥ 1). */
  readonly size: number;
  /** How many of them are requests, i.e. expect a response (0 means the upstream answers 202). */
  readonly requests: number;
}

/** A legacy GET: opens (or, with `lastEventId`, resumes) a server-to-client SSE stream. */
export interface LegacyStream extends LegacyBase {
  readonly kind: 'stream';
  readonly lastEventId: string | undefined;
}

/** A legacy DELETE: ends the session named by `sessionId`. */
export interface LegacyTerminate extends LegacyBase {
  readonly kind: 'terminate';
}

/** A modern (2026-07-28) POST of a request; `method` and `name` were checked against the headers. */
export interface ModernRequest {
  readonly era: 'modern';
  readonly version: ModernProtocolVersion;
  readonly kind: 'request';
  readonly id: JsonRpcId;
  readonly method: string;
  /** The validated `Mcp-Name` for tools/call, prompts/get and resources/read; otherwise undefined. */
  readonly name: string | undefined;
}

/** A modern (2026-07-28) POST of a notification; `method` was checked against `Mcp-Method`. */
export interface ModernNotification {
  readonly era: 'modern';
  readonly version: ModernProtocolVersion;
  readonly kind: 'notification';
  readonly method: string;
}

/** Every legacy classification. */
export type LegacyClassification =
  | LegacyInitialize
  | LegacyRequest
  | LegacyNotification
  | LegacyResponse
  | LegacyBatch
  | LegacyStream
  | LegacyTerminate;

/** Every modern classification. */
export type ModernClassification = ModernRequest | ModernNotification;

/** What classification reads of the request headers: `Headers` fits, and so does a view of Node's parsed ones. */
export interface HeaderSource {
  get(name: string): string | null;
}

/** The result of {@link classifyRequest}. Narrow with {@link isRejection} or `'error' in result`. */
export type Classification = LegacyClassification | ModernClassification | EraRejection;

/**
 * Pass this as the body when the POST body is not valid JSON (or is empty), so the client gets the
 * JSON-RPC parse error (-32700) rather than "invalid request".
 */
export const UNPARSEABLE_BODY: unique symbol = Symbol('mcp-gateway.unparseable-body');

/** Parses a POST body for {@link classifyRequest}: the JSON value, or {@link UNPARSEABLE_BODY}. */
export function parseJsonBody(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return UNPARSEABLE_BODY;
  }
}

/** True when the classification is a refusal. */
export function isRejection(result: Classification): result is EraRejection {
  return 'error' in result;
}

// Media-range matching without splitting the header: a range is preceded by start-of-string or a comma and
// followed by a parameter, another range or the end. `*/*` and `type/*` count, as HTTP says they do.
const ACCEPTS_JSON = /(?:^|,)\s*(?:application\/json|application\/\*|\*\/\*)\s*(?:[;,]|$)/i;
const ACCEPTS_SSE = /(?:^|,)\s*(?:text\/event-stream|text\/\*|\*\/\*)\s*(?:[;,]|$)/i;
const JSON_CONTENT_TYPE = /^\s*application\/json\s*(?:;|$)/i;
// What the MCP SDKs send on every POST: compared as strings first, since the regular expressions above cost more
// than the rest of a classification (scripts/bench/classify.ts).
const SDK_POST_ACCEPT = 'application/json, text/event-stream';
const SDK_GET_ACCEPT = 'text/event-stream';
const SDK_CONTENT_TYPE = 'application/json';

/**
 * Checks `Mcp-Method` and `Mcp-Name` against a single call. Modern requests must carry them; legacy requests
 * may carry them (a client library that always mirrors), and are then held to them rather than trusted blindly
 * (rules §1.11: intermediaries SHOULD reject, not trust, mirrored headers on older versions).
 * Returns the validated name for methods that have one, undefined for others, or a rejection.
 */
function checkMirroredHeaders(
  headers: HeaderSource,
  call: JsonRpcRequest | JsonRpcNotification,
  required: boolean,
): string | undefined | EraRejection {
  const { method } = call;
  const headerMethod = headers.get(MCP_HEADER.method);
  if (headerMethod === null) {
    if (required) return MCP_METHOD_REQUIRED;
  } else if (headerMethod !== method) {
    return methodMismatch(headerMethod, method);
  }
  const member = nameMemberOf(method);
  if (member === undefined) return undefined; // Mcp-Name on other methods is ignored, never surfaced.
  const bodyName = call.params?.[member];
  const headerName = headers.get(MCP_HEADER.name);
  if (headerName === null) {
    if (required) return nameMismatch(method, member, undefined, bodyName);
    return typeof bodyName === 'string' ? bodyName : undefined;
  }
  if (headerName !== bodyName) return nameMismatch(method, member, headerName, bodyName);
  return headerName;
}

/** A legacy client's `Mcp-Session-Id`; an empty value counts as absent. */
function sessionIdOf(headers: HeaderSource): string | undefined {
  const value = headers.get(MCP_HEADER.sessionId);
  return value === null || value === '' ? undefined : value;
}

/**
 * Classifies one request to an MCP endpoint.
 *
 * @param method the HTTP method, as `Request.method` normalises it (upper case).
 * @param headers the request headers.
 * @param body for POST: the parsed JSON body, or {@link UNPARSEABLE_BODY} (also for an empty body). Ignored
 *   for GET and DELETE.
 * @returns a legacy or modern classification, or `{ error }` with the status and JSON-RPC error to answer.
 *
 * Rules applied, in order:
 * 1. Only POST, GET and DELETE (405 with `Allow` otherwise).
 * 2. `MCP-Protocol-Version`, when present, must be supported (400); 2026-07-28 makes the request modern.
 * 3. Modern GET/DELETE → 405 (`Allow: POST`). Legacy GET needs `Accept: text/event-stream` (406).
 * 4. POST needs `Accept` listing JSON and SSE (406) and `Content-Type: application/json` (415).
 * 5. The body must be JSON (-32700) and JSON-RPC 2.0 as MCP restricts it (-32600).
 * 6. Batches only from 2025-03-26 clients, i.e. without the header or with `2025-03-26` (400, -32600).
 * 7. Modern: `Mcp-Method` must equal `method`; `Mcp-Name` must equal `params.name` (tools/call, prompts/get)
 *    or `params.uri` (resources/read); missing or different → 400, -32020 `HeaderMismatch`.
 * Without the header, a POST is 2025-03-26, except `initialize`, whose version is the client's
 * `params.protocolVersion` when supported (else {@link LATEST_LEGACY_VERSION}, what the upstream will offer).
 */
export function classifyRequest(method: string, headers: HeaderSource, body?: unknown): Classification {
  if (method !== 'POST' && method !== 'GET' && method !== 'DELETE') return METHOD_NOT_ALLOWED;

  const headerVersion = headers.get(MCP_HEADER.protocolVersion);
  let version: LegacyProtocolVersion | undefined;
  if (headerVersion !== null) {
    if (headerVersion === MODERN_PROTOCOL_VERSION) {
      if (method !== 'POST') return MODERN_METHOD_NOT_ALLOWED;
    } else if (isLegacyVersion(headerVersion)) {
      version = headerVersion;
    } else {
      return unsupportedVersion(headerVersion);
    }
  }
  const modern = headerVersion === MODERN_PROTOCOL_VERSION;

  if (method === 'GET') {
    const accept = headers.get('accept') ?? '';
    if (accept !== SDK_GET_ACCEPT && !ACCEPTS_SSE.test(accept)) return GET_NOT_ACCEPTABLE;
    const lastEventId = headers.get(MCP_HEADER.lastEventId);
    return {
      era: 'legacy',
      kind: 'stream',
      version: version ?? DEFAULT_LEGACY_VERSION,
      sessionId: sessionIdOf(headers),
      lastEventId: lastEventId === null || lastEventId === '' ? undefined : lastEventId,
    };
  }
  if (method === 'DELETE') {
    return {
      era: 'legacy',
      kind: 'terminate',
      version: version ?? DEFAULT_LEGACY_VERSION,
      sessionId: sessionIdOf(headers),
    };
  }

  const accept = headers.get('accept') ?? '';
  if (accept !== SDK_POST_ACCEPT && !(ACCEPTS_JSON.test(accept) && ACCEPTS_SSE.test(accept))) {
    return POST_NOT_ACCEPTABLE;
  }
  const contentType = headers.get('content-type') ?? '';
  if (contentType !== SDK_CONTENT_TYPE && !JSON_CONTENT_TYPE.test(contentType)) return UNSUPPORTED_MEDIA_TYPE;
  if (body === UNPARSEABLE_BODY || body === undefined) return PARSE_ERROR;

  if (Array.isArray(body)) {
    if (modern) return batchRemoved(MODERN_PROTOCOL_VERSION);
    if (version !== undefined && version !== '2025-03-26') return batchRemoved(version);
    return classifyBatch(headers, body);
  }

  const message = parseMessage(body);
  if ('error' in message) return message;
  return modern
    ? classifyModern(headers, message)
    : classifyLegacy(headers, message, version ?? DEFAULT_LEGACY_VERSION);
}

/** A single modern message: a request or a notification whose mirrored headers match it. */
function classifyModern(headers: HeaderSource, message: JsonRpcMessage): ModernClassification | EraRejection {
  if (message.kind === 'response') return MODERN_RESPONSE;
  const name = checkMirroredHeaders(headers, message, true);
  if (typeof name === 'object') return name;
  const { method } = message;
  return message.kind === 'request'
    ? { era: 'modern', version: MODERN_PROTOCOL_VERSION, kind: 'request', id: message.id, method, name }
    : { era: 'modern', version: MODERN_PROTOCOL_VERSION, kind: 'notification', method };
}

/** A single legacy message at `version` (the header's, or the default when there is none). */
function classifyLegacy(
  headers: HeaderSource,
  message: JsonRpcMessage,
  version: LegacyProtocolVersion,
): LegacyClassification | EraRejection {
  const sessionId = sessionIdOf(headers);
  if (message.kind === 'response') {
    if (headers.get(MCP_HEADER.method) !== null) return MCP_METHOD_WITHOUT_METHOD;
    return { era: 'legacy', kind: 'response', version, sessionId, id: message.id };
  }

  const name = checkMirroredHeaders(headers, message, false);
  if (typeof name === 'object') return name;
  const { method } = message;

  if (message.kind === 'notification') {
    return { era: 'legacy', kind: 'notification', version, sessionId, method };
  }
  if (method === 'initialize') {
    // The header is for requests *after* initialize; the body states what the client wants, and the upstream
    // negotiates (echoes a version it supports, or offers its own — lifecycle "Version negotiation").
    const requested = message.params?.protocolVersion;
    if (typeof requested !== 'string') return INITIALIZE_WITHOUT_VERSION;
    return {
      era: 'legacy',
      kind: 'initialize',
      version: isLegacyVersion(requested) ? requested : LATEST_LEGACY_VERSION,
      sessionId,
      id: message.id,
      requestedVersion: requested,
    };
  }
  return { era: 'legacy', kind: 'request', version, sessionId, id: message.id, method, name };
}

/** A 2025-03-26 batch: non-empty, all valid, not mixing calls with responses, no initialize. */
function classifyBatch(headers: HeaderSource, batch: readonly unknown[]): LegacyBatch | EraRejection {
  if (batch.length === 0) return EMPTY_BATCH;
  // A batch has no single method that Mcp-Method could mirror.
  if (headers.get(MCP_HEADER.method) !== null) return MCP_METHOD_WITHOUT_METHOD;
  let requests = 0;
  let responses = 0;
  for (const item of batch) {
    const message = parseMessage(item);
    if ('error' in message) return message;
    if (message.kind === 'response') responses++;
    else if (message.method === 'initialize') return INITIALIZE_IN_BATCH;
    else if (message.kind === 'request') requests++;
  }
  // 2025-03-26 allows "one or more requests and/or notifications" or "one or more responses", not a mix.
  if (responses > 0 && responses < batch.length) return MIXED_BATCH;
  return {
    era: 'legacy',
    kind: 'batch',
    version: '2025-03-26',
    sessionId: sessionIdOf(headers),
    size: batch.length,
    requests,
  };
}
