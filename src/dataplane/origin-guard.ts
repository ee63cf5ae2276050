/**
 * @module originGuard: DNS-rebinding protection for MCP endpoints. A present `Origin` must be allowed
 * (403 otherwise, MCP 2025-11-25); a gateway bound to loopback also checks `Host`, since a rebinding page
 * reaches it under a foreign host name.
 */
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../http/index.js';
import { jsonRpcErrorResponse, GATEWAY_ERROR } from './jsonrpc-error.js';

/** Options for {@link originGuard}. */
export interface OriginGuardOptions {
  /** The gateway's public URL; its origin is always allowed. */
  readonly publicUrl: string;
  /** Extra allowed origins (`https://app.example.com`), or `*` for any. */
  readonly allowedOrigins: readonly string[];
  /** True when the gateway listens on a loopback address only. */
  readonly loopback: boolean;
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

function hostnameOf(hostHeader: string): string {
  // `[::1]:3000` → `[::1]`; `localhost:3000` → `localhost`
  const match = /^(\[[^\]]+\]|[^:]+)(?::\d+)?$/.exec(hostHeader.trim().toLowerCase());
  return match?.[1] ?? '';
}

function originHostname(origin: string): string | undefined {
  try {
    return new URL(origin).hostname.toLowerCase();
  } catch {
    return undefined;
  }
}

/** The verdict on one request's `Host` and `Origin`: a refusal to send, or go ahead (with CORS for `origin`). */
export type OriginVerdict =
  { readonly refusal: Response } | { readonly refusal?: undefined; readonly origin?: string };

/** Checks a request's `Host` (on loopback) and `Origin` headers; runtime-neutral, shared by every front end. */
export type OriginCheck = (host: string | undefined, origin: string | undefined) => OriginVerdict;

const PASS: OriginVerdict = Object.freeze({});

/** Builds the check; options are validated once here. */
export function createOriginCheck(options: OriginGuardOptions): OriginCheck {
  const own = new URL(options.publicUrl);
  const allowAny = options.allowedOrigins.includes('*');
  const allowed = new Set([
    own.origin,
    ...options.allowedOrigins.filter((o) => o !== '*').map((o) => new URL(o).origin),
  ]);
  const ownHost = own.hostname.toLowerCase();
  const isLoopbackName = (name: string) => LOOPBACK_HOSTS.has(name) || /^127\.\d+\.\d+\.\d+$/.test(name);

  // Clients send the same Host on every request: the last one that passed is remembered.
  let passedHost: string | undefined;
  return function checkOrigin(hostHeader, origin) {
    if (options.loopback && hostHeader !== passedHost) {
      const host = hostnameOf(hostHeader ?? '');
      if (host && host !== ownHost && !isLoopbackName(host)) {
        const message = `Host '${host}' is not allowed (DNS rebinding protection).`;
        return { refusal: jsonRpcErrorResponse(403, GATEWAY_ERROR.gateway, message) };
      }
      passedHost = hostHeader;
    }
    if (origin === undefined) return PASS;
    if (!allowAny && !allowed.has(origin)) {
      const name = originHostname(origin);
      // On a loopback gateway, local tools in a browser (e.g. the MCP Inspector on localhost) may call it.
      const localTool =
        options.loopback && name !== undefined && isLoopbackName(name === '::1' ? '[::1]' : name);
      if (!localTool) {
        return {
          refusal: jsonRpcErrorResponse(403, GATEWAY_ERROR.gateway, `Origin '${origin}' is not allowed.`),
        };
      }
    }
    return { origin };
  };
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
