/**
 * @module Era: classifies one MCP Streamable HTTP request as legacy (2025-03-26 … 2025-11-25) or modern
 * (2026-07-28), or rejects it with the HTTP status and JSON-RPC error the transport rules require.
 *
 * Classification happens once per request (ARCHITECTURE §3, "Protocol eras"); everything downstream reads the
 * result instead of re-reading headers. The function is pure: it only reads its inputs and allocates nothing but
 * the returned object (fixed rejections are shared, frozen constants). Rules cited as `rules §x` refer to
 * `reference/mcp-rules.md`.
 */

/** The 2025 revisions, served statefully with `initialize` and `Mcp-Session-Id` (oldest first). */
export const LEGACY_PROTOCOL_VERSIONS = ['2025-03-26', '2025-06-18', '2025-11-25'] as const;

/** The stateless revision: every POST carries `MCP-Protocol-Version`, `Mcp-Method` and (some) `Mcp-Name`. */
export const MODERN_PROTOCOL_VERSION = '2026-07-28';

/** Every `MCP-Protocol-Version` value the gateway accepts; any other value is answered with 400 (rules §1.5). */
export const SUPPORTED_PROTOCOL_VERSIONS = [...LEGACY_PROTOCOL_VERSIONS, MODERN_PROTOCOL_VERSION] as const;

/** A legacy protocol revision. */
export type LegacyProtocolVersion = (typeof LEGACY_PROTOCOL_VERSIONS)[number];
/** The modern protocol revision. */
export type ModernProtocolVersion = typeof MODERN_PROTOCOL_VERSION;
/** Any protocol revision the gateway speaks. */
export type ProtocolVersion = (typeof SUPPORTED_PROTOCOL_VERSIONS)[number];

/** Assumed when a POST has no `MCP-Protocol-Version` and is not `initialize` (rules §1.5). */
export const DEFAULT_LEGACY_VERSION: LegacyProtocolVersion = '2025-03-26';

/** The newest legacy revision: what an up-to-date server counter-offers for an `initialize` it cannot honour. */
export const LATEST_LEGACY_VERSION: LegacyProtocolVersion = '2025-11-25';

/** JSON-RPC error codes used in rejections. */
export const JSON_RPC_ERROR = {
  /** The body is not JSON. */
  parseError: -32700,
  /** The body is JSON but not a valid JSON-RPC message (or not one this transport accepts). */
  invalidRequest: -32600,
  /** The parameters of a known method are unusable (here: `initialize` without a protocol version). */
  invalidParams: -32602,
  /** Transport-level refusal (bad method, media type, protocol version); the code the MCP SDKs use for these. */
  transportError: -32000,
  /** 2026-07-28 `HeaderMismatch`: `Mcp-Method`/`Mcp-Name` missing or different from the body (rules §1.11). */
  headerMismatch: -32020,
} as const;

/** A JSON-RPC request id as MCP allows it: a string or a number, never null. */
export type JsonRpcId = string | number;

/** Why a request was refused: the HTTP status and the JSON-RPC error that go back to the client. */
export interface EraError {
  readonly status: 400 | 405 | 406 | 415;
  readonly jsonRpcCode: number;
  /** Safe to show to the client; says which rule was broken. */
  readonly message: string;
  /** For 405: the value of the `Allow` response header. */
  readonly allow?: string;
}

/** A refused request; see {@link rejectionResponse} to answer it. */
export interface EraRejection {
  readonly error: EraError;
}

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

// Header names, lower case as `Headers` stores them.
const H_PROTOCOL_VERSION = 'mcp-protocol-version';
const H_SESSION_ID = 'mcp-session-id';
const H_METHOD = 'mcp-method';
const H_NAME = 'mcp-name';
const H_LAST_EVENT_ID = 'last-event-id';

const ALLOW_ALL = 'GET, POST, DELETE';
const ALLOW_MODERN = 'POST';

// Media-range matching without splitting the header: a range is preceded by start-of-string or a comma and
// followed by a parameter, another range or the end. `*/*` and `type/*` count, as HTTP says they do.
const ACCEPTS_JSON = /(?:^|,)\s*(?:application\/json|application\/\*|\*\/\*)\s*(?:[;,]|$)/i;
const ACCEPTS_SSE = /(?:^|,)\s*(?:text\/event-stream|text\/\*|\*\/\*)\s*(?:[;,]|$)/i;
const JSON_CONTENT_TYPE = /^\s*application\/json\s*(?:;|$)/i;

