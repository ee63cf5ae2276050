/** @module jsonrpc-error: HTTP error answers of the data plane, with the JSON-RPC error body MCP clients read. */
import type { EraRejection } from './era-rejections.js';

/** JSON-RPC codes the data plane answers with (beyond those of a rejection, `JSON_RPC_ERROR`). */
export const GATEWAY_ERROR = {
  /** The SDKs' code for "session not found"; with HTTP 404 it makes a client re-initialise. */
  sessionNotFound: -32001,
  /** Transport-level failure of the gateway or its upstream. */
  gateway: -32000,
} as const;

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
