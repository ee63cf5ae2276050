/**
 * @module stdio-child: a child process speaking MCP over stdio — newline-delimited JSON-RPC on stdin/stdout,
 * free-form logs on stderr. Each message is checked against the SDK's JSON-RPC schemas once, here, and then
 * relayed as the raw JSON object it was (never re-modelled), so fields this gateway does not know pass through
 * untouched.
 */
import {
  isJSONRPCErrorResponse,
  isJSONRPCNotification,
  isJSONRPCRequest,
  isJSONRPCResultResponse,
} from '@modelcontextprotocol/sdk/types.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import type { ChildLedger } from './child-ledger.js';
import { spawnChild } from './child-process.js';
import type { ChildHandle, ChildLaunch } from './child-process.js';
import { LineSplitter } from './line-splitter.js';

/** A stdio MCP server process. */
export interface StdioChild extends ChildHandle {
  /** Writes one message; false when the child can no longer read. */
  send(message: JSONRPCMessage): boolean;
  /** Receives each JSON-RPC message the child writes; messages arriving while it is unset are dropped. */
  onMessage: ((message: JSONRPCMessage) => void) | undefined;
}

/** Options for {@link spawnStdioChild}. */
export interface StdioChildOptions {
  /** What to start, as the replica's sandbox prepared it. */
  readonly launch: ChildLaunch;
  readonly ledger?: ChildLedger;
  /** Receives stderr lines, and stdout lines that are not JSON-RPC (servers that print banners there). */
  readonly log: (line: string) => void;
  /** Largest JSON-RPC message accepted from the child; a longer line is dropped and logged. */
  readonly maxMessageBytes: number;
}

/**
 * Whether a parsed line is one JSON-RPC message. The SDK's guards validate without transforming, so the object
 * that passes is the one relayed. A client built on the SDK refuses anything else, so nothing is lost by not
 * relaying it.
 */
function isJsonRpcMessage(value: unknown): value is JSONRPCMessage {
  return (
    isJSONRPCRequest(value) ||
    isJSONRPCNotification(value) ||
    isJSONRPCResultResponse(value) ||
    isJSONRPCErrorResponse(value)
  );
}

const isJsonRpcLike = (value: unknown) =>
  typeof value === 'object' && value !== null && 'jsonrpc' in value && value.jsonrpc === '2.0';

/** Starts a stdio server in its own process group. */
export function spawnStdioChild(options: StdioChildOptions): StdioChild {
  let handler: ((message: JSONRPCMessage) => void) | undefined;
  const stdout = new LineSplitter({
    maxLineBytes: options.maxMessageBytes,
    onLine: (line) => {
      const text = line.trim();
      if (text === '') return;
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        options.log(`[stdout] ${line}`);
        return;
      }
      if (isJsonRpcMessage(parsed)) handler?.(parsed);
      else if (isJsonRpcLike(parsed))
        // Not echoed: unlike a banner, a message may carry a tool's data.
        options.log(
          `[mcp-gateway] dropped a malformed JSON-RPC message (${text.length} characters) from the server`,
        );
      else options.log(`[stdout] ${line}`);
    },
    onOverflow: () => {
      options.log(`[mcp-gateway] dropped a message over ${options.maxMessageBytes} bytes from the server`);
      return false;
    },
  });
  const stderr = new LineSplitter({ maxLineBytes: 16 * 1024, onLine: options.log });
  const child = spawnChild({
    launch: options.launch,
    ledger: options.ledger,
    stdin: true,
    onStdout: (chunk) => stdout.push(chunk),
    onStderr: (chunk) => stderr.push(chunk),
    onOutputEnd: () => {
      stdout.end();
      stderr.end();
    },
  });
  return {
    get pid() {
      return child.pid;
    },
    get stdin() {
      return child.stdin;
    },
    get exited() {
      return child.exited;
    },
    get hasExited() {
      return child.hasExited;
    },
    terminate: (stop) => child.terminate(stop),
    send(message) {
      const stdin = child.stdin;
      if (!stdin || stdin.destroyed || stdin.writableEnded || child.hasExited) return false;
      stdin.write(`${JSON.stringify(message)}\n`);
      return true;
    },
    get onMessage() {
      return handler;
    },
    set onMessage(next) {
      handler = next;
    },
  };
}
