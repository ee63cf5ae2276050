/**
 * @module era-rejections: every way the transport rules refuse an MCP request — the HTTP status, the JSON-RPC
 * error code and a message that names the broken rule. Fixed refusals are built once and frozen, so a bad client
 * costs no allocation; the few that echo client input (bounded by {@link ECHO_LIMIT}) are built per request.
 * Rendering one as an HTTP answer is the proxy's business (`rejectionResponse` in `jsonrpc-error.ts`).
 */
import {
  ALLOW_ALL,
  ALLOW_MODERN,
  JSON_RPC_ERROR,
  MODERN_PROTOCOL_VERSION,
  SUPPORTED_PROTOCOL_VERSIONS,
} from './mcp-protocol.js';
import type { ProtocolVersion } from './mcp-protocol.js';

/** Why a request was refused: the HTTP status and the JSON-RPC error that go back to the client. */
export interface EraError {
  readonly status: 400 | 405 | 406 | 415;
  readonly jsonRpcCode: number;
  /** Safe to show to the client; says which rule was broken. */
  readonly message: string;
  /** For 405: the value of the `Allow` response header. */
  readonly allow?: string;
}

/** A refused request. */
export interface EraRejection {
  readonly error: EraError;
}

/** Upper bound on client-supplied text echoed in an error message, so a huge header is not reflected. */
export const ECHO_LIMIT = 128;

function reject(
  status: EraError['status'],
  jsonRpcCode: number,
  message: string,
  allow?: string,
): EraRejection {
  const error: EraError =
    allow === undefined ? { status, jsonRpcCode, message } : { status, jsonRpcCode, message, allow };
  return { error };
}

const frozen = (r: EraRejection): EraRejection => Object.freeze({ error: Object.freeze(r.error) });
const invalid = (why: string): EraRejection =>
  frozen(reject(400, JSON_RPC_ERROR.invalidRequest, `Invalid Request: ${why}`));
const echo = (value: string): string =>
  JSON.stringify(value.length > ECHO_LIMIT ? `${value.slice(0, ECHO_LIMIT)}…` : value);

// HTTP-level refusals, before the body is read.

/** Not POST, GET or DELETE. */
export const METHOD_NOT_ALLOWED = frozen(
  reject(
    405,
    JSON_RPC_ERROR.transportError,
    'Method Not Allowed: the MCP endpoint serves POST, GET and DELETE.',
    ALLOW_ALL,
  ),
);
/** GET or DELETE with the modern protocol version. */
export const MODERN_METHOD_NOT_ALLOWED = frozen(
  reject(
    405,
    JSON_RPC_ERROR.transportError,
    `Method Not Allowed: protocol version ${MODERN_PROTOCOL_VERSION} has no GET or DELETE; send POST.`,
    ALLOW_MODERN,
  ),
);
/** A POST whose `Accept` does not list both JSON and SSE. */
export const POST_NOT_ACCEPTABLE = frozen(
  reject(
    406,
    JSON_RPC_ERROR.transportError,
    'Not Acceptable: the Accept header must list both application/json and text/event-stream.',
  ),
);
/** A GET whose `Accept` does not list SSE. */
export const GET_NOT_ACCEPTABLE = frozen(
  reject(
    406,
    JSON_RPC_ERROR.transportError,
    'Not Acceptable: the Accept header must list text/event-stream.',
  ),
);
/** A POST that is not `application/json`. */
export const UNSUPPORTED_MEDIA_TYPE = frozen(
  reject(
    415,
    JSON_RPC_ERROR.transportError,
    'Unsupported Media Type: Content-Type must be application/json.',
  ),
);

// The body: JSON, then JSON-RPC 2.0 as MCP restricts it.

