/**
 * @module rate-limit: token-bucket limits per principal (every authenticated request) and per adapter (the data
 * plane), answered 429 with `Retry-After`. Limits hold per gateway instance: with N replicas behind a load
 * balancer a caller may get up to N times the configured rate.
 */
import type { Context, MiddlewareHandler } from 'hono';
import type { AppEnv } from '../core/index.js';
import { HttpError } from './http-error.js';
import { TokenBuckets } from './token-buckets.js';
import type { RateLimitScope } from '../observability/index.js';

/** One limit: sustained requests per second and the burst a full bucket allows. */
export interface RateLimitSpec {
  readonly perSecond: number;
  readonly burst: number;
}

/** Which limit refused a request. */
export type { RateLimitScope };

/** Options for {@link createRateLimits}. */
export interface RateLimitsOptions {
  /** Across every authenticated request of one user id; unlimited when absent. */
  readonly perPrincipal?: RateLimitSpec;
  /** Per `/adapters/{name}/mcp`, whoever calls; unlimited when absent. */
  readonly perAdapter?: RateLimitSpec;
  /** Most keys remembered per limit (default 10 000); idle buckets are dropped first. */
  readonly maxKeys?: number;
  /** Milliseconds; injected for tests. */
  readonly now?: () => number;
  /** Told about each refusal (metrics). */
  readonly onLimited?: (scope: RateLimitScope) => void;
  /** True for MCP endpoints, whose clients read a JSON-RPC error body; others get `{ error: { code, message } }`. */
  readonly isMcpPath?: (path: string) => boolean;
}

/** The limit middleware that are configured; an absent one means "no limit" and costs nothing. */
export interface RateLimits {
  /** Mount after authentication: it keys on `principal`. */
  readonly principal?: MiddlewareHandler<AppEnv>;
  /** Mount on `/adapters/:name/mcp`: it keys on the `name` parameter. */
  readonly adapter?: MiddlewareHandler<AppEnv>;
  /** The MCP endpoints' refusals as plain functions (the 429 answer, or undefined to go ahead), for front ends without Hono. */
  readonly mcp: McpRateLimits;
}

/** Takes a token for an MCP request; answers 429 with a JSON-RPC body when the bucket is empty. */
export interface McpRateLimits {
  principal?(userId: string): Response | undefined;
  adapter?(name: string): Response | undefined;
}

/** JSON-RPC "server error" code the data plane uses for transport-level refusals. */
const JSON_RPC_GATEWAY_ERROR = -32000;

function jsonRpcTooManyRequests(message: string, retryAfter: number): Response {
  const body = { jsonrpc: '2.0', id: null, error: { code: JSON_RPC_GATEWAY_ERROR, message } };
  return new Response(JSON.stringify(body), {
    status: 429,
    headers: { 'content-type': 'application/json', 'retry-after': String(retryAfter) },
  });
}

function tooManyRequests(
  c: Context<AppEnv>,
  message: string,
  retryAfter: number,
  jsonRpc: boolean,
): Response {
  if (jsonRpc) return jsonRpcTooManyRequests(message, retryAfter);
  // Through the context, so headers set earlier (X-Request-Id) are kept.
  const headers = { 'retry-after': String(retryAfter) };
  return c.json(new HttpError(429, 'rate_limited', message).toBody(), 429, headers);
}

const principalMessage = (userId: string, retryAfter: number) =>
  `Too many requests from '${userId}'; retry in ${retryAfter} s.`;
const adapterMessage = (name: string, retryAfter: number) =>
  `Too many requests for adapter '${name}'; retry in ${retryAfter} s.`;

function validated(spec: RateLimitSpec, name: string): RateLimitSpec {
  if (!(spec.perSecond > 0) || !(spec.burst >= 1)) {
    throw new RangeError(`rate limit ${name}: perSecond must be > 0 and burst ≥ 1`);
  }
  return spec;
}

/** Builds the configured limits. */
export function createRateLimits(options: RateLimitsOptions): RateLimits {
  const onLimited = options.onLimited ?? (() => undefined);
  const isMcpPath = options.isMcpPath ?? (() => false);
  const bucketsOf = (spec: RateLimitSpec, name: string) =>
    new TokenBuckets({ ...validated(spec, name), maxKeys: options.maxKeys, now: options.now });

  /** Takes a token for `key`: undefined when there was one, else the seconds to wait (and the refusal counted). */
  const limiter = (spec: RateLimitSpec, scope: RateLimitScope) => {
    const buckets = bucketsOf(spec, `per ${scope}`);
    return (key: string): number | undefined => {
      const waitMs = buckets.take(key);
      if (waitMs === 0) return undefined;
      onLimited(scope);
      return Math.max(1, Math.ceil(waitMs / 1000));
    };
  };

  let principal: MiddlewareHandler<AppEnv> | undefined;
  const mcp: { -readonly [K in keyof McpRateLimits]: McpRateLimits[K] } = {};
  if (options.perPrincipal) {
    const limit = limiter(options.perPrincipal, 'principal');
    principal = async function principalRateLimit(c, next) {
      const userId = c.get('principal')?.userId;
      const retryAfter = userId === undefined ? undefined : limit(userId);
      if (retryAfter === undefined) return next();
      return tooManyRequests(c, principalMessage(userId!, retryAfter), retryAfter, isMcpPath(c.req.path));
    };
    mcp.principal = (userId) => {
      const retryAfter = limit(userId);
      return retryAfter === undefined
        ? undefined
        : jsonRpcTooManyRequests(principalMessage(userId, retryAfter), retryAfter);
    };
  }

  let adapter: MiddlewareHandler<AppEnv> | undefined;
  if (options.perAdapter) {
    const limit = limiter(options.perAdapter, 'adapter');
    mcp.adapter = (name) => {
      const retryAfter = limit(name);
      return retryAfter === undefined
        ? undefined
        : jsonRpcTooManyRequests(adapterMessage(name, retryAfter), retryAfter);
    };
    const refuse = mcp.adapter;
    adapter = async function adapterRateLimit(c, next) {
      return refuse(c.req.param('name') ?? '') ?? next();
    };
  }
  return { principal, adapter, mcp };
}

/**
 * Runs `first` and, inside it, `second`, as one middleware: every route mounted with the pair (authenticate,
 * then the principal's limit) gets both. A Response returned by `second` becomes the answer.
 */
export function inSequence(
  first: MiddlewareHandler<AppEnv>,
  second: MiddlewareHandler<AppEnv>,
): MiddlewareHandler<AppEnv> {
  return async function inSequenceMiddleware(c, next) {
    return first(c, async () => {
      const answer = await second(c, next);
      if (answer instanceof Response) c.res = answer;
    });
  };
}
