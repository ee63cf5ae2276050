/**
 * @module node-outbound: the tool router's {@link Outbound} on Node — `http.request` over the data plane's
 * keep-alive agents (whose DNS lookup refuses blocked addresses: the SSRF guard), with a real connect timeout and
 * an exact "was anything sent" verdict for failover. About three times cheaper per call than `fetch` on Node 20.
 */
import { request as httpRequest } from 'node:http';
import type { Agent as HttpAgent, ClientRequest, IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Agent as HttpsAgent } from 'node:https';
import { isIP } from 'node:net';
import { Readable } from 'node:stream';
import { OutboundError, withWholeBody } from '../outbound.js';
import type { Outbound } from '../outbound.js';

/** The agents to send through (the data plane's `NodeAgents` fit) and its SSRF verdict for literal addresses. */
export interface NodeOutboundOptions {
  readonly http: HttpAgent;
  readonly https: HttpsAgent;
  /** Why a literal address must not be connected to; names are checked by the agents' lookup. */
  readonly refuseAddress?: (address: string) => string | undefined;
}

const NULL_BODY_STATUSES = new Set([101, 204, 205, 304]);

/** Reads all of `res` up to `maxBytes` from the Node stream itself; undefined (and `res` destroyed) past it. */
function wholeBodyOf(res: IncomingMessage) {
  return (maxBytes: number) =>
    new Promise<Uint8Array | undefined>((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const done = () => {
        res.off('data', onData);
        res.off('end', onEnd);
        res.off('error', onError);
        res.off('close', onClose);
      };
      const onData = (chunk: Buffer) => {
        size += chunk.length;
        if (size <= maxBytes) return void chunks.push(chunk);
        done();
        res.destroy();
        resolve(undefined);
      };
      const onEnd = () => {
        done();
        resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
      };
      const onError = (error: Error) => {
        done();
        reject(error);
      };
      // Aborted (the deadline, the caller leaving) or cut by the server before the end.
      const onClose = () => {
        done();
        reject(new Error('the connection closed before the whole answer arrived'));
      };
      res.on('data', onData);
      res.once('end', onEnd);
      res.once('error', onError);
      res.once('close', onClose);
    });
}

const isJson = (type: string | undefined) =>
  (type ?? '').split(';')[0]!.trim().toLowerCase() === 'application/json';

function responseOf(res: IncomingMessage, wholeBody: boolean | 'json' | undefined): Response {
  const headers = new Headers();
  for (let i = 0; i < res.rawHeaders.length; i += 2) {
    const name = res.rawHeaders[i]!;
    // The body below is already de-chunked; a Fetch Response must not claim a transfer coding.
    if (name.toLowerCase() !== 'transfer-encoding') headers.append(name, res.rawHeaders[i + 1]!);
  }
  const init = { status: res.statusCode ?? 502, statusText: res.statusMessage ?? '', headers };
  if (NULL_BODY_STATUSES.has(init.status)) {
    res.resume();
    return new Response(null, init);
  }
  if (wholeBody === true || (wholeBody === 'json' && isJson(res.headers['content-type'])))
    return withWholeBody(new Response(null, init), wholeBodyOf(res));
  return new Response(Readable.toWeb(res) as ReadableStream<Uint8Array>, init);
}

/** Builds the Node {@link Outbound}. */
export function createNodeOutbound(options: NodeOutboundOptions): Outbound {
  return (request) =>
    new Promise<Response>((resolve, reject) => {
      let url: URL;
      try {
        url = new URL(request.url);
      } catch {
        reject(OutboundError.of('EINVALIDURL', `invalid URL ${request.url}`, false));
        return;
      }
      const secure = url.protocol === 'https:';
      const host = url.hostname.replace(/^\[|\]$/g, '');
      const blocked = isIP(host) ? options.refuseAddress?.(host) : undefined;
      if (blocked) {
        reject(OutboundError.of('EADDRBLOCKED', `${host} is ${blocked}`));
        return;
      }
      if (request.signal?.aborted) {
        reject(OutboundError.of('ABORTED', 'the request was aborted', false));
        return;
      }
      let connected = false;
      let settled = false;
      let connectTimer: ReturnType<typeof setTimeout> | undefined;
      const fail = (error: OutboundError) => {
        if (settled) return;
        settled = true;
        clearTimeout(connectTimer);
        req.destroy();
        reject(error);
      };
      const req: ClientRequest = (secure ? httpsRequest : httpRequest)({
        protocol: url.protocol,
        hostname: host,
        port: url.port || (secure ? 443 : 80),
        path: url.pathname + url.search,
        method: request.method,
        headers: request.headers,
        agent: secure ? options.https : options.http,
      });
      const onAbort = () => {
        if (!settled) fail(OutboundError.of('ABORTED', 'the request was aborted', connected));
        else req.destroy();
      };
      request.signal?.addEventListener('abort', onAbort, { once: true });
      req.once('socket', (socket) => {
        if (!socket.connecting) {
          connected = true;
          return;
        }
        connectTimer = setTimeout(
          () =>
            fail(
              OutboundError.of(
                'CONNECT_TIMEOUT',
                `no connection to ${url.host} within ${request.connectTimeoutMs} ms`,
              ),
            ),
          request.connectTimeoutMs,
        );
        socket.once('connect', () => {
          connected = true;
          clearTimeout(connectTimer);
        });
      });
      req.once('response', (res) => {
        settled = true;
        clearTimeout(connectTimer);
        res.once('close', () => request.signal?.removeEventListener('abort', onAbort));
        resolve(responseOf(res, request.wholeBody));
      });
      req.once('error', (error: NodeJS.ErrnoException) => {
        const code = error.code ?? 'EREQUEST';
        // Nothing can have been sent before the connection existed. A reset of a reused kept-alive socket is
        // usually the server closing it as idle, but may be a crash mid-call: flagged, and counted as sent.
        fail(OutboundError.of(code, error.message, connected, req.reusedSocket && code === 'ECONNRESET'));
      });
      req.end(request.body);
    });
}
