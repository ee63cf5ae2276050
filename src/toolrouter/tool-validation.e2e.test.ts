/**
 * Validation and fidelity of the tool router, end to end with SDK clients of both lines: arguments checked against
 * `inputSchema` before anything goes upstream (registered and federated tools, both dialects), federated
 * `structuredContent` checked against `outputSchema`, unknown annotation and `_meta` keys kept through to a
 * listing, and tools no configured deployer can run hidden from users and shown, marked, to admins.
 */
import { Server, createMcpHandler } from '@modelcontextprotocol/server';
import type { CallToolResult } from '@modelcontextprotocol/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devAuth } from '../auth/index.js';
import { createLogger } from '../observability/index.js';
import { serveMcpFetch, startHttpServer } from '../../test/http-fixture.js';
import type { RunningServer } from '../../test/http-fixture.js';
import { CLIENT_ERAS } from '../../test/mcp-clients.js';
import { startLegacyMcpServer, startModernMcpServer } from '../../test/mcp-servers.js';
import type { RunningMcpServer } from '../../test/mcp-servers.js';
import { startTestGateway } from '../../test/test-gateway.js';
import type { TestGateway } from '../../test/test-gateway.js';
import { UNAVAILABLE_META_KEY } from './catalog.js';

const textOf = (result: Record<string, unknown>) =>
  ((result.content as { type: string; text?: string }[] | undefined) ?? []).map((c) => c.text ?? '').join('');

const as = (user: string, roles: string[] = []) => ({
  headers: { 'x-dev-userid': user, 'x-dev-roles': roles.join(',') },
});

