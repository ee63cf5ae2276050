/**
 * @module data-plane-observer: metrics and the `tools/call` audit line for `/adapters/{name}/mcp`. A middleware
 * in front of the route times each request to its response head and reads the status the client got; the
 * proxy's {@link ProxyObserver} tells it which adapter, which MCP method, which replica and what failed.
 */
import type { Context, MiddlewareHandler } from 'hono';
import type { ExchangeObserver, ProxyObserver } from '../dataplane/proxy-observer.js';
import type { LegacyClassification, ModernClassification } from '../dataplane/era.js';
import type { ForwardOutcome } from '../dataplane/forwarder.js';
import type { AppEnv } from '../http/index.js';
import type { AuditLog } from './audit-log.js';
import type { GatewayMetrics, PlacementKind } from './metrics.js';

/** Options for {@link createDataPlaneObservation}. */
export interface DataPlaneObservationOptions {
  readonly metrics: GatewayMetrics;
  readonly audit: AuditLog;
  /** Milliseconds from an arbitrary origin; injected for tests. */
  readonly now?: () => number;
}

/** The middleware to put first on the data-plane route, and the observer to give the proxy. */
export interface DataPlaneObservation {
  readonly middleware: MiddlewareHandler<AppEnv>;
  readonly observer: ProxyObserver;
}

type Classified = LegacyClassification | ModernClassification;

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

// version "00", 32 hex trace id, 16 hex parent id, 2 hex flags (W3C Trace Context §3.2).
const TRACEPARENT = /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/;

function traceIdOf(c: Context<AppEnv>): string | undefined {
  // Node's parsed headers when there are any: building a Fetch `Headers` for one lookup costs more.
  const incoming = (
    c.env as { incoming?: { headers: Record<string, string | string[] | undefined> } } | undefined
  )?.incoming;
  const header = incoming ? incoming.headers.traceparent : c.req.raw.headers.get('traceparent');
  return typeof header === 'string' ? TRACEPARENT.exec(header.trim())?.[1] : undefined;
}

/** What is known of one observed exchange. */
class Watched implements ExchangeObserver {
  method = 'unclassified';
  tool: string | undefined = undefined;
  toolCall = false;
  /** Undefined inside a legacy session: the replica was chosen by the session, not placed. */
  placement: PlacementKind | undefined = undefined;
  /** Content type of the upstream's answer; undefined when the gateway answered itself. */
  contentType: string | undefined = undefined;

  constructor(
    readonly adapter: string,
    private readonly metrics: GatewayMetrics,
  ) {}

  classified(classified: Classified): void {
    this.method = methodLabel(classified);
    if (classified.kind === 'request' && classified.method === 'tools/call') {
      this.toolCall = true;
      this.tool = classified.name;
    }
    const inSession = classified.era === 'legacy' && classified.sessionId !== undefined;
    if (!inSession) this.placement = classified.kind === 'initialize' ? 'session' : 'request';
  }

  answered(_status: number, contentType: string | undefined): void {
    this.contentType = contentType;
  }

  forwarded(replica: string, outcome: ForwardOutcome): void {
    if (!outcome.ok) this.metrics.upstreamError(this.adapter, outcome.failure);
    else if (this.placement) this.metrics.placed(this.adapter, replica, this.placement);
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

function nodeOutgoing(c: Context<AppEnv>): NodeOutgoing | undefined {
  const outgoing = (c.env as { outgoing?: NodeOutgoing } | undefined)?.outgoing;
  // Written already: the Node forwarder answered straight on the socket, c.res is only a marker.
  return outgoing?.headersSent ? outgoing : undefined;
}

const isEventStream = (contentType: string | undefined) =>
  contentType?.startsWith('text/event-stream') === true;

/** Passes `body` through and calls `end` once when it ends, fails or is cancelled. */
function watchedBody(body: ReadableStream<Uint8Array>, end: () => void): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  let ended = false;
  const finish = () => {
    if (ended) return;
    ended = true;
    end();
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { value, done } = await reader.read();
        if (done) {
          controller.close();
          finish();
        } else controller.enqueue(value);
      } catch (err) {
        controller.error(err);
        finish();
      }
    },
    cancel(reason) {
      finish();
      return reader.cancel(reason);
    },
  });
}

/** Builds the data-plane middleware and proxy observer over one metrics instance and audit log. */
export function createDataPlaneObservation(options: DataPlaneObservationOptions): DataPlaneObservation {
  const { metrics, audit } = options;
  const now = options.now ?? (() => performance.now());
  // Keyed by the request's context: the middleware and the proxy see the same one, and nothing outlives it.
  const exchanges = new WeakMap<Context<AppEnv>, Watched>();

  const observer: ProxyObserver = {
    exchange(c, adapter) {
      const watched = new Watched(adapter, metrics);
      exchanges.set(c, watched);
      return watched;
    },
  };

  function trackStream(c: Context<AppEnv>, adapter: string, node: NodeOutgoing | undefined): void {
    const closed = () => metrics.streamClosed(adapter);
    if (node) {
      if (node.writableFinished || node.destroyed) return;
      metrics.streamOpened(adapter);
      node.once('close', closed);
      return;
    }
    const body = c.res.body;
    if (!body) return;
    metrics.streamOpened(adapter);
    c.res = new Response(watchedBody(body, closed), c.res);
  }

  const middleware: MiddlewareHandler<AppEnv> = async function observeDataPlane(c, next) {
    const started = now();
    await next();
    const seconds = (now() - started) / 1000;
    const node = nodeOutgoing(c);
    const status = node ? node.statusCode : c.res.status;
    const watched = exchanges.get(c);
    if (!watched) {
      // Refused before a registered adapter was found (404, 401, 429 …): no adapter label, so no unbounded names.
      metrics.mcpRequest('', 'unclassified', status, seconds);
      return;
    }
    metrics.mcpRequest(watched.adapter, watched.method, status, seconds);
    if (status < 300 && isEventStream(watched.contentType)) trackStream(c, watched.adapter, node);
    if (watched.toolCall && audit.enabled()) {
      audit.write({
        action: 'tools/call',
        adapter: watched.adapter,
        tool: watched.tool,
        principal: c.get('principal').userId,
        status,
        traceId: traceIdOf(c),
      });
    }
  };

  return { middleware, observer };
}
