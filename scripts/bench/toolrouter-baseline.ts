/**
 * Baseline for the tool-router benchmark, run as its own process: a bare SDK 2.x MCP server (`createMcpHandler`,
 * low-level `Server`, no gateway) answering `tools/list` with the same 1,000 tools and the same page size the
 * router uses, and `tools/call` with a constant result (no upstream). What the router adds on top of the SDK's own cost is the ratio to this. Prints `{"port":N}`.
 *
 *   TOOLS=1000 PAGE_SIZE=100 npx tsx scripts/bench/toolrouter-baseline.ts
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import { Hono } from 'hono';
import { Server, createMcpHandler } from '@modelcontextprotocol/server';
import type { Tool } from '@modelcontextprotocol/server';
import { SCORE_TOOL } from '../samples/score-server.js';

const TOOLS = Number(process.env.TOOLS ?? 1000);
const PAGE_SIZE = Number(process.env.PAGE_SIZE ?? 100);
const tools: Tool[] = Array.from({ length: TOOLS }, (_, i) => ({
  ...SCORE_TOOL,
  name: `bench-${String(i).padStart(4, '0')}`,
})) as unknown as Tool[];

const handler = createMcpHandler(() => {
  const server = new Server(
    { name: 'bench-baseline', version: '1.0.0' },
    { capabilities: { tools: { listChanged: true } } },
  );
  server.setRequestHandler('tools/list', (request) => {
    const start = request.params?.cursor ? Number(request.params.cursor) : 0;
    const end = start + PAGE_SIZE;
    return { tools: tools.slice(start, end), ...(end < tools.length && { nextCursor: String(end) }) };
  });
  // The SDK's own per-request cost of a tools/call, with no upstream behind it.
  server.setRequestHandler('tools/call', () => ({
    content: [{ type: 'text', text: '{"score":0.9,"label":"positive","words":5}' }],
    structuredContent: { score: 0.9, label: 'positive', words: 5 },
  }));
  return server;
});

const app = new Hono();
app.all('/mcp', (c) => handler.fetch(c.req.raw));
const server = createServer(getRequestListener(app.fetch));
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`);
});
