/**
 * @module NodeForwarder: the hot path on Node. Streams between the client's `ServerResponse` and an undici
 * dispatch to the upstream, without Fetch objects in between (ARCHITECTURE §3, "The hot path on Node").
 */
import { Agent as HttpAgent } from 'node:http';
import type { ServerResponse } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { lookup } from 'node:dns';
import type { LookupAddress, LookupAllOptions } from 'node:dns';
import type { LookupFunction } from 'node:net';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import type { Client, Dispatcher } from 'undici';
import type {
  ClientHead,
  DoneCallback,
  ForwardOutcome,
  ForwardRequest,
  Forwarder,
  HeadRewriter,
  UpstreamHead,
} from '../forwarder.js';
import { withQuery } from '../upstream-query.js';
import { ServerStreams } from './server-streams.js';
import type { ServerStream } from './server-streams.js';
import { UpstreamClients } from './upstream-clients.js';
import type { OriginClients } from './upstream-clients.js';

/** Connection pools shared by every forward of a gateway instance. */
export interface NodeAgents {
  /** The data plane's connections to replicas. */
  readonly upstream: UpstreamClients;
  /** `node:http` pools, for the tool router's calls. */
  readonly http: HttpAgent;
  readonly https: HttpsAgent;
  /** The SSRF guard, also applied to literal addresses (which skip DNS lookup). */
  readonly refuseAddress?: (address: string) => string | undefined;
  /** The GET streams open through these pools, which a drain ends at their next event boundary. */
  readonly serverStreams: ServerStreams;
  destroy(): void;
}

/** Resolves a name to every address it has, as `dns.lookup(name, { all: true })` does. */
export type ResolveAll = (
  hostname: string,
  options: LookupAllOptions,
  callback: (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void,
) => void;

const systemResolver: ResolveAll = (hostname, options, callback) => lookup(hostname, options, callback);

/** Options for {@link createNodeAgents}. */
export interface NodeAgentsOptions {
  /** Why a resolved address must not be connected to (SSRF guard), or undefined to allow it. */
  readonly refuseAddress?: (address: string) => string | undefined;
  /** How names are resolved before the guard judges every address; default `dns.lookup`. Tests inject one. */
  readonly resolve?: ResolveAll;
}

/**
 * Resolves like `dns.lookup`, then refuses the name if any of its addresses is blocked (a connection could use
 * any of them), so a name that resolves there is caught too. The error has code `EADDRBLOCKED`.
 */
export function guardedLookup(
  refuse: (address: string) => string | undefined,
  resolve: ResolveAll = systemResolver,
): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname, { ...options, all: true }, (err, list) => {
      if (err) return callback(err, '', 0);
      const blocked = list.map((a) => refuse(a.address)).find(Boolean);
      if (blocked) {
        const error: NodeJS.ErrnoException = new Error(`${hostname} resolves to ${blocked}`);
        error.code = 'EADDRBLOCKED';
        return callback(error, '', 0);
      }
      if (options.all) return callback(null, list as never);
      const first = list[0];
      if (!first)
        return callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), '', 0);
      callback(null, first.address, first.family);
    });
  };
}

/**
 * Keep-alive pools without a socket cap: a bounded pool shared by short calls and long-lived SSE streams lets
 * open streams starve every other request, so each stream simply gets its own connection.
 */
export function createNodeAgents(options: NodeAgentsOptions = {}): NodeAgents {
  const guarded = options.refuseAddress && guardedLookup(options.refuseAddress, options.resolve);
  const agentOptions = {
    keepAlive: true,
    keepAliveMsecs: 1000,
    maxFreeSockets: 256,
    scheduling: 'lifo' as const,
    ...(guarded && { lookup: guarded }),
  };
  const upstream = new UpstreamClients({ lookup: guarded });
  const http = new HttpAgent(agentOptions);
  const https = new HttpsAgent(agentOptions);
  return {
    upstream,
    http,
    https,
    refuseAddress: options.refuseAddress,
    serverStreams: new ServerStreams(),
    destroy: () => {
      upstream.destroy();
      http.destroy();
      https.destroy();
    },
  };
}

