/**
 * @module SseUpstreams: the data plane's way to an adapter with `transport: "sse"`, in place of a byte-moving
 * forwarder. A legacy `initialize` opens a 2024-11-05 connection to the replica (GET, `endpoint` event) and a
 * session with an id minted here, which the proxy seals like any upstream session id; later requests of the
 * session are served by it, and a request naming a session this instance does not hold gets 404 (the client
 * re-initialises). Sessions live in this gateway instance, so instances behind one load balancer need sticky
 * sessions for `sse` adapters. A request without a session that is not an `initialize` (a 2026-07-28 stateless
 * request included) gets the legacy-only refusal the stdio bridge answers, so a modern client falls back.
 */
import { watchedBody } from '../../core/index.js';
import type { Logger } from '../../observability/index.js';
import type { DoneCallback, ForwardOutcome, ForwardRequest, HeadRewriter } from '../forwarder.js';
import { GATEWAY_ERROR, jsonRpcErrorResponse } from '../jsonrpc-error.js';
import { withQuery } from '../upstream-query.js';
import { LegacySseConnection, SseOpenError } from './legacy-sse-connection.js';
import type { SseOutbound } from './sse-outbound.js';
import { SseUpstreamSession, upstreamHeadersOf } from './sse-upstream-session.js';

/** One request to an `sse` adapter, as the proxy decided it. */
export interface SseForwardRequest extends ForwardRequest {
  /** The adapter's name, for the log. */
  readonly adapter: string;
  /** Whether it is a legacy `initialize` (which opens a session). */
  readonly initialize: boolean;
  /** The body as parsed (the transport reads JSON-RPC from it). */
  readonly parsedBody: unknown;
  /** A session without a request for this long ends (the adapter's `sessionIdleTimeoutSeconds`). */
  readonly sessionIdleMs: number;
}

/** Options of {@link SseUpstreams}. */
export interface SseUpstreamsOptions {
  readonly outbound: SseOutbound;
  /** The SSRF guard on URLs: the SSE URL and the endpoint the server announces. */
  readonly refuseUrl?: (url: string) => string | undefined;
  readonly logger: Logger;
  /** Session ids: unguessable (default random UUIDs). */
  readonly sessionId?: () => string;
  readonly now?: () => number;
  /** How often idle sessions are looked for (default 5 s). */
  readonly sweepEveryMs?: number;
}

/** What a request without a session gets unless it initialises one: the legacy refusal clients fall back on. */
const SESSION_REQUIRED = 'Bad Request: Mcp-Session-Id header is required';

/** The sessions of `sse` adapters that this gateway instance holds. */
export class SseUpstreams {
  readonly #o: SseUpstreamsOptions;
  readonly #sessions = new Map<string, { session: SseUpstreamSession; idleMs: number }>();
  readonly #now: () => number;
  #sweeper: ReturnType<typeof setInterval> | undefined;

  constructor(options: SseUpstreamsOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
  }

  /** Open sessions. */
  get size(): number {
    return this.#sessions.size;
  }