async function register(gateway: TestGateway, kind: 'tools' | 'adapters', body: object): Promise<void> {
  const res = await fetch(`${gateway.url}/${kind}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...as('alice').headers },
    body: JSON.stringify(body),
  });
  if (res.status !== 201) throw new Error(`POST /${kind}: ${res.status} ${await res.text()}`);
}

/** A tool server that answers every POST with `{"ok":true}` and keeps the bodies it received. */
async function startRecordingToolServer(): Promise<RunningServer & { readonly bodies: unknown[] }> {
  const bodies: unknown[] = [];
  const server = await startHttpServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      bodies.push(JSON.parse(Buffer.concat(chunks).toString() || 'null'));
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
  });
  return { ...server, bodies };
}

const TYPED_OUTPUT = {
  type: 'object',
  properties: { score: { type: 'number' } },
  required: ['score'],
} as const;

/**
 * An SDK 2.x server (low-level, so nothing checks its answers) whose `typed` tool declares an outputSchema and
 * answers as `mode` says: conforming, with the wrong type, or without structured content.
 */
async function startTypedUpstream(): Promise<{ url: string; close(): Promise<void> }> {
  const handler = createMcpHandler(() => {
    const server = new Server({ name: 'typed-upstream', version: '2.0.0' }, { capabilities: { tools: {} } });
    server.setRequestHandler('tools/list', () => ({
      tools: [
        {
          name: 'typed',
          inputSchema: { type: 'object', properties: { mode: { type: 'string' } } },
          outputSchema: TYPED_OUTPUT,
        },
      ],
    }));
    server.setRequestHandler('tools/call', (request): CallToolResult => {
      const mode = request.params.arguments?.mode;
      if (mode === 'wrong') {
        return {
          content: [{ type: 'text', text: '{"score":"high"}' }],
          structuredContent: { score: 'high' },
        };
      }
      if (mode === 'none') return { content: [{ type: 'text', text: 'no structure' }] };
      return { content: [{ type: 'text', text: '{"score":1}' }], structuredContent: { score: 1 } };
    });
    return server;
  });
  const http = await serveMcpFetch((request) => handler.fetch(request));
  return {
    url: http.mcpUrl,
    close: http.close,
  };
}

const STRICT_INPUT = {
  type: 'object',
  properties: {
    text: { type: 'string' },
    n: { type: 'integer', minimum: 1 },
    tags: { type: 'array', items: { type: 'string' } },
  },
  required: ['text'],
  additionalProperties: false,
};

describe('tool router: arguments and results checked against the tool’s schemas', () => {
  let gateway: TestGateway;
  let tools: Awaited<ReturnType<typeof startRecordingToolServer>>;
  let legacy: RunningMcpServer;
  let modern: RunningMcpServer;
  let typed: Awaited<ReturnType<typeof startTypedUpstream>>;
  const logLines: { msg?: string; tool?: string }[] = [];

  beforeAll(async () => {
    tools = await startRecordingToolServer();
    legacy = await startLegacyMcpServer({ name: 'legacy-upstream' });
    modern = await startModernMcpServer({ name: 'modern-upstream' });
    typed = await startTypedUpstream();
    const logger = createLogger({
      level: 'warn',
      destination: { write: (line: string) => void logLines.push(JSON.parse(line) as { msg?: string }) },
    });
    gateway = await startTestGateway({ authenticate: devAuth(), toolRouter: {}, logger });
    const tool = (name: string, inputSchema: object) => ({
      name,
      endpoints: [`${tools.url}/${name}`],
      toolDefinition: { tool: { name, inputSchema } },
    });
    await register(gateway, 'tools', tool('strict', STRICT_INPUT));
    // Draft-07 ignores the siblings of `$ref`; 2020-12 (the default) applies them.
    const refWithSibling = {
      type: 'object',
      definitions: { anything: {} },
      properties: { a: { $ref: '#/definitions/anything', type: 'string' } },
    };
    await register(
      gateway,
      'tools',
      tool('draft7', { $schema: 'http://json-schema.org/draft-07/schema#', ...refWithSibling }),
    );
    await register(gateway, 'tools', tool('draft2020', refWithSibling));
    // A pattern in a regex flavour JavaScript cannot compile: the schema is unusable, the tool is not.
    await register(
      gateway,
      'tools',
      tool('odd-schema', { type: 'object', properties: { a: { type: 'string', pattern: '(?i)abc' } } }),
    );
    await register(gateway, 'adapters', { name: 'legacy', endpoints: [legacy.url], federate: true });
    await register(gateway, 'adapters', { name: 'modern', endpoints: [modern.url], federate: true });
    await register(gateway, 'adapters', { name: 'typed', endpoints: [typed.url], federate: true });
  });
  afterAll(async () => {
    await gateway?.close();
    await Promise.all([tools?.close(), legacy?.close(), modern?.close(), typed?.close()]);
  });

  describe.each(CLIENT_ERAS)('%s client', (_era, connect) => {
    it('refuses bad arguments to a registered tool with -32602 naming the argument and the rule; nothing reaches the tool', async () => {
      const client = await connect(`${gateway.url}/mcp`, as('alice'));
      try {
        const before = tools.bodies.length;
        const refusal = (args: Record<string, unknown>) => client.call('strict', args);
        await expect(refusal({ text: 5 })).rejects.toMatchObject({
          code: -32602,
          message: expect.stringContaining(
            `Invalid arguments for tool 'strict': arguments/text: Instance type "number" is invalid. Expected "string". (type)`,
          ),
        });
        await expect(refusal({ text: 'a', n: 0 })).rejects.toMatchObject({
          code: -32602,
          message: expect.stringContaining('arguments/n: 0 is less than 1. (minimum)'),
        });
        await expect(refusal({})).rejects.toMatchObject({
          code: -32602,
          message: expect.stringContaining(
            'arguments: Instance does not have required property "text". (required)',
          ),
        });
        await expect(refusal({ text: 'a', tags: ['x', 3] })).rejects.toMatchObject({
          message: expect.stringContaining('arguments/tags/1: Instance type "number"'),
        });
        await expect(refusal({ text: 'a', extra: 1 })).rejects.toMatchObject({
          message: expect.stringContaining(
            'arguments/extra: Property "extra" does not match additional properties schema. (additionalProperties)',
          ),
        });
        expect(tools.bodies.length).toBe(before);
        const ok = await client.call('strict', { text: 'a', n: 2, tags: ['x'] });
        expect(ok.isError).toBeFalsy();
        expect(tools.bodies.at(-1)).toEqual({ text: 'a', n: 2, tags: ['x'] });
      } finally {
        await client.close();
      }
    });

    it('follows the schema’s dialect: draft-07 when $schema says so, 2020-12 otherwise', async () => {
      const client = await connect(`${gateway.url}/mcp`, as('alice'));
      try {
        expect((await client.call('draft7', { a: 1 })).isError).toBeFalsy();
        await expect(client.call('draft2020', { a: 1 })).rejects.toMatchObject({
          code: -32602,
          message: expect.stringContaining('arguments/a: Instance type "number" is invalid'),
        });
      } finally {
        await client.close();
      }
    });

    it('refuses bad arguments to federated tools of both upstream lines before they are sent', async () => {
      const client = await connect(`${gateway.url}/mcp`, as('alice'));
      try {
        for (const [name, upstream] of [
          ['legacy__echo', legacy],
          ['modern__echo', modern],
        ] as const) {
          // A good call first, so the pooled upstream session exists; then nothing more may reach the upstream.
          expect(textOf(await client.call(name, { text: 'fine' }))).toBe('fine');
          const seen = upstream.requests.length;
          await expect(client.call(name, { text: 42 })).rejects.toMatchObject({
            code: -32602,
            message: expect.stringContaining(`Invalid arguments for tool '${name}': arguments/text:`),
          });
          expect(upstream.requests.length).toBe(seen);
        }
      } finally {
        await client.close();
      }
    });

    it('turns federated structuredContent that breaks the outputSchema, or is missing, into an isError result', async () => {
      const client = await connect(`${gateway.url}/mcp`, as('alice'));
      try {
        const good = await client.call('typed__typed', { mode: 'good' });
        expect(good.isError).toBeFalsy();
        expect(good.structuredContent).toEqual({ score: 1 });
        const wrong = await client.call('typed__typed', { mode: 'wrong' });
        expect(wrong.isError).toBe(true);
        expect(textOf(wrong)).toBe(
          `Tool 'typed__typed' returned a result that does not match its outputSchema: structuredContent/score: Instance type "string" is invalid. Expected "number". (type)`,
        );
        expect(wrong.structuredContent).toBeUndefined();
        const none = await client.call('typed__typed', { mode: 'none' });
        expect(none).toMatchObject({ isError: true });
        expect(textOf(none)).toBe(
          "Tool 'typed__typed' declares an outputSchema but returned no structuredContent.",
        );
      } finally {
        await client.close();
      }
    });
  });

  it('checks against the definition now registered: a changed inputSchema applies to the next call', async () => {
    const body = (inputSchema: object) => ({
      name: 'changing',
      endpoints: [`${tools.url}/changing`],
      toolDefinition: { tool: { name: 'changing', inputSchema } },
    });
    const numberOnly = { type: 'object', properties: { v: { type: 'number' } } };
    await register(gateway, 'tools', body(numberOnly));
    const [, connect] = CLIENT_ERAS[1];
    const client = await connect(`${gateway.url}/mcp`, as('alice'));
    try {
      await expect(client.call('changing', { v: 'text' })).rejects.toMatchObject({ code: -32602 });
      const res = await fetch(`${gateway.url}/tools/changing`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json', ...as('alice').headers },
        body: JSON.stringify(body({ type: 'object', properties: { v: { type: 'string' } } })),
      });
      expect(res.status).toBe(200);
      expect((await client.call('changing', { v: 'text' })).isError).toBeFalsy();
      await expect(client.call('changing', { v: 1 })).rejects.toMatchObject({
        message: expect.stringContaining(
          'arguments/v: Instance type "number" is invalid. Expected "string".',
        ),
      });
    } finally {
      await client.close();
    }
  });

  it('calls a tool whose schema cannot be used, unchecked, and says so in the log once', async () => {
    const [, connect] = CLIENT_ERAS[0];
    const client = await connect(`${gateway.url}/mcp`, as('alice'));
    try {
      for (let i = 0; i < 3; i++) expect((await client.call('odd-schema', { a: 7 })).isError).toBeFalsy();
      expect(tools.bodies.at(-1)).toEqual({ a: 7 });
      const warnings = logLines.filter((line) => line.tool === 'odd-schema');
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatchObject({
        msg: 'the arguments schema of a tool cannot be used; its calls are not checked against it',
        err: expect.stringContaining('#/properties/a/pattern'),
      });
    } finally {
      await client.close();
    }
  });
});

describe('tool router: annotations and _meta as registered', () => {
  let gateway: TestGateway;
  let tools: RunningServer;

  beforeAll(async () => {
    tools = await startHttpServer((_req, res) => void res.writeHead(200).end());
    gateway = await startTestGateway({ authenticate: devAuth(), toolRouter: {} });
    // The reference README's own shape: an annotation key MCP does not define.
    await register(gateway, 'tools', {
      name: 'readme-tool',
      endpoints: [tools.url],
      toolDefinition: {
        tool: {
          name: 'readme-tool',
          inputSchema: { type: 'object' },
          annotations: { readOnly: true, readOnlyHint: true },
          _meta: { 'example.com/owner': { team: 'search' } },
        },
      },
    });
  });
  afterAll(async () => {
    await gateway?.close();
    await tools?.close();
  });

  /** One `tools/list` as sent on the wire (a 2025 stateless POST or a 2026-07-28 one): the listed tools, unparsed. */
  async function rawList(revision: '2025-11-25' | '2026-07-28'): Promise<Record<string, unknown>[]> {
    const res = await fetch(`${gateway.url}/mcp`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-protocol-version': revision,
        ...(revision === '2026-07-28' && { 'mcp-method': 'tools/list' }),
        ...as('alice').headers,
      },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'tools/list',
        params:
          revision === '2026-07-28'
            ? {
                _meta: {
                  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
                  'io.modelcontextprotocol/clientCapabilities': {},
                },
              }
            : {},
      }),
    });
    const text = await res.text();
    const json = text.startsWith('{') ? text : (/^data: (.*)$/m.exec(text)?.[1] ?? text);
    return (JSON.parse(json) as { result: { tools: Record<string, unknown>[] } }).result.tools;
  }

  it.each(['2025-11-25', '2026-07-28'] as const)(
    'serves unknown annotation and _meta keys as registered (%s on the wire)',
    async (revision) => {
      const listed = (await rawList(revision)).find((t) => t.name === 'readme-tool');
      expect(listed?.annotations).toEqual({ readOnly: true, readOnlyHint: true });
      expect(listed?._meta).toEqual({ 'example.com/owner': { team: 'search' } });
    },
  );

  it.each(CLIENT_ERAS)('hands SDK clients the listing with _meta kept (%s)', async (_era, connect) => {
    const client = await connect(`${gateway.url}/mcp`, as('alice'));
    try {
      const listed = (await client.listPage()).tools.find((t) => t.name === 'readme-tool') as
        { annotations?: object; _meta?: object } | undefined;
      // Both SDK lines parse annotations with a closed schema and drop keys MCP does not define, on their side.
      expect(listed?.annotations).toEqual({ readOnlyHint: true });
      expect(listed?._meta).toEqual({ 'example.com/owner': { team: 'search' } });
    } finally {
      await client.close();
    }
  });
});

describe('tool router: tools no configured deployer can run', () => {
  let gateway: TestGateway;
  let tools: RunningServer;

  beforeAll(async () => {
    tools = await startHttpServer((_req, res) => void res.writeHead(200).end('ran'));
    // The process deployer, as `npm start` runs it by default: nothing here runs container images.
    gateway = await startTestGateway({ authenticate: devAuth(), toolRouter: {}, processDeployer: true });
    await register(gateway, 'tools', {
      name: 'in-a-container',
      imageName: 'ghcr.io/example/scorer',
      imageVersion: '1.0.0',
      toolDefinition: { tool: { name: 'in-a-container', inputSchema: { type: 'object' } } },
    });
    await register(gateway, 'tools', {
      name: 'reachable',
      endpoints: [tools.url],
      toolDefinition: { tool: { name: 'reachable', inputSchema: { type: 'object' } } },
    });
  });
  afterAll(async () => {
    await gateway?.close();
    await tools?.close();
  });

  it.each(CLIENT_ERAS)(
    'hides them from users, shows them to admins with the reason in _meta (%s)',
    async (_era, connect) => {
      const alice = await connect(`${gateway.url}/mcp`, as('alice'));
      const admin = await connect(`${gateway.url}/mcp`, as('dana', ['mcp.admin']));
      try {
        // Even the creator, who may read the resource, is not offered a tool that cannot run here.
        expect((await alice.listAll()).names).toEqual(['reachable']);
        await expect(alice.call('in-a-container', {})).rejects.toMatchObject({
          code: -32602,
          message: expect.stringContaining('Unknown tool: in-a-container'),
        });
        expect((await admin.listAll()).names).toEqual(['in-a-container', 'reachable']);
        const listed = (await admin.listPage()).tools as { name: string; _meta?: Record<string, unknown> }[];
        const reason =
          "The image runtime of 'in-a-container' cannot be run by this gateway: no deployer for it is configured (MCP_GATEWAY_DEPLOYER; see docs/deployers.md).";
        expect(listed.find((t) => t.name === 'in-a-container')?._meta).toEqual({
          [UNAVAILABLE_META_KEY]: reason,
        });
        expect(listed.find((t) => t.name === 'reachable')?._meta).toBeUndefined();
        const called = await admin.call('in-a-container', {});
        expect(called).toMatchObject({ isError: true });
        expect(textOf(called)).toBe(reason);
        expect(textOf(await alice.call('reachable', {}))).toBe('ran');
      } finally {
        await Promise.all([alice.close(), admin.close()]);
      }
    },
  );
});
