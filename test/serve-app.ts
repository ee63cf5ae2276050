/** @module serve-app: serves an app on an ephemeral loopback port, as `main.ts` does, for socket tests. */
import type { AddressInfo } from 'node:net';
import { listen } from '../src/dataplane/node/node-listener.js';
import type { ListenedApp, NodeListenerOptions } from '../src/dataplane/node/node-listener.js';

/** A served app. */
export interface ServedApp {
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Listens on 127.0.0.1 with a free port, with `main.ts`'s listener: given `agents`, MCP requests take the
 * Node fast path (when the app has one), everything else goes through Hono.
 */
export async function serveApp(app: ListenedApp, options: NodeListenerOptions = {}): Promise<ServedApp> {
  const server = await listen(app, { ...options, port: 0, hostname: '127.0.0.1' });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
