/**
 * @module BridgeSession: one legacy MCP session of the stdio bridge — an SDK Streamable HTTP server transport on
 * the client side, one stdio child on the other, raw JSON-RPC relayed between them. The session owns its child:
 * it ends when the client DELETEs it, when it idles out, or when the child dies (the next request then gets 404).
 */
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import type {
  JSONRPCErrorResponse,
  JSONRPCMessage,
  ProgressToken,
  RequestId,
} from '@modelcontextprotocol/sdk/types.js';
import { withBodyEnd } from '../../core/index.js';
import type { ChildExit } from './child-process.js';
import { SessionEventStore } from './session-event-store.js';
import type { StdioChild } from './stdio-child.js';

/** JSON-RPC "internal error": what a request gets when the server process dies before answering it. */
const INTERNAL_ERROR = -32603;

/** What a session needs from its bridge. */
export interface BridgeSessionOptions {
  readonly id: string;
  readonly child: StdioChild;
  readonly maxEvents: number;
  readonly now: () => number;
  readonly describeExit: (exit: ChildExit) => string;
  /** Called once when the session has ended, whatever the reason; `crash` when its child died on its own. */
  readonly onEnd: (session: BridgeSession, reason: string, crash: boolean) => void;
  readonly log: (line: string) => void;
}

/**
 * A relayed message, classified once where it enters the session (from the client's transport or from the
 * child), with what the relay needs read out of it; `message` is the original, sent on untouched.
 */
type Relayed =
  | {
      readonly kind: 'request';
      readonly id: RequestId;
      readonly progressToken: ProgressToken | undefined;
      readonly message: JSONRPCMessage;
    }
  | {
      readonly kind: 'notification';
      readonly method: string;
      readonly params: Readonly<Record<string, unknown>>;
      readonly message: JSONRPCMessage;
    }
  /** A result or an error; an error to a request the peer could not even read has no id. */
  | { readonly kind: 'response'; readonly id: RequestId | undefined; readonly message: JSONRPCMessage };

const isRequestId = (value: unknown): value is RequestId =>
  typeof value === 'string' || typeof value === 'number';

function classify(message: JSONRPCMessage): Relayed {
  if ('method' in message) {
    if ('id' in message) {
      return {
        kind: 'request',
        id: message.id,
        progressToken: message.params?._meta?.progressToken,
        message,
      };
    }
    return { kind: 'notification', method: message.method, params: message.params ?? {}, message };
  }
  return { kind: 'response', id: message.id, message };
}

/** One session: transport + child. */
export class BridgeSession {
  readonly id: string;
  readonly child: StdioChild;
  readonly transport: WebStandardStreamableHTTPServerTransport;
  readonly #o: BridgeSessionOptions;
  /** Client requests the child has not answered, with the progress token each carried. */
  readonly #inFlight = new Map<RequestId, ProgressToken | undefined>();
  /** Progress token → the request it belongs to, so progress goes to that request's stream. */
  readonly #progress = new Map<ProgressToken, RequestId>();
  #openExchanges = 0;
  #lastActivity: number;
  #initialized = false;
  #ended = false;

