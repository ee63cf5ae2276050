/**
 * @module stateless-fixture: a 2026-07-28 MCP server built with SDK 2.x (`createMcpHandler`, 2025 requests
 * served statelessly) for the conformance CLI's `server-stateless` scenario: a plain tool, and the scenario's
 * diagnostic hook `test_trigger_tool_change`, which adds a tool and announces the change on
 * `subscriptions/listen`. Its other diagnostic tools (`test_missing_capability`, `test_streaming_elicitation`,
 * `test_logging_tool`) are not served: those checks fail directly and through the gateway alike.
 */
import { McpServer, createMcpHandler } from '@modelcontextprotocol/server';
import { z } from 'zod';
import { serveMcpFetch } from '../http-fixture.js';

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
  const http = await serveMcpFetch((request) => handler.fetch(request));
  return {
    url: http.mcpUrl,
    async close() {
      await handler.close();
      await http.close();
    },
  };
}
