/** @module jsonrpc-error: HTTP error answers of the data plane, with the JSON-RPC error body MCP clients read. */

/** JSON-RPC codes the data plane answers with (beyond those of era.ts). */
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
