import { describe, expect, it } from 'vitest';
import { parsedBodyOf } from './request-body.js';

const LIMIT = 1024;
const post = (body: string | ReadableStream<Uint8Array>, headers: Record<string, string> = {}) =>
  new Request('http://gw.test/mcp', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
    ...(typeof body !== 'string' && { duplex: 'half' }),
  } as RequestInit);

describe('parsedBodyOf', () => {
  it('hands over a JSON object body parsed, once', async () => {
    const text = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' });
    const read = await parsedBodyOf(post(text, { 'content-length': String(text.length) }), LIMIT);
    expect(read).toMatchObject({ parsedBody: { jsonrpc: '2.0', id: 1, method: 'tools/list' } });
  });

  it('leaves a body without a declared length, or declared over the limit, unread for the SDK', async () => {
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(new TextEncoder().encode('{"a":1}'));
        c.close();
      },
    });
    const unlengthed = post(stream);
    const read = await parsedBodyOf(unlengthed, LIMIT);
    expect(read).toEqual({ request: unlengthed });
    expect(unlengthed.bodyUsed).toBe(false);

    const big = post('{"a":1}', { 'content-length': String(LIMIT + 1) });
    expect(await parsedBodyOf(big, LIMIT)).toEqual({ request: big });
    expect(big.bodyUsed).toBe(false);
  });

  it('hands a body that is not a JSON object or array to the SDK as the text it read', async () => {
    for (const text of ['not json', '42', '"text"', 'null']) {
      const read = await parsedBodyOf(post(text, { 'content-length': String(text.length) }), LIMIT);
      expect(read).not.toHaveProperty('parsedBody');
      if (!('request' in read)) throw new Error('expected a request');
      expect(await read.request.text()).toBe(text);
      expect(read.request.headers.get('content-type')).toBe('application/json');
    }
  });

  it('says when the body could not be read', async () => {
    const failing = new ReadableStream<Uint8Array>({
      pull(c) {
        c.error(new Error('client went away'));
      },
    });
    expect(await parsedBodyOf(post(failing, { 'content-length': '10' }), LIMIT)).toEqual({
      unreadable: true,
    });
  });

  it('reads nothing of a GET', async () => {
    const get = new Request('http://gw.test/mcp');
    expect(await parsedBodyOf(get, LIMIT)).toEqual({ request: get });
  });
});
