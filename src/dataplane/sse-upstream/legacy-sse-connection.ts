/**
 * @module LegacySseConnection: the gateway as a client of the 2024-11-05 HTTP+SSE transport. It GETs the SSE URL,
 * waits for the `endpoint` event, judges the announced URL (`announced-endpoint.ts`), then POSTs JSON-RPC
 * messages there and hands every `message` event to its owner. One connection serves one client session; it
 * never reconnects, because a new SSE stream is a new server session that knows nothing of the old one.
 */
import type { ForwardFailure } from '../forwarder.js';
import { judgeAnnouncedEndpoint } from './announced-endpoint.js';
import { SseEventParser } from './sse-event-parser.js';
import type { SseEvent } from './sse-event-parser.js';
import { errorCodeOf } from './sse-outbound.js';
import type { SseOutbound } from './sse-outbound.js';

/** Options of {@link LegacySseConnection.open}. */
export interface LegacySseOpenOptions {
  /** The SSE URL (the replica's URL, with the client's query). */
  readonly url: string;
  /** Sent with the GET and every POST: identity, trace context, `upstreamAuth`; never the caller's token. */
  readonly headers: Readonly<Record<string, string>>;
  readonly outbound: SseOutbound;
  readonly connectTimeoutMs: number;
  /** Longest wait for the stream's head and then for the `endpoint` event; and for each POST's answer. */
  readonly idleTimeoutMs: number;
  readonly refuseUrl?: (url: string) => string | undefined;
  /** A JSON-RPC message from the server (an object or a batch array, as parsed). */
  readonly onMessage: (message: unknown) => void;
  /** The SSE stream ended or failed after the connection opened; called once, not after {@link close}. */
  readonly onClose: (reason: string) => void;
}

/** Why the connection could not open, in the data plane's failure words. */
export class SseOpenError extends Error {
  constructor(
    readonly failure: ForwardFailure,
    message: string,
    /** The server announced a message endpoint the gateway refuses to contact (an attack, or a misconfiguration). */
    readonly refusedEndpoint = false,
  ) {
    super(message);
    this.name = 'SseOpenError';
  }
}

/** A POST the upstream did not take. */
export class SsePostError extends Error {
  constructor(
    message: string,
    /** The server no longer knows the session (404): nothing more can be sent on it. */
    readonly sessionGone: boolean,
  ) {
    super(message);
    this.name = 'SsePostError';
  }
}

function failureOf(error: unknown, timedOut: boolean): SseOpenError {
  if (timedOut) return new SseOpenError('timeout', 'no answer in time');
  const code = errorCodeOf(error);
  if (code === 'ECONNREFUSED') return new SseOpenError('refused', 'connection refused');
  if (code === 'CONNECT_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT')
    return new SseOpenError('connect-timeout', 'connect timeout');
  const message = error instanceof Error ? error.message : String(error);
  return new SseOpenError('error', code ? `${code}: ${message}` : message);
}

/** One open 2024-11-05 session with an upstream. */
export class LegacySseConnection {
  readonly #o: LegacySseOpenOptions;
  readonly #abort: AbortController;
  readonly #endpoint: string;
  #closed = false;
  #endedReason: string | undefined;

  private constructor(options: LegacySseOpenOptions, abort: AbortController, endpoint: string) {
    this.#o = options;
    this.#abort = abort;
    this.#endpoint = endpoint;
  }

  /** Why the stream ended on its own, once it has (an owner that came late still learns it). */
  get endedReason(): string | undefined {
    return this.#endedReason;
  }

  /** The URL messages are POSTed to (judged: same origin as the SSE URL). */
  get endpoint(): string {
    return this.#endpoint;
  }

