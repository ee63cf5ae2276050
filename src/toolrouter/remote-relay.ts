/**
 * @module remote-relay: the tool router of a remote gateway, re-served by a local MCP server — what
 * `mcp-gateway stdio --url …` runs. One client connection to the gateway's `/mcp` (2026-07-28 when the gateway
 * offers it, 2025 otherwise) carries every request; pages, cursors, results and errors pass through unchanged,
 * progress is relayed under the local client's token, and the gateway's `list_changed` is re-announced.
 */
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { ProtocolError, ProtocolErrorCode, Server } from '@modelcontextprotocol/server';
import type { Logger } from '../observability/index.js';
import { progressRelay, withoutEnvelope } from './progress-relay.js';

/** Options for {@link createRemoteRelay}. */
export interface RemoteRelayOptions {
  /** The gateway's MCP endpoint, e.g. `http://127.0.0.1:3000/mcp`. */
  readonly url: URL;
  /** Bearer token for the gateway, when it requires one. */
  readonly token?: string;
  readonly logger: Logger;
  readonly version: string;
  /** `fetch` for the connection; the runtime's by default. */
  readonly fetch?: (url: string | URL, init?: RequestInit) => Promise<Response>;
  /** Longest wait for a `tools/call` answer without progress; default 10 minutes (the gateway bounds calls itself). */
  readonly callTimeoutMs?: number;
}

/** A relay: a server per local connection, over one shared connection to the gateway. */
export interface RemoteRelay {
  /** A server for one local connection. */
  serverFor(): Server;
  /** Connects now (otherwise on first use); rejects with the reason when the gateway cannot be reached. */
  connect(): Promise<void>;
  /** Told when the gateway announces that the tool list changed. */
  onToolsChanged(listener: () => void): () => void;
  close(): Promise<void>;
}

/** The gateway's MCP endpoint for a `--url` that may name the gateway root or the endpoint itself. */
export function mcpEndpointOf(url: string): URL {
  const parsed = new URL(url);
  if (parsed.pathname === '/' || parsed.pathname === '') parsed.pathname = '/mcp';
  return parsed;
}

/** Builds the relay; nothing is sent until the first request or {@link RemoteRelay.connect}. */
export function createRemoteRelay(options: RemoteRelayOptions): RemoteRelay {
  const { logger } = options;
  const listeners = new Set<() => void>();
  const callTimeoutMs = options.callTimeoutMs ?? 600_000;
  let connection: Promise<Client> | undefined;

  function connect(): Promise<Client> {
    if (connection) return connection;
    const client = new Client(
      { name: 'mcp-gateway-stdio', version: options.version },
      {
        versionNegotiation: { mode: 'auto' },
        listChanged: {
          tools: {
            autoRefresh: false,
            debounceMs: 0,
            onChanged: () => {
              for (const listener of [...listeners]) listener();
            },
          },
        },
      },
    );
    const transport = new StreamableHTTPClientTransport(options.url, {
      ...(options.fetch && { fetch: options.fetch }),
      ...(options.token && { requestInit: { headers: { authorization: `Bearer ${options.token}` } } }),
    });
    client.onerror = (error) => logger.debug({ err: error.message }, 'gateway connection');
    const attempt = client.connect(transport).then(
      () => {
        logger.info({ url: options.url.href }, 'connected to the gateway');
        // A dropped connection is re-opened by the next request.
        client.onclose = () => {
          if (connection === attempt) connection = undefined;
        };
        return client;
      },
      (error: unknown) => {
        if (connection === attempt) connection = undefined;
        throw error;
      },
    );
    connection = attempt;
    return attempt;
  }

  async function gateway(): Promise<Client> {
    try {
      return await connect();
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      logger.warn({ url: options.url.href, err: reason }, 'cannot reach the gateway');
      throw new ProtocolError(
        ProtocolErrorCode.InternalError,
        `The gateway at ${options.url.href} cannot be reached: ${reason}`,
      );
    }
  }

  return {
    serverFor() {
      const server = new Server(
        { name: 'mcp-gateway', title: 'MCP Gateway tool router (via stdio)', version: options.version },
        { capabilities: { tools: { listChanged: true } } },
      );
      server.setRequestHandler('tools/list', async (request, ctx) =>
        withoutEnvelope(
          await (
            await gateway()
          ).request(
            { method: 'tools/list', params: request.params?.cursor ? { cursor: request.params.cursor } : {} },
            { signal: ctx.mcpReq.signal },
          ),
        ),
      );
      server.setRequestHandler('tools/call', async (request, ctx) => {
        const client = await gateway();
        const progress = progressRelay(ctx);
        const { name, arguments: args } = request.params;
        const result = await client.request(
          { method: 'tools/call', params: { name, ...(args !== undefined && { arguments: args }) } },
          {
            signal: ctx.mcpReq.signal,
            timeout: callTimeoutMs,
            resetTimeoutOnProgress: true,
            ...(progress.onProgress && { onprogress: progress.onProgress }),
          },
        );
        await progress.flush();
        return withoutEnvelope(result);
      });
      return server;
    },
    async connect() {
      await connect();
    },
    onToolsChanged(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    async close() {
      listeners.clear();
      const current = connection;
      connection = undefined;
      const client = await current?.catch(() => undefined);
      await client?.close().catch(() => undefined);
    },
  };
}