/** A parsed upstream URL and the SSRF verdict on its literal host, kept per URL: replicas are few and stable. */
interface Target {
  /** `protocol//host:port`, as undici names a connection's peer. */
  readonly origin: string;
  readonly path: string;
  readonly blocked: string | undefined;
}

// Per agent set, because the SSRF verdict depends on its guard.
const targetCaches = new WeakMap<NodeAgents, Map<string, Target>>();
const MAX_TARGETS = 10_000;

function targetOf(rawUrl: string, agents: NodeAgents): Target {
  let targets = targetCaches.get(agents);
  if (!targets) targetCaches.set(agents, (targets = new Map()));
  const cached = targets.get(rawUrl);
  if (cached) return cached;
  const url = new URL(rawUrl);
  const hostname = url.hostname.replace(/^\[|\]$/g, '');
  const reason = agents.refuseAddress?.(hostname);
  const target: Target = {
    origin: url.origin,
    path: `${url.pathname}${url.search}`,
    blocked: reason && `${hostname} is ${reason}`,
  };
  if (targets.size >= MAX_TARGETS) targets.clear();
  targets.set(rawUrl, target);
  return target;
}

type Timeouts = Pick<ForwardRequest, 'connectTimeoutMs' | 'idleTimeoutMs'>;

const ABANDONED: ForwardOutcome = { ok: false, failure: 'abandoned', message: 'the client went away' };
const DRAINED = new Error('the gateway is draining');

const LF = 0x0a;
const CR = 0x0d;
/** A tail that reads as "nothing written yet", which is an event boundary. */
const AT_START = (LF << 8) | LF;

/**
 * True when the last bytes of an event stream (`tail`: the last three, oldest highest) end an event: a line
 * terminator (LF, CR or CRLF) right after another, i.e. the blank line that dispatches an event or a comment.
 */
function endsEvent(tail: number): boolean {
  const last = tail & 0xff;
  const before = (tail >> 8) & 0xff;
  if (last === CR) return before === CR || before === LF;
  if (last !== LF) return false;
  if (before === LF) return true;
  const third = (tail >> 16) & 0xff;
  return before === CR && (third === LF || third === CR);
}

function failureOf(err: NodeJS.ErrnoException, timeouts: Timeouts): ForwardOutcome {
  switch (err.code) {
    case 'ECONNREFUSED':
      return { ok: false, failure: 'refused', message: 'connection refused' };
    case 'UND_ERR_CONNECT_TIMEOUT':
      return {
        ok: false,
        failure: 'connect-timeout',
        message: `no connection within ${timeouts.connectTimeoutMs} ms`,
      };
    case 'UND_ERR_HEADERS_TIMEOUT':
      return { ok: false, failure: 'timeout', message: `no response within ${timeouts.idleTimeoutMs} ms` };
    case 'EADDRBLOCKED':
      return { ok: false, failure: 'error', message: err.message };
    default:
      return { ok: false, failure: 'error', message: err.code ?? err.message };
  }
}

/** A forwarder bound to one client exchange on a Node server. */
export function createNodeForwarder(agents: NodeAgents, outgoing: ServerResponse): Forwarder {
  return {
    forward(request, rewrite, done) {
      return new Promise<ForwardOutcome>((resolve) => {
        const target = targetOf(request.url, agents);
        if (target.blocked) {
          done();
          resolve({ ok: false, failure: 'error', message: target.blocked });
          return;
        }
        const clients = agents.upstream.for(target.origin, request.connectTimeoutMs);
        const exchange = new NodeExchange(outgoing, clients, rewrite, done, resolve, request);
        // Only GET streams are ended early by a drain; everything else may carry a response.
        if (request.method === 'GET') exchange.trackIn(agents.serverStreams);
        exchange.start(target, request);
      });
    },
  };
}

// The client response carries its exchange under this key, so its listeners are shared functions rather than
// closures made per request: at thousands of requests per second those closures, and what they capture, are
// most of a forwarder's cost.
const EXCHANGE = Symbol('mcp-gateway.node-exchange');
type Carrier = { [EXCHANGE]?: NodeExchange };
const exchangeOf = (emitter: object) => (emitter as Carrier)[EXCHANGE]!;

