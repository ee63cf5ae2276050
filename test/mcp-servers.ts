/**
 * @module mcp-servers: real MCP servers built with the official SDKs, on 127.0.0.1, as upstreams in tests.
 * `startLegacyMcpServer` is the 1.x line, stateful (sessions, GET streams, resumability);
 * `startModernMcpServer` is the 2.x line serving 2026-07-28 (and 2025 requests statelessly).
 */
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { EventStore } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { McpServer as McpServerV2, createMcpHandler } from '@modelcontextprotocol/server';
import type { ServerCapabilities } from '@modelcontextprotocol/server';
import { z } from 'zod';

/** A running fixture server. */
export interface RunningMcpServer {
  readonly name: string;
  /** The MCP endpoint, `http://127.0.0.1:PORT/mcp`. */
  readonly url: string;
  /** Headers of every request received, in order. */
  readonly requests: IncomingHttpHeaders[];
  /** Method and request target (path and query) of every request received, in order: `POST /mcp?tenant=a`. */
  readonly targets: string[];
  /** Open sessions (legacy servers). */
  sessionCount(): number;
  /** Stops at once, cutting open connections (a crashed replica). */
  close(): Promise<void>;
}

/** Keeps every SSE event so a client can resume with `Last-Event-ID`. */
class MemoryEventStore implements EventStore {
  private readonly events: { id: string; streamId: string; message: JSONRPCMessage }[] = [];

  async storeEvent(streamId: string, message: JSONRPCMessage): Promise<string> {
    const id = `${streamId}:${this.events.length}`;
    this.events.push({ id, streamId, message });
    return id;
  }

  async replayEventsAfter(
    lastEventId: string,
    { send }: { send: (eventId: string, message: JSONRPCMessage) => Promise<void> },
  ): Promise<string> {
    const index = this.events.findIndex((e) => e.id === lastEventId);
    if (index < 0) throw new Error(`unknown event id ${lastEventId}`);
    const streamId = this.events[index]!.streamId;
    for (const event of this.events.slice(index + 1)) {
      if (event.streamId === streamId) await send(event.id, event.message);
    }
    return streamId;
  }
}

/** The tools every fixture offers (the SSE fixture, `sse-mcp-server.ts`, too). */
export function registerTools(
  server: McpServer,
  replica: string,
  lastHeaders: () => IncomingHttpHeaders | undefined,
) {
  server.registerTool(
    'echo',
    { description: 'Echoes text', inputSchema: { text: z.string() } },
    async ({ text }) => ({
      content: [{ type: 'text', text }],
    }),
  );
  server.registerTool(
    'whoami',
    { description: 'Names the replica and the headers it received' },
    async () => ({
      content: [{ type: 'text', text: JSON.stringify({ replica, headers: lastHeaders() }) }],
    }),
  );
  server.registerTool(
    'count',
    { description: 'Counts to n, reporting progress', inputSchema: { n: z.number().int().min(1).max(50) } },
    async ({ n }, extra) => {
      const token = extra._meta?.progressToken;
      for (let i = 1; i <= n; i++) {
        if (token !== undefined) {
          await extra.sendNotification({
            method: 'notifications/progress',
            params: { progressToken: token, progress: i, total: n },
          });
        }
        await new Promise((r) => setTimeout(r, 5));
      }
      return { content: [{ type: 'text', text: `counted to ${n}` }] };
    },
  );
  server.registerTool(
    'slow',
    {
      description: 'Reports progress once, then answers after ms (a call still in flight)',
      inputSchema: { ms: z.number().int().min(0).max(60_000) },
    },
    async ({ ms }, extra) => {
      const token = extra._meta?.progressToken;
      if (token !== undefined) {
        await extra.sendNotification({
          method: 'notifications/progress',
          params: { progressToken: token, progress: 0, total: 1 },
        });
      }
      await new Promise((r) => setTimeout(r, ms));
      return { content: [{ type: 'text', text: `slept ${ms} ms` }] };
    },
  );
  server.registerTool('ask', { description: 'Asks the user for a colour (elicitation)' }, async () => {
    const answer = await server.server.elicitInput({
      message: 'Favourite colour?',
      requestedSchema: { type: 'object', properties: { colour: { type: 'string' } }, required: ['colour'] },
    });
    return { content: [{ type: 'text', text: `${answer.action}:${String(answer.content?.colour ?? '')}` }] };
  });
  server.registerTool(
    'broadcast',
    {
      description: 'Sends n log messages on the server stream, spaced by ms',
      inputSchema: { n: z.number(), ms: z.number() },
    },
    async ({ n, ms }) => {
      void (async () => {
        for (let i = 1; i <= n; i++) {
          await new Promise((r) => setTimeout(r, ms));
          await server.server
            .sendLoggingMessage({ level: 'info', data: `message ${i}` })
            .catch(() => undefined);
        }
      })();
      return { content: [{ type: 'text', text: 'scheduled' }] };
    },
  );
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

/**
 * A key the fixture demands, as a hosted MCP server does: a request whose `header` (lower case) the predicate
 * rejects gets 401 with `WWW-Authenticate`, before any MCP handling. The predicate is asked on every request.
 */
export interface RequiredCredential {
  readonly header: string;
  accepts(value: string | undefined): boolean;
}

const refusesCredential = (required: RequiredCredential | undefined, value: string | undefined) =>
  required !== undefined && !required.accepts(value);

const UNAUTHORIZED_BODY = JSON.stringify({
  error: 'invalid_token',
  error_description: 'missing or wrong key',
});

/** Options for {@link startLegacyMcpServer}. */
export interface LegacyMcpServerOptions {
  readonly name: string;
  /** Refuse requests without this credential (401). */
  readonly requires?: RequiredCredential;
  /** Answer requests with one JSON body instead of an SSE stream. */
  readonly jsonResponse?: boolean;
  /** Registers more on each session's server (resources, more tools), after the fixture's own tools. */
  readonly register?: (server: McpServer) => void;
}

/** A stateful SDK 1.x server: one transport and one McpServer per session, resumable streams. */
export async function startLegacyMcpServer(options: LegacyMcpServerOptions): Promise<RunningMcpServer> {
  const sessions = new Map<string, StreamableHTTPServerTransport>();
  const requests: IncomingHttpHeaders[] = [];
  const targets: string[] = [];
  const eventStore = new MemoryEventStore();
  const http = createServer(async (req, res) => {
    if (!req.url?.startsWith('/mcp')) {
      res.writeHead(404).end();
      return;
    }
    requests.push(req.headers);
    targets.push(`${req.method} ${req.url}`);
    const required = options.requires;
    if (refusesCredential(required, req.headers[required?.header ?? ''] as string | undefined)) {
      req.resume();
      res.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'Bearer' });
      res.end(UNAUTHORIZED_BODY);
      return;
    }
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = chunks.length ? (JSON.parse(Buffer.concat(chunks).toString()) as unknown) : undefined;
    const sessionId = req.headers['mcp-session-id'] as string | undefined;
    let transport = sessionId ? sessions.get(sessionId) : undefined;
    if (!transport && !sessionId && req.method === 'POST' && isInitializeRequest(body)) {
      const created = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        enableJsonResponse: options.jsonResponse ?? false,
        eventStore,
        onsessioninitialized: (id) => void sessions.set(id, created),
        onsessionclosed: (id) => void sessions.delete(id),
      });
      const server = new McpServer(
        { name: options.name, version: '1.0.0' },
        { capabilities: { logging: {} } },
      );
      registerTools(server, options.name, () => requests.at(-1));
      options.register?.(server);
      await server.connect(created);
      transport = created;
    }
    if (!transport) {
      const status = sessionId ? 404 : 400;
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          jsonrpc: '2.0',
          id: null,
          error: {
            code: -32000,
            message: status === 404 ? 'Session not found' : 'Bad Request: Server not initialized',
          },
        }),
      );
      return;
    }
    await transport.handleRequest(req, res, body);
  });
  const port = await listen(http);
  return {
    name: options.name,
    url: `http://127.0.0.1:${port}/mcp`,
    requests,
    targets,
    sessionCount: () => sessions.size,
    close: () =>
      new Promise<void>((resolve) => {
        http.closeAllConnections();
        http.close(() => resolve());
      }),
  };
}

