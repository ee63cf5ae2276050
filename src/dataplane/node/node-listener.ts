/**
 * @module node-listener: the gateway's `node:http` request listener. `/adapters/{name}/mcp` requests (POST, GET,
 * DELETE) go straight to the app's {@link McpEndpoint} with the Node-native forwarder — the same steps as the
 * Hono route, without the framework's per-request objects; everything else goes to Hono. Both apply the one
 * Host/Origin check (`http/origin-check.ts`): the endpoint itself on the fast path, the app's first middleware
 * on every other route. A request without `Host` never takes the fast path, and @hono/node-server answers it 400.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import { getRequestListener } from '@hono/node-server';
import type { Logger } from '../../observability/index.js';
import { onResponseClosed } from '../data-plane-observer.js';
import type { WatchedExchange } from '../data-plane-observer.js';
import type { TraceContextHeaders } from '../../observability/tracing/index.js';
import { INTERNAL_ERROR } from '../data-plane.js';
import type { McpEndpoint } from '../data-plane.js';
import { IGNORED_EXCHANGE } from '../proxy-observer.js';
import { createNodeForwarder } from './node-forwarder.js';
import type { NodeAgents } from './node-forwarder.js';
import { headersOfIncoming, readIncoming } from './node-io.js';
import type { ServerStream, ServerStreams } from './server-streams.js';

/** What the listener serves: an app's `fetch`, and its MCP endpoint when it has one. */
export interface ListenedApp {
  fetch(request: Request, env: unknown): Response | Promise<Response>;
  readonly mcp?: McpEndpoint & { watch(trace: TraceContextHeaders): WatchedExchange | undefined };
}

/** Options for {@link createNodeListener}. */
export interface NodeListenerOptions {
  /** Connection pools for the fast path; without them every request goes through Hono. */
  readonly agents?: NodeAgents;
  /** Where a failure the endpoint did not answer itself is reported. */
  readonly logger?: Pick<Logger, 'error'>;
}