/**
 * One forward, as undici's dispatch handler: its state, and what it still owes (the outcome, and `done` once the
 * exchange is over).
 */
class NodeExchange implements Dispatcher.DispatchHandler, ServerStream {
  /** The outcome is resolved (head written, or failed). */
  private settled = false;
  /** `done` has run. */
  private finished = false;
  /** The upstream's answer ended: its connection can serve another exchange. */
  private complete = false;
  /** The connection this exchange holds, until it goes back to its origin's stack or is dropped. */
  private client: Client | undefined;
  private controller: Dispatcher.DispatchController | undefined;
  /** Dropped once the head is written: it holds the whole exchange, and a stream may run for hours. */
  private rewrite: HeadRewriter | undefined;
  private readonly timeouts: Timeouts;
  /** Where this GET exchange is listed for a drain; undefined for other methods. */
  private streams: ServerStreams | undefined;
  /** The client's answer is an event stream whose bytes are followed (GET only). */
  private eventStream = false;
  /** The last three bytes written of that stream, to tell whether it stands between two events. */
  private tail = AT_START;
  /** A drain asked for the stream to end at its next event boundary. */
  private ending = false;

  constructor(
    readonly outgoing: ServerResponse,
    private readonly clients: OriginClients,
    rewrite: HeadRewriter,
    private readonly done: DoneCallback,
    private readonly resolve: (outcome: ForwardOutcome) => void,
    timeouts: Timeouts,
  ) {
    this.rewrite = rewrite;
    // Copied rather than kept: the request holds the body and headers, and a stream may run for hours.
    this.timeouts = { connectTimeoutMs: timeouts.connectTimeoutMs, idleTimeoutMs: timeouts.idleTimeoutMs };
  }

  /** Lists this GET exchange in `streams` until it is over. */
  trackIn(streams: ServerStreams): void {
    this.streams = streams;
    streams.add(this);
    if (streams.draining) this.ending = true;
  }

  start(target: Target, request: ForwardRequest): void {
    // The client may have left while the proxy decided (a session id opens asynchronously): its 'close' has
    // fired already, so nothing would cancel an upstream request made now, and a GET stream would stay open
    // upstream, holding the session's one stream.
    if (this.outgoing.destroyed) {
      this.fail(ABANDONED);
      return;
    }
    (this.outgoing as Carrier)[EXCHANGE] = this;
    // A client that goes away must not leave an upstream request (and its connection) behind; the response
    // closes when the client's connection does, so this covers an aborted request too.
    this.outgoing.once('close', onClientClose);
    this.client = this.clients.take();
    this.client.dispatch(
      {
        // The path and registered query are parsed once per replica URL; the client's query is appended per request.
        path: withQuery(target.path, request.query),
        method: request.method,
        headers: request.headers,
        body: request.body ?? null,
        // Silence before the head and in the middle of a stream.
        headersTimeout: this.timeouts.idleTimeoutMs,
        bodyTimeout: this.timeouts.idleTimeoutMs,
      },
      this,
    );
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
  }

  onResponseStart(
    controller: Dispatcher.DispatchController,
    status: number,
    headers: Record<string, string | string[] | undefined>,
  ): void {
    // Informational answers (103 Early Hints) are not the response; undici handles 100 and 101 itself.
    if (status < 200) return;
    const rewrite = this.rewrite!;
    this.rewrite = undefined;
    try {
      const rewritten = rewrite(new NodeUpstreamHead(status, headers));
      if (rewritten instanceof Promise) {
        // Only a new session's head is async (sealing its id): hold the body until the head is out.
        controller.pause();
        rewritten.then(
          (client) => {
            this.writeHead(client);
            // Not when the client went away meanwhile: the request is aborted then.
            if (!controller.aborted) controller.resume();
          },
          (err: unknown) => this.failRewrite(err),
        );
      } else this.writeHead(rewritten);
    } catch (err) {
      this.failRewrite(err);
    }
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    const flowing = this.outgoing.write(chunk);
    if (this.eventStream) {
      let { tail } = this;
      for (let i = Math.max(0, chunk.length - 3); i < chunk.length; i++)
        tail = ((tail << 8) | chunk[i]!) & 0xffffff;
      this.tail = tail;
      if (this.ending && endsEvent(tail)) return this.endForDrain();
    }
    if (!flowing) controller.pause();
  }

