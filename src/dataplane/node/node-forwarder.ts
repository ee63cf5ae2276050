/**
 * @module NodeForwarder: the hot path on Node. Pipes the client's `ServerResponse` and an `http.request` to the
 * upstream both ways, without Fetch objects in between (ARCHITECTURE §3, "The hot path on Node").
 */
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import type { ClientRequest, IncomingMessage, ServerResponse } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { lookup } from 'node:dns';
import type { LookupAddress } from 'node:dns';
import type { LookupFunction, Socket } from 'node:net';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import type {
  ClientHead,
  DoneCallback,
  ForwardOutcome,
  ForwardRequest,
  Forwarder,
  HeadRewriter,
  UpstreamHead,
} from '../forwarder.js';

/** Connection pools shared by every forward of a gateway instance. */
export interface NodeAgents {
  readonly http: HttpAgent;
  readonly https: HttpsAgent;
  /** The SSRF guard, also applied to literal addresses (which skip DNS lookup). */
  readonly refuseAddress?: (address: string) => string | undefined;
  destroy(): void;
}

/** Options for {@link createNodeAgents}. */
export interface NodeAgentsOptions {
  /** Why a resolved address must not be connected to (SSRF guard), or undefined to allow it. */
  readonly refuseAddress?: (address: string) => string | undefined;
}

/** Resolves like `dns.lookup`, then refuses blocked addresses, so a name that resolves there is caught too. */
function guardedLookup(refuse: (address: string) => string | undefined): LookupFunction {
  return (hostname, options, callback) => {
    lookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, '', 0);
      const list = addresses as LookupAddress[];
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
  const agentOptions = {
    keepAlive: true,
    keepAliveMsecs: 1000,
    maxFreeSockets: 256,
    scheduling: 'lifo' as const,
    ...(options.refuseAddress && { lookup: guardedLookup(options.refuseAddress) }),
  };
  const http = new HttpAgent(agentOptions);
  const https = new HttpsAgent(agentOptions);
  return {
    http,
    https,
    refuseAddress: options.refuseAddress,
    destroy: () => {
      http.destroy();
      https.destroy();
    },
  };
}

/** A parsed upstream URL and the SSRF verdict on its literal host, kept per URL: replicas are few and stable. */
interface Target {
  readonly secure: boolean;
  readonly protocol: string;
  readonly hostname: string;
  readonly port: string | number;
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
  const secure = url.protocol === 'https:';
  const hostname = url.hostname.replace(/^\[|\]$/g, '');
  const reason = agents.refuseAddress?.(hostname);
  const target: Target = {
    secure,
    protocol: url.protocol,
    hostname,
    port: url.port || (secure ? 443 : 80),
    path: `${url.pathname}${url.search}`,
    blocked: reason && `${hostname} is ${reason}`,
  };
  if (targets.size >= MAX_TARGETS) targets.clear();
  targets.set(rawUrl, target);
  return target;
}

function failureOf(err: NodeJS.ErrnoException): ForwardOutcome {
  if (err.code === 'ECONNREFUSED') return { ok: false, failure: 'refused', message: 'connection refused' };
  if (err.code === 'EADDRBLOCKED') return { ok: false, failure: 'error', message: err.message };
  return { ok: false, failure: 'error', message: err.code ?? err.message };
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
        new NodeExchange(outgoing, rewrite, done, resolve, request).start(agents, target, request);
      });
    },
  };
}

// Each emitter of an exchange (the upstream request and response, the client response) carries the exchange
// under this key, so the listeners below are shared functions rather than closures made per request: at
// thousands of requests per second those closures, and what they capture, are most of the forwarder's cost.
const EXCHANGE = Symbol('mcp-gateway.node-exchange');
type Carrier = { [EXCHANGE]?: NodeExchange };
const exchangeOf = (emitter: object) => (emitter as Carrier)[EXCHANGE]!;

/** One forward: its state, and what it still owes (the outcome, and `done` once the exchange is over). */
class NodeExchange {
  settled = false;
  private finished = false;
  connectTimer: ReturnType<typeof setTimeout> | undefined;
  upstream: ClientRequest | undefined;
  /** Dropped once the head is written: it holds the whole exchange, and a stream may run for hours. */
  rewrite: HeadRewriter | undefined;
  readonly connectTimeoutMs: number;
  readonly idleTimeoutMs: number;

  constructor(
    readonly outgoing: ServerResponse,
    rewrite: HeadRewriter,
    private readonly done: DoneCallback,
    private readonly resolve: (outcome: ForwardOutcome) => void,
    request: ForwardRequest,
  ) {
    this.rewrite = rewrite;
    this.connectTimeoutMs = request.connectTimeoutMs;
    this.idleTimeoutMs = request.idleTimeoutMs;
  }

