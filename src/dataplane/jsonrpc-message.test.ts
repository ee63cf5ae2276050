/** @module Tests of JSON-RPC message parsing: what each accepted message becomes, and what is refused. */
import { describe, expect, it } from 'vitest';
import { BAD_ID, BAD_PARAMS, BAD_RESPONSE, NOT_AN_OBJECT } from './era-rejections.js';
import { parseMessage } from './jsonrpc-message.js';

describe('parseMessage', () => {
  it('a request keeps its id, method and params', () => {
    const params = { name: 'echo', arguments: { message: 'hi' } };
    expect(parseMessage({ jsonrpc: '2.0', id: 'a', method: 'tools/call', params })).toEqual({
      kind: 'request',
      id: 'a',
      method: 'tools/call',
      params,
    });
  });

  it('a notification has no id; params may be absent', () => {
    expect(parseMessage({ jsonrpc: '2.0', method: 'notifications/initialized' })).toEqual({
      kind: 'notification',
      method: 'notifications/initialized',
      params: undefined,
    });
  });

  it('a response names its request; an error response may not', () => {
    expect(parseMessage({ jsonrpc: '2.0', id: 7, result: {} })).toEqual({ kind: 'response', id: 7 });
    const error = { code: -32600, message: 'x' };
    expect(parseMessage({ jsonrpc: '2.0', id: null, error })).toEqual({ kind: 'response', id: null });
    expect(parseMessage({ jsonrpc: '2.0', error })).toEqual({ kind: 'response', id: null });
  });

  it.each([
    ['an array', [], NOT_AN_OBJECT],
    ['a null id on a request', { jsonrpc: '2.0', id: null, method: 'x' }, BAD_ID],
    ['array params', { jsonrpc: '2.0', id: 1, method: 'x', params: [1] }, BAD_PARAMS],
    ['a result without id', { jsonrpc: '2.0', result: {} }, BAD_ID],
    ['both result and error', { jsonrpc: '2.0', id: 1, result: {}, error: {} }, BAD_RESPONSE],
  ])('refuses %s with the shared rejection', (_label, value, expected) => {
    expect(parseMessage(value)).toBe(expected);
  });
});
