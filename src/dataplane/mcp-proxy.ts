/**
 * @module mcpProxy: `/adapters/{name}/mcp`. Decides — classify the request's era, authorise, pick the replica
 * (sealed session or rendezvous hashing with bounded load), compute the header rewrites — and hands the bytes
 * to a {@link Forwarder}. Runtime-neutral: no Node types here.
 */
import { ConnectionRequiredError, UpstreamCredentialError, canRead } from '../auth/index.js';
import type { Principal, UpstreamCredential, UpstreamCredentials } from '../auth/index.js';
import { NOTHING_HELD, acceptingNew } from '../deploy/deployer.js';
import type { ReplicaEndpoint } from '../deploy/deployer.js';
import { firstRefusal } from '../http/index.js';
import type { RateLimitAnswer } from '../http/index.js';
import type { Logger, TraceContextHeaders } from '../observability/index.js';
import type { Registered } from '../registry/index.js';
import { pickTwoChoices } from '../routing/index.js';
import type { Rendezvous, UnitRandom } from '../routing/index.js';
import type { LegacyClassification, ModernClassification } from './era-classification.js';
import { classifyRequest, isRejection, parseJsonBody } from './era-classification.js';
import type { RequestBody, RequestHeaders } from './fetch-io.js';
import type {
  ClientHead,
  DoneCallback,
  ForwardOutcome,
  ForwardRequest,
  Forwarder,
  HeadRewriter,
  UpstreamHead,
} from './forwarder.js';
import { isRetryable } from './forwarder.js';
import {
  GATEWAY_ERROR,
  jsonRpcErrorResponse,
  rejectionResponse,
  requestIdOf,
  urlElicitationResponse,
} from './jsonrpc-error.js';
import { corsHeaders } from './origin-guard.js';
import { connectionTokens, isDroppedRequestHeader } from '../core/index.js';
import { forwardedHeader } from './forwarded-header.js';
import { PASSED_RESPONSE_HEADERS } from './proxy-headers.js';
import type { ExchangeObserver } from './proxy-observer.js';
import type { ReplicaLoad } from './replica-load.js';
import type { SessionLedger } from './session-ledger.js';
import type { SessionSealer } from './session-seal.js';
import type { SseUpstreams } from './sse-upstream/index.js';
import { toolCallsOf } from './tool-calls.js';
import { clientQueryFor, queryOf, withQuery } from './upstream-query.js';

/** Where an adapter's ready replicas come from, and where the proxy reports one that refused connections. */
export interface ReplicaResolver {
  ready(adapter: Registered<'adapter'>): readonly ReplicaEndpoint[];
  reportUnreachable(adapter: Registered<'adapter'>, replica: ReplicaEndpoint): void;
  /** The replica answered (below 500): as good as a passed health probe. */
  reportAnswered?(adapter: Registered<'adapter'>, replica: ReplicaEndpoint): void;
  /**
   * An adapter scaled to zero (`minReplicas: 0`): starts it and resolves with its ready replicas, waiting at most
   * `timeoutMs`; undefined when its runtime does not scale on demand.
   */
  wake?(adapter: Registered<'adapter'>, timeoutMs: number): Promise<readonly ReplicaEndpoint[]> | undefined;
  /** Marks an exchange in flight, which keeps a scaling adapter from scaling down; returns its end. */
  hold?(adapter: Registered<'adapter'>): () => void;
  /** Where the deployer reads the sessions this instance holds per replica (for scale-down decisions). */
  countSessionsWith?(count: (adapter: Registered, replicaId: string) => number): void;
}