  start(agents: NodeAgents, target: Target, request: ForwardRequest): void {
    const { secure } = target;
    const upstream = (secure ? httpsRequest : httpRequest)({
      agent: secure ? agents.https : agents.http,
      protocol: target.protocol,
      hostname: target.hostname,
      port: target.port,
      path: target.path,
      method: request.method,
      headers: request.body
        ? { ...request.headers, 'content-length': String(request.body.byteLength) }
        : request.headers,
      // Socket inactivity: covers waiting for the head and silence in the middle of a stream.
      timeout: this.idleTimeoutMs,
    });
    this.upstream = upstream;
    (upstream as Carrier)[EXCHANGE] = this;
    (this.outgoing as Carrier)[EXCHANGE] = this;
    upstream.once('socket', onUpstreamSocket);
    upstream.on('timeout', onUpstreamIdle);
    upstream.on('error', onUpstreamError);
    upstream.once('response', onUpstreamResponse);
    // A client that goes away must not leave an upstream request (and its connection) behind; the response
    // closes when the client's connection does, so this covers an aborted request too.
    this.outgoing.once('close', onClientClose);
    upstream.end(request.body);
  }

  finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.done();
  }

  fail(outcome: ForwardOutcome): void {
    if (this.settled) return;
    this.settled = true;
    this.finish();
    this.resolve(outcome);
  }

  writeHead(res: IncomingMessage, client: ClientHead): void {
    if (this.settled) {
      res.destroy();
      return;
    }
    this.settled = true;
    const { outgoing } = this;
    outgoing.writeHead(client.status, client.headers);
    // SSE clients need the head now, not with the first event; a JSON answer goes out with its body in one write.
    if (client.headers['content-type']?.startsWith('text/event-stream')) outgoing.flushHeaders();
    (res as Carrier)[EXCHANGE] = this;
    res.pipe(outgoing);
    res.once('end', onUpstreamEnd);
    res.once('error', onUpstreamBodyError);
    this.resolve({ ok: true, status: client.status, response: RESPONSE_ALREADY_SENT });
  }

  failRewrite(res: IncomingMessage, err: unknown): void {
    res.destroy();
    this.fail({ ok: false, failure: 'error', message: err instanceof Error ? err.message : String(err) });
  }
}

/** The upstream's head, as the proxy reads it. */
class NodeUpstreamHead implements UpstreamHead {
  readonly status: number;
  constructor(private readonly res: IncomingMessage) {
    this.status = res.statusCode ?? 502;
  }
  header(name: string): string | undefined {
    const value = this.res.headers[name];
    return Array.isArray(value) ? value.join(', ') : value;
  }
}

function onUpstreamSocket(this: ClientRequest, socket: Socket): void {
  // A pooled socket is connected already; only a new connection can time out while connecting.
  if (!socket.connecting) return;
  const x = exchangeOf(this);
  x.connectTimer = setTimeout(onConnectTimeout, x.connectTimeoutMs, x);
  socket.once('connect', () => clearTimeout(x.connectTimer));
}

function onConnectTimeout(x: NodeExchange): void {
  x.fail({ ok: false, failure: 'connect-timeout', message: `no connection within ${x.connectTimeoutMs} ms` });
  x.upstream?.destroy();
}

function onUpstreamIdle(this: ClientRequest): void {
  const x = exchangeOf(this);
  // Before the head, the proxy answers 504; mid-stream, cutting the client lets it reconnect and resume.
  if (x.settled) x.outgoing.destroy();
  else x.fail({ ok: false, failure: 'timeout', message: `no response within ${x.idleTimeoutMs} ms` });
  this.destroy();
}

function onUpstreamError(this: ClientRequest, err: NodeJS.ErrnoException): void {
  const x = exchangeOf(this);
  clearTimeout(x.connectTimer);
  if (!x.settled) x.fail(failureOf(err));
  else if (!x.outgoing.writableEnded) x.outgoing.destroy();
}

function onClientClose(this: ServerResponse): void {
  const x = exchangeOf(this);
  if (x.upstream && !x.upstream.destroyed) x.upstream.destroy();
  x.finish();
}

function onUpstreamResponse(this: ClientRequest, res: IncomingMessage): void {
  const x = exchangeOf(this);
  clearTimeout(x.connectTimer);
  const rewrite = x.rewrite!;
  x.rewrite = undefined;
  try {
    const rewritten = rewrite(new NodeUpstreamHead(res));
    if (rewritten instanceof Promise) {
      // Only a new session's head is async (sealing its id); a closure per such request is fine.
      rewritten.then(
        (client) => x.writeHead(res, client),
        (err: unknown) => x.failRewrite(res, err),
      );
    } else x.writeHead(res, rewritten);
  } catch (err) {
    x.failRewrite(res, err);
  }
}

function onUpstreamEnd(this: IncomingMessage): void {
  exchangeOf(this).finish();
}

function onUpstreamBodyError(this: IncomingMessage): void {
  exchangeOf(this).outgoing.destroy();
}
