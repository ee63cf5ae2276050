/**
 * @module rate-limit: token-bucket limits per principal (every authenticated request), per adapter (the data
 * plane) and per caller and tool (`tools/call` on either MCP endpoint), answered 429 with `Retry-After`. Where the
 * buckets live is a {@link RateLimiterStore}: this instance's memory by default (with N replicas a caller may get
 * up to N times a limit), or Redis, shared by every replica. The in-memory check stays synchronous, so a gateway
 * without a shared store pays no promise per request.
 */
import type { Context, MiddlewareHandler } from 'hono';
import type { AppEnv } from '../core/index.js';
import { HttpError } from './http-error.js';
import { memoryRateLimiterStore } from './rate-limiter.js';
import type { RateLimitSpec, RateLimiterStore } from './rate-limiter.js';
import type { RateLimitScope } from '../observability/index.js';

export type { RateLimitSpec };

/** Which limit refused a request. */
export type { RateLimitScope };

/** Options for {@link createRateLimits}. */
export interface RateLimitsOptions {
  /** Across every authenticated request of one user id; unlimited when absent. */
  readonly perPrincipal?: RateLimitSpec;
  /** Per `/adapters/{name}/mcp`, whoever calls; unlimited when absent. */
  readonly perAdapter?: RateLimitSpec;
  /** Per caller and tool of a `tools/call` (and adapter, on the data plane); unlimited when absent. */
  readonly perTool?: RateLimitSpec;
  /** Where the buckets are kept; this instance's memory (with `maxKeys` and `now`) by default. */
  readonly store?: RateLimiterStore;
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

/** A limit's answer: the 429 to send, or undefined to go ahead; a promise only when the store is shared. */
export type RateLimitAnswer = Response | undefined | Promise<Response | undefined>;

/** Takes a token for an MCP request; answers 429 with a JSON-RPC body when the bucket is empty. */
export interface McpRateLimits {
  principal?(userId: string): RateLimitAnswer;
  adapter?(name: string): RateLimitAnswer;
  /** One `tools/call` of `tool` by `userId`: through `adapter` on the data plane, undefined on the tool router. */
  tool?(userId: string, tool: string, adapter?: string): RateLimitAnswer;
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
const toolMessage = (userId: string, tool: string, retryAfter: number) =>
  `Too many calls of tool '${tool}' from '${userId}'; retry in ${retryAfter} s.`;

function validated(spec: RateLimitSpec, name: string): RateLimitSpec {
  if (!(spec.perSecond > 0) || !(spec.burst >= 1)) {
    throw new RangeError(`rate limit ${name}: perSecond must be > 0 and burst ≥ 1`);
  }
  return spec;
}

/** `f(value)`, at once when `value` is there, after it when it is a promise: the sync path stays sync. */
function then<T, U>(value: T | Promise<T>, f: (value: T) => U): U | Promise<U> {
  return value instanceof Promise ? value.then(f) : f(value);
}

/**
 * Runs `checks` in order until one refuses (a later limit takes no token when an earlier one refused), and answers
 * that refusal; at once, without a promise, while every check answers at once.
 */
export function firstRefusal(checks: readonly (() => RateLimitAnswer)[], from = 0): RateLimitAnswer {
  for (let i = from; i < checks.length; i++) {
    const answer = checks[i]!();
    if (answer instanceof Promise) {
      return answer.then((refusal) => refusal ?? firstRefusal(checks, i + 1));
    }
    if (answer) return answer;
  }
  return undefined;
}

/** The key of a (caller, adapter, tool) bucket; NUL cannot occur in a user id or an adapter name. */
const toolKey = (userId: string, tool: string, adapter: string | undefined) =>
  `${userId}\u0000${adapter ?? ''}\u0000${tool}`;

/** Builds the configured limits. */
export function createRateLimits(options: RateLimitsOptions): RateLimits {
  const onLimited = options.onLimited ?? (() => undefined);
  const isMcpPath = options.isMcpPath ?? (() => false);
  const store = options.store ?? memoryRateLimiterStore({ maxKeys: options.maxKeys, now: options.now });

  /** Takes a token for `key`: undefined when there was one, else the seconds to wait (and the refusal counted). */
  const limiter = (spec: RateLimitSpec, scope: RateLimitScope) => {
    const buckets = store.limiter(scope, validated(spec, `per ${scope}`));
    const retryAfter = (waitMs: number): number | undefined => {
      if (waitMs === 0) return undefined;
      onLimited(scope);
      return Math.max(1, Math.ceil(waitMs / 1000));
    };
    return (key: string): number | undefined | Promise<number | undefined> =>
      then(buckets.take(key), retryAfter);
  };

  let principal: MiddlewareHandler<AppEnv> | undefined;
  const mcp: { -readonly [K in keyof McpRateLimits]: McpRateLimits[K] } = {};
  if (options.perPrincipal) {
    const limit = limiter(options.perPrincipal, 'principal');
    principal = async function principalRateLimit(c, next) {
      const userId = c.get('principal')?.userId;
      const retryAfter = userId === undefined ? undefined : await limit(userId);
      if (retryAfter === undefined) return next();
      return tooManyRequests(c, principalMessage(userId!, retryAfter), retryAfter, isMcpPath(c.req.path));
    };
    mcp.principal = (userId) =>
      then(limit(userId), (retryAfter) =>
        retryAfter === undefined
          ? undefined
          : jsonRpcTooManyRequests(principalMessage(userId, retryAfter), retryAfter),
      );
  }

  let adapter: MiddlewareHandler<AppEnv> | undefined;
  if (options.perAdapter) {
    const limit = limiter(options.perAdapter, 'adapter');
    mcp.adapter = (name) =>
      then(limit(name), (retryAfter) =>
        retryAfter === undefined
          ? undefined
          : jsonRpcTooManyRequests(adapterMessage(name, retryAfter), retryAfter),
      );
    const refuse = mcp.adapter;
    adapter = async function adapterRateLimit(c, next) {
      return (await refuse(c.req.param('name') ?? '')) ?? next();
    };
  }

  if (options.perTool) {
    const limit = limiter(options.perTool, 'tool');
    mcp.tool = (userId, tool, adapterName) =>
      then(limit(toolKey(userId, tool, adapterName)), (retryAfter) =>
        retryAfter === undefined
          ? undefined
          : jsonRpcTooManyRequests(toolMessage(userId, tool, retryAfter), retryAfter),
      );
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
