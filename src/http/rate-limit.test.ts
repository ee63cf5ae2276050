/**
 * @module Tests of the limits' MCP functions over either kind of store: in memory the answer is there at once (no
 * promise on the request path), a shared store's arrives as a promise; either way the 429 carries `Retry-After`
 * from the bucket, and a limit that refused keeps the later ones from taking a token.
 */
import { describe, expect, it } from 'vitest';
import type { RateLimitScope } from '../observability/index.js';
import { createRateLimits, firstRefusal } from './rate-limit.js';
import { memoryRateLimiterStore } from './rate-limiter.js';
import type { RateLimiterStore } from './rate-limiter.js';

/** The in-memory store, answering through promises as a shared store does. */
function asyncStore(now: () => number): RateLimiterStore {
  const memory = memoryRateLimiterStore({ now });
  return {
    limiter: (scope, spec) => {
      const inner = memory.limiter(scope, spec);
      return { take: (key) => Promise.resolve(inner.take(key)) };
    },
  };
}

const retryAfterOf = (response: Response | undefined) => response?.headers.get('retry-after');

describe.each([
  ['memory', undefined],
  ['async', asyncStore],
] as const)('createRateLimits over a %s store', (kind, makeStore) => {
  it('answers the tool limit per caller, adapter and tool; 429 with Retry-After, counted', async () => {
    const now = () => 0;
    const limited: RateLimitScope[] = [];
    const { mcp } = createRateLimits({
      perTool: { perSecond: 0.5, burst: 1 },
      now,
      ...(makeStore && { store: makeStore(now) }),
      onLimited: (scope) => limited.push(scope),
    });
    const first = mcp.tool!('alice', 'echo', 'one');
    expect(first instanceof Promise).toBe(kind === 'async');
    expect(await first).toBeUndefined();
    const refusal = await mcp.tool!('alice', 'echo', 'one');
    expect(refusal?.status).toBe(429);
    expect(retryAfterOf(refusal)).toBe('2');
    expect(await refusal!.json()).toMatchObject({
      error: { code: -32000, message: "Too many calls of tool 'echo' from 'alice'; retry in 2 s." },
    });
    // The router's (caller, tool) bucket is not the data plane's (caller, adapter, tool) one.
    expect(await mcp.tool!('alice', 'echo')).toBeUndefined();
    expect(await mcp.tool!('alice', 'echo', 'two')).toBeUndefined();
    expect(limited).toEqual(['tool']);
  });

  it('takes no token from a later limit when an earlier one refused', async () => {
    const now = () => 0;
    const { mcp } = createRateLimits({
      perPrincipal: { perSecond: 1, burst: 1 },
      perAdapter: { perSecond: 1, burst: 2 },
      now,
      ...(makeStore && { store: makeStore(now) }),
    });
    const checks = (user: string) => [() => mcp.principal!(user), () => mcp.adapter!('one')];
    expect(await firstRefusal(checks('alice'))).toBeUndefined();
    // alice is refused by her own limit: the adapter's bucket is left alone...
    expect((await firstRefusal(checks('alice')))?.status).toBe(429);
    // ...so bob gets its last token, and only then is it empty.
    expect(await firstRefusal(checks('bob'))).toBeUndefined();
    expect((await firstRefusal(checks('carol')))?.status).toBe(429);
  });
});

describe('firstRefusal', () => {
  it('answers at once while every check does', () => {
    expect(firstRefusal([() => undefined, () => undefined])).toBeUndefined();
    const refusal = new Response(null, { status: 429 });
    expect(firstRefusal([() => undefined, () => refusal])).toBe(refusal);
  });
});
