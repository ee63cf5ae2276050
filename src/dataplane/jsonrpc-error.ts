/** @module jsonrpc-error: HTTP error answers of the data plane, with the JSON-RPC error body MCP clients read. */
import type { EraRejection } from './era-rejections.js';

/** JSON-RPC codes the data plane answers with (beyond those of a rejection, `JSON_RPC_ERROR`). */
export const GATEWAY_ERROR = {
  /** The SDKs' code for "session not found"; with HTTP 404 it makes a client re-initialise. */
  sessionNotFound: -32001,
  /** Transport-level failure of the gateway or its upstream. */
  gateway: -32000,
  /** MCP 2025-11-25 `URLElicitationRequiredError`: the user must open a URL first (elicitation URL mode). */
  urlElicitationRequired: -32042,
} as const;

/** The id of a single JSON-RPC request, or undefined (a notification, a batch, no body). */
export function requestIdOf(parsed: unknown): string | number | undefined {
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
  const { id, method } = parsed as { id?: unknown; method?: unknown };
  if (typeof method !== 'string') return undefined;
  return typeof id === 'string' || typeof id === 'number' ? id : undefined;
}

/** What an elicitation error carries: the URL to open, and why. */
export interface UrlElicitation {
  readonly connectUrl: string;
  readonly message: string;
}

/**
 * The URL elicitation error (-32042) answering request `id`: `data.elicitations` holds one URL-mode elicitation
 * (MCP 2025-11-25, elicitation URL mode), so the client shows the user the URL and retries after. A JSON-RPC
 * answer to a request is HTTP 200; without an id (a GET stream, a notification) nothing can carry it to a
 * request, so it is a 403 with a null id, which clients surface as a transport error with the message.
 */
export function urlElicitationResponse(
  id: string | number | undefined,
  elicitation: UrlElicitation,
): Response {
  const error = {
    code: GATEWAY_ERROR.urlElicitationRequired,
    message: elicitation.message,
    data: {
      elicitations: [
        {
          mode: 'url',
          elicitationId: crypto.randomUUID(),
          url: elicitation.connectUrl,
          message: elicitation.message,
        },
      ],
    },
  };
  return new Response(JSON.stringify({ jsonrpc: '2.0', id: id ?? null, error }), {
    status: id === undefined ? 403 : 200,
    headers: { 'content-type': 'application/json' },
  });
}

/** A JSON-RPC error response with a null id: the transport failed before any message could be answered. */
export function jsonRpcErrorResponse(
  status: number,
  code: number,
  message: string,
  headers: Record<string, string> = {},
): Response {
  return new Response(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code, message } }), {
    status,
    headers: { 'content-type': 'application/json', ...headers },
  });
}

/**
 * Answers a refused request: the HTTP status, `Allow` for 405, and a JSON-RPC error body with a null id (the
 * transport refuses the request before any message is read as a call, so there is no id to echo).
 */
export function rejectionResponse(rejection: EraRejection): Response {
  const { status, jsonRpcCode, message, allow } = rejection.error;
  return jsonRpcErrorResponse(status, jsonRpcCode, message, allow === undefined ? {} : { allow });
}