/** The body is not JSON (or is empty). */
export const PARSE_ERROR = frozen(
  reject(400, JSON_RPC_ERROR.parseError, 'Parse error: the body is not valid JSON.'),
);
/** A message that is not an object. */
export const NOT_AN_OBJECT = invalid('a JSON-RPC message must be a JSON object.');
/** `jsonrpc` is not `"2.0"`. */
export const BAD_JSONRPC = invalid('the "jsonrpc" member must be exactly "2.0".');
/** `method` is present and not a string. */
export const BAD_METHOD = invalid('the "method" member must be a string.');
/** `id` is neither a string nor a number where one is required. */
export const BAD_ID = invalid('the "id" member must be a string or a number (MCP does not allow null).');
/** `params` is present and not an object. */
export const BAD_PARAMS = invalid('the "params" member must be a JSON object.');
/** A response without an id, or without exactly one of `result` and `error`. */
export const BAD_RESPONSE = invalid('a response must carry an "id" and exactly one of "result" and "error".');
/** `[]`. */
export const EMPTY_BATCH = invalid('an empty JSON-RPC batch is not allowed.');
/** A batch mixing requests or notifications with responses. */
export const MIXED_BATCH = invalid(
  'a batch holds either requests and notifications, or responses, not both.',
);
/** `initialize` inside a batch. */
export const INITIALIZE_IN_BATCH = invalid('initialize must not be part of a JSON-RPC batch.');
/** A JSON-RPC response from a modern client. */
export const MODERN_RESPONSE = invalid(
  `a ${MODERN_PROTOCOL_VERSION} client does not send JSON-RPC responses (server requests use MRTR).`,
);
/** `initialize` without `params.protocolVersion`. */
export const INITIALIZE_WITHOUT_VERSION = frozen(
  reject(
    400,
    JSON_RPC_ERROR.invalidParams,
    'Invalid params: initialize must carry params.protocolVersion as a string.',
  ),
);

// The mirrored headers (rules §1.11).

/** A modern POST without `Mcp-Method`. */
export const MCP_METHOD_REQUIRED = frozen(
  reject(
    400,
    JSON_RPC_ERROR.headerMismatch,
    `Header mismatch: the Mcp-Method header is required with MCP-Protocol-Version ${MODERN_PROTOCOL_VERSION}.`,
  ),
);
/** `Mcp-Method` on a response or a batch, which have no method to mirror. */
export const MCP_METHOD_WITHOUT_METHOD = frozen(
  reject(
    400,
    JSON_RPC_ERROR.headerMismatch,
    'Header mismatch: Mcp-Method is set but the body has no method.',
  ),
);

/** A batch from a client of a revision without batching. */
export function batchRemoved(version: ProtocolVersion): EraRejection {
  return reject(
    400,
    JSON_RPC_ERROR.invalidRequest,
    `Invalid Request: JSON-RPC batches are not supported in protocol version ${version} ` +
      '(batching was removed in 2025-06-18; send one message per POST).',
  );
}

/** An `MCP-Protocol-Version` the gateway does not speak. */
export function unsupportedVersion(value: string): EraRejection {
  return reject(
    400,
    JSON_RPC_ERROR.transportError,
    `Bad Request: unsupported MCP-Protocol-Version ${echo(value)} ` +
      `(supported: ${SUPPORTED_PROTOCOL_VERSIONS.join(', ')}).`,
  );
}

/** `Mcp-Method` differs from the body's method. */
export function methodMismatch(header: string, body: string): EraRejection {
  return reject(
    400,
    JSON_RPC_ERROR.headerMismatch,
    `Header mismatch: Mcp-Method ${echo(header)} does not match the body's method ${echo(body)}.`,
  );
}

/** `Mcp-Name` is missing (`header` undefined) or differs from `params[member]`. */
export function nameMismatch(
  method: string,
  member: string,
  header: string | undefined,
  body: unknown,
): EraRejection {
  return reject(
    400,
    JSON_RPC_ERROR.headerMismatch,
    header === undefined
      ? `Header mismatch: ${method} requires the Mcp-Name header (the value of params.${member}).`
      : `Header mismatch: Mcp-Name ${echo(header)} does not match params.${member} ` +
          `${typeof body === 'string' ? echo(body) : '(missing or not a string)'}.`,
  );
}