// The path as the registry spells adapter names (DNS-1123 label, ≤ 63), with an optional query. Anything else
// (percent-encoding, dot segments, backslashes) goes through Hono, which normalises and validates it.
const MCP_PATH = /^\/adapters\/([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)\/mcp(?:\?[^\\#]*)?$/;
// A host name or IPv4 address with an optional port, as @hono/node-server accepts without further checks.
const SIMPLE_HOST = /^[a-z0-9._-]+(?::\d{1,5})?$/;

const textOf = (value: string | string[] | undefined) => (typeof value === 'string' ? value : undefined);

/**
 * Writes a gateway-built answer on the socket: errors and refusals (small bodies, written at once), or the SSE
 * streams an `sse` adapter's session answers with, which go out as their events arrive; the client leaving
 * cancels the stream. A GET stream is listed in `streams`, so a drain ends it between two events.
 */
async function writeResponse(
  response: Response,
  outgoing: ServerResponse,
  streams?: ServerStreams,
): Promise<void> {
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    headers[name] = value;
  });
  if (!response.body || !headers['content-type']?.startsWith('text/event-stream')) {
    const body = response.body ? Buffer.from(await response.arrayBuffer()) : undefined;
    outgoing.writeHead(response.status, headers);
    outgoing.end(body);
    return;
  }
  outgoing.writeHead(response.status, headers);
  outgoing.flushHeaders();
  void pipeStream(response.body, outgoing, streams);
}

/**
 * Copies `body` to `outgoing` with backpressure; cancels it when the client goes away. Each chunk of the SDK
 * transport's streams is one whole event, so between two reads the stream is at an event boundary, where a drain
 * may end it.
 */
async function pipeStream(
  body: ReadableStream<Uint8Array>,
  outgoing: ServerResponse,
  streams: ServerStreams | undefined,
): Promise<void> {
  const reader = body.getReader();
  const stop = () => void reader.cancel().catch(() => undefined);
  let waiting = false;
  let ending = streams?.draining ?? false;
  const tracked: ServerStream = {
    endWhenIdle() {
      ending = true;
      if (waiting) stop();
    },
  };
  streams?.add(tracked);
  outgoing.once('close', stop);
  try {
    for (;;) {
      if (ending) break;
      waiting = true;
      const { done, value } = await reader.read();
      waiting = false;
      if (done || outgoing.destroyed) break;
      if (!outgoing.write(value))
        await new Promise<void>((resolve) => {
          outgoing.once('drain', resolve);
          outgoing.once('close', resolve);
        });
    }
  } catch {
    // The stream failed: end the response, the client sees the stream close.
  } finally {
    streams?.delete(tracked);
    outgoing.off('close', stop);
    if (ending) stop();
    outgoing.end();
  }
}

/** Builds the listener for `app`. */
export function createNodeListener(app: ListenedApp, options: NodeListenerOptions = {}): RequestListener {
  const hono = getRequestListener(app.fetch);
  const { mcp } = app;
  const { agents } = options;
  if (!mcp || !agents) return hono;

  async function serveMcp(incoming: IncomingMessage, outgoing: ServerResponse, name: string, host: string) {
    const { traceparent, tracestate } = incoming.headers;
    const watched = mcp!.watch({ traceparent: textOf(traceparent), tracestate: textOf(tracestate) });
    const target = incoming.url!;
    const query = target.indexOf('?');
    const { response, principal } = await mcp!.serve(
      {
        name,
        method: incoming.method!,
        // As Hono's `c.req.path`: without the query (authentication names the resource by its path).
        path: query < 0 ? target : target.slice(0, query),
        url: `${'encrypted' in incoming.socket ? 'https' : 'http'}://${host}${target}`,
        headers: headersOfIncoming(incoming),
        remoteAddress: incoming.socket.remoteAddress,
        forwarder: createNodeForwarder(agents!, outgoing),
        readBody: (maxBytes) => readIncoming(incoming, maxBytes),
      },
      watched ?? IGNORED_EXCHANGE,
    );
    // The Node forwarder writes the upstream's head itself before it answers; anything else is the gateway's own.
    if (!outgoing.headersSent)
      await writeResponse(response, outgoing, incoming.method === 'GET' ? agents!.serverStreams : undefined);
    if (!watched) return;
    const closed = watched.finish(outgoing.statusCode, principal?.userId, textOf(traceparent));
    if (closed) onResponseClosed(outgoing, closed);
  }

  // The last path and Host that matched: a client sends the same ones request after request.
  let lastTarget = '';
  let lastName = '';
  let lastHost = '';
  const adapterOf = (target: string): string | undefined => {
    if (target === lastTarget) return lastName;
    const name = MCP_PATH.exec(target)?.[1];
    if (name !== undefined) [lastTarget, lastName] = [target, name];
    return name;
  };
  const isSimpleHost = (host: string): boolean => {
    if (host === lastHost) return true;
    if (!SIMPLE_HOST.test(host)) return false;
    lastHost = host;
    return true;
  };

  return function gatewayListener(incoming, outgoing) {
    const { method, url } = incoming;
    const host = incoming.headers.host;
    const name =
      (method === 'POST' || method === 'GET' || method === 'DELETE') &&
      host !== undefined &&
      url?.startsWith('/adapters/') &&
      isSimpleHost(host)
        ? adapterOf(url)
        : undefined;
    if (name === undefined) return void hono(incoming, outgoing);
    serveMcp(incoming, outgoing, name, host!).catch((err: unknown) => {
      options.logger?.error({ err, method, path: url }, 'unhandled error');
      // The endpoint answers its own failures; this is the last guard, so a bug never leaves a client hanging.
      if (outgoing.headersSent) return void outgoing.destroy(err instanceof Error ? err : undefined);
      void writeResponse(INTERNAL_ERROR.toResponse(), outgoing);
    });
  };
}

/** Options for {@link listen}. */
export interface ListenOptions extends NodeListenerOptions {
  readonly port: number;
  readonly hostname: string;
  /** The settings that chose this address, named when it cannot be bound (e.g. `PORT`, `MCP_GATEWAY_HOST`). */
  readonly settings?: { readonly port: string; readonly host: string };
}

/** A listener that cannot bind its address for a reason the operator fixes; `message` says which and how. */
export class ListenError extends Error {
  constructor(
    message: string,
    readonly code: string,
    options: { cause: unknown },
  ) {
    super(message, options);
    this.name = 'ListenError';
  }
}

const errorCode = (err: unknown): string | undefined =>
  err instanceof Error && 'code' in err && typeof err.code === 'string' ? err.code : undefined;

/** One line for the bind failures a setting fixes; undefined for anything else (a bug, said with its stack). */
function explainListenFailure(err: unknown, options: ListenOptions): ListenError | undefined {
  const code = errorCode(err);
  const { port, hostname } = options;
  const names = options.settings ?? { port: 'the port', host: 'the host' };
  const at = `cannot listen on ${hostname.includes(':') ? `[${hostname}]` : hostname}:${port}`;
  const reason = (() => {
    switch (code) {
      case 'EADDRINUSE':
        return `the port is in use by another process; set ${names.port} to a free port, or stop what holds it`;
      case 'EACCES':
        return port < 1024
          ? `permission denied (a port below 1024 needs privileges); set ${names.port} to 1024 or above`
          : `permission denied; set ${names.port} to a port this user may bind`;
      case 'EADDRNOTAVAIL':
        return `no network interface of this host has that address; set ${names.host} to one it has (127.0.0.1: this machine only, 0.0.0.0: every interface)`;
      case 'ENOTFOUND':
      case 'EAI_AGAIN':
        return `the host name does not resolve; set ${names.host} to an address of this host (127.0.0.1: this machine only, 0.0.0.0: every interface)`;
      default:
        return undefined;
    }
  })();
  return code !== undefined && reason !== undefined
    ? new ListenError(`${at}: ${reason}`, code, { cause: err })
    : undefined;
}

/**
 * Serves `app` on a new `node:http` server; resolves once it listens. A bind failure the operator fixes rejects
 * with a {@link ListenError} naming `options.settings`.
 */
export function listen(app: ListenedApp, options: ListenOptions): Promise<Server> {
  const server = createServer(createNodeListener(app, options));
  return new Promise((resolve, reject) => {
    const failed = (err: unknown) => reject(explainListenFailure(err, options) ?? err);
    server.once('error', failed);
    server.listen(options.port, options.hostname, () => {
      server.off('error', failed);
      resolve(server);
    });
  });
}
