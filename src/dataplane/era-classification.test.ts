/**
 * @module Era classification tests: real requests of each protocol revision, and every refusal the transport
 * rules require.
 */
import { describe, expect, it } from 'vitest';
import { legacyInitialize, mcpPostHeaders } from '../../test/legacy-requests.js';
import { classifyRequest, isRejection, parseJsonBody, UNPARSEABLE_BODY } from './era-classification.js';
import type { Classification } from './era-classification.js';
import { JSON_RPC_ERROR, SUPPORTED_PROTOCOL_VERSIONS } from './mcp-protocol.js';

const BOTH = 'application/json, text/event-stream';
const SEALED = 'v1.sealed-session-id';

const post = (headers: Record<string, string>, body: unknown): Classification =>
  classifyRequest('POST', new Headers(mcpPostHeaders(headers)), body);

const initialize = (protocolVersion: string) =>
  legacyInitialize({ protocolVersion, id: 0, clientName: 'test-client', clientVersion: '1.0.0' });
const toolsCall = (id: number | string, name = 'echo') => ({
  jsonrpc: '2.0',
  id,
  method: 'tools/call',
  params: { name, arguments: { message: 'hi' } },
});
const modernHeaders = (method: string, name?: string): Record<string, string> => ({
  'mcp-protocol-version': '2026-07-28',
  'mcp-method': method,
  ...(name === undefined ? {} : { 'mcp-name': name }),
});

function rejection(result: Classification) {
  if (!isRejection(result)) throw new Error(`expected a rejection, got ${JSON.stringify(result)}`);
  return result.error;
}

