/**
 * @module NodeForwarder: the hot path on Node. Pipes the client's `ServerResponse` and an `http.request` to the
 * upstream both ways, without Fetch objects in between (ARCHITECTURE §3, "The hot path on Node").
 */
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import type { DoneCallback, ForwardOutcome, ForwardRequest, Forwarder, HeadRewriter } from '../forwarder.js';

/** Connection pools shared by every forward of a gateway instance. */
export interface NodeAgents {
  readonly http: HttpAgent;
  readonly https: HttpsAgent;
  destroy(): void;
}

/**
 * Keep-alive pools without a socket cap: a bounded pool shared by short calls and long-lived SSE streams lets
 * open streams starve every other request, so each stream simply gets its own connection.
 */
export function createNodeAgents(): NodeAgents {
  const options = { keepAlive: true, keepAliveMsecs: 1000, maxFreeSockets: 256, scheduling: 'lifo' as const };
  const http = new HttpAgent(options);
  const https = new HttpsAgent(options);
  return {
    http,
    https,
    destroy: () => {
      http.destroy();
      https.destroy();
    },
  };
}

function failureOf(err: NodeJS.ErrnoException): ForwardOutcome {
  if (err.code === 'ECONNREFUSED') return { ok: false, failure: 'refused', message: 'connection refused' };
  return { ok: false, failure: 'error', message: err.code ?? err.message };
}

/** A forwarder bound to one client exchange on a Node server. */
export function createNodeForwarder(
  agents: NodeAgents,
  incoming: IncomingMessage,
  outgoing: ServerResponse,
): Forwarder {
  return {
    forward(request: ForwardRequest, rewrite: HeadRewriter, done: DoneCallback): Promise<ForwardOutcome> {
      return new Promise<ForwardOutcome>((resolve) => {
        const url = new URL(request.url);
        const secure = url.protocol === 'https:';
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
          protocol: url.protocol,
          hostname: url.hostname.replace(/^\[|\]$/g, ''),
          port: url.port || (secure ? 443 : 80),
          path: `${url.pathname}${url.search}`,
          method: request.method,
          headers: request.body
            ? { ...request.headers, 'content-length': String(request.body.byteLength) }
            : request.headers,
        });

        let connectTimer: ReturnType<typeof setTimeout> | undefined;
        upstream.on('socket', (socket) => {
          if (!socket.connecting) return;
          connectTimer = setTimeout(() => {
            fail({
              ok: false,
              failure: 'connect-timeout',
              message: `no connection within ${request.connectTimeoutMs} ms`,
            });
            upstream.destroy();
          }, request.connectTimeoutMs);
          socket.once('connect', () => clearTimeout(connectTimer));
        });
        // Socket inactivity: covers waiting for the head and silence in the middle of a stream.
        upstream.setTimeout(request.idleTimeoutMs, () => {
          // Before the head, the proxy answers 504; mid-stream, cutting the client lets it reconnect and resume.
          if (settled) outgoing.destroy();
          else
            fail({
              ok: false,
              failure: 'timeout',
              message: `no response within ${request.idleTimeoutMs} ms`,
            });
          upstream.destroy();
        });
        upstream.on('error', (err: NodeJS.ErrnoException) => {
          clearTimeout(connectTimer);
          if (!settled) fail(failureOf(err));
          else if (!outgoing.writableEnded) outgoing.destroy();
        });
        // A client that goes away must not leave an upstream request (and its connection) behind.
        outgoing.once('close', () => {
          if (!upstream.destroyed) upstream.destroy();
          finish();
        });
        incoming.once('aborted', () => upstream.destroy());

        upstream.on('response', (res) => {
          clearTimeout(connectTimer);
          const head = {
            status: res.statusCode ?? 502,
            header: (name: string) => {
              const value = res.headers[name];
              return Array.isArray(value) ? value.join(', ') : value;
            },
            names: Object.keys(res.headers),
          };
          Promise.resolve(rewrite(head)).then(
            (client) => {
              if (settled) {
                res.destroy();
                return;
              }
              settled = true;
              outgoing.writeHead(client.status, client.headers);
              // SSE clients need the head now, not with the first event.
              outgoing.flushHeaders();
              res.pipe(outgoing);
              res.once('end', finish);
              res.once('error', () => outgoing.destroy());
              resolve({ ok: true, status: client.status, response: RESPONSE_ALREADY_SENT });
            },
            (err: unknown) => {
              res.destroy();
              fail({
                ok: false,
                failure: 'error',
                message: err instanceof Error ? err.message : String(err),
              });
            },
          );
        });
        upstream.end(request.body);
      });
    },
  };
}
