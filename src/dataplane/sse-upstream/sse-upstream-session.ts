/**
 * @module SseUpstreamSession: one client session of an `sse` adapter — an SDK Streamable HTTP server transport
 * towards the client, one 2024-11-05 connection ({@link LegacySseConnection}) towards the server, raw JSON-RPC
 * relayed between them. A client request is POSTed upstream and its answer, which arrives on the SSE stream, goes
 * back on that request's own response stream (matched by JSON-RPC id); progress follows its request's stream;
 * other server messages take the client's GET stream. The session ends on DELETE, idle timeout, or when the
 * upstream stream ends (pending requests then get an error, later ones 404).
 */
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import type { JSONRPCMessage, ProgressToken, RequestId } from '@modelcontextprotocol/sdk/types.js';
import { withBodyEnd } from '../../core/index.js';
import type { LegacySseConnection } from './legacy-sse-connection.js';
import { SsePostError } from './legacy-sse-connection.js';

/** JSON-RPC "internal error": a request the upstream can no longer answer. */
const INTERNAL_ERROR = -32603;
/** What the SDKs answer a request that timed out. */
const REQUEST_TIMEOUT = -32001;

/**
 * Client headers that describe the client's hop (Streamable HTTP) and not the upstream's (2024-11-05), or that the
 * outbound request sets itself. Everything else the proxy put there — identity, trace context, `Forwarded`, the
 * adapter's credential — goes on to the upstream with every GET and POST.
 */
const CLIENT_HOP_HEADERS = new Set([
  'host',
  'content-length',
  'content-type',
  'accept',
  // The body is relayed as parsed JSON; a compressed answer could not be read.
  'accept-encoding',
  'mcp-session-id',
  'mcp-protocol-version',
  'mcp-method',
  'mcp-name',
  'last-event-id',
]);

/** The headers of a client request as the upstream gets them. */
export function upstreamHeadersOf(headers: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) if (!CLIENT_HOP_HEADERS.has(name)) out[name] = value;
  return out;
}

/** What a session needs. */
export interface SseUpstreamSessionOptions {
  readonly id: string;
  /** The replica URL it was opened on: a request naming the session elsewhere is not served. */
  readonly replicaUrl: string;
  readonly connection: LegacySseConnection;
  /** Longest silence from the upstream on one client request before the client gets a timeout error. */
  readonly requestTimeoutMs: number;
  readonly now: () => number;
  readonly onEnd: (session: SseUpstreamSession, reason: string) => void;
  readonly log: (message: string) => void;
}

interface Pending {
  readonly progressToken: ProgressToken | undefined;
  /** The headers of the client request that carried it, for the `notifications/cancelled` of a timeout. */
  readonly headers: Readonly<Record<string, string>>;
  timer: ReturnType<typeof setTimeout>;
}

const isRequestId = (value: unknown): value is RequestId =>
  typeof value === 'string' || typeof value === 'number';

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** One client session bridged to one upstream SSE connection. */
export class SseUpstreamSession {
  readonly id: string;
  readonly replicaUrl: string;
  readonly transport: WebStandardStreamableHTTPServerTransport;
  readonly #o: SseUpstreamSessionOptions;
  /** Client requests the upstream has not answered. */
  readonly #pending = new Map<RequestId, Pending>();
  readonly #progress = new Map<ProgressToken, RequestId>();
  #openExchanges = 0;
  #lastActivity: number;
  #initialized = false;
  #ended = false;

