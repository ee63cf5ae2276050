/**
 * @module stateless-fixture: a 2026-07-28 MCP server built with SDK 2.x (`createMcpHandler`, 2025 requests
 * served statelessly) for the conformance CLI's `server-stateless` scenario: a plain tool, and the scenario's
 * diagnostic hook `test_trigger_tool_change`, which adds a tool and announces the change on
 * `subscriptions/listen`. Its other diagnostic tools (`test_missing_capability`, `test_streaming_elicitation`,
 * `test_logging_tool`) are not served: those checks fail directly and through the gateway alike.
 */
import type { Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { McpServer, createMcpHandler } from '@modelcontextprotocol/server';
import { z } from 'zod';

/** A running fixture. */
export interface StatelessFixture {
  /** The MCP endpoint, `http://127.0.0.1:PORT/mcp`. */
  readonly url: string;
  close(): Promise<void>;
}

/** Starts the fixture on 127.0.0.1. */
export async function startStatelessFixture(): Promise<StatelessFixture> {
  /** Tools added by `test_trigger_tool_change`, shared by every per-request server instance. */
  const added: string[] = [];
  const handler = createMcpHandler(() => {
    const server = new McpServer(
      { name: 'stateless-fixture', version: '1.0.0' },
      { capabilities: { tools: { listChanged: true } } },
    );
    server.registerTool(
      'echo',
      { description: 'Echoes text', inputSchema: z.object({ text: z.string() }) },
      async ({ text }) => ({ content: [{ type: 'text', text }] }),
    );
    server.registerTool(
      'test_trigger_tool_change',
      { description: 'Adds a tool to the list and announces the change' },
      async () => {
        added.push(`added_${added.length + 1}`);
        handler.notify.toolsChanged();
        return { content: [{ type: 'text', text: `now ${added.length} added` }] };
      },
    );
    for (const name of added) {
      server.registerTool(name, { description: 'Added by test_trigger_tool_change' }, async () => ({
        content: [{ type: 'text', text: name }],
      }));
    }
    return server;
  });
  const app = new Hono();
  app.all('/mcp', (c) => handler.fetch(c.req.raw));
  const http = await new Promise<HttpServer>((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s as HttpServer));
  });
  return {
    url: `http://127.0.0.1:${(http.address() as AddressInfo).port}/mcp`,
    async close() {
      await handler.close();
      await new Promise<void>((resolve) => {
        http.closeAllConnections();
        http.close(() => resolve());
      });
    },
  };
}
