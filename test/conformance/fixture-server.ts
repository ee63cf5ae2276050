/**
 * @module fixture-server: the project's own conformance fixture — an SDK 1.x stateful Streamable HTTP server
 * (the Web-standard transport under Hono) on 127.0.0.1 serving what the `@modelcontextprotocol/conformance`
 * server scenarios call for: tools named `test_*`, prompts, resources, logging, completion, sampling,
 * elicitation, progress, resumable SSE streams, Host/Origin validation. Run the scenarios against it directly
 * and through the gateway and compare.
 */
import { randomUUID } from 'node:crypto';
import type { Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import type { EventStore } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import {
  CallToolRequestSchema,
  CompleteRequestSchema,
  CreateMessageResultSchema,
  ElicitResultSchema,
  ErrorCode,
  GetPromptRequestSchema,
  ListPromptsRequestSchema,
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  ListToolsRequestSchema,
  LoggingLevelSchema,
  McpError,
  ReadResourceRequestSchema,
  SetLevelRequestSchema,
  SubscribeRequestSchema,
  UnsubscribeRequestSchema,
  LATEST_PROTOCOL_VERSION,
  SUPPORTED_PROTOCOL_VERSIONS,
  isInitializeRequest,
} from '@modelcontextprotocol/sdk/types.js';
import type {
  CallToolResult,
  GetPromptResult,
  JSONRPCMessage,
  LoggingLevel,
  ReadResourceResult,
  ServerNotification,
  ServerRequest,
  Tool,
} from '@modelcontextprotocol/sdk/types.js';

/** Options for {@link startConformanceFixture}. */
export interface ConformanceFixtureOptions {
  /**
   * Reject a non-loopback `Host` or `Origin` with 403, as a localhost server must (the `dns-rebinding-protection`
   * scenario). Default true.
   */
  readonly dnsRebindingProtection?: boolean;
  /** The SSE `retry:` value (ms) sent with each priming event. Default 500. */
  readonly retryIntervalMs?: number;
  /**
   * Treat a request of a session as speaking the version negotiated at `initialize` when its
   * `MCP-Protocol-Version` header names an older one. The SDK offers priming events and `closeSSEStream` only
   * to requests whose header is ≥ 2025-11-25, and the `server-sse-polling` scenario sends `2025-03-26` on a
   * session it initialised at 2025-11-25; without this the disconnect-and-resume path is never exercised.
   * Default true.
   */
  readonly resumableForNegotiatedVersion?: boolean;
}

/** A running conformance fixture. */
export interface ConformanceFixture {
  /** The MCP endpoint, `http://127.0.0.1:PORT/mcp`. */
  readonly url: string;
  /** Open sessions. */
  sessionCount(): number;
  /** Stops at once, cutting open streams. */
  close(): Promise<void>;
}

type Extra = RequestHandlerExtra<ServerRequest, ServerNotification>;

/** What a tool handler may use besides its arguments. */
interface ToolContext {
  readonly server: Server;
  readonly extra: Extra;
  /** Sends a log notification on the tool call's own stream, honouring `logging/setLevel`. */
  log(level: LoggingLevel, data: string): Promise<void>;
}

interface FixtureTool {
  readonly definition: Tool;
  run(args: Record<string, unknown>, context: ToolContext): Promise<CallToolResult>;
}

// A 1×1 red PNG: the scenarios only check that image content has data and a mime type.
const RED_PIXEL_PNG =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';

/** A short silent mono 8 kHz 16-bit PCM WAV, built rather than embedded so its header is easy to audit. */
function silentWavBase64(samples = 80): string {
  const dataBytes = samples * 2;
  const wav = Buffer.alloc(44 + dataBytes);
  wav.write('RIFF', 0, 'ascii');
  wav.writeUInt32LE(36 + dataBytes, 4);
  wav.write('WAVE', 8, 'ascii');
  wav.write('fmt ', 12, 'ascii');
  wav.writeUInt32LE(16, 16); // fmt chunk size
  wav.writeUInt16LE(1, 20); // PCM
  wav.writeUInt16LE(1, 22); // mono
  wav.writeUInt32LE(8000, 24); // sample rate
  wav.writeUInt32LE(16000, 28); // byte rate
  wav.writeUInt16LE(2, 32); // block align
  wav.writeUInt16LE(16, 34); // bits per sample
  wav.write('data', 36, 'ascii');
  wav.writeUInt32LE(dataBytes, 40);
  return wav.toString('base64');
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const text = (value: string) => ({ type: 'text' as const, text: value });
const NO_ARGS = { type: 'object' as const, properties: {} };

function stringArg(args: Record<string, unknown>, name: string): string {
  const value = args[name];
  if (typeof value !== 'string') {
    throw new McpError(ErrorCode.InvalidParams, `argument '${name}' must be a string`);
  }
  return value;
}

async function elicit(context: ToolContext, params: Record<string, unknown>) {
  if (!context.server.getClientCapabilities()?.elicitation) {
    throw new McpError(ErrorCode.InvalidRequest, 'the client does not support elicitation');
  }
  // `extra.sendRequest` relates the request to the tool call, so it travels on the call's own POST stream.
  return context.extra.sendRequest(
    { method: 'elicitation/create', params } as ServerRequest,
    ElicitResultSchema,
  );
}

const TOOLS: readonly FixtureTool[] = [
  {
    definition: {
      name: 'test_simple_text',
      description: 'Returns a simple text',
      inputSchema: NO_ARGS,
    },
    run: async () => ({ content: [text('This is a simple text response for testing.')] }),
  },
  {
    definition: { name: 'test_image_content', description: 'Returns an image', inputSchema: NO_ARGS },
    run: async () => ({ content: [{ type: 'image', data: RED_PIXEL_PNG, mimeType: 'image/png' }] }),
  },
  {
    definition: { name: 'test_audio_content', description: 'Returns audio', inputSchema: NO_ARGS },
    run: async () => ({ content: [{ type: 'audio', data: silentWavBase64(), mimeType: 'audio/wav' }] }),
  },
  {
    definition: {
      name: 'test_embedded_resource',
      description: 'Returns an embedded resource',
      inputSchema: NO_ARGS,
    },
    run: async () => ({
      content: [
        {
          type: 'resource',
          resource: {
            uri: 'test://embedded-resource',
            mimeType: 'text/plain',
            text: 'This is an embedded resource content.',
          },
        },
      ],
    }),
  },
  {
    definition: {
      name: 'test_multiple_content_types',
      description: 'Returns text, an image and a resource',
      inputSchema: NO_ARGS,
    },
    run: async () => ({
      content: [
        text('Multiple content types test:'),
        { type: 'image', data: RED_PIXEL_PNG, mimeType: 'image/png' },
        {
          type: 'resource',
          resource: {
            uri: 'test://mixed-content-resource',
            mimeType: 'application/json',
            text: JSON.stringify({ test: 'data', value: 123 }),
          },
        },
      ],
    }),
  },
  {
    definition: {
      name: 'test_tool_with_logging',
      description: 'Sends three log messages while it runs',
      inputSchema: NO_ARGS,
    },
    async run(_args, context) {
      await context.log('info', 'Tool execution started');
      await sleep(50);
      await context.log('info', 'Tool processing data');
      await sleep(50);
      await context.log('info', 'Tool execution completed');
      return { content: [text('Tool with logging executed successfully')] };
    },
  },
  {
    definition: {
      name: 'test_error_handling',
      description: 'Always fails with a tool error',
      inputSchema: NO_ARGS,
    },
    // A tool failure is a result with `isError`, not a JSON-RPC error: the model gets to see it.
    run: async () => ({
      isError: true,
      content: [text('This tool intentionally returns an error for testing')],
    }),
  },
  {
    definition: {
      name: 'test_tool_with_progress',
      description: 'Reports progress 0, 50 and 100 of 100',
      inputSchema: NO_ARGS,
    },
    async run(_args, { extra }) {
      const token = extra._meta?.progressToken;
      for (const progress of [0, 50, 100]) {
        if (token !== undefined) {
          await extra.sendNotification({
            method: 'notifications/progress',
            params: { progressToken: token, progress, total: 100 },
          });
        }
        if (progress < 100) await sleep(50);
      }
      return { content: [text('Tool with progress executed successfully')] };
    },
  },
  {
    definition: {
      name: 'test_sampling',
      description: 'Asks the client to sample an LLM with the given prompt',
      inputSchema: {
        type: 'object',
        properties: { prompt: { type: 'string', description: 'The prompt to send to the LLM' } },
        required: ['prompt'],
      },
    },
    async run(args, context) {
      if (!context.server.getClientCapabilities()?.sampling) {
        throw new McpError(ErrorCode.InvalidRequest, 'the client does not support sampling');
      }
      const result = await context.extra.sendRequest(
        {
          method: 'sampling/createMessage',
          params: {
            messages: [{ role: 'user', content: text(stringArg(args, 'prompt')) }],
            maxTokens: 100,
          },
        },
        CreateMessageResultSchema,
      );
      const reply = result.content.type === 'text' ? result.content.text : `[${result.content.type}]`;
      return { content: [text(`LLM response: ${reply}`)] };
    },
  },
  {
    definition: {
      name: 'test_elicitation',
      description: 'Asks the user for a username and an email (elicitation)',
      inputSchema: {
        type: 'object',
        properties: { message: { type: 'string', description: 'The message to show the user' } },
        required: ['message'],
      },
    },
    async run(args, context) {
      const result = await elicit(context, {
        message: stringArg(args, 'message'),
        requestedSchema: {
          type: 'object',
          properties: {
            username: { type: 'string', description: "User's response" },
            email: { type: 'string', description: "User's email address" },
          },
          required: ['username', 'email'],
        },
      });
      return {
        content: [
          text(`User response: action=${result.action}, content=${JSON.stringify(result.content ?? {})}`),
        ],
      };
    },
  },
  {
    definition: {
      name: 'test_elicitation_sep1034_defaults',
      description: 'Elicits with a default value for every primitive type (SEP-1034)',
      inputSchema: NO_ARGS,
    },
    async run(_args, context) {
      const result = await elicit(context, {
        message: 'Please review and update the form fields with defaults',
        requestedSchema: {
          type: 'object',
          properties: {
            name: { type: 'string', description: 'User name', default: 'John Doe' },
            age: { type: 'integer', description: 'User age', default: 30 },
            score: { type: 'number', description: 'User score', default: 95.5 },
            status: {
              type: 'string',
              description: 'User status',
              enum: ['active', 'inactive', 'pending'],
              default: 'active',
            },
            verified: { type: 'boolean', description: 'Verification status', default: true },
          },
          required: [],
        },
      });
      return {
        content: [
          text(
            `Elicitation completed: action=${result.action}, content=${JSON.stringify(result.content ?? {})}`,
          ),
        ],
      };
    },
  },
  {
    definition: {
      name: 'test_elicitation_sep1330_enums',
      description: 'Elicits with every enum schema variant (SEP-1330)',
      inputSchema: NO_ARGS,
    },
    async run(_args, context) {
      const result = await elicit(context, {
        message: 'Please select options from the enum fields',
        requestedSchema: {
          type: 'object',
          properties: {
            untitledSingle: {
              type: 'string',
              description: 'Untitled single-select',
              enum: ['option1', 'option2', 'option3'],
            },
            titledSingle: {
              type: 'string',
              description: 'Titled single-select',
              oneOf: [
                { const: 'value1', title: 'First Option' },
                { const: 'value2', title: 'Second Option' },
                { const: 'value3', title: 'Third Option' },
              ],
            },
            legacyEnum: {
              type: 'string',
              description: 'Legacy titled enum',
              enum: ['opt1', 'opt2', 'opt3'],
              enumNames: ['Option One', 'Option Two', 'Option Three'],
            },
            untitledMulti: {
              type: 'array',
              description: 'Untitled multi-select',
              items: { type: 'string', enum: ['option1', 'option2', 'option3'] },
            },
            titledMulti: {
              type: 'array',
              description: 'Titled multi-select',
              items: {
                anyOf: [
                  { const: 'value1', title: 'First Choice' },
                  { const: 'value2', title: 'Second Choice' },
                  { const: 'value3', title: 'Third Choice' },
                ],
              },
            },
          },
          required: [],
        },
      });
      return {
        content: [
          text(
            `Elicitation completed: action=${result.action}, content=${JSON.stringify(result.content ?? {})}`,
          ),
        ],
      };
    },
  },
  {
    // Served verbatim: the json-schema-2020-12 scenario checks that `$schema`, `$defs` and
    // `additionalProperties` survive the trip, which a schema converted from zod would not show.
    definition: {
      name: 'json_schema_2020_12_tool',
      description: 'Tool with JSON Schema 2020-12 features',
      inputSchema: {
        $schema: 'https://json-schema.org/draft/2020-12/schema',
        type: 'object',
        $defs: {
          address: {
            type: 'object',
            properties: { street: { type: 'string' }, city: { type: 'string' } },
          },
        },
        properties: { name: { type: 'string' }, address: { $ref: '#/$defs/address' } },
        additionalProperties: false,
      },
    },
    run: async (args) => ({ content: [text(`Received: ${JSON.stringify(args)}`)] }),
  },
  {
    definition: {
      name: 'test_reconnection',
      description: 'Closes its SSE stream mid-call; the result arrives after the client resumes (SEP-1699)',
      inputSchema: NO_ARGS,
    },
    async run(_args, { extra }) {
      // The SDK offers `closeSSEStream` only when the client can resume (an event store and a protocol version
      // that understands priming events); otherwise the result simply comes on the open stream.
      if (extra.closeSSEStream) {
        extra.closeSSEStream();
        await sleep(100);
      }
      return { content: [text('Reconnection test completed')] };
    },
  },
];

const PROMPTS = [
  { name: 'test_simple_prompt', description: 'A simple prompt without arguments' },
  {
    name: 'test_prompt_with_arguments',
    description: 'A prompt with two required arguments',
    arguments: [
      { name: 'arg1', description: 'First test argument', required: true },
      { name: 'arg2', description: 'Second test argument', required: true },
    ],
  },
  {
    name: 'test_prompt_with_embedded_resource',
    description: 'A prompt that embeds a resource',
    arguments: [{ name: 'resourceUri', description: 'URI of the resource to embed', required: true }],
  },
  { name: 'test_prompt_with_image', description: 'A prompt with an image' },
];

const COMPLETIONS = ['paris', 'park', 'party', 'test', 'testing', 'tested'];

function getPrompt(name: string, args: Record<string, string>): GetPromptResult {
  switch (name) {
    case 'test_simple_prompt':
      return { messages: [{ role: 'user', content: text('This is a simple prompt for testing.') }] };
    case 'test_prompt_with_arguments':
      return {
        messages: [
          {
            role: 'user',
            content: text(`Prompt with arguments: arg1='${args.arg1 ?? ''}', arg2='${args.arg2 ?? ''}'`),
          },
        ],
      };
    case 'test_prompt_with_embedded_resource':
      return {
        messages: [
          {
            role: 'user',
            content: {
              type: 'resource',
              resource: {
                uri: args.resourceUri ?? 'test://example-resource',
                mimeType: 'text/plain',
                text: 'Embedded resource content for testing.',
              },
            },
          },
          { role: 'user', content: text('Please process the embedded resource above.') },
        ],
      };
    case 'test_prompt_with_image':
      return {
        messages: [
          { role: 'user', content: { type: 'image', data: RED_PIXEL_PNG, mimeType: 'image/png' } },
          { role: 'user', content: text('Please analyze the image above.') },
        ],
      };
    default:
      throw new McpError(ErrorCode.InvalidParams, `unknown prompt '${name}'`);
  }
}

function readResource(uri: string): ReadResourceResult {
  if (uri === 'test://static-text') {
    return {
      contents: [{ uri, mimeType: 'text/plain', text: 'This is the content of the static text resource.' }],
    };
  }
  if (uri === 'test://static-binary') {
    return { contents: [{ uri, mimeType: 'image/png', blob: RED_PIXEL_PNG }] };
  }
  if (uri === 'test://watched-resource') {
    return { contents: [{ uri, mimeType: 'text/plain', text: 'A resource clients may subscribe to.' }] };
  }
  const templated = /^test:\/\/template\/([^/]+)\/data$/.exec(uri);
  if (templated) {
    const id = decodeURIComponent(templated[1]!);
    return {
      contents: [
        {
          uri,
          mimeType: 'application/json',
          text: JSON.stringify({ id, templateTest: true, data: `Data for ID: ${id}` }),
        },
      ],
    };
  }
  throw new McpError(ErrorCode.InvalidParams, `unknown resource '${uri}'`);
}

const SEVERITY = new Map(LoggingLevelSchema.options.map((level, index) => [level, index]));

/**
 * One MCP server per session, so the log level and subscriptions are that session's own. The low-level `Server`
 * rather than `McpServer`: tool schemas are served verbatim (no zod round trip) and tool errors are shaped here.
 */
function createFixtureMcpServer(): Server {
  const server = new Server(
    { name: 'mcp-gateway-conformance-fixture', version: '1.0.0' },
    {
      capabilities: {
        tools: {},
        prompts: {},
        resources: { subscribe: true },
        logging: {},
        completions: {},
      },
    },
  );
  let minimumLevel: LoggingLevel = 'debug';
  const subscriptions = new Set<string>();

  server.setRequestHandler(SetLevelRequestSchema, async (request) => {
    minimumLevel = request.params.level;
    return {};
  });
  server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: TOOLS.map((t) => t.definition) }));
  server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
    const tool = TOOLS.find((t) => t.definition.name === request.params.name);
    if (!tool) throw new McpError(ErrorCode.InvalidParams, `unknown tool '${request.params.name}'`);
    const context: ToolContext = {
      server,
      extra,
      async log(level, data) {
        if ((SEVERITY.get(level) ?? 0) < (SEVERITY.get(minimumLevel) ?? 0)) return;
        await extra.sendNotification({ method: 'notifications/message', params: { level, data } });
      },
    };
    return tool.run(request.params.arguments ?? {}, context);
  });
  server.setRequestHandler(ListPromptsRequestSchema, async () => ({ prompts: PROMPTS }));
  server.setRequestHandler(GetPromptRequestSchema, async (request) =>
    getPrompt(request.params.name, request.params.arguments ?? {}),
  );
  server.setRequestHandler(ListResourcesRequestSchema, async () => ({
    resources: [
      {
        uri: 'test://static-text',
        name: 'Static text',
        description: 'A static text resource',
        mimeType: 'text/plain',
      },
      {
        uri: 'test://static-binary',
        name: 'Static binary',
        description: 'A static PNG image',
        mimeType: 'image/png',
      },
      {
        uri: 'test://watched-resource',
        name: 'Watched resource',
        description: 'A resource to subscribe to',
        mimeType: 'text/plain',
      },
    ],
  }));
  server.setRequestHandler(ListResourceTemplatesRequestSchema, async () => ({
    resourceTemplates: [
      {
        uriTemplate: 'test://template/{id}/data',
        name: 'Templated data',
        description: 'Data for an id',
        mimeType: 'application/json',
      },
    ],
  }));
  server.setRequestHandler(ReadResourceRequestSchema, async (request) => readResource(request.params.uri));
  server.setRequestHandler(SubscribeRequestSchema, async (request) => {
    subscriptions.add(request.params.uri);
    return {};
  });
  server.setRequestHandler(UnsubscribeRequestSchema, async (request) => {
    subscriptions.delete(request.params.uri);
    return {};
  });
  server.setRequestHandler(CompleteRequestSchema, async (request) => {
    const prefix = request.params.argument.value.toLowerCase();
    const values = COMPLETIONS.filter((v) => v.startsWith(prefix));
    return { completion: { values, total: values.length, hasMore: false } };
  });
  return server;
}