/** An SDK 2.x server (`createMcpHandler`): 2026-07-28 natively, 2025 requests statelessly. */
export async function startModernMcpServer(options: {
  readonly name: string;
  /** Refuse requests without this credential (401). */
  readonly requires?: RequiredCredential;
  /** What the server declares besides what it registers (an extension). */
  readonly capabilities?: ServerCapabilities;
  /** Registers more on each request's server (resources, more tools), after the fixture's own tools. */
  readonly register?: (server: McpServerV2) => void;
}): Promise<RunningMcpServer> {
  const requests: IncomingHttpHeaders[] = [];
  const targets: string[] = [];
  const handler = createMcpHandler(() => {
    const server = new McpServerV2(
      { name: options.name, version: '2.0.0' },
      options.capabilities ? { capabilities: options.capabilities } : undefined,
    );
    server.registerTool(
      'echo',
      { description: 'Echoes text', inputSchema: z.object({ text: z.string() }) },
      async ({ text }) => ({
        content: [{ type: 'text', text }],
      }),
    );
    server.registerTool(
      'whoami',
      { description: 'Names the replica and the headers it received' },
      async () => ({
        content: [
          { type: 'text', text: JSON.stringify({ replica: options.name, headers: requests.at(-1) }) },
        ],
      }),
    );
    options.register?.(server);
    return server;
  });
  const app = new Hono();
  app.all('/mcp', (c) => {
    const env = c.env as { incoming?: { headers: IncomingHttpHeaders; method?: string; url?: string } };
    if (env.incoming) {
      requests.push(env.incoming.headers);
      targets.push(`${env.incoming.method} ${env.incoming.url}`);
    }
    const required = options.requires;
    if (refusesCredential(required, required && c.req.header(required.header))) {
      return c.body(UNAUTHORIZED_BODY, 401, {
        'content-type': 'application/json',
        'www-authenticate': 'Bearer',
      });
    }
    return handler.fetch(c.req.raw);
  });
  const http = await new Promise<Server>((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s as Server));
  });
  const port = (http.address() as AddressInfo).port;
  return {
    name: options.name,
    url: `http://127.0.0.1:${port}/mcp`,
    requests,
    targets,
    sessionCount: () => 0,
    close: () =>
      new Promise<void>((resolve) => {
        http.closeAllConnections();
        http.close(() => resolve());
      }),
  };
}