  /** GETs the SSE URL and resolves once the `endpoint` event is judged; rejects with {@link SseOpenError}. */
  static async open(options: LegacySseOpenOptions): Promise<LegacySseConnection> {
    const refused = options.refuseUrl?.(options.url);
    if (refused) throw new SseOpenError('error', `the SSE URL is ${refused}`);
    const abort = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      abort.abort();
    }, options.connectTimeoutMs + options.idleTimeoutMs);
    try {
      let response: Response;
      try {
        response = await options.outbound({
          url: options.url,
          method: 'GET',
          headers: { ...options.headers, accept: 'text/event-stream' },
          signal: abort.signal,
          connectTimeoutMs: options.connectTimeoutMs,
        });
      } catch (err) {
        throw failureOf(err, timedOut);
      }
      const type = response.headers.get('content-type') ?? '';
      if (response.status !== 200 || !type.toLowerCase().startsWith('text/event-stream') || !response.body) {
        await response.body?.cancel().catch(() => undefined);
        const what =
          response.status === 401 || response.status === 403
            ? ' (the gateway’s credentials were refused)'
            : '';
        throw new SseOpenError(
          'error',
          response.status === 200
            ? `the SSE URL answered ${type || 'no content type'}, not text/event-stream`
            : `the SSE URL answered HTTP ${response.status}${what}`,
        );
      }
      return await LegacySseConnection.#awaitEndpoint(options, abort, response.body, () => timedOut);
    } finally {
      clearTimeout(timer);
    }
  }

  static #awaitEndpoint(
    options: LegacySseOpenOptions,
    abort: AbortController,
    body: ReadableStream<Uint8Array>,
    timedOut: () => boolean,
  ): Promise<LegacySseConnection> {
    return new Promise<LegacySseConnection>((resolve, reject) => {
      let connection: LegacySseConnection | undefined;
      let settled = false;
      const fail = (error: SseOpenError) => {
        if (settled) return;
        settled = true;
        abort.abort();
        reject(error);
      };
      const parser = new SseEventParser((event: SseEvent) => {
        if (connection) {
          if (event.event === 'message') connection.#message(event.data);
          return;
        }
        // Messages before the endpoint are not in the 2024-11-05 flow; nothing could answer them yet.
        if (event.event !== 'endpoint') return;
        const verdict = judgeAnnouncedEndpoint(event.data, options.url, options.refuseUrl);
        if (!verdict.ok) return fail(new SseOpenError('error', verdict.reason, true));
        connection = new LegacySseConnection(options, abort, verdict.url);
        settled = true;
        resolve(connection);
      });
      const reader = body.getReader();
      const decoder = new TextDecoder();
      const ended = (reason: string) => {
        if (!settled)
          return fail(
            timedOut()
              ? new SseOpenError('timeout', 'no endpoint event in time')
              : new SseOpenError('error', reason),
          );
        if (connection) connection.#ended(reason);
      };
      void (async () => {
        try {
          for (;;) {
            const { done, value } = await reader.read();
            if (done) return ended('the SSE stream ended');
            parser.push(decoder.decode(value, { stream: true }));
          }
        } catch (err) {
          ended(`the SSE stream failed (${err instanceof Error ? err.message : String(err)})`);
        }
      })();
    });
  }

  /** POSTs one JSON-RPC message (or batch); resolves once the server accepted it (any 2xx). */
  async post(message: unknown, headers: Readonly<Record<string, string>>): Promise<void> {
    if (this.#closed) throw new SsePostError('the upstream session has ended', true);
    const { outbound, connectTimeoutMs, idleTimeoutMs } = this.#o;
    let response: Response;
    try {
      response = await outbound({
        url: this.#endpoint,
        method: 'POST',
        headers: {
          ...headers,
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
        },
        body: JSON.stringify(message),
        signal: AbortSignal.timeout(connectTimeoutMs + idleTimeoutMs),
        connectTimeoutMs,
      });
    } catch (err) {
      const failure = failureOf(err, (err as { name?: string }).name === 'TimeoutError');
      throw new SsePostError(`the upstream did not take the message (${failure.message})`, false);
    }
    // The answer comes on the SSE stream; this body (`Accepted`) only holds the connection.
    await response.body?.cancel().catch(() => undefined);
    if (response.status >= 200 && response.status < 300) return;
    throw new SsePostError(
      `the upstream answered the message with HTTP ${response.status}`,
      response.status === 404,
    );
  }

  /** Closes the SSE stream (the server ends its session when the stream goes). */
  close(): void {
    this.#closed = true;
    this.#abort.abort();
  }

  #message(data: string): void {
    let parsed: unknown;
    try {
      parsed = JSON.parse(data);
    } catch {
      return; // Not JSON-RPC: nothing a client could use.
    }
    this.#o.onMessage(parsed);
  }

  #ended(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#endedReason = reason;
    this.#o.onClose(reason);
  }
}