/** Dependencies and limits of the proxy. */
export interface McpProxyOptions {
  readonly lookup: (
    name: string,
  ) => Registered<'adapter'> | undefined | Promise<Registered<'adapter'> | undefined>;
  readonly replicas: ReplicaResolver;
  readonly sealer: SessionSealer;
  readonly rendezvous: Rendezvous;
  /** Exchanges in flight per replica, from this instance. */
  readonly load: ReplicaLoad;
  /** Legacy sessions this instance holds per adapter and replica. */
  readonly sessions: SessionLedger;
  /** Bounded-load overshoot ε (ARCHITECTURE §3). */
  readonly loadEpsilon: number;
  /** Placement randomness: fresh session keys and two-choices draws; default `Math.random`. */
  readonly random?: UnitRandom;
  /** How long a legacy session without requests is still counted, in ms, unless the adapter says; default 15 min. */
  readonly sessionIdleMs?: number;
  readonly connectTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly maxBodyBytes: number;
  /** Identity headers for the upstream (computed once per request; may sign a JWT, hence async). */
  readonly identityHeaders: (
    principal: Principal,
    adapter: Registered<'adapter'>,
  ) => Record<string, string> | Promise<Record<string, string>>;
  /** The adapter's own credential for its upstream (`upstreamAuth`), read per request. */
  readonly upstreamCredentials: UpstreamCredentials;
  /** The absolute `/connect/{adapter}` URL (named in the elicitation error of an `oauth-user` adapter). */
  readonly connectUrl: (adapter: string) => string;
  readonly logger: Logger;
  /** Told when a new session is refused because every replica is at its session cap. */
  readonly onSessionsFull?: (adapter: string) => void;
  /** Told when a caller's longest-idle session was evicted to make room for a new one of the same caller. */
  readonly onSessionEvicted?: (adapter: string) => void;
  /**
   * Ends an evicted session upstream: a DELETE to `url` with `headers` (which name the upstream session id).
   * Default: `fetch`, bounded by the adapter's connect and idle timeouts; a failure is logged, never thrown.
   */
  readonly endUpstreamSession?: (
    url: string,
    headers: Record<string, string>,
    timeoutMs: number,
  ) => Promise<number>;
  /** Seconds a client should wait when no replica is ready. */
  readonly retryAfterSeconds?: number;
  /** The per-(caller, adapter, tool) limit: a 429 to answer a `tools/call` with, or undefined to go ahead. */
  readonly limitToolCall?: (userId: string, tool: string, adapter: string) => RateLimitAnswer;
  /** Serves adapters with `transport: "sse"` (2024-11-05 upstreams); without it they answer 502. */
  readonly sse?: SseUpstreams;
}

/**
 * One request to `/adapters/{name}/mcp`, already admitted (origin checked, caller authenticated), as whichever
 * front end received it (Hono, or the Node listener's fast path) presents it.
 */
export interface McpCall {
  /** The adapter named in the path. */
  readonly name: string;
  readonly method: string;
  /** Absolute request URL. */
  readonly url: string;
  readonly headers: RequestHeaders;
  /** The client's address, for `X-Forwarded-For`. */
  readonly remoteAddress: string | undefined;
  readonly principal: Principal;
  /** An allowed browser origin, whose answer carries CORS headers. */
  readonly corsOrigin: string | undefined;
  /** Told about the exchange (metrics, audit log, tracing). */
  readonly observed: ExchangeObserver;
  /** Moves the bytes: the Node-native forwarder on a Node server, the Fetch one elsewhere. */
  readonly forwarder: Forwarder;
  readBody(maxBytes: number): Promise<RequestBody | 'too-large'>;
}

/** The proxy: answers an admitted call with the upstream's answer or the gateway's own error. */
export interface McpProxy {
  handle(call: McpCall): Promise<Response>;
}

type Classified = LegacyClassification | ModernClassification;

/** One exchange being proxied. */
interface Exchange {
  readonly call: McpCall;
  readonly adapter: Registered<'adapter'>;
  readonly principal: Principal;
  readonly classified: Classified;
  readonly body: Uint8Array | undefined;
  /** The body as parsed, for an `sse` adapter's session (it relays messages, not bytes). */
  readonly parsed: unknown;
  /** The client's query string, without `?`; '' when it had none. */
  readonly query: string;
  /** What the upstream learns about the caller; never the caller's own credentials. */
  readonly identity: Record<string, string>;
  /** The gateway's credential for the upstream (`upstreamAuth`), when the adapter has one. */
  readonly credential: UpstreamCredential | undefined;
  /** The JSON-RPC id of the request, when it is one request (what an elicitation error answers). */
  readonly requestId: string | number | undefined;
}

/**
 * The upstream answered 401 to a token that can be renewed (a caller's per-user token, one the gateway got
 * itself): thrown from the head rewriter, so nothing reaches the client before the renewed token is tried.
 */
class CredentialRefused extends Error {
  constructor() {
    super("the upstream refused the caller's access token");
  }
}
const REFUSED: ForwardOutcome = { ok: false, failure: 'error', message: 'credential refused' };

