/**
 * @module host-origin-guard: the Host and Origin rules for every route outside the MCP endpoints (which apply
 * the same check themselves, with JSON-RPC bodies and CORS). On a loopback gateway every request's `Host` must
 * name this machine or the public URL's host (DNS rebinding). A state-changing request from a browser page
 * whose origin is not allowed is refused: any method but GET, HEAD and OPTIONS, on any path, so a control-plane
 * collection added later is covered without being listed.
 */
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../core/index.js';
import { HttpError } from './http-error.js';
import { createOriginCheck } from './origin-check.js';
import type { OriginPolicy, OriginRefusal } from './origin-check.js';

/** Options for {@link hostOriginGuard}. */
export interface HostOriginGuardOptions {
  readonly policy: OriginPolicy;
}

/** Methods that read: they pass whatever their `Origin` (a foreign page cannot read the answer without CORS). */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * `Sec-Fetch-Site` values of a request a browser sent on behalf of another site's page. Browsers send `Origin`
 * on every state-changing request; one that carries these without it had it stripped, and is refused too.
 */
const FOREIGN_SITES = new Set(['cross-site', 'same-site']);

const refusal = (r: OriginRefusal) => new HttpError(403, r.code, r.message);

/**
 * The guard; register it ahead of every route it protects. The `*` of `MCP_GATEWAY_ALLOWED_ORIGINS` is left out
 * here: it lets browser MCP clients of any site call the MCP endpoints, not write to the control plane.
 * `Origin: null` (sandboxed frames, `file:` pages) is never allowed to write.
 */
export function hostOriginGuard(options: HostOriginGuardOptions): MiddlewareHandler<AppEnv> {
  const { policy } = options;
  const check = createOriginCheck(
    { ...policy, allowedOrigins: policy.allowedOrigins.filter((o) => o !== '*') },
    refusal,
  );
  return async function hostOriginGuardMiddleware(c, next) {
    const writes = !SAFE_METHODS.has(c.req.method);
    const origin = writes ? c.req.header('origin') : undefined;
    const verdict = check(c.req.header('host'), origin);
    if (verdict.refusal) throw verdict.refusal;
    if (writes && origin === undefined && FOREIGN_SITES.has(c.req.header('sec-fetch-site') ?? '')) {
      throw new HttpError(
        403,
        'origin_not_allowed',
        `A ${c.req.method} from another site's page (Sec-Fetch-Site: ${c.req.header('sec-fetch-site')}) without an Origin header is not allowed.`,
      );
    }
    await next();
  };
}
