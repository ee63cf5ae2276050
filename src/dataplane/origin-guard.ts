/**
 * @module originGuard: DNS-rebinding protection for MCP endpoints, with the gateway's one Host/Origin check
 * (`http/origin-check.ts`). A present `Origin` must be allowed (403 otherwise, MCP 2025-11-25); a gateway bound
 * to loopback also checks `Host`, since a rebinding page reaches it under a foreign host name. Refusals carry
 * JSON-RPC error bodies, and allowed browser origins get CORS.
 */
import type { MiddlewareHandler } from 'hono';
import { createOriginCheck as createSharedOriginCheck } from '../http/index.js';
import type { AppEnv, OriginCheck, OriginPolicy, OriginRefusal } from '../http/index.js';
import { jsonRpcErrorResponse, GATEWAY_ERROR } from './jsonrpc-error.js';

export type { OriginCheck, OriginVerdict } from '../http/index.js';

/** Options for {@link originGuard}: the gateway's origin policy. */
export type OriginGuardOptions = OriginPolicy;

/** What MCP clients read: a JSON-RPC error with a null id (the transport refused before any message). */
const jsonRpcRefusal = (refusal: OriginRefusal) =>
  jsonRpcErrorResponse(403, GATEWAY_ERROR.gateway, refusal.message);

/** The shared check ({@link createSharedOriginCheck}) answering refusals with JSON-RPC error bodies. */
export function createOriginCheck(options: OriginGuardOptions): OriginCheck {
  return createSharedOriginCheck(options, jsonRpcRefusal);
}

/** The Hono middleware around {@link createOriginCheck}; also answers an allowed origin's CORS preflight. */
export function originGuard(options: OriginGuardOptions): MiddlewareHandler<AppEnv> {
  const check = createOriginCheck(options);
  return async function originGuardMiddleware(c, next) {
    const verdict = check(c.req.header('host'), c.req.header('origin'));
    if (verdict.refusal) return verdict.refusal;
    const origin = verdict.origin;
    if (origin === undefined) return next();
    // An allowed browser origin: answer its preflight, and let it read the answer and the session id.
    if (c.req.method === 'OPTIONS') {
      return new Response(null, {
        status: 204,
        headers: {
          ...corsHeaders(origin),
          'access-control-allow-methods': 'GET, POST, DELETE',
          'access-control-allow-headers':
            c.req.header('access-control-request-headers') ?? CORS_REQUEST_HEADERS,
          'access-control-max-age': '600',
        },
      });
    }
    c.set('corsOrigin', origin);
    await next();
    // The Node forwarder writes its own head (it adds these itself); every other answer gets them here.
    if (!isAlreadySent(c.res)) {
      for (const [name, value] of Object.entries(corsHeaders(origin))) c.res.headers.set(name, value);
    }
  };
}

const CORS_REQUEST_HEADERS =
  'authorization, content-type, accept, last-event-id, mcp-session-id, mcp-protocol-version, mcp-method, mcp-name';
// Set by @hono/node-server on its RESPONSE_ALREADY_SENT marker, which must not be mutated (it is shared).
const ALREADY_SENT_MARKER = 'x-hono-already-sent';

/** True for the marker the Node forwarder returns once it wrote the answer on the socket itself. */
export const isAlreadySent = (response: Response): boolean => response.headers.has(ALREADY_SENT_MARKER);

/** What an allowed browser origin needs to read an MCP answer, including the session id header. */
export function corsHeaders(origin: string): Record<string, string> {
  return {
    'access-control-allow-origin': origin,
    'access-control-expose-headers': 'mcp-session-id, mcp-protocol-version, www-authenticate',
    vary: 'origin',
  };
}