/** Keeps every SSE event of the fixture so a client can resume with `Last-Event-ID`. */
class FixtureEventStore implements EventStore {
  private readonly events: { id: string; streamId: string; message: JSONRPCMessage }[] = [];

  async storeEvent(streamId: string, message: JSONRPCMessage): Promise<string> {
    const id = `${streamId}_${this.events.length}`;
    this.events.push({ id, streamId, message });
    return id;
  }

  async getStreamIdForEventId(eventId: string): Promise<string | undefined> {
    return this.events.find((e) => e.id === eventId)?.streamId;
  }

  async replayEventsAfter(
    lastEventId: string,
    { send }: { send: (eventId: string, message: JSONRPCMessage) => Promise<void> },
  ): Promise<string> {
    const index = this.events.findIndex((e) => e.id === lastEventId);
    if (index < 0) throw new Error(`unknown event id ${lastEventId}`);
    const { streamId } = this.events[index]!;
    for (const event of this.events.slice(index + 1)) {
      // Priming events are stored as `{}` placeholders; replaying one would hand the client a non-message.
      if (event.streamId === streamId && 'jsonrpc' in event.message) await send(event.id, event.message);
    }
    return streamId;
  }
}

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

function isLoopbackHost(host: string | null): boolean {
  if (!host) return false;
  try {
    return LOOPBACK_NAMES.has(new URL(`http://${host}`).hostname.toLowerCase());
  } catch {
    return false;
  }
}

