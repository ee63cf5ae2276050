/**
 * @module run-until-signal: how the Node gateway stops. On SIGTERM or SIGINT it drains — readiness 503 and GET
 * streams ended between two events (both by `runtime.drain()`), new connections refused after `acceptMs`,
 * requests and the streams answering them given `drainMs` — then closes the runtime (reaping local processes)
 * and exits 0. A second signal cuts the open streams at once.
 */
import type { Server } from 'node:http';
import type { Logger } from '../../observability/index.js';

/** While draining, connections that finished their last response are closed this often. */
const IDLE_SWEEP_MS = 250;
/** After the drain, closing the tool router, the deployers (reaping processes) and the registry may take this long. */
const CLEANUP_TIMEOUT_MS = 30_000;

/** Options of {@link drainServer}. */
interface DrainOptions {
  /** Longest wait for open connections (streams) before they are cut. */
  readonly drainMs: number;
  /** How long new connections are still accepted before the listener closes (0: at once). */
  readonly acceptMs: number;
  readonly logger: Logger;
}

/**
 * Drains `server`: keeps accepting for `acceptMs` (answering with `Connection: close`), then closes the listener
 * so new connections are refused, closes connections as their responses end, and cuts whatever is still open
 * at `drainMs`. Resolves once every connection is gone. `cut()` ends the wait at once (a second signal).
 */
function drainServer(server: Server, options: DrainOptions): { done: Promise<void>; cut: () => void } {
  const { logger } = options;
  // Every response from now on ends its connection, so keep-alive clients reconnect elsewhere.
  server.prependListener('request', (_req, res) => res.setHeader('connection', 'close'));
  const cut = () => {
    server.getConnections((_err, count) => {
      if (count > 0) logger.warn({ connections: count }, 'drain deadline: cutting open connections');
    });
    server.closeAllConnections();
  };
  const deadline = setTimeout(cut, options.drainMs);
  let sweep: ReturnType<typeof setInterval> | undefined;
  const done = new Promise<void>((resolve) => {
    const stopAccepting = () => {
      // Node closes idle keep-alive connections here; the sweep catches those whose response ends later.
      server.close(() => {
        clearTimeout(deadline);
        clearInterval(sweep);
        resolve();
      });
      sweep = setInterval(() => server.closeIdleConnections(), IDLE_SWEEP_MS);
      server.getConnections((_err, count) =>
        logger.info({ connections: count }, 'draining: listener closed'),
      );
    };
    if (options.acceptMs > 0) setTimeout(stopAccepting, options.acceptMs);
    else stopAccepting();
  });
  return { done, cut };
}

/** What {@link runUntilSignal} stops. */
export interface Stoppable {
  /** Told first: readiness turns 503 and long-lived streams are asked to end (GET streams end at once). */
  drain(): void;
  /** Called once every connection is gone. */
  close(): Promise<void>;
}

/** Options of {@link runUntilSignal}. */
export interface RunUntilSignalOptions extends DrainOptions {
  /** Listeners of the runtime's own (the metrics port): closed at once when the drain is over. */
  readonly alsoClose?: readonly Server[];
}

/**
 * Serves until SIGTERM/SIGINT, then drains `server`, closes `runtime` and exits the process. Returns the same
 * shutdown for other reasons to end the process (the stdio client of `server.js` going away); calling it once a
 * shutdown has begun does nothing.
 */
export function runUntilSignal(
  server: Server,
  runtime: Stoppable,
  options: RunUntilSignalOptions,
): (reason: string) => void {
  const { logger } = options;
  let drain: { done: Promise<void>; cut: () => void } | undefined;
  const stop = (signal: string) => {
    // A second signal does not wait for the streams any longer.
    if (drain) {
      logger.info({ signal }, 'second signal: cutting open connections');
      drain.cut();
      return;
    }
    begin(signal);
  };
  const begin = (reason: string) => {
    if (drain) return;
    runtime.drain();
    logger.info(
      { reason, drainSeconds: options.drainMs / 1000, acceptSeconds: options.acceptMs / 1000 },
      'shutting down',
    );
    drain = drainServer(server, options);
    void drain.done.then(async () => {
      // Also holds the event loop open: a close that awaits a settled child would otherwise let Node exit early.
      setTimeout(() => {
        logger.error({ timeoutMs: CLEANUP_TIMEOUT_MS }, 'shutdown cleanup did not finish; exiting');
        logger.flush(() => process.exit(1));
      }, CLEANUP_TIMEOUT_MS);
      for (const other of options.alsoClose ?? []) {
        other.closeAllConnections();
        other.close();
      }
      await runtime.close();
      logger.info('stopped');
      // The log is written asynchronously: exit once its last lines are out.
      logger.flush(() => process.exit(0));
    });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  return begin;
}
