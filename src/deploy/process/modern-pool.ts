/**
 * @module ModernPool: serves stateless 2026-07-28 requests from a stdio server that speaks a 2025 revision. The
 * pool keeps server processes the gateway initialised itself (once per process, as a client without
 * capabilities, at the newest 2025 revision the server accepts), and serves one request per process at a time:
 * the request's id is swapped for the pool's own, the 2026 `_meta` envelope (protocol version, client info and
 * capabilities, log level) is removed — the server was told those once, at `initialize` — and the answer is
 * given back as a 2026 result (`resultType`, cache fields, `serverInfo`). `server/discover` is answered from
 * the `initialize` result. The pool grows while the bridge allows another process, waits for a free one when it
 * cannot, and ends processes idle longer than the session idle timeout.
 *
 * Not relayed (the 2026 revision has no stream to carry them outside a request): list-change and resource
 * notifications, and requests from the server (sampling, elicitation, roots), which get a JSON-RPC error.
 */
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import type { ChildExit } from './child-process.js';
import type { StdioChild } from './stdio-child.js';

/** The revision the pool offers a server at `initialize` (the server may counter-offer an older one). */
export const POOL_INITIALIZE_VERSION = '2025-11-25';
/** The one revision the pool answers. */
export const POOL_PROTOCOL_VERSION = '2026-07-28';

const META = {
  protocolVersion: 'io.modelcontextprotocol/protocolVersion',
  clientInfo: 'io.modelcontextprotocol/clientInfo',
  clientCapabilities: 'io.modelcontextprotocol/clientCapabilities',
  logLevel: 'io.modelcontextprotocol/logLevel',
  serverInfo: 'io.modelcontextprotocol/serverInfo',
} as const;
/** The per-request envelope of 2026-07-28: what a 2025 server was told once, at `initialize`. */
const ENVELOPE_KEYS: readonly string[] = [
  META.protocolVersion,
  META.clientInfo,
  META.clientCapabilities,
  META.logLevel,
];
/** Results a 2026 client reads cache fields from (`ttlMs`, `cacheScope`). */
const CACHEABLE = new Set([
  'tools/list',
  'prompts/list',
  'resources/list',
  'resources/templates/list',
  'resources/read',
  'server/discover',
]);

const INTERNAL_ERROR = -32603;
const METHOD_NOT_FOUND = -32601;

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** What the pool needs from its bridge. */
export interface ModernPoolOptions {
  /** A process for the pool, when the bridge's process cap allows one more; undefined when it does not. */
  readonly acquireChild: () => StdioChild | undefined;
  readonly stopChild: (child: StdioChild) => void;
  readonly describeExit: (exit: ChildExit) => string;
  /** Told when a pool process died on its own. */
  readonly onCrash: (description: string) => void;
  readonly onChange: () => void;
  readonly log: (line: string) => void;
  readonly now: () => number;
  /** How long `initialize` of a new pool process may take. */
  readonly initializeTimeoutMs: number;
}

/** One exchange in flight on a pool process. */
interface Waiting {
  readonly method: string;
  readonly progressToken: unknown;
  readonly onProgress: (message: JSONRPCMessage) => void;
  readonly resolve: (message: Json) => void;
}

/** One initialised server process of the pool. */
class PoolMember {
  readonly child: StdioChild;
  busy = false;
  lastUsed: number;
  initialize: Json | undefined;
  readonly pending = new Map<string, Waiting>();
  #next = 0;

  constructor(child: StdioChild, now: number) {
    this.child = child;
    this.lastUsed = now;
  }

  nextId(): string {
    this.#next += 1;
    return `mcp-gateway-pool-${this.#next}`;
  }
}

/** The bridge's answer: a status, headers and a body. */
function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json', ...headers },
  });
}

function errorBody(id: unknown, code: number, message: string): Json {
  return { jsonrpc: '2.0', id: id ?? null, error: { code, message } };
}

/** The pool of one stdio replica. */
export class ModernPool {
  readonly #o: ModernPoolOptions;
  readonly #members = new Set<PoolMember>();
  /** Requests waiting for a free process, oldest first. */
  readonly #queue: ((member: PoolMember | undefined) => void)[] = [];
  /** The first `initialize` result: what `server/discover` answers (every process runs the same command). */
  #initialize: Json | undefined;
  #closed = false;

  constructor(options: ModernPoolOptions) {
    this.#o = options;
  }

  /** Processes the pool holds. */
  get size(): number {
    return this.#members.size;
  }