  constructor(options: SseUpstreamSessionOptions) {
    this.#o = options;
    this.id = options.id;
    this.replicaUrl = options.replicaUrl;
    this.#lastActivity = options.now();
    this.transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: () => options.id,
      onsessioninitialized: () => {
        this.#initialized = true;
      },
      onsessionclosed: () => this.end('deleted by the client'),
    });
    this.transport.onmessage = (message, extra) => {
      const headers = (extra?.requestInfo?.headers ?? {}) as Record<string, string>;
      this.#toUpstream(message, upstreamHeadersOf(headers));
    };
    this.transport.onclose = () => this.end('transport closed');
    this.transport.onerror = () => undefined;
  }

  get initialized(): boolean {
    return this.#initialized;
  }

  get ended(): boolean {
    return this.#ended;
  }

  /** Idle: no client exchange open, no request awaiting the upstream, and nothing for `idleMs`. */
  isIdle(idleMs: number): boolean {
    return (
      this.#openExchanges === 0 && this.#pending.size === 0 && this.#o.now() - this.#lastActivity >= idleMs
    );
  }

  /** A message from the upstream's SSE stream. */
  fromUpstream(message: unknown): void {
    if (this.#ended) return;
    this.#lastActivity = this.#o.now();
    if (Array.isArray(message)) {
      for (const item of message) this.fromUpstream(item);
      return;
    }
    if (!isObject(message)) return;
    let relatedRequestId: RequestId | undefined;
    if ('method' in message) {
      const params = isObject(message.params) ? message.params : {};
      if ('id' in message) {
        // A server request (sampling, elicitation, roots) while exactly one client request is open almost surely
        // serves it: its stream reaches clients that hold no GET stream.
        if (this.#pending.size === 1) relatedRequestId = this.#pending.keys().next().value;
      } else if (message.method === 'notifications/progress' && isRequestId(params.progressToken)) {
        relatedRequestId = this.#progress.get(params.progressToken);
        if (relatedRequestId !== undefined) this.#rearm(relatedRequestId);
      }
    } else {
      // An answer to a request the client no longer waits for (cancelled, timed out) goes nowhere.
      if (!isRequestId(message.id) || !this.#forget(message.id)) return;
    }
    const json = message as unknown as JSONRPCMessage;
    const send =
      relatedRequestId === undefined
        ? this.transport.send(json)
        : this.transport.send(json, { relatedRequestId });
    send.catch((err: unknown) => this.#o.log(`could not deliver a message to the client: ${String(err)}`));
  }

  /** Serves one HTTP exchange of this session; it counts as activity until its body is done. */
  async handle(request: Request, parsedBody: unknown): Promise<Response> {
    this.#openExchanges += 1;
    this.#lastActivity = this.#o.now();
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      this.#openExchanges -= 1;
      this.#lastActivity = this.#o.now();
    };
    let response: Response;
    try {
      response = await this.transport.handleRequest(
        request,
        parsedBody === undefined ? undefined : { parsedBody },
      );
    } catch (err) {
      finish();
      throw err;
    }
    if (!response.body) {
      finish();
      return response;
    }
    // Re-wrapped to learn when a (possibly long-lived SSE) exchange ends or the client goes away.
    return withBodyEnd(response, finish);
  }

  /** Ends the session: answers what is pending, closes the client's streams and the upstream connection. */
  end(reason: string): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#o.connection.close();
    const answers = [...this.#pending.keys()].map((id) =>
      this.#answerError(id, INTERNAL_ERROR, `The upstream MCP session ended (${reason}).`),
    );
    for (const pending of this.#pending.values()) clearTimeout(pending.timer);
    this.#pending.clear();
    this.#progress.clear();
    this.#o.onEnd(this, reason);
    // Close only after the error answers were written: closing first would end their streams unanswered.
    void Promise.allSettled(answers).then(() => this.transport.close().catch(() => undefined));
  }

  #toUpstream(message: JSONRPCMessage, headers: Record<string, string>): void {
    if (this.#ended) return;
    this.#lastActivity = this.#o.now();
    let requestId: RequestId | undefined;
    if ('method' in message && 'id' in message) {
      requestId = message.id;
      const progressToken = message.params?._meta?.progressToken;
      this.#pending.set(requestId, { progressToken, headers, timer: this.#timer(requestId) });
      if (progressToken !== undefined) this.#progress.set(progressToken, requestId);
    } else if ('method' in message && message.method === 'notifications/cancelled') {
      // A cancelled request may never be answered (the spec lets the server stay silent): stop waiting for it.
      const id = (message.params as { requestId?: unknown } | undefined)?.requestId;
      if (isRequestId(id) && this.#forget(id)) this.transport.closeSSEStream(id);
    }
    this.#o.connection.post(message, headers).catch((err: unknown) => {
      const text = err instanceof Error ? err.message : String(err);
      if (requestId !== undefined && this.#forget(requestId))
        void this.#answerError(requestId, INTERNAL_ERROR, text);
      if (err instanceof SsePostError && err.sessionGone) this.end(text);
    });
  }

  #timer(id: RequestId): ReturnType<typeof setTimeout> {
    const timer = setTimeout(() => this.#timedOut(id), this.#o.requestTimeoutMs);
    // A pending request must not hold the gateway open at shutdown.
    (timer as { unref?: () => void }).unref?.();
    return timer;
  }

  /** Progress proves the upstream still works on the request: its silence starts again. */
  #rearm(id: RequestId): void {
    const pending = this.#pending.get(id);
    if (!pending) return;
    clearTimeout(pending.timer);
    pending.timer = this.#timer(id);
  }

  #timedOut(id: RequestId): void {
    const pending = this.#pending.get(id);
    if (!pending || !this.#forget(id)) return;
    const ms = this.#o.requestTimeoutMs;
    void this.#answerError(
      id,
      REQUEST_TIMEOUT,
      `The upstream MCP server sent nothing for this request in ${ms} ms.`,
    );
    const cancel = {
      jsonrpc: '2.0',
      method: 'notifications/cancelled',
      params: { requestId: id, reason: `no answer within ${ms} ms (the gateway's timeout)` },
    };
    this.#o.connection.post(cancel, pending.headers).catch(() => undefined);
  }

  #forget(id: RequestId): boolean {
    const pending = this.#pending.get(id);
    if (!pending) return false;
    clearTimeout(pending.timer);
    this.#pending.delete(id);
    if (pending.progressToken !== undefined) this.#progress.delete(pending.progressToken);
    return true;
  }

  #answerError(id: RequestId, code: number, message: string): Promise<void> {
    return this.transport.send({ jsonrpc: '2.0', id, error: { code, message } }).catch(() => undefined);
  }
}
