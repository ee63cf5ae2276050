/**
 * @module upstream-clients: keep-alive HTTP/1.1 connections to upstream replicas, as undici `Client`s (one
 * connection each). undici's client costs less CPU per request than `http.request` (docs/benchmarks.md); its own
 * `Pool` is not used because it scans every connection, busy ones included, on each request, and an open SSE
 * stream holds a connection for hours. Here an idle connection is a pop off a stack, whatever else is open.
 */
import { Client } from 'undici';
import type { LookupFunction } from 'node:net';

/** Idle connections kept per origin; the rest close once their exchange is over. */
const MAX_IDLE_PER_ORIGIN = 256;
/** Origins remembered; beyond, the idle connections are closed and the table starts again. */
const MAX_ORIGINS = 10_000;

/** The connections to one origin with one connect timeout (a `Client` carries its connect options). */
export class OriginClients {
  private readonly idle: Client[] = [];
  /** Every connection not yet closed, busy ones included, so shutdown can cut them. */
  private readonly open = new Set<Client>();

  constructor(
    private readonly origin: string,
    private readonly options: Client.Options,
  ) {}

  /** An idle connection, or a new one (it connects when its first request is dispatched). */
  take(): Client {
    for (let idle = this.idle.pop(); idle; idle = this.idle.pop()) {
      if (!idle.destroyed && !idle.closed) return idle;
      this.open.delete(idle);
    }
    const client = new Client(this.origin, this.options);
    this.open.add(client);
    return client;
  }

  /** Back to the stack after a complete exchange: the connection stays usable. */
  release(client: Client): void {
    if (this.idle.length < MAX_IDLE_PER_ORIGIN) this.idle.push(client);
    else this.drop(client, false);
  }

  /** After a failed or abandoned exchange: the connection is in an unknown state, so it goes. */
  discard(client: Client): void {
    this.drop(client, true);
  }

  closeIdle(): void {
    for (const client of this.idle.splice(0)) this.drop(client, false);
  }

  destroy(): void {
    this.idle.length = 0;
    for (const client of this.open) void client.destroy().catch(() => undefined);
    this.open.clear();
  }

  private drop(client: Client, destroy: boolean): void {
    this.open.delete(client);
    void (destroy ? client.destroy() : client.close()).catch(() => undefined);
  }
}

/** Options for {@link UpstreamClients}. */
export interface UpstreamClientsOptions {
  /** Resolves names for new connections (the SSRF guard). */
  readonly lookup?: LookupFunction;
}

/** Upstream connections by origin, then connect timeout (nearly always one per origin). */
export class UpstreamClients {
  private readonly origins = new Map<string, Map<number, OriginClients>>();

  constructor(private readonly options: UpstreamClientsOptions = {}) {}

  /** `origin` is `protocol//host:port` as undici takes it. */
  for(origin: string, connectTimeoutMs: number): OriginClients {
    let byTimeout = this.origins.get(origin);
    const found = byTimeout?.get(connectTimeoutMs);
    if (found) return found;
    if (!byTimeout) {
      if (this.origins.size >= MAX_ORIGINS) {
        for (const stale of this.all()) stale.closeIdle();
        this.origins.clear();
      }
      this.origins.set(origin, (byTimeout = new Map()));
    }
    const clients = new OriginClients(origin, {
      pipelining: 1,
      connect: {
        timeout: connectTimeoutMs,
        ...(this.options.lookup && { lookup: this.options.lookup }),
      },
    });
    byTimeout.set(connectTimeoutMs, clients);
    return clients;
  }

  destroy(): void {
    for (const clients of this.all()) clients.destroy();
    this.origins.clear();
  }

  private *all(): Iterable<OriginClients> {
    for (const byTimeout of this.origins.values()) yield* byTimeout.values();
  }
}