  get pids(): number[] {
    return [...this.#members].flatMap((m) => (m.child.pid === undefined ? [] : [m.child.pid]));
  }

  /** Serves one modern POST whose body is `body` (parsed JSON). */
  async serve(request: Request, body: unknown): Promise<Response> {
    if (!isObject(body) || typeof body.method !== 'string') {
      return json(
        400,
        errorBody(null, -32600, 'Invalid Request: a 2026-07-28 POST carries one request or notification'),
      );
    }
    const headerMethod = request.headers.get('mcp-method');
    if (headerMethod !== body.method) {
      return json(400, errorBody(body.id, -32020, 'Header mismatch: Mcp-Method does not match the body'));
    }
    // Notifications of a stateless client (there is no session to tell anything) are accepted and dropped.
    if (!('id' in body)) return new Response(null, { status: 202 });
    const id = body.id;
    if (body.method === 'server/discover') {
      const init = this.#initialize ?? (await this.#discoverWithNewMember());
      if (!init) return this.#unavailable(id);
      return json(200, { jsonrpc: '2.0', id, result: discoverResult(init) });
    }
    const member = await this.#take(request.signal);
    if (!member) return this.#unavailable(id);
    return this.#exchange(member, request, body, id);
  }

  /** Ends processes idle for `idleMs`; the bridge calls it from its sweeper. */
  reapIdle(idleMs: number): void {
    const now = this.#o.now();
    for (const member of [...this.#members]) {
      if (!member.busy && now - member.lastUsed >= idleMs) this.#drop(member, undefined);
    }
  }

  /** Ends every process (the replica stops). */
  close(): void {
    this.#closed = true;
    for (const waiter of this.#queue.splice(0)) waiter(undefined);
    for (const member of [...this.#members]) this.#drop(member, undefined);
  }

  #unavailable(id: unknown): Response {
    return json(
      503,
      errorBody(
        id,
        -32000,
        'Service Unavailable: this replica runs as many MCP server processes as it may; retry later',
      ),
      { 'retry-after': '5' },
    );
  }

  /** An initialised idle process: a free one, else a new one, else the next one released. */
  async #take(signal: AbortSignal): Promise<PoolMember | undefined> {
    for (;;) {
      if (this.#closed) return undefined;
      const free = [...this.#members].find((m) => !m.busy && m.initialize);
      if (free) {
        free.busy = true;
        return free;
      }
      const child = this.#o.acquireChild();
      if (child) {
        const member = await this.#add(child, true);
        if (member) return member;
        // That process did not initialise (logged): try again, the cap permitting.
        continue;
      }
      // Every process the replica may run is in use: wait for one of the pool's, if it has any.
      if (this.#members.size === 0 || signal.aborted) return undefined;
      const released = await new Promise<PoolMember | undefined>((resolve) => {
        const onAbort = () => {
          const at = this.#queue.indexOf(waiter);
          if (at >= 0) this.#queue.splice(at, 1);
          resolve(undefined);
        };
        const waiter = (member: PoolMember | undefined) => {
          signal.removeEventListener('abort', onAbort);
          resolve(member);
        };
        this.#queue.push(waiter);
        signal.addEventListener('abort', onAbort, { once: true });
      });
      if (released) return released;
      if (signal.aborted) return undefined;
    }
  }

  #release(member: PoolMember): void {
    member.lastUsed = this.#o.now();
    if (!this.#members.has(member)) return;
    const next = this.#queue.shift();
    // Handed on still busy: the waiter owns it now.
    if (next) next(member);
    else member.busy = false;
  }

  async #discoverWithNewMember(): Promise<Json | undefined> {
    const free = [...this.#members].find((m) => m.initialize);
    if (free?.initialize) return free.initialize;
    const child = this.#o.acquireChild();
    if (!child) return undefined;
    const member = await this.#add(child, false);
    return member?.initialize;
  }

  /**
   * Initialises a new process and adds it to the pool — kept busy for the caller with `keep`, else idle;
   * undefined when it would not initialise.
   */
  async #add(child: StdioChild, keep: boolean): Promise<PoolMember | undefined> {
    const member = new PoolMember(child, this.#o.now());
    member.busy = true;
    this.#members.add(member);
    this.#o.onChange();
    child.onMessage = (message) => this.#fromChild(member, message);
    void child.exited.then((exit) => {
      if (!this.#members.has(member)) return;
      const description = this.#o.describeExit(exit);
      this.#o.log(`[mcp-gateway] pool process${child.pid ? ` pid ${child.pid}` : ''} ended: ${description}`);
      this.#o.onCrash(`its server process ended: ${description}`);
      this.#drop(member, `The MCP server process ended (${description}).`);
    });
    const id = member.nextId();
    const answer = await new Promise<Json | undefined>((resolve) => {
      const timer = setTimeout(() => resolve(undefined), this.#o.initializeTimeoutMs);
      timer.unref?.();
      member.pending.set(id, {
        method: 'initialize',
        progressToken: undefined,
        onProgress: () => undefined,
        resolve: (message) => {
          clearTimeout(timer);
          resolve(message);
        },
      });
      const sent = child.send({
        jsonrpc: '2.0',
        id,
        method: 'initialize',
        params: {
          protocolVersion: POOL_INITIALIZE_VERSION,
          capabilities: {},
          clientInfo: { name: 'mcp-gateway', version: '1.0.0' },
        },
      });
      if (!sent) resolve(undefined);
    });
    member.pending.delete(id);
    const result = answer?.result;
    if (!isObject(result) || typeof result.protocolVersion !== 'string') {
      this.#o.log(
        `[mcp-gateway] a pool process did not initialise${answer?.error ? `: ${JSON.stringify(answer.error)}` : ''}`,
      );
      this.#drop(member, undefined);
      return undefined;
    }
    child.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    member.initialize = result;
    this.#initialize ??= result;
    this.#o.log(
      `[mcp-gateway] pool process${child.pid ? ` pid ${child.pid}` : ''} initialised (protocol ${result.protocolVersion})`,
    );
    if (!keep) this.#release(member);
    return member;
  }

  /** Ends one idle process, so the bridge can start a session's in its place; false when none is idle. */
  shrinkIdle(): boolean {
    const idle = [...this.#members].find((m) => !m.busy);
    if (!idle) return false;
    this.#drop(idle, undefined);
    return true;
  }

  #drop(member: PoolMember, pendingError: string | undefined): void {
    if (!this.#members.delete(member)) return;
    member.child.onMessage = undefined;
    for (const [, waiting] of member.pending) {
      waiting.resolve(errorBody(null, INTERNAL_ERROR, pendingError ?? 'The MCP server process was stopped.'));
    }
    member.pending.clear();
    this.#o.stopChild(member.child);
    // Whoever waits for a process may now start one in its place.
    for (const waiter of this.#queue.splice(0)) waiter(undefined);
    this.#o.onChange();
  }

  #fromChild(member: PoolMember, message: JSONRPCMessage): void {
    member.lastUsed = this.#o.now();
    const m = message as Json;
    if (typeof m.method === 'string') {
      if ('id' in m) {
        // A request of the server: a ping is answered; anything else needs a client the 2026 revision has not.
        const reply =
          m.method === 'ping'
            ? { jsonrpc: '2.0' as const, id: m.id as string | number, result: {} }
            : {
                jsonrpc: '2.0' as const,
                id: m.id as string | number,
                error: {
                  code: METHOD_NOT_FOUND,
                  message: `${m.method} is not available: the client reached this server through the gateway over 2026-07-28`,
                },
              };
        member.child.send(reply);
        return;
      }
      if (m.method === 'notifications/progress' && isObject(m.params)) {
        const token = m.params.progressToken;
        for (const waiting of member.pending.values()) {
          if (waiting.progressToken !== undefined && waiting.progressToken === token)
            waiting.onProgress(message);
        }
      }
      return;
    }
    if (typeof m.id !== 'string') return;
    const waiting = member.pending.get(m.id);
    if (!waiting) return;
    member.pending.delete(m.id);
    waiting.resolve(m);
  }

  async #exchange(member: PoolMember, request: Request, body: Json, id: unknown): Promise<Response> {
    const method = body.method as string;
    const params = isObject(body.params) ? stripEnvelope(body.params) : body.params;
    const progressToken = isObject(params) && isObject(params._meta) ? params._meta.progressToken : undefined;
    const inner = member.nextId();
    const streamed =
      progressToken !== undefined && (request.headers.get('accept') ?? '').includes('text/event-stream');
    const encoder = new TextEncoder();
    let controller: ReadableStreamDefaultController<Uint8Array> | undefined;
    const event = (message: unknown) =>
      controller?.enqueue(encoder.encode(`event: message\ndata: ${JSON.stringify(message)}\n\n`));

    let settle: (message: Json) => void = () => undefined;
    let aborted = false;
    const answer = new Promise<Json>((resolve) => {
      settle = resolve;
      member.pending.set(inner, {
        method,
        progressToken,
        onProgress: (message) => event(message),
        resolve,
      });
    });
    const onAbort = () => {
      // The client went away: the server is told, and the process serves the next request.
      if (!member.pending.delete(inner)) return;
      aborted = true;
      member.child.send({
        jsonrpc: '2.0',
        method: 'notifications/cancelled',
        params: { requestId: inner, reason: 'the client closed the request' },
      });
      this.#release(member);
      settle(errorBody(null, INTERNAL_ERROR, 'The client closed the request.'));
    };
    request.signal.addEventListener('abort', onAbort, { once: true });
    const sent = member.child.send({
      jsonrpc: '2.0',
      id: inner,
      method,
      ...(params !== undefined && { params }),
    } as JSONRPCMessage);
    if (!sent) {
      const waiting = member.pending.get(inner);
      member.pending.delete(inner);
      waiting?.resolve(errorBody(null, INTERNAL_ERROR, 'The MCP server process is not running.'));
    }
    const finish = (message: Json): Json => {
      request.signal.removeEventListener('abort', onAbort);
      if (this.#members.has(member) && !aborted) this.#release(member);
      return modernAnswer(id, method, message, member.initialize ?? this.#initialize);
    };
    if (!streamed) return json(200, finish(await answer));
    const stream = new ReadableStream<Uint8Array>({
      start: (c) => {
        controller = c;
      },
      cancel: () => onAbort(),
    });
    void answer.then((message) => {
      const final = finish(message);
      if (aborted) return;
      event(final);
      controller?.close();
    });
    return new Response(stream, {
      status: 200,
      headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' },
    });
  }
}

/** The request's params without the 2026 envelope keys (and without `_meta` when nothing else was in it). */
export function stripEnvelope(params: Json): Json {
  if (!isObject(params._meta)) return params;
  const meta = { ...params._meta };
  for (const key of ENVELOPE_KEYS) delete meta[key];
  const rest = { ...params };
  if (Object.keys(meta).length === 0) delete rest._meta;
  else rest._meta = meta;
  return rest;
}

/** What a 2026 client may be told the server can do: no list-change or subscription streams through the pool. */
function modernCapabilities(capabilities: unknown): Json {
  if (!isObject(capabilities)) return {};
  const out: Json = {};
  for (const [key, value] of Object.entries(capabilities)) {
    if (key === 'tasks') continue;
    if (isObject(value) && (key === 'tools' || key === 'prompts' || key === 'resources')) {
      const { listChanged: _listChanged, subscribe: _subscribe, ...kept } = value;
      out[key] = kept;
    } else out[key] = value;
  }
  return out;
}

/** `server/discover` from an `initialize` result. */
export function discoverResult(init: Json): Json {
  return {
    resultType: 'complete',
    supportedVersions: [POOL_PROTOCOL_VERSION],
    capabilities: modernCapabilities(init.capabilities),
    ...(typeof init.instructions === 'string' && { instructions: init.instructions }),
    ttlMs: 0,
    cacheScope: 'private',
    _meta: { [META.serverInfo]: init.serverInfo },
  };
}

/** The 2025 answer of a server as the 2026 answer to request `id`. */
export function modernAnswer(id: unknown, method: string, message: Json, init: Json | undefined): Json {
  if (isObject(message.error)) {
    const error = message.error;
    // 2026-07-28 moved "resource not found" from -32002 to invalid params.
    return { jsonrpc: '2.0', id, error: error.code === -32002 ? { ...error, code: -32602 } : error };
  }
  const result: Json = isObject(message.result) ? { ...message.result } : {};
  if (result.resultType === undefined) result.resultType = 'complete';
  if (CACHEABLE.has(method)) {
    if (!(Number.isInteger(result.ttlMs) && (result.ttlMs as number) >= 0)) result.ttlMs = 0;
    if (result.cacheScope !== 'public' && result.cacheScope !== 'private') result.cacheScope = 'private';
  }
  if (method === 'tools/list' && Array.isArray(result.tools)) {
    // `execution` (task support) is not a 2026-07-28 tool field.
    result.tools = result.tools.map((tool: unknown) => {
      if (!isObject(tool) || !('execution' in tool)) return tool;
      const { execution: _execution, ...rest } = tool;
      return rest;
    });
  }
  if (init?.serverInfo !== undefined && (result._meta === undefined || isObject(result._meta))) {
    const meta = (result._meta as Json | undefined) ?? {};
    if (!(META.serverInfo in meta)) result._meta = { ...meta, [META.serverInfo]: init.serverInfo };
  }
  return { jsonrpc: '2.0', id, result };
}
