/**
 * @module http-fixture: tiny real HTTP servers on 127.0.0.1 for tests (Node handlers, or a Fetch-API MCP handler at
 * `/mcp`), and a port nobody listens on.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import type { Context } from 'hono';

/** A started server and how to stop it. */
export interface RunningServer {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/** Starts `handler` on an ephemeral loopback port. */
export async function startHttpServer(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<RunningServer> {
  const server: Server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A loopback port that was free a moment ago and has nothing listening now: connections are refused. */
export async function closedPort(): Promise<number> {
  const s = await startHttpServer(() => undefined);
  await s.close();
  return s.port;
}

/**
 * A Fetch-API MCP handler (the SDK's `createMcpHandler(…).fetch`) served at `/mcp` on an ephemeral loopback port;
 * `context` is Hono's, for a handler that reads the Node request beneath (`context.env.incoming`).
 */
export async function serveMcpFetch(
  fetch: (request: Request, context: Context) => Response | Promise<Response>,
): Promise<RunningServer & { readonly mcpUrl: string }> {
  const app = new Hono();
  app.all('/mcp', (c) => fetch(c.req.raw, c));
  const server = await new Promise<Server>((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s as Server));
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    mcpUrl: `http://127.0.0.1:${port}/mcp`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