describe('classifyRequest: legacy era', () => {
  it.each([
    ['2025-03-26', '2025-03-26'],
    ['2025-06-18', '2025-06-18'],
    ['2025-11-25', '2025-11-25'],
  ])('initialize asking for %s takes the version from params.protocolVersion', (asked, version) => {
    expect(post({}, initialize(asked))).toEqual({
      era: 'legacy',
      kind: 'initialize',
      version,
      sessionId: undefined,
      id: 0,
      requestedVersion: asked,
    });
  });

  it('initialize asking for an unknown version is still legacy: the upstream negotiates', () => {
    expect(post({}, initialize('2024-11-05'))).toMatchObject({
      era: 'legacy',
      kind: 'initialize',
      version: '2025-11-25',
      requestedVersion: '2024-11-05',
    });
  });

  it('initialize without params.protocolVersion → 400 invalid params', () => {
    const error = rejection(post({}, { jsonrpc: '2.0', id: 1, method: 'initialize', params: {} }));
    expect(error).toMatchObject({ status: 400, jsonRpcCode: JSON_RPC_ERROR.invalidParams });
  });

  it('tools/call with MCP-Protocol-Version 2025-06-18 and a session id', () => {
    expect(post({ 'mcp-protocol-version': '2025-06-18', 'mcp-session-id': SEALED }, toolsCall(7))).toEqual({
      era: 'legacy',
      kind: 'request',
      version: '2025-06-18',
      sessionId: SEALED,
      id: 7,
      method: 'tools/call',
      name: 'echo',
    });
  });

  it('a POST without MCP-Protocol-Version is 2025-03-26', () => {
    expect(post({ 'mcp-session-id': SEALED }, { jsonrpc: '2.0', id: 'a', method: 'tools/list' })).toEqual({
      era: 'legacy',
      kind: 'request',
      version: '2025-03-26',
      sessionId: SEALED,
      id: 'a',
      method: 'tools/list',
      name: undefined,
    });
  });

  it('resources/read reports params.uri as the name', () => {
    const body = { jsonrpc: '2.0', id: 3, method: 'resources/read', params: { uri: 'file:///a.txt' } };
    expect(post({ 'mcp-protocol-version': '2025-11-25' }, body)).toMatchObject({ name: 'file:///a.txt' });
  });

  it('notifications/initialized', () => {
    const body = { jsonrpc: '2.0', method: 'notifications/initialized' };
    expect(post({ 'mcp-protocol-version': '2025-11-25', 'mcp-session-id': SEALED }, body)).toEqual({
      era: 'legacy',
      kind: 'notification',
      version: '2025-11-25',
      sessionId: SEALED,
      method: 'notifications/initialized',
    });
  });

  it('a response to a server-initiated request (result and error forms)', () => {
    const headers = { 'mcp-protocol-version': '2025-06-18', 'mcp-session-id': SEALED };
    expect(post(headers, { jsonrpc: '2.0', id: 'srv-1', result: { roots: [] } })).toEqual({
      era: 'legacy',
      kind: 'response',
      version: '2025-06-18',
      sessionId: SEALED,
      id: 'srv-1',
    });
    const error = { jsonrpc: '2.0', id: null, error: { code: -32603, message: 'boom' } };
    expect(post(headers, error)).toMatchObject({ kind: 'response', id: null });
  });

  it('GET with Last-Event-ID resumes a stream', () => {
    const headers = new Headers({
      accept: 'text/event-stream',
      'mcp-protocol-version': '2025-11-25',
      'mcp-session-id': SEALED,
      'last-event-id': 'stream-2:17',
    });
    expect(classifyRequest('GET', headers)).toEqual({
      era: 'legacy',
      kind: 'stream',
      version: '2025-11-25',
      sessionId: SEALED,
      lastEventId: 'stream-2:17',
    });
  });

  it('GET without text/event-stream in Accept → 406', () => {
    const headers = new Headers({ accept: 'application/json', 'mcp-session-id': SEALED });
    expect(rejection(classifyRequest('GET', headers))).toMatchObject({ status: 406 });
  });

  it('DELETE ends a session and is legacy by definition', () => {
    const headers = new Headers({ 'mcp-session-id': SEALED });
    expect(classifyRequest('DELETE', headers)).toEqual({
      era: 'legacy',
      kind: 'terminate',
      version: '2025-03-26',
      sessionId: SEALED,
    });
  });

  it('a 2025-03-26 batch (no header) is accepted and counted', () => {
    const batch = [
      { jsonrpc: '2.0', id: 1, method: 'ping' },
      { jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 1, progress: 1 } },
      { jsonrpc: '2.0', id: 2, method: 'tools/list' },
    ];
    expect(post({ 'mcp-session-id': SEALED }, batch)).toEqual({
      era: 'legacy',
      kind: 'batch',
      version: '2025-03-26',
      sessionId: SEALED,
      size: 3,
      requests: 2,
    });
    expect(post({ 'mcp-protocol-version': '2025-03-26' }, batch)).toMatchObject({ kind: 'batch' });
  });

  it('a batch of responses only is accepted with 0 requests', () => {
    const batch = [
      { jsonrpc: '2.0', id: 's1', result: {} },
      { jsonrpc: '2.0', id: 's2', error: { code: 1, message: 'no' } },
    ];
    expect(post({}, batch)).toMatchObject({ kind: 'batch', size: 2, requests: 0 });
  });

  it.each(['2025-06-18', '2025-11-25', '2026-07-28'])(
    'a batch from a %s client → 400 naming the removal',
    (v) => {
      const headers = { 'mcp-protocol-version': v, 'mcp-method': 'ping' };
      const error = rejection(post(headers, [{ jsonrpc: '2.0', id: 1, method: 'ping' }]));
      expect(error).toMatchObject({ status: 400, jsonRpcCode: JSON_RPC_ERROR.invalidRequest });
      expect(error.message).toContain(`not supported in protocol version ${v}`);
      expect(error.message).toContain('removed in 2025-06-18');
    },
  );

  it.each<[string, unknown[]]>([
    ['empty', []],
    ['initialize inside', [initialize('2025-03-26')]],
    [
      'calls mixed with responses',
      [
        { jsonrpc: '2.0', id: 1, method: 'ping' },
        { jsonrpc: '2.0', id: 2, result: {} },
      ],
    ],
    [
      'an invalid member',
      [
        { jsonrpc: '2.0', id: 1, method: 'ping' },
        { jsonrpc: '1.0', id: 2, method: 'ping' },
      ],
    ],
    ['a non-object member', [{ jsonrpc: '2.0', id: 1, method: 'ping' }, 42]],
  ])('a 2025-03-26 batch with %s → 400 -32600', (_label, batch) => {
    expect(rejection(post({}, batch))).toMatchObject({
      status: 400,
      jsonRpcCode: JSON_RPC_ERROR.invalidRequest,
    });
  });

  it('mirrored Mcp-Method/Mcp-Name on a legacy request are checked, not trusted', () => {
    const headers = { 'mcp-protocol-version': '2025-11-25', 'mcp-method': 'tools/call', 'mcp-name': 'echo' };
    expect(post(headers, toolsCall(1))).toMatchObject({ era: 'legacy', name: 'echo' });
    const spoofed = { ...headers, 'mcp-name': 'harmless' };
    expect(rejection(post(spoofed, toolsCall(1)))).toMatchObject({
      status: 400,
      jsonRpcCode: JSON_RPC_ERROR.headerMismatch,
    });
    const wrongMethod = { ...headers, 'mcp-method': 'tools/list' };
    expect(rejection(post(wrongMethod, toolsCall(1)))).toMatchObject({
      jsonRpcCode: JSON_RPC_ERROR.headerMismatch,
    });
  });

  it('an empty Mcp-Session-Id counts as absent', () => {
    expect(post({ 'mcp-session-id': '' }, toolsCall(1))).toMatchObject({ sessionId: undefined });
  });
});

