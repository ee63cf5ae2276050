/**
 * @module trace-context: W3C Trace Context in and out, with a propagator of our own instead of the global one
 * (another library in the process may register its own) and explicit contexts instead of a context manager.
 */
import { ROOT_CONTEXT, defaultTextMapGetter, defaultTextMapSetter, trace } from '@opentelemetry/api';
import type { Context, Span } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import type { TraceContextHeaders } from '../tracing.js';

// Strict per the W3C spec: lower-case hex only, all-zero ids and version ff refused, version 00 with trailing
// fields refused, later versions read forward-compatibly.
const propagator = new W3CTraceContextPropagator();

/** The remote parent named by `headers`, or the root context (a new trace) when they name none validly. */
export function parentContext(headers: TraceContextHeaders): Context {
  if (!headers.traceparent) return ROOT_CONTEXT;
  return propagator.extract(ROOT_CONTEXT, headers, defaultTextMapGetter);
}

/** `traceparent` (and `tracestate`) naming `span` as the parent, for an outbound request. */
export function propagationHeadersOf(span: Span): Record<string, string> {
  const headers: Record<string, string> = {};
  propagator.inject(trace.setSpan(ROOT_CONTEXT, span), headers, defaultTextMapSetter);
  return headers;
}
