/* global process */
/**
 * @module sdk-stdio-server: a stdio MCP server built on the official SDK 1.x (`Server` + `StdioServerTransport`),
 * for tests that need a real SDK peer behind the stdio bridge. Tools: `echo` ({message}) and `instance` (a random
 * id of this process). It logs `sdk-stdio-server started pid N` on stderr.
 */
import { randomUUID } from 'node:crypto';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { CallToolRequestSchema, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';

const instance = randomUUID();
process.stderr.write(`sdk-stdio-server started pid ${process.pid}\n`);
const server = new Server(
  { name: 'sdk-stdio-server', version: '1.0.0' },
  { capabilities: { tools: { listChanged: true } }, instructions: 'An SDK 1.x server on stdio.' },
);
server.setRequestHandler(ListToolsRequestSchema, async () => ({
  tools: [
    {
      name: 'echo',
      inputSchema: { type: 'object', properties: { message: { type: 'string' } } },
    },
    { name: 'instance', inputSchema: { type: 'object' } },
  ],
}));
server.setRequestHandler(CallToolRequestSchema, async (request) => {
  const text = request.params.name === 'echo' ? `Echo: ${request.params.arguments?.message}` : instance;
  return { content: [{ type: 'text', text }] };
});
await server.connect(new StdioServerTransport());
