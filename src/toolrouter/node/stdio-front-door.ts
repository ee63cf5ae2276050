/**
 * @module stdio-front-door: `mcp-gateway stdio` — the tool router over stdio, for clients that can only spawn a
 * process. Embedded: this process is the gateway without its HTTP side (a runtime of its own with the same
 * registry and deployers, the router acting as one configured principal). Remote: it relays to a running gateway's `/mcp` with a token.
 * Stdout carries protocol messages only; logs go to stderr. The process ends when the client closes stdin.
 */
import { serveStdio } from '@modelcontextprotocol/server/stdio';
import type { Server } from '@modelcontextprotocol/server';
import { LOCAL_PRINCIPAL } from '../../auth/index.js';
import type { Principal } from '../../auth/index.js';
import type { Logger } from '../../observability/index.js';
import { createRemoteRelay, mcpEndpointOf } from '../remote-relay.js';
import type { ToolRouter } from '../tool-router.js';

/** What one stdio session needs from either mode. */
interface FrontDoor {
  serverFor(): Server;
  onToolsChanged(listener: () => void): () => void;
  close(): Promise<void>;
}

/**
 * Serves `door` on stdin/stdout until stdin ends, re-announcing tool-list changes to the connected client
 * (`notifications/tools/list_changed` on a 2025 connection; on a 2026-07-28 one the SDK routes it to the
 * client's `subscriptions/listen`). Resolves when the session is over and everything is closed.
 */
async function serve(door: FrontDoor, logger: Logger): Promise<void> {
  const servers = new Set<Server>();
  const stopChanges = door.onToolsChanged(() => {
    for (const server of servers) void server.sendToolListChanged().catch(() => undefined);
  });
  const handle = serveStdio(
    () => {
      const server = door.serverFor();
      servers.add(server);
      server.onclose = () => servers.delete(server);
      return server;
    },
    { onerror: (error) => logger.debug({ err: error.message }, 'stdio session') },
  );
  await new Promise<void>((resolve) => {
    process.stdin.once('end', resolve);
    process.stdin.once('close', resolve);
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  stopChanges();
  await handle.close().catch(() => undefined);
  await door.close();
}

/** Options of the embedded mode. */
export interface EmbeddedStdioOptions {
  /** The router of a runtime built in this process (`buildStdioRuntime`): same registry, same deployers. */
  readonly router: ToolRouter;
  /** Closes that runtime once the client has gone: local tool servers are reaped before the registry closes. */
  readonly close: () => Promise<void>;
  readonly logger: Logger;
  /** Whose tools are listed and who calls them; the local administrator by default. */
  readonly principal?: Principal;
}

/** Runs the embedded front door over a router built in this process, until the client closes stdin. */
export async function runEmbeddedStdio(options: EmbeddedStdioOptions): Promise<void> {
  const { router, logger } = options;
  const principal = options.principal ?? LOCAL_PRINCIPAL;
  logger.info({ user: principal.userId }, 'tool router on stdio (embedded)');
  await serve(
    {
      serverFor: () => router.serverFor(principal),
      onToolsChanged: (listener) => router.onToolsChanged(listener),
      close: options.close,
    },
    logger,
  );
}

/** Options of the remote mode. */
export interface RemoteStdioOptions {
  /** The gateway (`http://127.0.0.1:3000`) or its MCP endpoint (`…/mcp`). */
  readonly url: string;
  readonly token?: string;
  readonly logger: Logger;
  readonly version: string;
}

/** Runs the remote front door: a relay to the gateway's `/mcp`. */
export async function runRemoteStdio(options: RemoteStdioOptions): Promise<void> {
  const { logger } = options;
  const relay = createRemoteRelay({
    url: mcpEndpointOf(options.url),
    ...(options.token && { token: options.token }),
    logger,
    version: options.version,
  });
  // Early, so a wrong URL or token shows in the log at once; requests retry if the gateway comes up later.
  relay
    .connect()
    .catch((error: unknown) =>
      logger.warn(
        { err: error instanceof Error ? error.message : String(error) },
        'gateway not reachable yet',
      ),
    );
  await serve(relay, logger);
}