function isLoopbackOrigin(origin: string | null): boolean {
  if (origin === null) return true;
  try {
    return LOOPBACK_NAMES.has(new URL(origin).hostname.toLowerCase());
  } catch {
    return false;
  }
}

function jsonRpcError(status: number, code: number, message: string): Response {
  return Response.json({ jsonrpc: '2.0', id: null, error: { code, message } }, { status });
}

interface FixtureSession {
  readonly transport: WebStandardStreamableHTTPServerTransport;
  readonly version: string;
}

/** Starts the fixture on 127.0.0.1 with an ephemeral port. */
export async function startConformanceFixture(
  options: ConformanceFixtureOptions = {},
): Promise<ConformanceFixture> {
  const protect = options.dnsRebindingProtection ?? true;
  // Each session keeps the protocol version it negotiated, for `resumableForNegotiatedVersion`.
  const sessions = new Map<string, FixtureSession>();
  const eventStore = new FixtureEventStore();

  async function handle(request: Request): Promise<Response> {
    // A rebinding page reaches a localhost server under a foreign name: refuse before touching any session.
    if (
      protect &&
      (!isLoopbackHost(request.headers.get('host')) || !isLoopbackOrigin(request.headers.get('origin')))
    ) {
      return jsonRpcError(403, -32000, 'Forbidden: non-local Host or Origin');
    }
    let body: unknown;
    if (request.method === 'POST') {
      try {
        body = await request.json();
      } catch {
        return jsonRpcError(400, -32700, 'Parse error');
      }
    }
    const sessionId = request.headers.get('mcp-session-id');
    let session = sessionId === null ? undefined : sessions.get(sessionId);
    if (!session && sessionId === null && request.method === 'POST' && isInitializeRequest(body)) {
      // The SDK server answers with the client's version when it supports it, else with its latest.
      const requested = body.params.protocolVersion;
      const version = SUPPORTED_PROTOCOL_VERSIONS.includes(requested) ? requested : LATEST_PROTOCOL_VERSION;
      const transport: WebStandardStreamableHTTPServerTransport =
        new WebStandardStreamableHTTPServerTransport({
          sessionIdGenerator: () => randomUUID(),
          eventStore,
          retryInterval: options.retryIntervalMs ?? 500,
          onsessioninitialized: (id) => void sessions.set(id, { transport, version }),
          onsessionclosed: (id) => void sessions.delete(id),
        });
      transport.onclose = () => {
        if (transport.sessionId) sessions.delete(transport.sessionId);
      };
      await createFixtureMcpServer().connect(transport);
      session = { transport, version };
    }
    if (!session) {
      return sessionId !== null
        ? jsonRpcError(404, -32001, 'Session not found')
        : jsonRpcError(400, -32000, 'Bad Request: no session id and not an initialize request');
    }
    const header = request.headers.get('mcp-protocol-version');
    if (
      (options.resumableForNegotiatedVersion ?? true) &&
      header !== null &&
      SUPPORTED_PROTOCOL_VERSIONS.includes(header) &&
      header < session.version
    ) {
      const headers = new Headers(request.headers);
      headers.set('mcp-protocol-version', session.version);
      // The body is already parsed and handed over below, so the copy needs none.
      request = new Request(request.url, { method: request.method, headers, signal: request.signal });
    }
    return session.transport.handleRequest(request, { parsedBody: body });
  }

  const app = new Hono();
  app.all('/mcp', (c) => handle(c.req.raw));
  const http = await new Promise<HttpServer>((resolve) => {
    const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () =>
      resolve(server as HttpServer),
    );
  });
  const { port } = http.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    sessionCount: () => sessions.size,
    async close() {
      for (const { transport } of sessions.values()) await transport.close().catch(() => undefined);
      sessions.clear();
      await new Promise<void>((resolve) => {
        http.closeAllConnections();
        http.close(() => resolve());
      });
    },
  };
}
