/**
 * @module list-changed-streams: the legacy (2025) standalone GET stream of `/mcp`, which carries only
 * `notifications/tools/list_changed`. It needs no session: each stream belongs to the authenticated principal,
 * and is told when *that principal's* list changes. The event id is the digest of the list the client was last
 * told about, so a client that reconnects (to any gateway instance) with `Last-Event-ID` is told at once if it
 * missed a change, and nothing else. Streams end after a maximum age so that the token is checked again on
 * reconnect.
 */
import type { Principal } from '../auth/index.js';
import type { Logger } from '../observability/index.js';
import type { Catalog, CatalogSnapshot } from './catalog.js';

/** Options for {@link createListChangedStreams}. */
export interface ListChangedStreamsOptions {
  readonly catalog: Catalog;
  readonly logger: Logger;
  /** SSE comment sent this often so proxies keep the connection; default 15 s (the SDK's). */
  readonly keepAliveMs?: number;
  /** A stream is closed after this long; the client reconnects and is authenticated again. */
  readonly maxAgeMs: number;
  /** Reconnect delay suggested to clients (`retry:`); default 1 s. */
  readonly retryMs?: number;
}

/** The open GET streams of one gateway instance. */
export interface ListChangedStreams {
  /** Answers a GET on `/mcp` for `principal`. */
  open(request: Request, principal: Principal): Promise<Response>;
  /** How many streams are open. */
  readonly size: number;
  /** Ends every stream, and from now on ends new ones right after their first event, so clients reconnect elsewhere. */
  drain(): void;
  /** Ends every stream (shutdown). */
  close(): void;
}

const encoder = new TextEncoder();
const LIST_CHANGED = JSON.stringify({ jsonrpc: '2.0', method: 'notifications/tools/list_changed' });

interface OpenStream {
  readonly principal: Principal;
  fingerprint: string;
  send(text: string): void;
  end(): void;
}

function jsonRpcError(status: number, message: string): Response {
  return new Response(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32000, message } }), {
    status,
    headers: { 'content-type': 'application/json' },
  });
}

/** Builds the stream registry and subscribes it to catalog changes. */
export function createListChangedStreams(options: ListChangedStreamsOptions): ListChangedStreams {
  const { catalog, logger } = options;
  const keepAliveMs = options.keepAliveMs ?? 15_000;
  const retryMs = options.retryMs ?? 1000;
  const streams = new Set<OpenStream>();
  let draining = false;

  function notify(snapshot: CatalogSnapshot) {
    for (const stream of streams) {
      const fingerprint = catalog.fingerprintFor(snapshot, stream.principal);
      if (fingerprint === stream.fingerprint) continue;
      stream.fingerprint = fingerprint;
      stream.send(`id: ${fingerprint}\ndata: ${LIST_CHANGED}\n\n`);
    }
  }
  const stopListening = catalog.onChange(notify);

  return {
    async open(request, principal) {
      const accept = request.headers.get('accept') ?? '';
      if (!accept.includes('text/event-stream')) {
        return jsonRpcError(
          406,
          'Not Acceptable: a GET on /mcp opens an event stream (Accept: text/event-stream).',
        );
      }
      // 2026-07-28 has no GET; its clients use subscriptions/listen.
      if (request.headers.get('mcp-protocol-version') === '2026-07-28') {
        return new Response(
          JSON.stringify({
            jsonrpc: '2.0',
            id: null,
            error: { code: -32000, message: 'Method not allowed.' },
          }),
          { status: 405, headers: { 'content-type': 'application/json', allow: 'POST' } },
        );
      }
      const snapshot = await catalog.snapshot();
      const fingerprint = catalog.fingerprintFor(snapshot, principal);
      const lastSeen = request.headers.get('last-event-id');
      let stream: OpenStream | undefined;
      let keepAlive: ReturnType<typeof setInterval> | undefined;
      let maxAge: ReturnType<typeof setTimeout> | undefined;
      const cleanup = () => {
        clearInterval(keepAlive);
        clearTimeout(maxAge);
        if (stream) streams.delete(stream);
        request.signal.removeEventListener('abort', onAbort);
      };
      const onAbort = () => stream?.end();
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          let ended = false;
          stream = {
            principal,
            fingerprint,
            send(text) {
              if (ended) return;
              try {
                controller.enqueue(encoder.encode(text));
              } catch {
                this.end();
              }
            },
            end() {
              if (ended) return;
              ended = true;
              cleanup();
              try {
                controller.close();
              } catch {
                // Already closed by the reader.
              }
            },
          };
          streams.add(stream);
          // Priming event: gives the client an id to resume from, and the reconnect delay.
          stream.send(`retry: ${retryMs}\nid: ${fingerprint}\ndata: \n\n`);
          if (lastSeen !== null && lastSeen !== fingerprint)
            stream.send(`id: ${fingerprint}\ndata: ${LIST_CHANGED}\n\n`);
          if (draining) {
            stream.end();
            return;
          }
          keepAlive = setInterval(() => stream?.send(': keepalive\n\n'), keepAliveMs);
          maxAge = setTimeout(() => stream?.end(), options.maxAgeMs);
        },
        cancel() {
          stream?.end();
        },
      });
      request.signal.addEventListener('abort', onAbort, { once: true });
      logger.debug({ user: principal.userId, open: streams.size }, 'tool list stream opened');
      return new Response(body, {
        status: 200,
        headers: {
          'content-type': 'text/event-stream',
          'cache-control': 'no-cache, no-transform',
          'x-accel-buffering': 'no',
        },
      });
    },
    get size() {
      return streams.size;
    },
    drain() {
      draining = true;
      for (const stream of [...streams]) stream.end();
    },
    close() {
      draining = true;
      stopListening();
      for (const stream of [...streams]) stream.end();
    },
  };
}
