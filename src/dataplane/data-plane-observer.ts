/**
 * @module data-plane-observer: metrics, the `tools/call` audit line and trace spans for `/adapters/{name}/mcp`.
 * Each request gets a {@link WatchedExchange}: the proxy tells it which adapter, which MCP method, which replica
 * and what failed; the front end (the Hono middleware here, or the Node listener's fast path) tells it when the
 * answer head went out, and when a streamed answer ended.
 */
import type { MiddlewareHandler } from 'hono';
import { watchedBody } from '../core/index.js';
import type { ExchangeObserver } from './proxy-observer.js';
import type { LegacyClassification, ModernClassification } from './era-classification.js';
import type { ForwardOutcome } from './forwarder.js';
import type { AppEnv } from '../http/index.js';
import type { AuditLog } from '../observability/audit-log.js';
import type { GatewayMetrics, PlacementKind } from '../observability/metrics.js';
import { traceIdOf } from '../observability/trace-id.js';
import { MCP_ATTR, NO_SPAN, NO_TRACING, mcpSpanName } from '../observability/tracing/index.js';
import type { SpanHandle, TraceContextHeaders, Tracing } from '../observability/tracing/index.js';

/** Options for {@link createDataPlaneObservation}. */
export interface DataPlaneObservationOptions {
  readonly metrics: GatewayMetrics;
  readonly audit: AuditLog;
  /** A SERVER span per request and a CLIENT span per upstream attempt; none by default. */
  readonly tracing?: Tracing;
  /** Milliseconds from an arbitrary origin; injected for tests. */
  readonly now?: () => number;
}

/** One observed request: an {@link ExchangeObserver} the front end also tells how it ended. */
export interface WatchedExchange extends ExchangeObserver {
  /**
   * The client got its answer head with `status`. Returns the callback to run once when the answer's body ends,
   * when that answer is an event stream (counted as open until then); undefined otherwise.
   */
  finish(
    status: number,
    principal: string | undefined,
    traceparent: string | undefined,
  ): (() => void) | undefined;
}

/** Starts watching requests; the middleware does it for the Hono route. */
export interface DataPlaneObservation {
  /** `trace` carries the request's W3C trace-context headers, the parent of its span. */
  watch(trace: TraceContextHeaders): WatchedExchange;
  readonly middleware: MiddlewareHandler<AppEnv>;
}

type Classified = LegacyClassification | ModernClassification;

/** Until the body says which MCP method this is (and for refusals before that). */
const SPAN_NAME = '/adapters/:name/mcp';
const SPAN_ATTRIBUTES = { 'http.route': '/adapters/:name/mcp', [MCP_ATTR.networkTransport]: 'tcp' };
/** The gateway's own attributes: which registered adapter, and which of its replicas answered. */
const GATEWAY_ADAPTER_ATTR = 'mcp_gateway.adapter';
const GATEWAY_REPLICA_ATTR = 'mcp_gateway.replica';

/** MCP methods used as label values as they are; anything else is `other`, so clients cannot grow the series. */
const KNOWN_METHODS = new Set([
  'initialize',
  'ping',
  'server/discover',
  'tools/list',
  'tools/call',
  'resources/list',
  'resources/read',
  'resources/templates/list',
  'resources/subscribe',
  'resources/unsubscribe',
  'prompts/list',
  'prompts/get',
  'completion/complete',
  'logging/setLevel',
  'notifications/initialized',
  'notifications/cancelled',
  'notifications/progress',
  'notifications/roots/list_changed',
]);

function methodLabel(classified: Classified): string {
  if (classified.kind === 'request' || classified.kind === 'notification') {
    return KNOWN_METHODS.has(classified.method) ? classified.method : 'other';
  }
  return classified.kind;
}

const isEventStream = (contentType: string | undefined) =>
  contentType?.startsWith('text/event-stream') === true;

/** What is known of one observed exchange. */
class Watched implements WatchedExchange {
  /** Empty while no registered adapter was named (refused early: no unbounded label values). */
  name = '';
  method = 'unclassified';
  tool: string | undefined = undefined;
  toolCall = false;
  /** Undefined inside a legacy session: the replica was chosen by the session, not placed. */
  placement: PlacementKind | undefined = undefined;
  /** Content type of the upstream's answer; undefined when the gateway answered itself. */
  contentType: string | undefined = undefined;
  private readonly started: number;
  /** Undefined until started: without a `traceparent` header it waits for the body's `_meta` to name a parent. */
  private serverSpan: SpanHandle | undefined;
  private upstreamSpan: SpanHandle = NO_SPAN;

  constructor(
    private readonly metrics: GatewayMetrics,
    private readonly audit: AuditLog,
    private readonly now: () => number,
    private readonly tracing: Tracing,
    private trace: TraceContextHeaders,
  ) {
    this.started = now();
    if (!tracing.enabled) this.serverSpan = NO_SPAN;
    else if (trace.traceparent !== undefined)
      this.serverSpan = tracing.startServer(SPAN_NAME, trace, SPAN_ATTRIBUTES);
  }

  /** The SERVER span, started on first use (with the adapter's name when known). */
  private get span(): SpanHandle {
    this.serverSpan ??= this.tracing.startServer(
      SPAN_NAME,
      this.trace,
      this.name ? { ...SPAN_ATTRIBUTES, [GATEWAY_ADAPTER_ATTR]: this.name } : SPAN_ATTRIBUTES,
    );
    return this.serverSpan;
  }

  adapter(name: string): void {
    this.name = name;
    // Guarded here and below: with tracing off, not even the attribute objects are built.
    if (this.serverSpan !== undefined && this.serverSpan !== NO_SPAN) {
      this.serverSpan.setAttributes({ [GATEWAY_ADAPTER_ATTR]: name });
    }
  }

