/** @module Tests of the data plane's error answers: a refused request as the HTTP answer MCP clients read. */
import { describe, expect, it } from 'vitest';
import { mcpPostHeaders } from '../../test/legacy-requests.js';
import { classifyRequest, isRejection } from './era-classification.js';
import type { EraRejection } from './era-rejections.js';
import { rejectionResponse, requestIdOf, urlElicitationResponse } from './jsonrpc-error.js';

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
      mcpPostHeaders({
        'mcp-protocol-version': '2026-07-28',
        'mcp-method': 'tools/list',
        'mcp-name': 'echo',
      }),
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

describe('the URL elicitation error (-32042)', () => {
  const elicitation = { connectUrl: 'https://gw.example.com/connect/notes', message: 'Connect first.' };

  it('answers a request with its id, HTTP 200, one URL-mode elicitation', async () => {
    const response = urlElicitationResponse(
      requestIdOf({ jsonrpc: '2.0', id: 'a1', method: 'tools/call' }),
      elicitation,
    );
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      jsonrpc: '2.0',
      id: 'a1',
      error: {
        code: -32042,
        message: 'Connect first.',
        data: {
          elicitations: [
            {
              mode: 'url',
              elicitationId: expect.any(String),
              url: elicitation.connectUrl,
              message: 'Connect first.',
            },
          ],
        },
      },
    });
  });

  it('is a 403 with a null id when there is no single request to answer', async () => {
    for (const parsed of [undefined, [{ id: 1, method: 'ping' }], { method: 'notifications/initialized' }]) {
      const response = urlElicitationResponse(requestIdOf(parsed), elicitation);
      expect(response.status).toBe(403);
      expect(((await response.json()) as { id: unknown }).id).toBeNull();
    }
  });
});
