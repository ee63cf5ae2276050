/* global process, setTimeout */
/**
 * @module stdio-echo-server: a minimal stdio MCP server for bridge tests, with no dependency so it starts in
 * milliseconds. Tools: `echo` ({message}), `env` (its environment), `pid` (as its own PID namespace numbers it:
 * inside the sandbox every server is pid 2), `instance` (a random id of this process), `connect` ({port}:
 * opens a TCP connection to 127.0.0.1:port and says `connected` or the error code), `crash` (exits 3), `slow`
 * ({ms}, sends progress when asked), `sample` (asks the client for a sampling/createMessage and returns the
 * answer), `malformed` (writes two messages that are not valid JSON-RPC, then answers).
 * Flags: `--exit=CODE` exits at once; `--mute` never answers anything (a hung server); `--banner` prints a
 * non-JSON line on stdout first.
 */
import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import { createInterface } from 'node:readline';

const instance = randomUUID();

const flag = (name) => process.argv.find((a) => a.startsWith(`--${name}`))?.split('=')[1] ?? undefined;
const has = (name) => process.argv.some((a) => a === `--${name}` || a.startsWith(`--${name}=`));

process.stderr.write(`stdio-echo-server started pid ${process.pid}\n`);
if (has('exit')) process.exit(Number(flag('exit') ?? 1));
if (has('banner')) process.stdout.write('stdio-echo-server says hello on stdout\n');

const send = (message) => process.stdout.write(`${JSON.stringify({ jsonrpc: '2.0', ...message })}\n`);
const text = (t) => ({ content: [{ type: 'text', text: t }] });
const pending = new Map();
let nextId = 1;

const tools = [
  { name: 'echo', inputSchema: { type: 'object', properties: { message: { type: 'string' } } } },
  { name: 'env', inputSchema: { type: 'object' } },
  { name: 'pid', inputSchema: { type: 'object' } },
  { name: 'instance', inputSchema: { type: 'object' } },
  { name: 'connect', inputSchema: { type: 'object', properties: { port: { type: 'number' } } } },
  { name: 'crash', inputSchema: { type: 'object' } },
  { name: 'slow', inputSchema: { type: 'object', properties: { ms: { type: 'number' } } } },
  { name: 'sample', inputSchema: { type: 'object' } },
  { name: 'malformed', inputSchema: { type: 'object' } },
];

async function call(params) {
  const args = params.arguments ?? {};
  switch (params.name) {
    case 'echo':
      return text(`Echo: ${args.message}`);
    case 'env':
      return text(JSON.stringify(process.env));
    case 'pid':
      return text(String(process.pid));
    case 'instance':
      return text(instance);
    case 'connect':
      return text(
        await new Promise((resolve) => {
          const socket = connect(Number(args.port), '127.0.0.1', () => {
            socket.destroy();
            resolve('connected');
          });
          socket.on('error', (err) => resolve(err.code ?? String(err)));
        }),
      );
    case 'crash':
      process.stderr.write('stdio-echo-server crashing as asked\n');
      process.exit(3);
      break;
    case 'slow': {
      const token = params._meta?.progressToken;
      if (token !== undefined)
        send({ method: 'notifications/progress', params: { progressToken: token, progress: 1 } });
      await new Promise((resolve) => setTimeout(resolve, Number(args.ms ?? 100)));
      return text('slow done');
    }
    case 'sample': {
      const id = `s${nextId++}`;
      const answer = new Promise((resolve) => pending.set(id, resolve));
      send({
        id,
        method: 'sampling/createMessage',
        params: { messages: [{ role: 'user', content: { type: 'text', text: 'hi' } }], maxTokens: 5 },
      });
      const result = await answer;
      return text(`sampled: ${JSON.stringify(result)}`);
    }
    case 'malformed':
      send({ id: { not: 'an id' }, result: {} });
      send({ method: 42, params: {} });
      return text('after malformed');
    default:
      throw Object.assign(new Error(`unknown tool ${params.name}`), { code: -32602 });
  }
}

async function handle(message) {
  if (message.method === undefined) {
    pending.get(message.id)?.(message.result ?? message.error);
    pending.delete(message.id);
    return;
  }
  if (message.id === undefined) return;
  try {
    let result;
    switch (message.method) {
      case 'initialize':
        result = {
          protocolVersion: message.params?.protocolVersion ?? '2025-06-18',
          capabilities: { tools: {} },
          serverInfo: { name: 'stdio-echo-server', version: '1.0.0' },
        };
        break;
      case 'ping':
        result = {};
        break;
      case 'tools/list':
        result = { tools };
        break;
      case 'tools/call':
        result = await call(message.params ?? {});
        break;
      default:
        throw Object.assign(new Error(`Method not found: ${message.method}`), { code: -32601 });
    }
    send({ id: message.id, result });
  } catch (err) {
    send({ id: message.id, error: { code: err.code ?? -32603, message: err.message } });
  }
}

if (!has('mute')) {
  createInterface({ input: process.stdin }).on('line', (line) => {
    if (line.trim()) void handle(JSON.parse(line));
  });
} else {
  process.stdin.resume();
}
process.stdin.on('end', () => process.exit(0));
