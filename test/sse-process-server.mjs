/* global process, URL */
/**
 * @module sse-process-server: a 2024-11-05 HTTP+SSE MCP server (SDK 1.x `SSEServerTransport`) run as a child by
 * the process deployer: it listens on 127.0.0.1:$PORT, serves its SSE stream at GET /sse and takes messages at
 * POST /messages. One tool, `whoami`, answers with its pid (which proves which process served a call).
 */
import { createServer } from 'node:http';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { SSEServerTransport } from '@modelcontextprotocol/sdk/server/sse.js';

const transports = new Map();
const http = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  if (req.method === 'GET' && url.pathname === '/sse') {
    const transport = new SSEServerTransport('/messages', res);
    transports.set(transport.sessionId, transport);
    transport.onclose = () => transports.delete(transport.sessionId);
    const server = new McpServer({ name: 'sse-process', version: '1.0.0' });
    server.registerTool('whoami', { description: 'Names the process' }, async () => ({
      content: [{ type: 'text', text: `pid ${process.pid}` }],
    }));
    void server.connect(transport);
    return;
  }
  const transport =
    req.method === 'POST' &&
    url.pathname === '/messages' &&
    transports.get(url.searchParams.get('sessionId'));
  if (transport) {
    void transport.handlePostMessage(req, res).catch(() => undefined);
    return;
  }
  req.resume();
  res.writeHead(404).end();
});
http.listen(Number(process.env.PORT), '127.0.0.1', () =>
  process.stderr.write(`sse-process-server on ${process.env.PORT}\n`),
);