  classified(classified: Classified, trace?: TraceContextHeaders): void {
    // A caller that sent no `traceparent` header may have put its context in `_meta` (SEP-414): continue that.
    if (this.serverSpan === undefined && trace) this.trace = trace;
    this.method = methodLabel(classified);
    if (classified.kind === 'request' && classified.method === 'tools/call') {
      this.toolCall = true;
      this.tool = classified.name;
    }
    const inSession = classified.era === 'legacy' && classified.sessionId !== undefined;
    if (!inSession) this.placement = classified.kind === 'initialize' ? 'session' : 'request';
    if (this.span !== NO_SPAN) this.describeSpan(classified);
  }

  /** MCP semantic conventions: the span is named and labelled by the JSON-RPC method and its target. */
  private describeSpan(classified: Classified): void {
    const method =
      classified.kind === 'request' || classified.kind === 'notification' ? classified.method : undefined;
    const id = 'id' in classified && classified.id !== null ? String(classified.id) : undefined;
    const target = classified.kind === 'request' ? classified.name : undefined;
    const name = method ?? classified.kind;
    this.span.rename(mcpSpanName(name, target));
    this.span.setAttributes({
      [MCP_ATTR.methodName]: method ?? (classified.kind === 'initialize' ? 'initialize' : undefined),
      [MCP_ATTR.protocolVersion]: classified.version,
      [MCP_ATTR.jsonRpcRequestId]: id,
      [MCP_ATTR.toolName]: method === 'tools/call' ? target : undefined,
      [MCP_ATTR.operationName]: method === 'tools/call' ? 'execute_tool' : undefined,
    });
  }

  attempt(replica: { readonly id: string; readonly url: string }): Readonly<Record<string, string>> {
    if (this.span === NO_SPAN) return this.span.propagationHeaders();
    const { hostname, port } = new URL(replica.url);
    this.upstreamSpan = this.span.startClient(mcpSpanName(this.method), {
      [MCP_ATTR.serverAddress]: hostname,
      [MCP_ATTR.serverPort]: Number(port) || undefined,
      [MCP_ATTR.networkTransport]: 'tcp',
      [GATEWAY_REPLICA_ATTR]: replica.id,
    });
    return this.upstreamSpan.propagationHeaders();
  }

  answered(_status: number, contentType: string | undefined): void {
    this.contentType = contentType;
  }

  forwarded(replica: string, outcome: ForwardOutcome): void {
    if (this.upstreamSpan !== NO_SPAN) {
      this.upstreamSpan.end(outcome.ok ? { status: outcome.status } : { error: outcome.failure });
    }
    if (outcome.ok) {
      if (this.placement) this.metrics.placed(this.name, replica, this.placement);
    }
    // A client that left before the request went out is no upstream's failure.
    else if (outcome.failure !== 'abandoned') this.metrics.upstreamError(this.name, outcome.failure);
  }

  finish(status: number, principal: string | undefined, traceparent: string | undefined) {
    const { metrics, name } = this;
    metrics.mcpRequest(name, this.method, status, (this.now() - this.started) / 1000);
    if (this.toolCall && this.audit.enabled()) {
      this.audit.write({
        action: 'tools/call',
        adapter: name,
        tool: this.tool,
        // Set whenever a tool call was classified: only an authenticated caller gets that far.
        principal: principal ?? '',
        status,
        traceId: this.span.traceId || traceIdOf(traceparent),
      });
    }
    const { span } = this;
    const traced = span !== NO_SPAN;
    if (status >= 300 || !isEventStream(this.contentType)) {
      if (traced) span.end({ status });
      return undefined;
    }
    // A stream's span lasts as long as the stream.
    metrics.streamOpened(name);
    return () => {
      metrics.streamClosed(name);
      if (traced) span.end({ status });
    };
  }
}

/** The parts of Node's `ServerResponse` read here; present in `c.env.outgoing` on a Node server. */
interface NodeOutgoing {
  readonly headersSent: boolean;
  readonly statusCode: number;
  readonly writableFinished: boolean;
  readonly destroyed: boolean;
  once(event: 'close', listener: () => void): unknown;
}

/** Runs `closed` once the Node response is over (now, if it already is). */
export function onResponseClosed(outgoing: NodeOutgoing, closed: () => void): void {
  if (outgoing.writableFinished || outgoing.destroyed) closed();
  else outgoing.once('close', closed);
}

/** Builds the observation over one metrics instance and audit log. */
export function createDataPlaneObservation(options: DataPlaneObservationOptions): DataPlaneObservation {
  const { metrics, audit } = options;
  const now = options.now ?? (() => performance.now());
  const tracing = options.tracing ?? NO_TRACING;
  const watch = (trace: TraceContextHeaders) => new Watched(metrics, audit, now, tracing, trace);

  const middleware: MiddlewareHandler<AppEnv> = async function observeDataPlane(c, next) {
    const traceparent = c.req.header('traceparent');
    const watched = watch({ traceparent, tracestate: c.req.header('tracestate') });
    c.set('exchange', watched);
    await next();
    // Written already when the Node forwarder answered straight on the socket (c.res is only a marker).
    const outgoing = (c.env as { outgoing?: NodeOutgoing } | undefined)?.outgoing;
    const node = outgoing?.headersSent ? outgoing : undefined;
    const status = node ? node.statusCode : c.res.status;
    const closed = watched.finish(status, c.get('principal')?.userId, traceparent);
    if (!closed) return;
    if (node) return onResponseClosed(node, closed);
    const body = c.res.body;
    if (body) c.res = new Response(watchedBody(body, closed), c.res);
    else closed();
  };

  return { watch, middleware };
}