/** Whether one send's 401 is answered by renewing the token (`value`: it was), and whether there was one. */
interface Refusal {
  readonly renewable: boolean;
  value: boolean;
  answered401: boolean;
}
const refusal = (renewable: boolean): Refusal => ({ renewable, value: false, answered401: false });

/** Default of {@link McpProxyOptions.sessionIdleMs}: 15 minutes, as the stdio bridge's idle timeout. */
export const DEFAULT_SESSION_IDLE_MS = 15 * 60 * 1000;

/** Prefix of a header affinity, `header:<name>` (the name stored in lower case). */
const HEADER_AFFINITY = 'header:';

/** A replica and its failover list, once the first choice failed before any byte reached it. */
interface Placement {
  readonly first: ReplicaEndpoint;
  /** Every ready replica in the order to try after `first` (it may include `first`, which is skipped). */
  failover(): readonly ReplicaEndpoint[];
}

/**
 * The W3C trace context a request names in `params._meta` (SEP-414), read from the parsed body, which is still
 * forwarded byte for byte. Undefined when it names none (a batch, or no string `traceparent`).
 */
function metaTraceContext(parsed: unknown): TraceContextHeaders | undefined {
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
  const meta = (parsed as { params?: { _meta?: unknown } }).params?._meta;
  if (typeof meta !== 'object' || meta === null) return undefined;
  const { traceparent, tracestate } = meta as Record<string, unknown>;
  if (typeof traceparent !== 'string') return undefined;
  return { traceparent, tracestate: typeof tracestate === 'string' ? tracestate : undefined };
}

/** `host[:port]` of an absolute URL, without a URL parse on the per-request path. */
function hostOf(url: string): string {
  const start = url.indexOf('//') + 2;
  const end = url.indexOf('/', start);
  return url.slice(start, end < 0 ? undefined : end);
}