/** Upper bound on client-supplied text echoed in an error message, so a huge header is not reflected. */
const ECHO_LIMIT = 128;

const reject = (
  status: EraError['status'],
  jsonRpcCode: number,
  message: string,
  allow?: string,
): EraRejection => {
  const error: EraError =
    allow === undefined ? { status, jsonRpcCode, message } : { status, jsonRpcCode, message, allow };
  return { error };
};

// Fixed refusals are built once and shared: the hot path of a bad client allocates nothing either.
const frozen = (r: EraRejection): EraRejection => Object.freeze({ error: Object.freeze(r.error) });
const METHOD_NOT_ALLOWED = frozen(
  reject(
    405,
    JSON_RPC_ERROR.transportError,
    'Method Not Allowed: the MCP endpoint serves POST, GET and DELETE.',
    ALLOW_ALL,
  ),
);
const MODERN_METHOD_NOT_ALLOWED = frozen(
  reject(
    405,
    JSON_RPC_ERROR.transportError,
    `Method Not Allowed: protocol version ${MODERN_PROTOCOL_VERSION} has no GET or DELETE; send POST.`,
    ALLOW_MODERN,
  ),
);
const POST_NOT_ACCEPTABLE = frozen(
  reject(
    406,
    JSON_RPC_ERROR.transportError,
    'Not Acceptable: the Accept header must list both application/json and text/event-stream.',
  ),
);
const GET_NOT_ACCEPTABLE = frozen(
  reject(
    406,
    JSON_RPC_ERROR.transportError,
    'Not Acceptable: the Accept header must list text/event-stream.',
  ),
);
const UNSUPPORTED_MEDIA_TYPE = frozen(
  reject(
    415,
    JSON_RPC_ERROR.transportError,
    'Unsupported Media Type: Content-Type must be application/json.',
  ),
);
const PARSE_ERROR = frozen(
  reject(400, JSON_RPC_ERROR.parseError, 'Parse error: the body is not valid JSON.'),
);
const invalid = (why: string): EraRejection =>
  frozen(reject(400, JSON_RPC_ERROR.invalidRequest, `Invalid Request: ${why}`));
const NOT_AN_OBJECT = invalid('a JSON-RPC message must be a JSON object.');
const BAD_JSONRPC = invalid('the "jsonrpc" member must be exactly "2.0".');
const BAD_METHOD = invalid('the "method" member must be a string.');
const BAD_ID = invalid('the "id" member must be a string or a number (MCP does not allow null).');
const BAD_PARAMS = invalid('the "params" member must be a JSON object.');
const BAD_RESPONSE = invalid('a response must carry an "id" and exactly one of "result" and "error".');
const EMPTY_BATCH = invalid('an empty JSON-RPC batch is not allowed.');
const MIXED_BATCH = invalid('a batch holds either requests and notifications, or responses, not both.');
const INITIALIZE_IN_BATCH = invalid('initialize must not be part of a JSON-RPC batch.');
const MODERN_RESPONSE = invalid(
  `a ${MODERN_PROTOCOL_VERSION} client does not send JSON-RPC responses (server requests use MRTR).`,
);
const INITIALIZE_WITHOUT_VERSION = frozen(
  reject(
    400,
    JSON_RPC_ERROR.invalidParams,
    'Invalid params: initialize must carry params.protocolVersion as a string.',
  ),
);
const MCP_METHOD_REQUIRED = frozen(
  reject(
    400,
    JSON_RPC_ERROR.headerMismatch,
    `Header mismatch: the Mcp-Method header is required with MCP-Protocol-Version ${MODERN_PROTOCOL_VERSION}.`,
  ),
);
const MCP_METHOD_WITHOUT_METHOD = frozen(
  reject(
    400,
    JSON_RPC_ERROR.headerMismatch,
    'Header mismatch: Mcp-Method is set but the body has no method.',
  ),
);

const echo = (value: string): string =>
  JSON.stringify(value.length > ECHO_LIMIT ? `${value.slice(0, ECHO_LIMIT)}…` : value);

const batchRemoved = (version: ProtocolVersion): EraRejection =>
  reject(
    400,
    JSON_RPC_ERROR.invalidRequest,
    `Invalid Request: JSON-RPC batches are not supported in protocol version ${version} ` +
      '(batching was removed in 2025-06-18; send one message per POST).',
  );

const unsupportedVersion = (value: string): EraRejection =>
  reject(
    400,
    JSON_RPC_ERROR.transportError,
    `Bad Request: unsupported MCP-Protocol-Version ${echo(value)} ` +
      `(supported: ${SUPPORTED_PROTOCOL_VERSIONS.join(', ')}).`,
  );

