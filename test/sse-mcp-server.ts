/**
 * @module sse-mcp-server: a real 2024-11-05 HTTP+SSE MCP server, SDK 1.x `SSEServerTransport` on 127.0.0.1, as an
 * upstream of `transport: "sse"` adapters — GET `/sse` opens a session and announces `/messages?sessionId=…`,
 * POST there carries client messages. It offers the tools of the other fixtures (`registerTools`) and records
 * every request, and can instead announce any endpoint (a hostile server) or demand a credential.
 */
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { SSEServerTransport } from '@modelcontextprotocol/sdk/server/sse.js';
import { registerTools } from './mcp-servers.js';
import type { RequiredCredential } from './mcp-servers.js';

/** One request the fixture received. */
export interface SseFixtureRequest {
  readonly method: string;
  /** Path and query. */
  readonly target: string;
  readonly headers: IncomingHttpHeaders;
}

/** A running SSE fixture. */
export interface RunningSseServer {
  /** The SSE URL, `http://127.0.0.1:PORT/sse`. */
  readonly url: string;
  readonly origin: string;
  readonly requests: SseFixtureRequest[];
  /** The JSON-RPC messages POSTed to it, in order. */
  readonly messages: unknown[];
  /** SSE streams open right now. */
  openStreams(): number;
  /** SSE streams that have closed (the client, i.e. the gateway, went away). */
  closedStreams(): number;
  /** Ends every open SSE stream, as a server that restarts or drops its sessions does. */
  dropStreams(): void;
  close(): Promise<void>;
}

/** Options of {@link startSseMcpServer}. */
export interface SseMcpServerOptions {
  readonly name?: string;
  /** Announce this URL in the `endpoint` event instead of the real one (a hostile or misconfigured server). */
  readonly announce?: string;
  /** Refuse requests (GET and POST) without this credential: 401. */
  readonly requires?: RequiredCredential;
}

/** Starts the fixture. */
export async function startSseMcpServer(options: SseMcpServerOptions = {}): Promise<RunningSseServer> {
  const transports = new Map<string, SSEServerTransport>();
  const streams = new Set<ServerResponse>();
  const requests: SseFixtureRequest[] = [];
  const messages: unknown[] = [];
  let closed = 0;
  const http = createServer((req, res) => {
    const target = req.url ?? '/';
    requests.push({ method: req.method ?? '', target, headers: req.headers });
    const required = options.requires;
    if (required && !required.accepts(req.headers[required.header] as string | undefined)) {
      req.resume();
      res.writeHead(401, { 'www-authenticate': 'Bearer' }).end('unauthorized');
      return;
    }
    const url = new URL(target, 'http://127.0.0.1');
    if (req.method === 'GET' && url.pathname === '/sse') {
      streams.add(res);
      res.on('close', () => {
        streams.delete(res);
        closed++;
      });
      if (options.announce !== undefined) {
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
        res.write(`event: endpoint\ndata: ${options.announce}\n\n`);
        return;
      }
      const transport = new SSEServerTransport('/messages', res);
      transports.set(transport.sessionId, transport);
      transport.onclose = () => transports.delete(transport.sessionId);
      const server = new McpServer(
        { name: options.name ?? 'sse-fixture', version: '1.0.0' },
        { capabilities: { logging: {} } },
      );
      registerTools(server, options.name ?? 'sse-fixture', () => requests.at(-1)?.headers);
      void server.connect(transport);
      return;
    }
    if (req.method === 'POST' && url.pathname === '/messages') {
      const transport = transports.get(url.searchParams.get('sessionId') ?? '');
      if (!transport) {
        req.resume();
        res.writeHead(404).end('Session not found');
        return;
      }
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const parsed = JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
        messages.push(parsed);
        void transport.handlePostMessage(req, res, parsed).catch(() => undefined);
      });
      return;
    }
    req.resume();
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;
  return {
    url: `${origin}/sse`,
    origin,
    requests,
    messages,
    openStreams: () => streams.size,
    closedStreams: () => closed,
    dropStreams: () => {
      for (const res of [...streams]) res.end();
    },
    close: () =>
      new Promise<void>((resolve) => {
        http.closeAllConnections();
        http.close(() => resolve());
      }),
  };
}
