/**
 * @module NodeForwarder: the hot path on Node. Pipes the client's `ServerResponse` and an `http.request` to the
 * upstream both ways, without Fetch objects in between (ARCHITECTURE §3, "The hot path on Node").
 */
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import type { ServerResponse } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { lookup } from 'node:dns';
import type { LookupAddress } from 'node:dns';
import type { LookupFunction } from 'node:net';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import type {
  ClientHead,
  DoneCallback,
  ForwardOutcome,
  ForwardRequest,
  Forwarder,
  HeadRewriter,
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
      return new Promise<ForwardOutcome>((resolve) =>
        exchange(agents, outgoing, request, rewrite, done, resolve),
      );
    },
  };
}

/**
 * One forward. The listeners registered here live as long as a stream runs, and V8 keeps every variable any
 * of them captures: they capture the timeouts, not the request (its headers and body), and the rewrite (which
 * holds the whole exchange) only until the head is written. At 5,000 open streams that is ~2 KB each.
 */
function exchange(
  agents: NodeAgents,
  outgoing: ServerResponse,
  request: ForwardRequest,
  rewrite: HeadRewriter,
  done: DoneCallback,
  resolve: (outcome: ForwardOutcome) => void,
): void {
  const target = targetOf(request.url, agents);
  const { connectTimeoutMs, idleTimeoutMs } = request;
  let rewriteHead: HeadRewriter | undefined = rewrite;
  if (target.blocked) {
    done();
    resolve({ ok: false, failure: 'error', message: target.blocked });
    return;
  }
  const secure = target.secure;
  let settled = false;
  let finished = false;
  const finish = () => {
    if (finished) return;
    finished = true;
    done();
  };
  const fail = (outcome: ForwardOutcome) => {
    if (settled) return;
    settled = true;
    finish();
    resolve(outcome);
  };
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
  });

  let connectTimer: ReturnType<typeof setTimeout> | undefined;
  upstream.once('socket', (socket) => {
    if (!socket.connecting) return;
    connectTimer = setTimeout(() => {
      fail({
        ok: false,
        failure: 'connect-timeout',
        message: `no connection within ${connectTimeoutMs} ms`,
      });
      upstream.destroy();
    }, connectTimeoutMs);
    socket.once('connect', () => clearTimeout(connectTimer));
  });
  // Socket inactivity: covers waiting for the head and silence in the middle of a stream.
  upstream.setTimeout(idleTimeoutMs, () => {
    // Before the head, the proxy answers 504; mid-stream, cutting the client lets it reconnect and resume.
    if (settled) outgoing.destroy();
    else
      fail({
        ok: false,
        failure: 'timeout',
        message: `no response within ${idleTimeoutMs} ms`,
      });
    upstream.destroy();
  });
  upstream.on('error', (err: NodeJS.ErrnoException) => {
    clearTimeout(connectTimer);
    if (!settled) fail(failureOf(err));
    else if (!outgoing.writableEnded) outgoing.destroy();
  });
  // A client that goes away must not leave an upstream request (and its connection) behind; the
  // response closes when the client's connection does, so this covers an aborted request too.
  outgoing.once('close', () => {
    if (!upstream.destroyed) upstream.destroy();
    finish();
  });

  upstream.once('response', (res) => {
    clearTimeout(connectTimer);
    const head = {
      status: res.statusCode ?? 502,
      header: (name: string) => {
        const value = res.headers[name];
        return Array.isArray(value) ? value.join(', ') : value;
      },
    };
    const writeHead = (client: ClientHead) => {
      if (settled) {
        res.destroy();
        return;
      }
      settled = true;
      outgoing.writeHead(client.status, client.headers);
      // SSE clients need the head now, not with the first event; a JSON answer goes out with its
      // body in one write.
      if (client.headers['content-type']?.startsWith('text/event-stream')) outgoing.flushHeaders();
      res.pipe(outgoing);
      res.once('end', finish);
      res.once('error', () => outgoing.destroy());
      resolve({ ok: true, status: client.status, response: RESPONSE_ALREADY_SENT });
    };
    const failRewrite = (err: unknown) => {
      res.destroy();
      fail({ ok: false, failure: 'error', message: err instanceof Error ? err.message : String(err) });
    };
    const rewriteNow = rewriteHead!;
    rewriteHead = undefined;
    try {
      const rewritten = rewriteNow(head);
      if (rewritten instanceof Promise) rewritten.then(writeHead, failRewrite);
      else writeHead(rewritten);
    } catch (err) {
      failRewrite(err);
    }
  });
  upstream.end(request.body);
}
