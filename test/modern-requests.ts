/** @module modern-requests: a 2026-07-28 `tools/call` (stateless POST) as tests send it through the gateway. */
import { mcpPostHeaders } from './legacy-requests.js';

/** The headers a 2026-07-28 client sends with a `tools/call` of `tool`, plus `extra`. */
export const modernToolCallHeaders = (tool: string, extra: Record<string, string> = {}) =>
  mcpPostHeaders({
    'mcp-protocol-version': '2026-07-28',
    'mcp-method': 'tools/call',
    'mcp-name': tool,
    ...extra,
  });

/** The body of a 2026-07-28 `tools/call`, with the per-request `_meta` envelope that revision requires. */
export const modernToolCallBody = (tool: string, args: Record<string, unknown> = {}, id: number = 1) =>
  JSON.stringify({
    jsonrpc: '2.0',
    id,
    method: 'tools/call',
    params: {
      name: tool,
      arguments: args,
      _meta: {
        'io.modelcontextprotocol/protocolVersion': '2026-07-28',
        'io.modelcontextprotocol/clientCapabilities': {},
      },
    },
  });
