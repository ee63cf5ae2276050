/**
 * @module StdioBridge: the gateway's own MCP Streamable HTTP listener in front of a stdio server, on an
 * ephemeral 127.0.0.1 port, so the data plane treats a stdio replica like any HTTP one. A stdio server holds
 * one client session per process, so each legacy session (`initialize`) gets its own child; the bridge issues
 * the `Mcp-Session-Id`, bounds the sessions per replica (503 when full), reaps idle ones, and answers requests
 * of ended sessions with 404 so clients re-initialise.
 *
 * Modern (2026-07-28) stateless requests are served by the replica's {@link ModernPool}: server processes the
 * bridge initialised itself, one request per process at a time. Pool processes and session processes share the
 * replica's process cap; an idle pool process gives way to a new session.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import type { TimerHandle, Timers } from '../timers.js';
import { BridgeSession } from './bridge-session.js';
import type { ChildExit } from './child-process.js';
import { ModernPool, POOL_PROTOCOL_VERSION } from './modern-pool.js';
import type { StdioChild } from './stdio-child.js';

/** Limits of the bridge. */
export interface StdioBridgeLimits {
  /** Sessions (= server processes) per replica; one more `initialize` gets 503 (default 16). */
  readonly maxSessions: number;
  /** A session with no open exchange and no request for this long is ended with its process (default 15 min). */
  readonly idleTimeoutMs: number;
  /** Largest request body (default 4 MiB). */
  readonly maxBodyBytes: number;
  /** SSE events kept per session for `Last-Event-ID` resumption (default 1 000). */
  readonly maxEventsPerSession: number;
}

/** Options for {@link StdioBridge}. */
export interface StdioBridgeOptions extends StdioBridgeLimits {
  /** The MCP endpoint path, e.g. `/mcp`; any other path is 404. */
  readonly path: string;
  /** A child for a new session: the warm spare when one is ready, else a freshly started one. */
  readonly acquireChild: () => StdioChild;
  /** Stops a session's child and its whole tree. */
  readonly stopChild: (child: StdioChild) => Promise<unknown>;
  readonly describeExit: (exit: ChildExit) => string;
  /** Told when a session's process died on its own (status counts it as a restart). */
  readonly onCrash: (description: string) => void;
  readonly log: (line: string) => void;
  /** Called when the number of sessions changes. */
  readonly onChange: () => void;
  readonly timers: Timers;
  readonly clock: () => Date;
  /** Session ids: must be unguessable (default: random UUIDs). */
  readonly sessionId?: () => string;
  /** How long the gateway's own `initialize` of a pool process may take (default 30 000 ms). */
  readonly initializeTimeoutMs?: number;
}

/** JSON-RPC error answer as the MCP SDKs shape transport-level refusals. */
function jsonRpcError(
  status: number,
  code: number,
  message: string,
  id: unknown = null,
  headers: Record<string, string> = {},
): Response {
  return new Response(JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id }), {
    status,
    headers: { 'content-type': 'application/json', ...headers },
  });
}

const SESSION_REQUIRED = 'Bad Request: Mcp-Session-Id header is required';

