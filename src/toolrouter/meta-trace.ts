/**
 * @module meta-trace: the trace context an MCP request on the tool router's endpoints (`/mcp`,
 * `/toolsets/{name}/mcp`) names in `params._meta` (SEP-414), for a caller that sends no `traceparent` header: the
 * request's SERVER span then continues that trace, and so do the CLIENT spans of its federated calls (whose
 * context reaches the upstream in `_meta` and the headers, `federation.ts`). Read only when tracing is on, the
 * header is absent and the body is small enough for the router to take; only a body that mentions
 * `"traceparent"` is parsed.
 */
import type { Context } from 'hono';
import type { TraceContextHeaders } from '../observability/index.js';
import { smallBodyOf } from './request-body.js';

/** `/mcp` or `/toolsets/{name}/mcp`. */
const ROUTER_PATH = /^\/(?:mcp|toolsets\/[^/]+\/mcp)$/;

/** The trace context in `params._meta` of a parsed JSON-RPC request, or undefined. */
export function metaTraceContextOf(parsed: unknown): TraceContextHeaders | undefined {
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
  const meta = (parsed as { params?: { _meta?: unknown } }).params?._meta;
  if (typeof meta !== 'object' || meta === null) return undefined;
  const { traceparent, tracestate } = meta as Record<string, unknown>;
  if (typeof traceparent !== 'string') return undefined;
  return { traceparent, tracestate: typeof tracestate === 'string' ? tracestate : undefined };
}

/** For `tracingMiddleware`'s `traceContextOf`: the `_meta` trace context of a router request, else undefined. */
export function toolRouterTraceContext(
  maxBodyBytes: number,
): (c: Context) => Promise<TraceContextHeaders | undefined> {
  return async (c) => {
    if (c.req.method !== 'POST' || !ROUTER_PATH.test(c.req.path)) return undefined;
    const text = await smallBodyOf(c.req.raw, maxBodyBytes).catch(() => undefined);
    if (text === undefined || !text.includes('"traceparent"')) return undefined;
    try {
      return metaTraceContextOf(JSON.parse(text));
    } catch {
      return undefined;
    }
  };
}
