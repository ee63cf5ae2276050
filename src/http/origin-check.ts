/**
 * @module origin-check: the one `Host` and `Origin` check of the gateway, runtime-neutral and shared by every
 * route and front end (the control plane, the MCP endpoints, the Node listener's fast path, the metrics
 * listener). A gateway that listens on loopback only answers a request only when its `Host` names this machine
 * or the public URL's host: a DNS-rebinding page reaches it under a host name of its own. A present `Origin`
 * must be allowed. Each caller renders a refusal in its own error shape.
 */

/** Who the gateway is and which browser pages may call it. */
export interface OriginPolicy {
  /** The gateway's public URL; its origin is always allowed, and its host is accepted as `Host`. */
  readonly publicUrl: string;
  /** Extra allowed origins (`https://app.example.com`), or `*` for any. */
  readonly allowedOrigins: readonly string[];
  /** True when the gateway listens on a loopback address only: turns the `Host` check on. */
  readonly loopback: boolean;
}

/** Why a request was refused, for the caller to render (JSON-RPC on MCP endpoints, `{ error }` elsewhere). */
export interface OriginRefusal {
  readonly code: 'host_not_allowed' | 'origin_not_allowed';
  readonly message: string;
}

/** Renders a refusal (always a 403) as the caller's answer: a Response, or an error to throw. */
export type RenderRefusal<R> = (refusal: OriginRefusal) => R;

/** The verdict on one request's `Host` and `Origin`: a refusal to send, or go ahead (with CORS for `origin`). */
export type OriginVerdict<R = Response> =
  { readonly refusal: R } | { readonly refusal?: undefined; readonly origin?: string };

/**
 * Checks a request's `Host` (on loopback) and `Origin` headers. A missing `Host` passes: browsers always send
 * one, so it cannot come from a rebinding page (and the Node listener answers HTTP/1.0 without one with 400).
 */
export type OriginCheck<R = Response> = (
  host: string | undefined,
  origin: string | undefined,
) => OriginVerdict<R>;

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '[::1]']);

/** `localhost`, `127.x.x.x` or `[::1]`: names only this machine answers to. */
export const isLoopbackName = (name: string): boolean =>
  LOOPBACK_NAMES.has(name) || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name);

/** `[::1]:3000` → `[::1]`; `localhost:3000` → `localhost`; undefined for anything that is not a host[:port]. */
function hostnameOf(hostHeader: string): string | undefined {
  return /^(\[[0-9a-f:.]+\]|[^:[\]]+)(?::\d{1,5})?$/.exec(hostHeader.trim().toLowerCase())?.[1];
}

/** The origin's host name as a `Host` header spells it (`[::1]`), or undefined for `null` and garbage. */
function originHostname(origin: string): string | undefined {
  try {
    return new URL(origin).hostname.toLowerCase();
  } catch {
    return undefined;
  }
}

/** Long enough to recognise, short enough that a refusal never echoes a header of kilobytes. */
const quoted = (value: string) => `'${value.length > 100 ? `${value.slice(0, 100)}…` : value}'`;

const PASS: OriginVerdict<never> = Object.freeze({});

/** Builds the check; `policy` is validated once here, and `render` runs only for refusals. */
export function createOriginCheck<R>(policy: OriginPolicy, render: RenderRefusal<R>): OriginCheck<R> {
  const own = new URL(policy.publicUrl);
  const allowAny = policy.allowedOrigins.includes('*');
  const allowed = new Set([
    own.origin,
    ...policy.allowedOrigins.filter((o) => o !== '*').map((o) => new URL(o).origin),
  ]);
  // WHATWG URLs spell an IPv6 host name in brackets, as the Host header does.
  const ownHost = own.hostname;
  const hostMessage = (host: string) =>
    `Host ${quoted(host)} is not allowed (DNS rebinding protection): a gateway listening on loopback answers ` +
    `only requests addressed to localhost, 127.0.0.1, [::1] or the host of its public URL (MCP_GATEWAY_PUBLIC_URL).`;

  // Clients send the same Host on every request: the last one that passed is remembered.
  let passedHost: string | undefined;
  return function checkOrigin(hostHeader, origin) {
    if (policy.loopback && hostHeader !== passedHost && hostHeader !== undefined) {
      const host = hostnameOf(hostHeader);
      // Fails closed: a Host that does not parse is refused like a foreign one.
      if (host === undefined || (host !== ownHost && !isLoopbackName(host))) {
        return { refusal: render({ code: 'host_not_allowed', message: hostMessage(host ?? hostHeader) }) };
      }
      passedHost = hostHeader;
    }
    if (origin === undefined) return PASS;
    if (!allowAny && !allowed.has(origin)) {
      const name = originHostname(origin);
      // On a loopback gateway, local tools in a browser (e.g. the MCP Inspector on localhost) may call it.
      const localTool = policy.loopback && name !== undefined && isLoopbackName(name);
      if (!localTool) {
        return {
          refusal: render({
            code: 'origin_not_allowed',
            message: `Origin ${quoted(origin)} is not allowed.`,
          }),
        };
      }
    }
    return { origin };
  };
}