/** Builds the proxy behind `/adapters/{name}/mcp`. */
export function createMcpProxy(options: McpProxyOptions): McpProxy {
  const { sealer, rendezvous, load, sessions, logger } = options;
  const random = options.random ?? Math.random;
  const defaultIdleMs = options.sessionIdleMs ?? DEFAULT_SESSION_IDLE_MS;
  const idleMsOf = (adapter: Registered<'adapter'>) => {
    const seconds = adapter.spec.sessionIdleTimeoutSeconds;
    return seconds === undefined ? defaultIdleMs : seconds * 1000;
  };
  const inFlight = (r: ReplicaEndpoint) => load.of(r.id);
  /** A key no other session shares, so one caller's sessions spread over every replica. */
  const freshKey = () => Math.floor(random() * 2 ** 53).toString(36);
  const retryAfter = String(options.retryAfterSeconds ?? 5);

  const notFound = (name: string) =>
    jsonRpcErrorResponse(404, GATEWAY_ERROR.gateway, `Adapter '${name}' does not exist.`);
  const sessionGone = () =>
    jsonRpcErrorResponse(404, GATEWAY_ERROR.sessionNotFound, 'Session not found: initialize a new session.');
  const allFull = (name: string) =>
    jsonRpcErrorResponse(
      503,
      GATEWAY_ERROR.gateway,
      `Every replica of adapter '${name}' is at its session cap; retry later, or end unused sessions with DELETE.`,
      { 'retry-after': retryAfter },
    );
  const noReplica = (name: string) =>
    jsonRpcErrorResponse(503, GATEWAY_ERROR.gateway, `Adapter '${name}' has no ready replica; retry later.`, {
      'retry-after': retryAfter,
    });

  const notStarted = (name: string, waitMs: number) =>
    jsonRpcErrorResponse(
      503,
      GATEWAY_ERROR.gateway,
      `Adapter '${name}' was idle (scaled down) and has no ready replica after ${waitMs} ms; it is starting, retry later.`,
      { 'retry-after': retryAfter },
    );

  /** What the gateway answers for a failed forward; logged, except when the client itself went away. */
  function failureResponse(
    adapter: string,
    replica: ReplicaEndpoint,
    outcome: Extract<ForwardOutcome, { ok: false }>,
  ): Response {
    // Written to a closed connection, so only the metrics and the audit line see it: 499 as proxies count it.
    if (outcome.failure === 'abandoned')
      return jsonRpcErrorResponse(499, GATEWAY_ERROR.gateway, 'Client went away.');
    logger.warn({ adapter, replica: replica.id, failure: outcome.failure }, 'upstream failed');
    if (outcome.failure === 'timeout' || outcome.failure === 'connect-timeout') {
      return jsonRpcErrorResponse(
        504,
        GATEWAY_ERROR.gateway,
        `Adapter '${adapter}' did not answer in time (${outcome.message}).`,
      );
    }
    return jsonRpcErrorResponse(
      502,
      GATEWAY_ERROR.gateway,
      `Adapter '${adapter}' is unreachable (${outcome.message}).`,
    );
  }

  // The last `Forwarded` value built: a client sends request after request from one address to one host.
  let lastForwarded = { remote: '', proto: '', host: '', value: '' };
  const forwarded = (remote: string | undefined, proto: string, host: string): string => {
    const last = lastForwarded;
    if (last.remote === (remote ?? '') && last.proto === proto && last.host === host) return last.value;
    const value = forwardedHeader(remote, proto, host);
    lastForwarded = { remote: remote ?? '', proto, host, value };
    return value;
  };

  function outboundHeaders(
    x: Exchange,
    replica: ReplicaEndpoint,
    upstreamSessionId: string | undefined,
    traceContext: Readonly<Record<string, string>>,
  ) {
    const inbound = x.call.headers;
    const dropped = connectionTokens(inbound.get('connection'));
    const headers: Record<string, string> = {};
    inbound.forEach((value, name) => {
      if (!isDroppedRequestHeader(name, dropped)) headers[name] = value;
    });
    headers.host = hostOf(replica.url);
    const requestUrl = x.call.url;
    const host = inbound.get('host') ?? hostOf(requestUrl);
    const proto = requestUrl.startsWith('https:') ? 'https' : 'http';
    const remote = x.call.remoteAddress;
    headers['x-forwarded-host'] = host;
    headers['x-forwarded-proto'] = proto;
    if (remote) headers['x-forwarded-for'] = remote;
    headers.forwarded = forwarded(remote, proto, host);
    if (upstreamSessionId !== undefined) headers['mcp-session-id'] = upstreamSessionId;
    // The gateway's own span becomes the upstream's parent when tracing is on; else the caller's passes through.
    Object.assign(headers, x.identity, traceContext);
    // Last, after the caller's headers were filtered: a caller's header of the same name is replaced, never sent.
    if (x.credential) headers[x.credential.header] = x.credential.value;
    return headers;
  }

  /** The client-facing head: allow-listed headers, and the upstream session id replaced by a sealed one. */
  function rewriter(
    x: Exchange,
    replica: ReplicaEndpoint,
    session: { sealed: string; upstream: string } | undefined,
    refused: Refusal,
  ) {
    return (head: UpstreamHead): ClientHead | Promise<ClientHead> => {
      if (head.status === 401) refused.answered401 = true;
      // A token the upstream refuses (revoked, expired early): renewed once before the caller hears.
      if (head.status === 401 && refused.renewable) {
        refused.value = true;
        throw new CredentialRefused();
      }
      const headers: Record<string, string> = {};
      for (const name of PASSED_RESPONSE_HEADERS) {
        const value = head.header(name);
        if (value !== undefined) headers[name] = value;
      }
      const origin = x.call.corsOrigin;
      if (origin !== undefined) Object.assign(headers, corsHeaders(origin));
      // The upstream refused the gateway's own credentials: the caller's token is fine, so not a 401 to them.
      const client = { status: head.status === 401 ? 502 : head.status, headers };
      x.call.observed.answered(client.status, headers['content-type']);
      // A session ends for this instance's count when the upstream no longer knows it or a DELETE went through.
      if (session && (head.status === 404 || (x.call.method === 'DELETE' && head.status < 300)))
        sessions.end(x.adapter, session.sealed, x.principal.userId);
      const upstreamSession = head.header('mcp-session-id');
      if (upstreamSession === undefined) return client;
      if (session && session.upstream === upstreamSession) {
        headers['mcp-session-id'] = session.sealed;
        return client;
      }
      // Only a new session costs a (WebCrypto, asynchronous) seal; every other answer stays synchronous.
      return sealer
        .seal({
          adapter: x.adapter.name,
          incarnation: x.adapter.uid,
          replica: replica.id,
          upstreamSessionId: upstreamSession,
          principal: x.principal.userId,
        })
        .then((sealed) => {
          headers['mcp-session-id'] = sealed;
          sessions.touch(x.adapter, replica.id, sealed, idleMsOf(x.adapter), {
            caller: x.principal.userId,
            upstreamSessionId: upstreamSession,
          });
          return client;
        });
    };
  }

  async function sendOnce(
    x: Exchange,
    replica: ReplicaEndpoint,
    session: { sealed: string; upstream: string } | undefined,
    refused: Refusal,
  ): Promise<ForwardOutcome> {
    const counted = load.begin(replica.id);
    // Only a scaling adapter is held (its deployer counts the exchange); every other one allocates nothing here.
    const held = options.replicas.hold?.(x.adapter) ?? NOTHING_HELD;
    const loadDone =
      held !== NOTHING_HELD
        ? () => {
            counted();
            held();
          }
        : counted;
    // A session's exchange in flight (a request, a GET stream) keeps it from being evicted or swept as idle.
    let done = loadDone;
    if (session) {
      const sessionDone = sessions.begin(x.adapter, session.sealed);
      done = () => {
        loadDone();
        sessionDone();
      };
    }
    const traceContext = x.call.observed.attempt(replica);
    const request = {
      url: replica.url,
      query: clientQueryFor(replica.url, x.query),
      method: x.call.method as 'GET' | 'POST' | 'DELETE',
      headers: outboundHeaders(x, replica, session?.upstream, traceContext),
      body: x.body,
      connectTimeoutMs: x.adapter.spec.connectTimeoutMs ?? options.connectTimeoutMs,
      idleTimeoutMs: x.adapter.spec.idleTimeoutMs ?? options.idleTimeoutMs,
    };
    const rewrite = rewriter(x, replica, session, refused);
    let outcome: ForwardOutcome;
    try {
      outcome =
        x.adapter.spec.transport === 'sse'
          ? await sendSse(x, request, rewrite, done)
          : await x.call.forwarder.forward(request, rewrite, done);
    } catch (err) {
      // The Fetch forwarder rethrows what the rewriter threw; the Node one reports it as a failed forward.
      if (!(err instanceof CredentialRefused)) throw err;
    }
    if (refused.value) return REFUSED;
    x.call.observed.forwarded(replica.id, outcome!);
    if (outcome!.ok && outcome!.status < 500) options.replicas.reportAnswered?.(x.adapter, replica);
    return outcome!;
  }

  /**
   * Sends, and when the upstream refuses a renewable token, renews it once and sends again. A caller's per-user
   * token (a refresh, or the token another request refreshed meanwhile) refused again or not renewable: the caller
   * gets the URL elicitation error naming `/connect/{adapter}`. A token the gateway got itself
   * (`oauth-client-credentials`, `token-exchange`) refused again: the upstream's refusal, as a 502, as for any
   * credential of the gateway's.
   */
  async function send(
    x: Exchange,
    replica: ReplicaEndpoint,
    session?: { sealed: string; upstream: string },
  ): Promise<ForwardOutcome> {
    const type = x.credential && x.adapter.spec.upstreamAuth?.type;
    const perUser = type === 'oauth-user';
    const minted = type === 'oauth-client-credentials' || type === 'token-exchange';
    const outcome = await sendOnce(x, replica, session, refusal(perUser || minted));
    if (outcome !== REFUSED) return outcome;
    let renewed: Exchange;
    try {
      renewed = {
        ...x,
        credential: await options.upstreamCredentials.renew(x.adapter, x.principal, x.credential!),
      };
    } catch (err) {
      return credentialFailure(x, err);
    }
    const retried = refusal(perUser);
    const again = await sendOnce(renewed, replica, session, retried);
    if (minted && retried.answered401) options.upstreamCredentials.refusedRenewal(renewed.credential!);
    if (again !== REFUSED) return again;
    return credentialFailure(
      x,
      new ConnectionRequiredError(
        x.adapter.name,
        options.connectUrl(x.adapter.name),
        'its upstream refuses your access token',
      ),
    );
  }

  /** The answer for a credential that could not be made: an elicitation error, or a 502 naming the problem. */
  function credentialFailure(x: Pick<Exchange, 'requestId' | 'call'>, err: unknown): ForwardOutcome {
    if (err instanceof ConnectionRequiredError) {
      x.call.observed.answered(200, 'application/json');
      return { ok: true, status: 200, response: urlElicitationResponse(x.requestId, err) };
    }
    if (err instanceof UpstreamCredentialError)
      return {
        ok: true,
        status: 502,
        response: jsonRpcErrorResponse(502, GATEWAY_ERROR.gateway, err.message),
      };
    throw err;
  }

  /** An `sse` adapter's request: relayed as messages over a 2024-11-05 connection, not forwarded as bytes. */
  function sendSse(
    x: Exchange,
    request: ForwardRequest,
    rewrite: HeadRewriter,
    done: DoneCallback,
  ): Promise<ForwardOutcome> {
    if (!options.sse) {
      done();
      return Promise.resolve({
        ok: false,
        failure: 'error',
        message: 'this gateway cannot reach sse upstreams',
      });
    }
    const sse = {
      ...request,
      adapter: x.adapter.name,
      initialize: x.classified.kind === 'initialize',
      parsedBody: x.parsed,
      sessionIdleMs: idleMsOf(x.adapter),
    };
    return options.sse.forward(sse, rewrite, done);
  }

  /** A request inside a legacy session: only the replica that holds the session can answer it. */
  async function inSession(x: Exchange, sealed: string): Promise<Response> {
    // Bound to this incarnation of the adapter: an id issued before it was deleted and created again is gone.
    const opened = await sealer.open(sealed, {
      adapter: x.adapter.name,
      incarnation: x.adapter.uid,
      createdAt: x.adapter.createdAt,
      principal: x.principal.userId,
    });
    if (!opened.ok) {
      logger.debug({ adapter: x.adapter.name, reason: opened.reason }, 'session id refused');
      return sessionGone();
    }
    const replica = options.replicas.ready(x.adapter).find((r) => r.id === opened.claims.replica);
    if (!replica) {
      sessions.end(x.adapter, sealed, x.principal.userId);
      return sessionGone();
    }
    sessions.touch(x.adapter, replica.id, sealed, idleMsOf(x.adapter), {
      caller: x.principal.userId,
      upstreamSessionId: opened.claims.upstreamSessionId,
    });
    const outcome = await send(x, replica, { sealed, upstream: opened.claims.upstreamSessionId });
    if (outcome.ok) return outcome.response;
    if (outcome.failure === 'refused') {
      // The process holding the session is gone, and its in-memory session with it: make the client re-initialise.
      options.replicas.reportUnreachable(x.adapter, replica);
      sessions.end(x.adapter, sealed, x.principal.userId);
      return sessionGone();
    }
    return failureResponse(x.adapter.name, replica, outcome);
  }

  /**
   * The replicas below their session cap (the adapter's `maxSessionsPerReplica`, the replica's own, the lower),
   * by this instance's count. Taking the full ones out keeps the others' HRW order: a session whose first choice
   * is full goes to the next one.
   */
  function withRoom(
    adapter: Registered<'adapter'>,
    ready: readonly ReplicaEndpoint[],
  ): readonly ReplicaEndpoint[] {
    const cap = adapter.spec.maxSessionsPerReplica ?? Infinity;
    if (cap === Infinity && ready.every((r) => r.maxSessions === undefined)) return ready;
    return ready.filter((r) => sessions.sessionsOn(adapter, r.id) < Math.min(cap, r.maxSessions ?? Infinity));
  }

  /** HRW on `key` with bounded load; the HRW order of `key` is the failover list. */
  function hashed(
    ready: readonly ReplicaEndpoint[],
    key: string,
    loadOf: (r: ReplicaEndpoint) => number,
  ): Placement | undefined {
    const first = rendezvous.pickBounded(ready, key, loadOf, options.loadEpsilon);
    return first && { first, failover: () => rendezvous.rank(ready, key) };
  }

  /**
   * Where a request without a session goes. A legacy `initialize` opens a session: bounded-load HRW on a fresh
   * random key, load = sessions this instance holds there + requests in flight. Anything else follows the
   * adapter's `affinity`: `none` (two choices on in-flight load), `principal` or `header:<name>` (bounded HRW on
   * that key; a request without the header is placed as `none`).
   */
  function placement(x: Exchange, ready: readonly ReplicaEndpoint[]): Placement | 'full' | undefined {
    const { adapter } = x;
    if (x.classified.kind === 'initialize') {
      const idleMs = idleMsOf(adapter);
      sessions.prepare(adapter, idleMs);
      let open = withRoom(adapter, ready);
      if (open.length === 0 && ready.length > 0) {
        // Sweeps are spaced out; before refusing, forget every session that has idled out by now.
        sessions.sweep(adapter, idleMs);
        open = withRoom(adapter, ready);
        if (open.length === 0) return 'full';
      }
      return hashed(open, freshKey(), (r) => sessions.sessionsOn(adapter, r.id) + load.of(r.id));
    }
    const affinity = adapter.spec.affinity;
    if (affinity === 'principal') return hashed(ready, x.principal.userId, inFlight);
    if (affinity !== undefined && affinity !== 'none') {
      const value = x.call.headers.get(affinity.slice(HEADER_AFFINITY.length));
      // An empty value carries no conversation key either: pinning every such request together would hurt.
      if (value) return hashed(ready, value, inFlight);
    }
    const first = pickTwoChoices(ready, inFlight, random);
    return first && { first, failover: () => rendezvous.rank(ready, freshKey()) };
  }

  const endUpstreamSession =
    options.endUpstreamSession ??
    (async (url: string, headers: Record<string, string>, timeoutMs: number) => {
      const res = await fetch(url, { method: 'DELETE', headers, signal: AbortSignal.timeout(timeoutMs) });
      await res.body?.cancel();
      return res.status;
    });

  /**
   * Every replica is full: evicts the caller's own longest-idle session on a replica that takes new sessions
   * (never another caller's, never one with an exchange in flight), ends it upstream with a DELETE as its client
   * would (so a replica that counts its own sessions, like the stdio bridge, frees the place too), and says
   * whether there is room now. Its client's next request gets the upstream's 404 and initializes again.
   */
  async function evictForRoom(x: Exchange, ready: readonly ReplicaEndpoint[]): Promise<boolean> {
    const evicted = sessions.evict(x.adapter, x.principal.userId, (id) => ready.some((r) => r.id === id));
    if (!evicted) return false;
    const replica = ready.find((r) => r.id === evicted.replica)!;
    options.onSessionEvicted?.(x.adapter.name);
    // Session ids are credentials of a kind: the log names where and how idle, never which.
    logger.info(
      { adapter: x.adapter.name, replica: replica.id, idleSeconds: evicted.idleSeconds },
      "evicted the caller's longest-idle session to make room",
    );
    // An sse adapter's upstream sessions are the relay's own (it idles them out); only the count is freed here.
    if (x.adapter.spec.transport === 'sse') return true;
    const headers: Record<string, string> = { 'mcp-session-id': evicted.upstreamSessionId };
    Object.assign(headers, x.identity);
    if (x.credential) headers[x.credential.header] = x.credential.value;
    const timeoutMs =
      (x.adapter.spec.connectTimeoutMs ?? options.connectTimeoutMs) +
      (x.adapter.spec.idleTimeoutMs ?? options.idleTimeoutMs);
    try {
      const status = await endUpstreamSession(
        withQuery(replica.url, clientQueryFor(replica.url, x.query)),
        headers,
        timeoutMs,
      );
      if (status >= 300 && status !== 404)
        logger.warn(
          { adapter: x.adapter.name, replica: replica.id, status },
          'evicted session: DELETE refused',
        );
    } catch (err) {
      // Forgotten here all the same; the upstream's own idle timeout ends it.
      logger.warn(
        {
          adapter: x.adapter.name,
          replica: replica.id,
          err: err instanceof Error ? err.message : String(err),
        },
        'evicted session: DELETE failed',
      );
    }
    return true;
  }

  /** A request that opens a session or needs none: placed as {@link placement} says, failover while nothing was sent. */
  async function placed(x: Exchange): Promise<Response> {
    // A draining replica (a terminating pod) still serves its sessions (`inSession`) but takes no new one.
    let ready = acceptingNew(options.replicas.ready(x.adapter));
    if (ready.length === 0 && x.call.method === 'POST') {
      // Scaled to zero: this request starts it, and waits for it as long as for a connection. Only a POST carries
      // work; a GET or DELETE without a session (a client retrying a stream it lost) must not start anything.
      const waitMs = x.adapter.spec.connectTimeoutMs ?? options.connectTimeoutMs;
      const woken = options.replicas.wake?.(x.adapter, waitMs);
      if (woken) {
        ready = acceptingNew(await woken);
        if (ready.length === 0) return notStarted(x.adapter.name, waitMs);
      }
    }
    let chosen = placement(x, ready);
    if (chosen === 'full' && (await evictForRoom(x, ready))) chosen = placement(x, ready);
    if (chosen === 'full') {
      options.onSessionsFull?.(x.adapter.name);
      return allFull(x.adapter.name);
    }
    if (!chosen) return noReplica(x.adapter.name);
    const { first } = chosen;
    let outcome = await send(x, first);
    if (outcome.ok) return outcome.response;
    let last = first;
    if (isRetryable(outcome.failure)) {
      for (const next of chosen.failover()) {
        if (next === first) continue;
        if (outcome.failure === 'refused') options.replicas.reportUnreachable(x.adapter, last);
        outcome = await send(x, next);
        if (outcome.ok) return outcome.response;
        last = next;
        if (!isRetryable(outcome.failure)) break;
      }
    }
    if (outcome.failure === 'refused') options.replicas.reportUnreachable(x.adapter, last);
    return failureResponse(x.adapter.name, last, outcome);
  }

  const { limitToolCall } = options;

  /** Takes a token for each `tools/call` in the body (a 2025-03-26 batch may hold several). */
  function limitedToolCalls(parsed: unknown, userId: string, adapter: string): RateLimitAnswer {
    const calls = toolCallsOf(parsed);
    if (calls.length === 0) return undefined;
    return firstRefusal(calls.map((c) => () => limitToolCall!(userId, c.name, adapter)));
  }

  async function handle(call: McpCall): Promise<Response> {
    const { name, principal, method } = call;
    const found = options.lookup(name);
    const adapter = found instanceof Promise ? await found : found;
    if (!adapter || !canRead(principal, adapter)) return notFound(name);
    call.observed.adapter(adapter.name);

    let body: Uint8Array | undefined;
    let parsed: unknown;
    if (method === 'POST') {
      const read = await call.readBody(options.maxBodyBytes);
      if (read === 'too-large') {
        return jsonRpcErrorResponse(
          413,
          GATEWAY_ERROR.gateway,
          `Request body is larger than ${options.maxBodyBytes} bytes.`,
          {
            connection: 'close',
          },
        );
      }
      body = read.bytes;
      parsed = parseJsonBody(read.text);
    }
    const classified = classifyRequest(method, call.headers, parsed);
    if (isRejection(classified)) return rejectionResponse(classified);
    call.observed.classified(classified, metaTraceContext(parsed));
    // After classification, so the refusal is counted and audited as the tools/call it is.
    if (limitToolCall && parsed !== undefined) {
      const limited = limitedToolCalls(parsed, principal.userId, adapter.name);
      const refusal = limited instanceof Promise ? await limited : limited;
      if (refusal) return refusal;
    }

    const identity = options.identityHeaders(principal, adapter);
    const requestId = requestIdOf(parsed);
    let credential: UpstreamCredential | undefined;
    // Only an adapter with upstreamAuth pays for the secret read; every other request stays synchronous here.
    if (adapter.spec.upstreamAuth) {
      try {
        credential = await options.upstreamCredentials.resolve(adapter, principal);
      } catch (err) {
        const failed = credentialFailure({ requestId, call }, err);
        if (failed.ok) return failed.response;
        throw err;
      }
    }
    const exchange: Exchange = {
      call,
      adapter,
      principal,
      classified,
      body,
      parsed,
      query: queryOf(call.url),
      // Only a signed identity JWT needs a promise; plain identity headers cost no extra hop.
      identity: identity instanceof Promise ? await identity : identity,
      credential,
      requestId,
    };
    if (classified.era === 'legacy' && classified.sessionId !== undefined) {
      return inSession(exchange, classified.sessionId);
    }
    return placed(exchange);
  }
  return { handle };
}
