/**
 * @module Tests of how the 2026-07-28 pool translates between a modern client and a 2025 server: the envelope
 * taken out of a request, a 2025 result given the fields a 2026 client requires, `server/discover` from an
 * `initialize` result. (The pool itself is tested with real peers in stdio-modern-pool.e2e.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import { discoverResult, modernAnswer, stripEnvelope } from './modern-pool.js';

const SERVER = { name: 'srv', version: '1' };

describe('modern pool translation', () => {
  it('takes the 2026 envelope out of _meta and keeps the rest', () => {
    expect(
      stripEnvelope({
        name: 'echo',
        _meta: {
          'io.modelcontextprotocol/protocolVersion': '2026-07-28',
          'io.modelcontextprotocol/clientInfo': { name: 'c', version: '1' },
          'io.modelcontextprotocol/clientCapabilities': {},
          'io.modelcontextprotocol/logLevel': 'info',
          progressToken: 5,
        },
      }),
    ).toEqual({ name: 'echo', _meta: { progressToken: 5 } });
    expect(
      stripEnvelope({ _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28' }, cursor: 'x' }),
    ).toEqual({ cursor: 'x' });
  });

  it('gives a 2025 result resultType, cache fields and serverInfo, without execution', () => {
    const answer = modernAnswer(
      'client-id',
      'tools/list',
      {
        id: 'mcp-gateway-pool-1',
        result: { tools: [{ name: 't', inputSchema: {}, execution: { taskSupport: 'optional' } }] },
      },
      { serverInfo: SERVER },
    );
    expect(answer).toEqual({
      jsonrpc: '2.0',
      id: 'client-id',
      result: {
        tools: [{ name: 't', inputSchema: {} }],
        resultType: 'complete',
        ttlMs: 0,
        cacheScope: 'private',
        _meta: { 'io.modelcontextprotocol/serverInfo': SERVER },
      },
    });
    // tools/call is not cacheable; what the server set is kept.
    const call = modernAnswer(
      1,
      'tools/call',
      { result: { content: [], _meta: { a: 1 } } },
      { serverInfo: SERVER },
    );
    expect(call.result).toEqual({
      content: [],
      resultType: 'complete',
      _meta: { a: 1, 'io.modelcontextprotocol/serverInfo': SERVER },
    });
  });

  it("passes errors with the client's id, resource-not-found as invalid params", () => {
    expect(
      modernAnswer(3, 'resources/read', { error: { code: -32002, message: 'nope' } }, undefined),
    ).toEqual({
      jsonrpc: '2.0',
      id: 3,
      error: { code: -32602, message: 'nope' },
    });
  });

  it('answers server/discover from initialize, without list-change, subscription or task capabilities', () => {
    expect(
      discoverResult({
        protocolVersion: '2025-06-18',
        capabilities: {
          tools: { listChanged: true },
          resources: { subscribe: true, listChanged: true },
          logging: {},
          tasks: {},
        },
        serverInfo: SERVER,
        instructions: 'use it',
      }),
    ).toEqual({
      resultType: 'complete',
      supportedVersions: ['2026-07-28'],
      capabilities: { tools: {}, resources: {}, logging: {} },
      instructions: 'use it',
      ttlMs: 0,
      cacheScope: 'private',
      _meta: { 'io.modelcontextprotocol/serverInfo': SERVER },
    });
  });
});