  constructor(options: BridgeSessionOptions) {
    this.#o = options;
    this.id = options.id;
    this.child = options.child;
    this.#lastActivity = options.now();
    this.transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: () => options.id,
      eventStore: new SessionEventStore(options.maxEvents),
      onsessioninitialized: () => {
        this.#initialized = true;
      },
      onsessionclosed: () => this.end('deleted by the client'),
    });
    this.transport.onmessage = (message) => this.#toChild(classify(message));
    this.transport.onclose = () => this.end('transport closed');
    this.transport.onerror = () => undefined;
    this.child.onMessage = (message) => this.#fromChild(classify(message));
    void this.child.exited.then((exit) => this.#childExited(exit));
  }

  /** Whether the client's `initialize` was accepted (a session that never initialised is ended at once). */
  get initialized(): boolean {
    return this.#initialized;
  }

  get ended(): boolean {
    return this.#ended;
  }

  /** Idle: no HTTP exchange open, no request awaiting the child, and nothing for `idleMs`. */
  isIdle(idleMs: number): boolean {
    return (
      this.#openExchanges === 0 && this.#inFlight.size === 0 && this.#o.now() - this.#lastActivity >= idleMs
    );
  }

  /** Serves one HTTP exchange of this session; the exchange counts as activity until its body is done. */
  async handle(request: Request, parsedBody: unknown): Promise<Response> {
    this.#openExchanges += 1;
    this.#lastActivity = this.#o.now();
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      this.#openExchanges -= 1;
      this.#lastActivity = this.#o.now();
    };
    let response: Response;
    try {
      response = await this.transport.handleRequest(
        request,
        parsedBody === undefined ? undefined : { parsedBody },
      );
    } catch (err) {
      finish();
      throw err;
    }
    if (!response.body) {
      finish();
      return response;
    }
    // Re-wrapped to learn when a (possibly long-lived SSE) exchange ends or the client goes away.
    return withBodyEnd(response, finish);
  }

  /** Ends the session: answers what is pending, closes its streams, forgets it. The bridge stops the child. */
  end(reason: string, crash = false): void {
    if (this.#ended) return;
    this.#ended = true;
    this.child.onMessage = undefined;
    const answers = [...this.#inFlight.keys()].map((id) =>
      this.#answerError(id, `The MCP server session ended (${reason}).`),
    );
    this.#inFlight.clear();
    this.#progress.clear();
    this.#o.onEnd(this, reason, crash);
    // Close only after the error answers were written: closing first would end their streams unanswered.
    void Promise.allSettled(answers).then(() => this.transport.close().catch(() => undefined));
  }

  #toChild(relayed: Relayed): void {
    this.#lastActivity = this.#o.now();
    if (relayed.kind === 'request') {
      const { id, progressToken } = relayed;
      this.#inFlight.set(id, progressToken);
      if (progressToken !== undefined) this.#progress.set(progressToken, id);
    } else if (relayed.kind === 'notification' && relayed.method === 'notifications/cancelled') {
      // A cancelled request may never be answered (the spec lets the server stay silent): stop waiting for it.
      const id = relayed.params.requestId;
      if (isRequestId(id) && this.#forget(id)) this.transport.closeSSEStream(id);
    }
    if (!this.child.send(relayed.message) && relayed.kind === 'request') {
      this.#forget(relayed.id);
      void this.#answerError(relayed.id, 'The MCP server process is not running.');
    }
  }

  #fromChild(relayed: Relayed): void {
    this.#lastActivity = this.#o.now();
    let relatedRequestId: RequestId | undefined;
    if (relayed.kind === 'response') {
      // Answers to requests the client no longer waits for (cancelled, or the gateway's own probe) go nowhere.
      if (relayed.id !== undefined && !this.#forget(relayed.id)) return;
    } else if (relayed.kind === 'notification' && relayed.method === 'notifications/progress') {
      const token = relayed.params.progressToken;
      relatedRequestId = isRequestId(token) ? this.#progress.get(token) : undefined;
    } else if (relayed.kind === 'request' && this.#inFlight.size === 1) {
      // A server request (sampling, elicitation, roots) while exactly one client request is open almost surely
      // serves that request: sending it on that request's stream reaches clients that hold no GET stream.
      relatedRequestId = this.#inFlight.keys().next().value;
    }
    const send =
      relatedRequestId === undefined
        ? this.transport.send(relayed.message)
        : this.transport.send(relayed.message, { relatedRequestId });
    // The client may have gone away from the stream meanwhile; the event store keeps what it can replay.
    send.catch((err: unknown) => this.#o.log(`[mcp-gateway] could not deliver a message: ${String(err)}`));
  }

  #forget(id: RequestId): boolean {
    if (!this.#inFlight.has(id)) return false;
    const token = this.#inFlight.get(id);
    this.#inFlight.delete(id);
    if (token !== undefined) this.#progress.delete(token);
    return true;
  }

  #answerError(id: RequestId, message: string): Promise<void> {
    const error: JSONRPCErrorResponse = { jsonrpc: '2.0', id, error: { code: INTERNAL_ERROR, message } };
    return this.transport.send(error).catch(() => undefined);
  }

  #childExited(exit: ChildExit): void {
    if (this.#ended) return;
    const description = this.#o.describeExit(exit);
    this.#o.log(
      `[mcp-gateway] session process${this.child.pid ? ` pid ${this.child.pid}` : ''} ended: ${description}`,
    );
    this.end(`its server process ended: ${description}`, true);
  }
}