describe('classifyRequest: modern era (2026-07-28)', () => {
  it('tools/call with matching Mcp-Method and Mcp-Name', () => {
    expect(post(modernHeaders('tools/call', 'echo'), toolsCall(9))).toEqual({
      era: 'modern',
      version: '2026-07-28',
      kind: 'request',
      id: 9,
      method: 'tools/call',
      name: 'echo',
    });
  });

  it('resources/read and prompts/get mirror params.uri and params.name', () => {
    const read = { jsonrpc: '2.0', id: 1, method: 'resources/read', params: { uri: 'mem://x/1' } };
    expect(post(modernHeaders('resources/read', 'mem://x/1'), read)).toMatchObject({ name: 'mem://x/1' });
    const prompt = { jsonrpc: '2.0', id: 2, method: 'prompts/get', params: { name: 'greet', arguments: {} } };
    expect(post(modernHeaders('prompts/get', 'greet'), prompt)).toMatchObject({ name: 'greet' });
  });

  it('server/discover needs no Mcp-Name; a stray Mcp-Name is ignored, never surfaced', () => {
    const body = { jsonrpc: '2.0', id: 1, method: 'server/discover', params: {} };
    expect(post(modernHeaders('server/discover'), body)).toMatchObject({
      era: 'modern',
      method: 'server/discover',
      name: undefined,
    });
    expect(post(modernHeaders('server/discover', 'x'), body)).toMatchObject({ name: undefined });
  });

  it('a notification checks Mcp-Method', () => {
    const body = { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 3 } };
    expect(post(modernHeaders('notifications/cancelled'), body)).toEqual({
      era: 'modern',
      version: '2026-07-28',
      kind: 'notification',
      method: 'notifications/cancelled',
    });
  });

  it('ignores Mcp-Session-Id (modern has no sessions)', () => {
    const result = post({ ...modernHeaders('tools/call', 'echo'), 'mcp-session-id': SEALED }, toolsCall(1));
    expect(result).not.toHaveProperty('sessionId');
  });

  it.each<[string, Record<string, string>, unknown]>([
    ['Mcp-Method differs from method', modernHeaders('tools/list', 'echo'), toolsCall(1)],
    ['Mcp-Method missing', { 'mcp-protocol-version': '2026-07-28', 'mcp-name': 'echo' }, toolsCall(1)],
    ['Mcp-Method differs only in case', modernHeaders('Tools/Call', 'echo'), toolsCall(1)],
    ['Mcp-Name differs from params.name', modernHeaders('tools/call', 'other'), toolsCall(1)],
    ['Mcp-Name missing on tools/call', modernHeaders('tools/call'), toolsCall(1)],
    [
      'Mcp-Name but params.name missing',
      modernHeaders('tools/call', 'echo'),
      { ...toolsCall(1), params: {} },
    ],
    [
      'Mcp-Name differs from params.uri',
      modernHeaders('resources/read', 'mem://a'),
      { jsonrpc: '2.0', id: 1, method: 'resources/read', params: { uri: 'mem://b' } },
    ],
  ])('%s → 400 HeaderMismatch (-32020)', (_label, headers, body) => {
    const error = rejection(post(headers, body));
    expect(error).toMatchObject({ status: 400, jsonRpcCode: -32020 });
    expect(error.message).toMatch(/^Header mismatch: /);
  });

  it('a response body → 400 -32600 (modern clients do not answer server requests)', () => {
    const error = rejection(post(modernHeaders('ping'), { jsonrpc: '2.0', id: 1, result: {} }));
    expect(error).toMatchObject({ status: 400, jsonRpcCode: JSON_RPC_ERROR.invalidRequest });
  });

  it.each(['GET', 'DELETE'])('modern %s → 405 with Allow: POST', (method) => {
    const headers = new Headers({ 'mcp-protocol-version': '2026-07-28', accept: 'text/event-stream' });
    expect(rejection(classifyRequest(method, headers))).toMatchObject({ status: 405, allow: 'POST' });
  });
});

