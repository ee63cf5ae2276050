/** @module Tests of the data plane's error answers: a refused request as the HTTP answer MCP clients read. */
import { describe, expect, it } from 'vitest';
import { classifyRequest, isRejection } from './era-classification.js';
import type { EraRejection } from './era-rejections.js';
import { rejectionResponse } from './jsonrpc-error.js';

/** The rejection of a request the transport rules refuse. */
function refused(method: string, headers: Record<string, string>, body?: unknown): EraRejection {
  const result = classifyRequest(method, new Headers(headers), body);
  if (!isRejection(result)) throw new Error(`expected a rejection, got ${JSON.stringify(result)}`);
  return result;
}

describe('rejectionResponse', () => {
  it('renders the status and a JSON-RPC error with a null id', async () => {
    const rejection = refused(
      'POST',
      {
        accept: 'application/json, text/event-stream',
        'content-type': 'application/json',
        'mcp-protocol-version': '2026-07-28',
        'mcp-method': 'tools/list',
        'mcp-name': 'echo',
      },
      { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { message: 'hi' } } },
    );
    const response = rejectionResponse(rejection);
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(response.headers.get('allow')).toBeNull();
    expect(await response.json()).toEqual({
      jsonrpc: '2.0',
      id: null,
      error: { code: -32020, message: expect.stringMatching(/^Header mismatch: Mcp-Method "tools\/list"/) },
    });
  });

  it('sets Allow on 405', () => {
    const response = rejectionResponse(refused('GET', { 'mcp-protocol-version': '2026-07-28' }));
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('POST');
  });
});