const methodMismatch = (header: string, body: string): EraRejection =>
  reject(
    400,
    JSON_RPC_ERROR.headerMismatch,
    `Header mismatch: Mcp-Method ${echo(header)} does not match the body's method ${echo(body)}.`,
  );

const nameMismatch = (
  method: string,
  member: string,
  header: string | undefined,
  body: unknown,
): EraRejection =>
  reject(
    400,
    JSON_RPC_ERROR.headerMismatch,
    header === undefined
      ? `Header mismatch: ${method} requires the Mcp-Name header (the value of params.${member}).`
      : `Header mismatch: Mcp-Name ${echo(header)} does not match params.${member} ` +
          `${typeof body === 'string' ? echo(body) : '(missing or not a string)'}.`,
  );

function isLegacyVersion(value: string): value is LegacyProtocolVersion {
  return value === '2025-03-26' || value === '2025-06-18' || value === '2025-11-25';
}

/**
 * The params member that `Mcp-Name` mirrors for `method`, or undefined when the method has no name header
 * (rules §1.11: tools/call and prompts/get mirror `params.name`, resources/read mirrors `params.uri`).
 */
function nameMemberOf(method: string): 'name' | 'uri' | undefined {
  if (method === 'tools/call' || method === 'prompts/get') return 'name';
  if (method === 'resources/read') return 'uri';
  return undefined;
}

type Message = Record<string, unknown>;
type MessageKind = 'request' | 'notification' | 'response';

/** Checks one JSON-RPC 2.0 message as MCP constrains it; returns its kind or the fixed rejection. */
function kindOf(value: unknown): MessageKind | EraRejection {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return NOT_AN_OBJECT;
  const message = value as Message;
  if (message.jsonrpc !== '2.0') return BAD_JSONRPC;
  const { method, id, params } = message;
  if (method !== undefined) {
    if (typeof method !== 'string') return BAD_METHOD;
    if (params !== undefined && (typeof params !== 'object' || params === null || Array.isArray(params))) {
      return BAD_PARAMS;
    }
    if (id === undefined) return 'notification';
    return typeof id === 'string' || typeof id === 'number' ? 'request' : BAD_ID;
  }
  const hasResult = message.result !== undefined;
  const hasError = message.error !== undefined;
  if (hasResult === hasError) return BAD_RESPONSE;
  if (hasError) {
    // JSON-RPC lets an error response carry a null (or, per MCP 2025-11-25, no) id when the request's id was
    // unreadable; a result response always names its request.
    if (typeof message.error !== 'object' || message.error === null) return BAD_RESPONSE;
    if (id === undefined || id === null) return 'response';
  }
  return typeof id === 'string' || typeof id === 'number' ? 'response' : BAD_ID;
}

/** `params[member]` of a request already checked by {@link kindOf}. */
function paramOf(message: Message, member: string): unknown {
  const params = message.params as Message | undefined;
  return params === undefined ? undefined : params[member];
}

/**
 * Checks `Mcp-Method` and `Mcp-Name` against a single message. Modern requests must carry them; legacy requests
 * may carry them (a client library that always mirrors), and are then held to them rather than trusted blindly
 * (rules §1.11: intermediaries SHOULD reject, not trust, mirrored headers on older versions).
 * Returns the validated name for methods that have one, undefined for others, or a rejection.
 */
function checkMirroredHeaders(
  headers: HeaderSource,
  message: Message,
  method: string,
  required: boolean,
): string | undefined | EraRejection {
  const headerMethod = headers.get(H_METHOD);
  if (headerMethod === null) {
    if (required) return MCP_METHOD_REQUIRED;
  } else if (headerMethod !== method) {
    return methodMismatch(headerMethod, method);
  }
  const member = nameMemberOf(method);
  if (member === undefined) return undefined; // Mcp-Name on other methods is ignored, never surfaced.
  const bodyName = paramOf(message, member);
  const headerName = headers.get(H_NAME);
  if (headerName === null) {
    if (required) return nameMismatch(method, member, undefined, bodyName);
    return typeof bodyName === 'string' ? bodyName : undefined;
  }
  if (headerName !== bodyName) return nameMismatch(method, member, headerName, bodyName);
  return headerName;
}

