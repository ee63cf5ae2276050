/** @module fetch-io: request-body reading and forwarding with Fetch-API objects only (edge, tests). */
import type { Context } from 'hono';
import type { AppEnv } from '../http/index.js';
import { createFetchForwarder } from './fetch-forwarder.js';
import type { HeaderSource } from './era-classification.js';
import type { Forwarder } from './forwarder.js';

/** Request headers as the proxy reads them: lower-case names. */
export interface RequestHeaders extends HeaderSource {
  forEach(callback: (value: string, name: string) => void): void;
}

/** A request body, as bytes to forward and as text to classify. */
export interface RequestBody {
  readonly bytes: Uint8Array;
  readonly text: string;
}

/** How the proxy reads requests and moves bytes in one runtime. */
export interface ProxyIo {
  forwarderFor(c: Context<AppEnv>): Forwarder;
  /** The inbound headers, without building objects the runtime does not already have. */
  headersOf(c: Context<AppEnv>): RequestHeaders;
  readBody(c: Context<AppEnv>, maxBytes: number): Promise<RequestBody | 'too-large'>;
}

const textDecoder = new TextDecoder();

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
    headersOf: (c) => c.req.raw.headers,
    async readBody(c, maxBytes) {
      const bytes = await readRequestBody(c.req.raw, maxBytes);
      return bytes === 'too-large' ? bytes : { bytes, text: textDecoder.decode(bytes) };
    },
  };
}
