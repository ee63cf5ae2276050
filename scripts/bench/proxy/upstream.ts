/**
 * Benchmark upstream, run as its own process: an SDK 2.x MCP server (`createMcpHandler`, 2026-07-28) with an
 * `echo` tool at /mcp, and at /sse an endpoint that opens an SSE stream and keeps it open (for the stream
 * memory measurement). Prints `{"port":N}` once listening.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import { Hono } from 'hono';
import { McpServer, createMcpHandler } from '@modelcontextprotocol/server';
import { z } from 'zod';

const handler = createMcpHandler(() => {
  const server = new McpServer({ name: 'bench-upstream', version: '1.0.0' });
  server.registerTool('echo', { inputSchema: z.object({ text: z.string() }) }, async ({ text }) => ({
    content: [{ type: 'text', text }],
  }));
  return server;
});

const app = new Hono();
app.all('/mcp', (c) => handler.fetch(c.req.raw));
const mcp = getRequestListener(app.fetch);

const server = createServer((req, res) => {
  if (req.url === '/sse') {
    req.resume();
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    res.write('id: 0\ndata: \n\n');
    return;
  }
  void mcp(req, res);
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`);
});