/** A legacy client's `Mcp-Session-Id`; an empty value counts as absent. */
function sessionIdOf(headers: HeaderSource): string | undefined {
  const value = headers.get(H_SESSION_ID);
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

  const headerVersion = headers.get(H_PROTOCOL_VERSION);
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
    if (!ACCEPTS_SSE.test(headers.get('accept') ?? '')) return GET_NOT_ACCEPTABLE;
    const lastEventId = headers.get(H_LAST_EVENT_ID);
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
  if (!ACCEPTS_JSON.test(accept) || !ACCEPTS_SSE.test(accept)) return POST_NOT_ACCEPTABLE;
  if (!JSON_CONTENT_TYPE.test(headers.get('content-type') ?? '')) return UNSUPPORTED_MEDIA_TYPE;
  if (body === UNPARSEABLE_BODY || body === undefined) return PARSE_ERROR;

  if (Array.isArray(body)) {
    if (modern) return batchRemoved(MODERN_PROTOCOL_VERSION);
    if (version !== undefined && version !== '2025-03-26') return batchRemoved(version);
    return classifyBatch(headers, body);
  }

  const kind = kindOf(body);
  if (typeof kind !== 'string') return kind;
  const message = body as Message;

  if (modern) {
    if (kind === 'response') return MODERN_RESPONSE;
    const bodyMethod = message.method as string;
    const name = checkMirroredHeaders(headers, message, bodyMethod, true);
    if (typeof name === 'object') return name;
    return kind === 'request'
      ? {
          era: 'modern',
          version: MODERN_PROTOCOL_VERSION,
          kind,
          id: message.id as JsonRpcId,
          method: bodyMethod,
          name,
        }
      : { era: 'modern', version: MODERN_PROTOCOL_VERSION, kind, method: bodyMethod };
  }

  const sessionId = sessionIdOf(headers);
  if (kind === 'response') {
    if (headers.get(H_METHOD) !== null) return MCP_METHOD_WITHOUT_METHOD;
    return {
      era: 'legacy',
      kind,
      version: version ?? DEFAULT_LEGACY_VERSION,
      sessionId,
      id: (message.id as JsonRpcId | null | undefined) ?? null,
    };
  }

  const bodyMethod = message.method as string;
  const name = checkMirroredHeaders(headers, message, bodyMethod, false);
  if (typeof name === 'object') return name;

  if (kind === 'notification') {
    return { era: 'legacy', kind, version: version ?? DEFAULT_LEGACY_VERSION, sessionId, method: bodyMethod };
  }
  if (bodyMethod === 'initialize') {
    // The header is for requests *after* initialize; the body states what the client wants, and the upstream
    // negotiates (echoes a version it supports, or offers its own — lifecycle "Version negotiation").
    const requested = paramOf(message, 'protocolVersion');
    if (typeof requested !== 'string') return INITIALIZE_WITHOUT_VERSION;
    return {
      era: 'legacy',
      kind: 'initialize',
      version: isLegacyVersion(requested) ? requested : LATEST_LEGACY_VERSION,
      sessionId,
      id: message.id as JsonRpcId,
      requestedVersion: requested,
    };
  }
  return {
    era: 'legacy',
    kind,
    version: version ?? DEFAULT_LEGACY_VERSION,
    sessionId,
    id: message.id as JsonRpcId,
    method: bodyMethod,
    name,
  };
}

/** A 2025-03-26 batch: non-empty, all valid, not mixing calls with responses, no initialize. */
function classifyBatch(headers: HeaderSource, batch: readonly unknown[]): LegacyBatch | EraRejection {
  if (batch.length === 0) return EMPTY_BATCH;
  // A batch has no single method that Mcp-Method could mirror.
  if (headers.get(H_METHOD) !== null) return MCP_METHOD_WITHOUT_METHOD;
  let requests = 0;
  let responses = 0;
  for (const item of batch) {
    const kind = kindOf(item);
    if (typeof kind !== 'string') return kind;
    if (kind === 'response') responses++;
    else if ((item as Message).method === 'initialize') return INITIALIZE_IN_BATCH;
    else if (kind === 'request') requests++;
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

/**
 * Answers a rejection: the HTTP status, `Allow` for 405, and a JSON-RPC error body with a null id (the
 * transport refuses the request before any message is read as a call, so there is no id to echo).
 */
export function rejectionResponse(rejection: EraRejection): Response {
  const { status, jsonRpcCode, message, allow } = rejection.error;
  const headers = new Headers({ 'content-type': 'application/json' });
  if (allow !== undefined) headers.set('allow', allow);
  const body = JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: jsonRpcCode, message } });
  return new Response(body, { status, headers });
}