async function readBody(request: Request, limit: number): Promise<string | undefined> {
  const declared = Number(request.headers.get('content-length') ?? '0');
  if (declared > limit) return undefined;
  if (!request.body) return '';
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      return undefined;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The bridge listener of one stdio replica. */
export class StdioBridge {
  readonly #o: StdioBridgeOptions;
  readonly #sessions = new Map<string, BridgeSession>();
  readonly #stopping = new Set<Promise<unknown>>();
  #server: Server | undefined;
  #port = 0;
  #allowedHosts = new Set<string>();
  #sweeper: TimerHandle | undefined;
  #closed = false;

  readonly #pool: ModernPool;

  constructor(options: StdioBridgeOptions) {
    this.#o = options;
    this.#pool = new ModernPool({
      acquireChild: () =>
        this.#closed || this.#sessions.size + this.#pool.size >= this.#o.maxSessions
          ? undefined
          : this.#o.acquireChild(),
      stopChild: (child) => this.#stop(child),
      describeExit: options.describeExit,
      onCrash: options.onCrash,
      onChange: options.onChange,
      log: options.log,
      now: () => options.clock().getTime(),
      initializeTimeoutMs: options.initializeTimeoutMs ?? 30_000,
    });
  }

  /** Open sessions (each one a running server process). */
  get sessionCount(): number {
    return this.#sessions.size;
  }

  /** Server processes serving 2026-07-28 requests. */
  get poolSize(): number {
    return this.#pool.size;
  }

  /** Pids of the pool's processes, for status details. */
  get poolPids(): number[] {
    return this.#pool.pids;
  }

  /** Pids of the sessions' processes, for status details. */
  get sessionPids(): number[] {
    return [...this.#sessions.values()].flatMap((s) => (s.child.pid === undefined ? [] : [s.child.pid]));
  }

  get port(): number {
    return this.#port;
  }

  /** Starts listening on an ephemeral loopback port; resolves with the port. */
  async listen(): Promise<number> {
    const server = createServer(
      getRequestListener((request) => this.fetch(request), { overrideGlobalObjects: false }),
    );
    this.#server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    this.#port = (server.address() as AddressInfo).port;
    // Only loopback names of this very port: a DNS-rebinding page in a browser sends its own host name.
    this.#allowedHosts = new Set([
      `127.0.0.1:${this.#port}`,
      `localhost:${this.#port}`,
      `[::1]:${this.#port}`,
    ]);
    const every = Math.max(10, Math.min(this.#o.idleTimeoutMs / 2, 30_000));
    this.#sweeper = this.#o.timers.setInterval(() => this.#reapIdle(), every);
    return this.#port;
  }

  /** Serves one request (also usable without a socket, e.g. in tests). */
  async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname !== this.#o.path) {
      return jsonRpcError(404, -32000, `Not Found: the MCP endpoint is ${this.#o.path}`);
    }
    if (!this.#allowedHosts.has(request.headers.get('host') ?? '')) {
      return jsonRpcError(403, -32000, `Forbidden: invalid Host header`);
    }
    const method = request.method;
    if (method !== 'GET' && method !== 'POST' && method !== 'DELETE') {
      return jsonRpcError(405, -32000, 'Method not allowed.', null, { allow: 'GET, POST, DELETE' });
    }
    if (this.#closed) return jsonRpcError(503, -32000, 'Service Unavailable: the replica is stopping');

    let parsedBody: unknown;
    if (method === 'POST') {
      const text = await readBody(request, this.#o.maxBodyBytes);
      if (text === undefined) {
        return jsonRpcError(413, -32000, `Payload Too Large: the body exceeds ${this.#o.maxBodyBytes} bytes`);
      }
      try {
        parsedBody = JSON.parse(text);
      } catch {
        return jsonRpcError(400, -32700, 'Parse error: Invalid JSON');
      }
    }

    const sessionId = request.headers.get('mcp-session-id');
    // Stateless 2026-07-28 (a session id would make it a 2025 request; the data plane classified it already).
    if (sessionId === null && request.headers.get('mcp-protocol-version') === POOL_PROTOCOL_VERSION) {
      if (method !== 'POST') {
        return jsonRpcError(405, -32000, 'Method not allowed.', null, { allow: 'POST' });
      }
      return this.#pool.serve(request, parsedBody);
    }
    if (sessionId !== null) {
      const session = this.#sessions.get(sessionId);
      // Unknown, ended (DELETE, idle, dead process) or another replica's: 404 makes the client re-initialise.
      if (!session) return jsonRpcError(404, -32001, 'Session not found');
      return session.handle(request, parsedBody);
    }
    const initialize = Array.isArray(parsedBody)
      ? parsedBody.length === 1 && isInitializeRequest(parsedBody[0])
      : isInitializeRequest(parsedBody);
    if (method !== 'POST' || !initialize) return jsonRpcError(400, -32000, SESSION_REQUIRED);
    return this.#open(request, parsedBody);
  }

  /** Stops listening and ends every session with its process; resolves when all processes are gone. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#sweeper !== undefined) this.#o.timers.clearInterval(this.#sweeper);
    this.#sweeper = undefined;
    for (const session of [...this.#sessions.values()]) session.end('the replica is stopping');
    this.#pool.close();
    const server = this.#server;
    if (server) {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    }
    while (this.#stopping.size > 0) await Promise.allSettled([...this.#stopping]);
  }

  async #open(request: Request, parsedBody: unknown): Promise<Response> {
    // An idle pool process gives way: 2026 requests start another when they need one.
    if (this.#sessions.size + this.#pool.size >= this.#o.maxSessions) this.#pool.shrinkIdle();
    if (this.#sessions.size + this.#pool.size >= this.#o.maxSessions) {
      const id = Array.isArray(parsedBody) ? null : ((parsedBody as { id?: unknown }).id ?? null);
      return jsonRpcError(
        503,
        -32000,
        `Service Unavailable: this replica already runs ${this.#o.maxSessions} MCP sessions, one server process each; retry later or end unused sessions with DELETE`,
        id,
        { 'retry-after': '5' },
      );
    }
    const id = (this.#o.sessionId ?? randomUUID)();
    const session = new BridgeSession({
      id,
      child: this.#o.acquireChild(),
      maxEvents: this.#o.maxEventsPerSession,
      now: () => this.#o.clock().getTime(),
      describeExit: this.#o.describeExit,
      log: this.#o.log,
      onEnd: (ended, reason, crash) => this.#ended(ended, reason, crash),
    });
    this.#sessions.set(id, session);
    this.#o.log(`[mcp-gateway] session opened on pid ${session.child.pid ?? '(not started)'}`);
    this.#o.onChange();
    await session.transport.start();
    const response = await session.handle(request, parsedBody);
    // A refused initialize (bad Accept header, bad protocol version…) opened nothing the client can use.
    if (!session.initialized) session.end('initialize was refused');
    return response;
  }

  #ended(session: BridgeSession, reason: string, crash: boolean): void {
    if (this.#sessions.get(session.id) === session) this.#sessions.delete(session.id);
    if (crash) this.#o.onCrash(reason);
    else this.#o.log(`[mcp-gateway] session on pid ${session.child.pid ?? '-'} ended: ${reason}`);
    this.#stop(session.child);
    this.#o.onChange();
  }

  #stop(child: StdioChild): void {
    const stop = this.#o.stopChild(child).catch(() => undefined);
    this.#stopping.add(stop);
    void stop.finally(() => this.#stopping.delete(stop));
  }

  #reapIdle(): void {
    for (const session of [...this.#sessions.values()]) {
      if (session.isIdle(this.#o.idleTimeoutMs)) session.end(`idle for ${this.#o.idleTimeoutMs} ms`);
    }
    this.#pool.reapIdle(this.#o.idleTimeoutMs);
  }
}
