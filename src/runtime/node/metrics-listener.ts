/** @module metrics-listener: `/metrics` (and `/healthz`) on a listener of its own, `MCP_GATEWAY_METRICS_PORT`. */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isLoopbackHost } from '../../config/index.js';
import { listen } from '../../dataplane/node/node-listener.js';
import { createMetricsApp } from '../../http/index.js';
import type { OriginPolicy } from '../../http/index.js';
import type { GatewayMetrics, Logger } from '../../observability/index.js';

/** Options of {@link listenForMetrics}. */
export interface MetricsListenerOptions {
  readonly metrics: GatewayMetrics;
  readonly at: { readonly port: number; readonly host: string };
  /** Bearer token scrapers must send; none, anyone who reaches the port may read. */
  readonly token: string | undefined;
  /** The main listener's browser-origin rules. */
  readonly origins: Omit<OriginPolicy, 'loopback'>;
  readonly logger: Logger;
}

/** Starts the metrics listener; resolves once it listens, rejects with a `ListenError` when it cannot bind. */
export async function listenForMetrics(options: MetricsListenerOptions): Promise<Server> {
  const { at, logger } = options;
  // The Host check follows this listener's own address: a rebinding page could read a loopback one.
  const policy = { ...options.origins, loopback: isLoopbackHost(at.host) };
  const app = createMetricsApp({ metrics: options.metrics, token: options.token, policy, logger });
  const server = await listen(app, {
    port: at.port,
    hostname: at.host,
    logger,
    settings: {
      port: 'MCP_GATEWAY_METRICS_PORT',
      host: 'MCP_GATEWAY_METRICS_HOST (default: MCP_GATEWAY_HOST)',
    },
  });
  const address = server.address() as AddressInfo;
  logger.info(
    { address: address.address, port: address.port, token: options.token !== undefined },
    'metrics listening',
  );
  return server;
}
