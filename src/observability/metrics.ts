/**
 * @module metrics: the `GatewayMetrics` port — what the gateway counts and times, in its own words — and the
 * null object used when metrics are off. The Prometheus implementation lives in `./prometheus/` so that code
 * which only records (the data plane, the edge build) never loads `prom-client`.
 */

/** What a rate limit is kept per: the caller, the adapter (over all callers), or the caller and the tool called. */
export type RateLimitScope = 'principal' | 'adapter' | 'tool';

/** Where rate-limit buckets are kept now: in Redis (shared by every instance), or this instance's memory. */
export type RateLimitBackend = 'redis' | 'local';

/** Why an attempt to reach an upstream replica failed (the data plane's `ForwardFailure`). */
export type UpstreamErrorKind = 'refused' | 'timeout' | 'connect-timeout' | 'error';

/** How a replica was chosen: a new legacy session (`initialize`) or a request placed without a session. */
export type PlacementKind = 'session' | 'request';

/** Open legacy sessions on one replica of an adapter, as this gateway instance counts them. */
export interface OpenSessionCount {
  readonly adapter: string;
  readonly replica: string;
  readonly sessions: number;
}

/**
 * Everything the gateway records. Every label value passed here must come from a bounded set: route patterns
 * (never raw paths), registered adapter names, replica ids, MCP method names from the spec's list.
 * Implementations must be cheap and must never throw into the request path.
 */
export interface GatewayMetrics {
  /** One HTTP request outside the data plane, by route pattern (e.g. `/adapters/:name`). */
  httpRequest(route: string, method: string, status: number, seconds: number): void;
  /**
   * One request on `/adapters/{name}/mcp`, timed to the response head. `adapter` is empty when the request was
   * refused before a registered adapter was found; `method` is the MCP method or the exchange kind.
   */
  mcpRequest(adapter: string, method: string, status: number, seconds: number): void;
  /** One failed attempt to reach an upstream replica. */
  upstreamError(adapter: string, kind: UpstreamErrorKind): void;
  /** An SSE response began streaming to a client; `streamClosed` follows exactly once. */
  streamOpened(adapter: string): void;
  streamClosed(adapter: string): void;
  /** A request or a new session was placed on `replica` by rendezvous hashing. */
  placed(adapter: string, replica: string, kind: PlacementKind): void;
  /** A new session was refused because every ready replica of the adapter was at its session cap. */
  sessionRefused(adapter: string): void;
  /** A caller's longest-idle session was evicted to make room for a new one of the same caller. */
  sessionEvicted(adapter: string): void;
  /** Where the open-sessions gauge reads its values at scrape time (the data plane's session ledger). */
  watchOpenSessions(read: () => readonly OpenSessionCount[]): void;
  /** One reconciler step ended. */
  reconciled(kind: string, action: string, ok: boolean): void;
  /**
   * A resource scaled on demand (the process runtime's `minReplicas`): `up` when a request started it, `down` when
   * it idled back to its minimum.
   */
  scaled(adapter: string, direction: 'up' | 'down'): void;
  /** One registry call ended. */
  registryOperation(op: string, seconds: number, ok: boolean): void;
  /** A rate limit refused a request. */
  rateLimited(scope: RateLimitScope): void;
  /** The rate limits' buckets are now kept in `backend` (told at the start and on every failover). */
  rateLimitBackend(backend: RateLimitBackend): void;
  /**
   * One `tools/call` through the tool router at `/mcp`, by what served it: `kind` `tool` or `adapter` and its
   * registered name; both empty for a call of an unknown tool.
   */
  toolRouterCall(kind: string, resource: string, outcome: string, seconds: number): void;
  /**
   * A federated tool's definition differs from its pin (`mode` `warn` or `enforce`): counted once per change, by
   * the gateway instance that reported it first.
   */
  toolDefinitionChanged(adapter: string, mode: string): void;
  /** The exposition served at `/metrics`. */
  render(): Promise<MetricsExposition>;
}

/** A rendered metrics page. */
export interface MetricsExposition {
  readonly contentType: string;
  readonly body: string;
}

const ignore = (): void => undefined;

/** Records nothing; `render` yields an empty page. The default when metrics are off. */
export const NO_METRICS: GatewayMetrics = {
  httpRequest: ignore,
  mcpRequest: ignore,
  upstreamError: ignore,
  streamOpened: ignore,
  streamClosed: ignore,
  placed: ignore,
  sessionRefused: ignore,
  sessionEvicted: ignore,
  watchOpenSessions: ignore,
  reconciled: ignore,
  scaled: ignore,
  registryOperation: ignore,
  rateLimited: ignore,
  rateLimitBackend: ignore,
  toolRouterCall: ignore,
  toolDefinitionChanged: ignore,
  render: () => Promise.resolve({ contentType: 'text/plain; version=0.0.4; charset=utf-8', body: '' }),
};