  endWhenIdle(): void {
    this.ending = true;
    // Before its head the stream is ended as the head goes out (writeHead); mid-event, at the event's end.
    if (this.settled && this.eventStream && endsEvent(this.tail)) this.endForDrain();
  }

  /**
   * Ends the client's stream cleanly between two events, so it resumes elsewhere with the last event id it has,
   * and cancels the upstream stream (its connection is dropped: the answer did not end).
   */
  private endForDrain(): void {
    this.eventStream = false;
    this.outgoing.end();
    if (this.controller) this.controller.abort(DRAINED);
    this.letGo(false);
    this.finish();
  }

  onResponseEnd(): void {
    this.complete = true;
    this.outgoing.end();
    this.letGo(true);
    this.finish();
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    this.letGo(false);
    if (!this.settled) {
      this.fail(this.outgoing.destroyed ? ABANDONED : failureOf(err as NodeJS.ErrnoException, this.timeouts));
    } else {
      // Mid-stream: cutting the client lets it reconnect and resume.
      if (!this.outgoing.writableEnded) this.outgoing.destroy();
      this.finish();
    }
  }

  /** The client's response closed: normally after the end, or because the client went away. */
  clientClosed(): void {
    // Before undici hands over the controller the request is still queued for a connection: dropping the
    // connection cancels it.
    if (!this.complete) {
      // Aborting twice is a no-op (a drain may have ended the stream already).
      if (this.controller) this.controller.abort(new Error('the client went away'));
      else this.letGo(false);
    }
    this.finish();
  }

  private letGo(reusable: boolean): void {
    const { client } = this;
    if (!client) return;
    this.client = undefined;
    if (reusable) this.clients.release(client);
    else this.clients.discard(client);
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.streams?.delete(this);
    this.streams = undefined;
    this.done();
  }

  private fail(outcome: ForwardOutcome): void {
    if (this.settled) return;
    this.settled = true;
    this.finish();
    this.resolve(outcome);
  }

  private writeHead(client: ClientHead): void {
    if (this.settled) return;
    this.settled = true;
    const { outgoing } = this;
    outgoing.writeHead(client.status, client.headers);
    // SSE clients need the head now, not with the first event; a JSON answer goes out with its body in one write.
    const eventStream = client.headers['content-type']?.startsWith('text/event-stream') === true;
    if (eventStream) outgoing.flushHeaders();
    outgoing.on('drain', onClientDrain);
    this.resolve({ ok: true, status: client.status, response: RESPONSE_ALREADY_SENT });
    if (eventStream && this.streams) {
      this.eventStream = true;
      // Opened while the gateway drains: the client learns at once to reconnect elsewhere.
      if (this.ending) this.endForDrain();
    }
  }

  private failRewrite(err: unknown): void {
    this.controller?.abort(err instanceof Error ? err : new Error(String(err)));
    this.fail({ ok: false, failure: 'error', message: err instanceof Error ? err.message : String(err) });
  }

  resumeUpstream(): void {
    this.controller?.resume();
  }
}

/** The upstream's head, as the proxy reads it. */
class NodeUpstreamHead implements UpstreamHead {
  constructor(
    readonly status: number,
    private readonly headers: Record<string, string | string[] | undefined>,
  ) {}
  header(name: string): string | undefined {
    const value = this.headers[name];
    return Array.isArray(value) ? value.join(', ') : value;
  }
}

function onClientClose(this: ServerResponse): void {
  exchangeOf(this).clientClosed();
}

function onClientDrain(this: ServerResponse): void {
  exchangeOf(this).resumeUpstream();
}
