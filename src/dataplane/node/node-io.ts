/**
 * @module node-io: on a Node server, reads the request body straight from the `IncomingMessage` and forwards
 * with {@link createNodeForwarder}; falls back to Fetch objects when there are no Node bindings.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Context } from 'hono';
import type { AppEnv } from '../../http/index.js';
import { createFetchIo } from '../fetch-io.js';
import type { ProxyIo, RequestBody, RequestHeaders } from '../fetch-io.js';
import { createNodeForwarder } from './node-forwarder.js';
import type { NodeAgents } from './node-forwarder.js';

interface NodeBindings {
  incoming: IncomingMessage;
  outgoing: ServerResponse;
}

function bindingsOf(c: Context<AppEnv>): NodeBindings | undefined {
  const env = c.env as Partial<NodeBindings> | undefined;
  return env?.incoming && env.outgoing ? (env as NodeBindings) : undefined;
}

/** Node has already parsed the headers into a plain object; read that instead of building a `Headers`. */
export function headersOfIncoming(incoming: IncomingMessage): RequestHeaders {
  const parsed = incoming.headers;
  const text = (value: string | string[] | undefined) => (Array.isArray(value) ? value.join(', ') : value);
  return {
    get: (name) => text(parsed[name]) ?? null,
    forEach(callback) {
      for (const name of Object.keys(parsed)) {
        const value = text(parsed[name]);
        if (value !== undefined) callback(value, name);
      }
    },
  };
}

/** Reads a request body up to `maxBytes`; 'too-large' (and the rest left unread) beyond. */
export function readIncoming(
  incoming: IncomingMessage,
  maxBytes: number,
): Promise<RequestBody | 'too-large'> {
  const declared = Number(incoming.headers['content-length'] ?? NaN);
  if (declared > maxBytes) return Promise.resolve('too-large');
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.byteLength;
      if (size > maxBytes) {
        incoming.off('data', onData);
        // Stop reading; the 413 goes out with `Connection: close`.
        incoming.pause();
        resolve('too-large');
        return;
      }
      chunks.push(chunk);
    };
    incoming.on('data', onData);
    incoming.once('end', () => {
      const bytes = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
      resolve({ bytes, text: bytes.toString('utf8') });
    });
    incoming.once('error', reject);
  });
}

/** Node-native I/O sharing one set of connection pools. */
export function createNodeIo(agents: NodeAgents): ProxyIo {
  const fallback = createFetchIo();
  return {
    forwarderFor(c) {
      const node = bindingsOf(c);
      return node ? createNodeForwarder(agents, node.outgoing) : fallback.forwarderFor(c);
    },
    headersOf(c) {
      const node = bindingsOf(c);
      return node ? headersOfIncoming(node.incoming) : fallback.headersOf(c);
    },
    readBody(c, maxBytes) {
      const node = bindingsOf(c);
      return node ? readIncoming(node.incoming, maxBytes) : fallback.readBody(c, maxBytes);
    },
  };
}
