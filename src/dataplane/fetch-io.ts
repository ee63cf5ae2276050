/** @module fetch-io: request-body reading and forwarding with Fetch-API objects only (edge, tests). */
import type { Context } from 'hono';
import type { AppEnv } from '../http/index.js';
import { createFetchForwarder } from './fetch-forwarder.js';
import type { Forwarder } from './forwarder.js';

/** How the proxy reads bodies and moves bytes in one runtime. */
export interface ProxyIo {
  forwarderFor(c: Context<AppEnv>): Forwarder;
  readBody(c: Context<AppEnv>, maxBytes: number): Promise<Uint8Array | 'too-large'>;
}

/** Reads a Fetch request body, stopping as soon as it exceeds the limit. */
export async function readRequestBody(request: Request, maxBytes: number): Promise<Uint8Array | 'too-large'> {
  const declared = Number(request.headers.get('content-length') ?? NaN);
  if (declared > maxBytes) return 'too-large';
  if (!request.body) return new Uint8Array();
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      return 'too-large';
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return chunks[0]!;
  const body = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return body;
}

/** Fetch-based I/O, bound to the client's abort signal. */
export function createFetchIo(fetchImpl?: typeof fetch): ProxyIo {
  return {
    forwarderFor: (c) => createFetchForwarder({ fetch: fetchImpl, clientSignal: c.req.raw.signal }),
    readBody: (c, maxBytes) => readRequestBody(c.req.raw, maxBytes),
  };
}