describe('classifyRequest: refusals', () => {
  it.each(['2024-11-05', '2026-01-01', 'latest', ''])('unsupported MCP-Protocol-Version %j → 400', (v) => {
    const error = rejection(post({ 'mcp-protocol-version': v }, toolsCall(1)));
    expect(error).toMatchObject({ status: 400, jsonRpcCode: JSON_RPC_ERROR.transportError });
    expect(error.message).toContain('unsupported MCP-Protocol-Version');
    for (const supported of SUPPORTED_PROTOCOL_VERSIONS) expect(error.message).toContain(supported);
  });

  it('an unsupported version on GET → 400 too', () => {
    const headers = new Headers({ 'mcp-protocol-version': '2099-01-01', accept: 'text/event-stream' });
    expect(rejection(classifyRequest('GET', headers))).toMatchObject({ status: 400 });
  });

  it('echoes a huge header value only in part', () => {
    const error = rejection(post({ 'mcp-protocol-version': 'x'.repeat(10_000) }, toolsCall(1)));
    expect(error.message.length).toBeLessThan(400);
  });

  it.each(['PUT', 'PATCH', 'HEAD', 'OPTIONS'])('%s → 405 with Allow', (method) => {
    expect(rejection(classifyRequest(method, new Headers()))).toMatchObject({
      status: 405,
      allow: 'GET, POST, DELETE',
    });
  });

  it.each([
    ['missing', undefined],
    ['JSON only', 'application/json'],
    ['SSE only', 'text/event-stream'],
    ['json-seq is not json', 'application/json-seq, text/event-stream'],
  ])('POST with Accept %s → 406', (_label, accept) => {
    const headers = new Headers({ 'content-type': 'application/json' });
    if (accept !== undefined) headers.set('accept', accept);
    expect(rejection(classifyRequest('POST', headers, toolsCall(1)))).toMatchObject({ status: 406 });
  });

  it.each([
    '*/*',
    'application/json;q=0.9, text/event-stream;q=1',
    'application/*, text/*',
    'TEXT/EVENT-STREAM,APPLICATION/JSON',
  ])('POST with Accept %j is acceptable', (accept) => {
    expect(post({ accept }, toolsCall(1))).toMatchObject({ era: 'legacy' });
  });

  it.each([undefined, 'text/plain', 'application/jsonp', 'application/x-www-form-urlencoded'])(
    'POST with Content-Type %j → 415',
    (type) => {
      const headers = new Headers({ accept: BOTH });
      if (type !== undefined) headers.set('content-type', type);
      expect(rejection(classifyRequest('POST', headers, toolsCall(1)))).toMatchObject({ status: 415 });
    },
  );

  it('accepts Content-Type with a charset', () => {
    expect(post({ 'content-type': 'application/json; charset=utf-8' }, toolsCall(1))).toMatchObject({
      kind: 'request',
    });
  });

  it.each([
    ['garbage text', '{"jsonrpc":"2.0",'],
    ['an empty body', ''],
  ])('%s → 400 -32700 parse error', (_label, text) => {
    expect(rejection(post({}, parseJsonBody(text)))).toMatchObject({
      status: 400,
      jsonRpcCode: JSON_RPC_ERROR.parseError,
    });
    expect(parseJsonBody(text)).toBe(UNPARSEABLE_BODY);
  });

  it.each<[string, unknown]>([
    ['a JSON string', 'tools/call'],
    ['null', null],
    ['no jsonrpc member', { id: 1, method: 'ping' }],
    ['jsonrpc 1.0', { jsonrpc: '1.0', id: 1, method: 'ping' }],
    ['jsonrpc as a number', { jsonrpc: 2.0, id: 1, method: 'ping' }],
    ['a null id on a request', { jsonrpc: '2.0', id: null, method: 'ping' }],
    ['a boolean id', { jsonrpc: '2.0', id: true, method: 'ping' }],
    ['an object id', { jsonrpc: '2.0', id: { n: 1 }, method: 'ping' }],
    ['a numeric method', { jsonrpc: '2.0', id: 1, method: 5 }],
    ['array params', { jsonrpc: '2.0', id: 1, method: 'tools/call', params: ['echo'] }],
    [
      'a response with result and error',
      { jsonrpc: '2.0', id: 1, result: {}, error: { code: 1, message: 'x' } },
    ],
    ['a response with neither', { jsonrpc: '2.0', id: 1 }],
    ['a result response without id', { jsonrpc: '2.0', result: {} }],
  ])('%s → 400 -32600 invalid request', (_label, body) => {
    expect(rejection(post({}, body))).toMatchObject({
      status: 400,
      jsonRpcCode: JSON_RPC_ERROR.invalidRequest,
    });
  });

  it('malformed JSON-RPC in the modern era is -32600 as well, before any header check', () => {
    const error = rejection(
      post(modernHeaders('tools/call', 'echo'), { jsonrpc: '2.0', id: false, method: 'x' }),
    );
    expect(error).toMatchObject({ status: 400, jsonRpcCode: JSON_RPC_ERROR.invalidRequest });
  });

  it('fixed refusals are shared frozen objects (no allocation on the reject path)', () => {
    const a = post({}, UNPARSEABLE_BODY);
    const b = post({}, UNPARSEABLE_BODY);
    expect(a).toBe(b);
    expect(Object.isFrozen(rejection(a))).toBe(true);
  });
});
