/**
 * @module eliciting-mcp-server: an SDK 2.x `McpServer` served the 2025 way (one session per `initialize`), whose
 * tools ask their client mid-call — `ask` elicits a name, `sample` asks for a sampled message — as a federated
 * upstream for tests of the tool router's relay of server requests. Each tool reports in its result what its
 * client answered, or the error it got, so a test sees what reached the upstream.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import {
  McpServer,
  ProtocolError,
  SdkError,
  WebStandardStreamableHTTPServerTransport,
} from '@modelcontextprotocol/server';
import { z } from 'zod';

/** What one tool call got from its client. */
export interface AskOutcome {
  readonly tool: 'ask' | 'ask-unrelated' | 'ask-anyway' | 'sample';
  /** `accept:Ada`, `decline`, `sampled:…`, or `error <code>: <message>`. */
  readonly outcome: string;
  /** What the upstream declared it saw of its client (the router). */
  readonly clientCapabilities: Record<string, unknown>;
}

/** A running eliciting upstream. */
export interface ElicitingMcpServer {
  readonly url: string;
  /** Every finished tool call's outcome, in order. */
  readonly outcomes: AskOutcome[];
  /** Resolves with the next outcome (rejects after `timeoutMs`). */
  nextOutcome(timeoutMs?: number): Promise<AskOutcome>;
  /** Open sessions. */
  sessionCount(): number;
  close(): Promise<void>;
}

const errorText = (error: unknown) =>
  error instanceof ProtocolError || error instanceof SdkError
    ? `error ${String(error.code)}: ${error.message}`
    : `error: ${error instanceof Error ? error.message : String(error)}`;

/** Starts the upstream on 127.0.0.1. */
export async function startElicitingMcpServer(): Promise<ElicitingMcpServer> {
  const sessions = new Map<string, WebStandardStreamableHTTPServerTransport>();
  const outcomes: AskOutcome[] = [];
  let waiters: ((outcome: AskOutcome) => void)[] = [];
  const record = (outcome: AskOutcome) => {
    outcomes.push(outcome);
    const current = waiters;
    waiters = [];
    for (const w of current) w(outcome);
  };

  function newServer(): McpServer {
    const server = new McpServer({ name: 'eliciting-upstream', version: '2.0.0' });
    const capabilities = () => (server.server.getClientCapabilities() ?? {}) as Record<string, unknown>;
    const form = (question: string) => ({
      mode: 'form' as const,
      message: question,
      requestedSchema: {
        type: 'object' as const,
        properties: { name: { type: 'string' as const, title: 'Your name' } },
        required: ['name'],
      },
    });
    const outcomeOf = (answer: { action: string; content?: Record<string, unknown> }) =>
      answer.action === 'accept' ? `accept:${String(answer.content?.name)}` : answer.action;
    // `ask`: related to its call (it travels on the call's response stream); `ask-unrelated`: not (the session's
    // GET stream, as many servers send it); `ask-anyway`: related, without checking the client's capabilities.
    for (const tool of ['ask', 'ask-unrelated', 'ask-anyway'] as const) {
      server.registerTool(
        tool,
        {
          description: 'Asks its client for a name, then greets it',
          inputSchema: z.object({ question: z.string() }),
        },
        async ({ question }, ctx) => {
          let outcome: string;
          try {
            const options = {
              timeout: 120_000,
              ...(tool !== 'ask-unrelated' && { relatedRequestId: ctx.mcpReq.id }),
            };
            const answer =
              tool === 'ask-anyway'
                ? await ctx.mcpReq.send({ method: 'elicitation/create', params: form(question) }, options)
                : await server.server.elicitInput(form(question), options);
            outcome = outcomeOf(answer as { action: string; content?: Record<string, unknown> });
          } catch (error) {
            outcome = errorText(error);
          }
          record({ tool, outcome, clientCapabilities: capabilities() });
          return { content: [{ type: 'text', text: outcome }] };
        },
      );
    }
    server.registerTool(
      'sample',
      { description: 'Asks its client to sample a reply', inputSchema: z.object({ prompt: z.string() }) },
      async ({ prompt }, ctx) => {
        let outcome: string;
        try {
          const reply = await server.server.createMessage(
            { messages: [{ role: 'user', content: { type: 'text', text: prompt } }], maxTokens: 20 },
            { timeout: 120_000, relatedRequestId: ctx.mcpReq.id },
          );
          const content = Array.isArray(reply.content) ? reply.content[0] : reply.content;
          outcome = `sampled:${content?.type === 'text' ? content.text : '?'}:${reply.model}`;
        } catch (error) {
          outcome = errorText(error);
        }
        record({ tool: 'sample', outcome, clientCapabilities: capabilities() });
        return { content: [{ type: 'text', text: outcome }] };
      },
    );
    return server;
  }

  const app = new Hono();
  app.all('/mcp', async (c) => {
    const sessionId = c.req.header('mcp-session-id');
    let transport = sessionId ? sessions.get(sessionId) : undefined;
    if (!transport && !sessionId && c.req.method === 'POST') {
      const created = new WebStandardStreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (id) => void sessions.set(id, created),
        onsessionclosed: (id) => void sessions.delete(id),
      });
      await newServer().connect(created);
      transport = created;
    }
    if (!transport) {
      return c.json({ jsonrpc: '2.0', id: null, error: { code: -32000, message: 'Session not found' } }, 404);
    }
    return transport.handleRequest(c.req.raw);
  });
  const http = await new Promise<Server>((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s as Server));
  });
  const port = (http.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    outcomes,
    nextOutcome: (timeoutMs = 30_000) =>
      new Promise<AskOutcome>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no tool outcome within ${timeoutMs} ms`)),
          timeoutMs,
        );
        waiters.push((outcome) => {
          clearTimeout(timer);
          resolve(outcome);
        });
      }),
    sessionCount: () => sessions.size,
    close: () =>
      new Promise<void>((resolve) => {
        for (const transport of sessions.values()) void transport.close().catch(() => undefined);
        http.closeAllConnections();
        http.close(() => resolve());
      }),
  };
}
