/**
 * @module tracing: the `Tracing` port — spans for inbound requests and their upstream attempts, in the gateway's
 * own words — and the null objects used when tracing is off. The OpenTelemetry implementation lives in
 * `./otel/` so that code which only starts spans (the data plane, the edge build) never loads the SDK.
 */

/** Attributes are primitive values only; `undefined` ones are skipped, so optional fields can be passed as-is. */
export type SpanAttributes = Record<string, string | number | boolean | undefined>;

/** How a span ended. */
export interface SpanResult {
  /** The HTTP status answered (SERVER) or received (CLIENT); recorded as `http.response.status_code`. */
  readonly status?: number;
  /** Why it failed, when it did; becomes the span's status description. Must hold no secrets. */
  readonly error?: string;
}

/** One span. Implementations never throw into the request path. */
export interface SpanHandle {
  /** Adds attributes; ignored once the span has ended. */
  setAttributes(attributes: SpanAttributes): void;
  /** Renames the span, once the request says what it is (the MCP method is in the body); ignored once ended. */
  rename(name: string): void;
  /** A CLIENT child span (e.g. one upstream attempt). */
  startClient(name: string, attributes?: SpanAttributes): SpanHandle;
  /**
   * The W3C `traceparent` (and `tracestate` if any) that makes this span the parent of the upstream's span.
   * The object is read-only: it may be shared (the null span returns the same empty object every time).
   */
  propagationHeaders(): Readonly<Record<string, string>>;
  /**
   * Ends the span; later calls are ignored. An `error`, or a status ≥ 500 (SERVER) / ≥ 400 (CLIENT), marks it
   * ERROR and sets `error.type` (to the status) unless set already — OTel HTTP semconv: a 4xx is the caller's
   * fault, not the server's, but it is a failed call for a client.
   */
  end(result?: SpanResult): void;
  /** W3C trace id (32 lower-case hex digits) — for the audit log; `''` when tracing is off. */
  readonly traceId: string;
}

/** The W3C trace-context headers of an inbound request. */
export interface TraceContextHeaders {
  readonly traceparent?: string | undefined;
  readonly tracestate?: string | undefined;
}

/** Starts spans and, on shutdown, flushes them. */
export interface Tracing {
  /** False for {@link NO_TRACING}: callers may skip building attributes. */
  readonly enabled: boolean;
  /**
   * A SERVER span for one inbound request; parent taken from `headers.traceparent`/`tracestate` when valid
   * (invalid ones are ignored, a new trace starts).
   */
  startServer(name: string, headers: TraceContextHeaders, attributes?: SpanAttributes): SpanHandle;
  /** Flushes pending spans and stops exporting; resolves within a bounded time even if the collector is down. */
  shutdown(): Promise<void>;
}

// Shared, frozen: the null span allocates nothing per call, and nobody can add headers to everyone's object.
const NO_HEADERS: Readonly<Record<string, string>> = Object.freeze({});
const DONE: Promise<void> = Promise.resolve();

/** A span that records nothing; every child is itself. */
export const NO_SPAN: SpanHandle = Object.freeze({
  traceId: '',
  setAttributes: () => undefined,
  rename: () => undefined,
  startClient: () => NO_SPAN,
  propagationHeaders: () => NO_HEADERS,
  end: () => undefined,
});

/** Records nothing and reads nothing, allocating nothing per call: the default when no exporter is configured. */
export const NO_TRACING: Tracing = Object.freeze({
  enabled: false,
  startServer: () => NO_SPAN,
  shutdown: () => DONE,
});