  /** Serves one request; the head goes through `rewrite` (session sealing, header allow-list) as a forward's does. */
  async forward(
    request: SseForwardRequest,
    rewrite: HeadRewriter,
    done: DoneCallback,
  ): Promise<ForwardOutcome> {
    let response: Response;
    try {
      response = await this.#answer(request);
    } catch (err) {
      done();
      if (err instanceof SseOpenError) {
        if (err.refusedEndpoint)
          this.#o.logger.warn(
            { adapter: request.adapter, replica: request.url, reason: err.message },
            'sse upstream refused: it announced a message endpoint the gateway must not contact',
          );
        return { ok: false, failure: err.failure, message: err.message };
      }
      throw err;
    }
    let head;
    try {
      head = await rewrite({
        status: response.status,
        header: (name) => response.headers.get(name) ?? undefined,
      });
    } catch (err) {
      await response.body?.cancel().catch(() => undefined);
      done();
      throw err;
    }
    if (!response.body) {
      done();
      return { ok: true, status: head.status, response: new Response(null, head) };
    }
    const body = watchedBody(response.body, done);
    return { ok: true, status: head.status, response: new Response(body, head) };
  }

  /** Ends every session (gateway shutdown). */
  close(): void {
    if (this.#sweeper !== undefined) clearInterval(this.#sweeper);
    this.#sweeper = undefined;
    for (const { session } of [...this.#sessions.values()]) session.end('the gateway is stopping');
  }

  async #answer(request: SseForwardRequest): Promise<Response> {
    const sessionId = request.headers['mcp-session-id'];
    if (sessionId !== undefined) {
      const held = this.#sessions.get(sessionId);
      // Ended (DELETE, idle, upstream gone), held by another gateway instance, or opened on another replica.
      if (!held || held.session.replicaUrl !== request.url)
        return jsonRpcErrorResponse(404, GATEWAY_ERROR.sessionNotFound, 'Session not found');
      held.idleMs = request.sessionIdleMs;
      return held.session.handle(this.#transportRequest(request), request.parsedBody);
    }
    if (request.method !== 'POST' || !request.initialize)
      return jsonRpcErrorResponse(400, GATEWAY_ERROR.gateway, SESSION_REQUIRED);
    return this.#open(request);
  }

  async #open(request: SseForwardRequest): Promise<Response> {
    const id = (this.#o.sessionId ?? (() => crypto.randomUUID()))();
    // Messages and the stream's end reach the session once it exists; the 2024-11-05 flow sends none before it.
    const opened: { session?: SseUpstreamSession } = {};
    const connection = await LegacySseConnection.open({
      url: withQuery(request.url, request.query),
      headers: upstreamHeadersOf(request.headers),
      outbound: this.#o.outbound,
      connectTimeoutMs: request.connectTimeoutMs,
      idleTimeoutMs: request.idleTimeoutMs,
      refuseUrl: this.#o.refuseUrl,
      onMessage: (message) => opened.session?.fromUpstream(message),
      onClose: (reason) => opened.session?.end(reason),
    });
    const session = new SseUpstreamSession({
      id,
      replicaUrl: request.url,
      connection,
      requestTimeoutMs: request.idleTimeoutMs,
      now: this.#now,
      log: (line) => this.#o.logger.info({ adapter: request.adapter }, line),
      onEnd: (ended, reason) => {
        if (this.#sessions.get(ended.id)?.session === ended) this.#sessions.delete(ended.id);
        this.#o.logger.info(
          { adapter: request.adapter, replica: request.url, reason },
          'sse upstream session ended',
        );
      },
    });
    opened.session = session;
    this.#sessions.set(id, { session, idleMs: request.sessionIdleMs });
    // The stream may have ended between the endpoint event and now, with nobody to tell.
    if (connection.endedReason !== undefined) session.end(connection.endedReason);
    this.#sweep();
    await session.transport.start();
    const response = await session.handle(this.#transportRequest(request), request.parsedBody);
    // A refused initialize (bad Accept header, bad protocol version…) opened nothing the client can use.
    if (!session.initialized) session.end('initialize was refused');
    return response;
  }

  /** The request as the session's transport reads it; it hands these headers back with each message. */
  #transportRequest(request: SseForwardRequest): Request {
    const { host: _host, 'content-length': _length, ...headers } = request.headers;
    return new Request(request.url, {
      method: request.method,
      headers,
      ...(request.body !== undefined && { body: request.body as BodyInit }),
    });
  }

  /** Starts the idle sweep with the first session. */
  #sweep(): void {
    if (this.#sweeper !== undefined) return;
    this.#sweeper = setInterval(() => {
      for (const { session, idleMs } of [...this.#sessions.values()]) {
        if (session.isIdle(idleMs)) session.end(`idle for ${idleMs} ms`);
      }
      if (this.#sessions.size === 0 && this.#sweeper !== undefined) {
        clearInterval(this.#sweeper);
        this.#sweeper = undefined;
      }
    }, this.#o.sweepEveryMs ?? 5_000);
    (this.#sweeper as { unref?: () => void }).unref?.();
  }
}
