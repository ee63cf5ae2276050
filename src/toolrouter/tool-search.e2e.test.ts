/**
 * Tool search on `/mcp` (`MCP_GATEWAY_TOOL_DISCOVERY=search`), end to end with SDK clients of both lines against a
 * real gateway: the list is `search_tools` and `call_tool`; a search finds registered and federated tools the
 * caller may use, and never another user's; `call_tool` is a direct call in every respect (result, argument
 * checks, errors, audit); a tool registered a moment ago is found by the next search; a direct `tools/call` by a
 * tool's own name still works.
 */
import { Client as LegacyClient } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as LegacyTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devAuth } from '../auth/index.js';
import { createAuditLog } from '../observability/audit-log.js';
import { createLogger } from '../observability/index.js';
import { startHttpServer } from '../../test/http-fixture.js';
import type { RunningServer } from '../../test/http-fixture.js';
import { CLIENT_ERAS } from '../../test/mcp-clients.js';
import type { TestMcpClient } from '../../test/mcp-clients.js';
import { startLegacyMcpServer } from '../../test/mcp-servers.js';
import type { RunningMcpServer } from '../../test/mcp-servers.js';
import { startTestGateway } from '../../test/test-gateway.js';
import type { TestGateway } from '../../test/test-gateway.js';

const as = (user: string) => ({ headers: { 'x-dev-userid': user } });

const textOf = (result: Record<string, unknown>) =>
  ((result.content as { type: string; text?: string }[] | undefined) ?? []).map((c) => c.text ?? '').join('');

interface Found {
  name: string;
  title?: string;
  description?: string;
  inputSchema: object;
}

/** The names `search_tools` answers `query` with, checking that its text mirrors its structured content. */
async function search(client: TestMcpClient, query: string, limit?: number): Promise<Found[]> {
  const result = await client.call('search_tools', { query, ...(limit !== undefined && { limit }) });
  expect(result.isError).toBeFalsy();
  const structured = result.structuredContent as { tools: Found[] };
  expect(JSON.parse(textOf(result))).toEqual(structured);
  return structured.tools;
}
const namesOf = (found: Found[]) => found.map((t) => t.name);

/** A tool server that answers every POST with what it was sent, and keeps the bodies. */
async function startEchoToolServer(): Promise<RunningServer & { readonly bodies: unknown[] }> {
  const bodies: unknown[] = [];
  const server = await startHttpServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString() || 'null';
      bodies.push(JSON.parse(body));
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ received: JSON.parse(body) }));
    });
  });
  return { ...server, bodies };
}

const INVOICE_INPUT = {
  type: 'object',
  properties: {
    invoice_id: { type: 'string', description: 'Number of the invoice to render' },
    copies: { type: 'integer', minimum: 1 },
  },
  required: ['invoice_id'],
  additionalProperties: false,
};

describe('tool router in search mode', () => {
  let gateway: TestGateway;
  let tools: Awaited<ReturnType<typeof startEchoToolServer>>;
  let upstream: RunningMcpServer;
  const lines: Record<string, unknown>[] = [];

  async function register(user: string, kind: 'tools' | 'adapters', body: object): Promise<void> {
    const res = await fetch(`${gateway.url}/${kind}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...as(user).headers },
      body: JSON.stringify(body),
    });
    if (res.status !== 201) throw new Error(`POST /${kind}: ${res.status} ${await res.text()}`);
  }
  const tool = (name: string, description: string, inputSchema: object = { type: 'object' }) => ({
    name,
    endpoints: [`${tools.url}/${name}`],
    toolDefinition: { tool: { name, description, inputSchema } },
  });

  beforeAll(async () => {
    tools = await startEchoToolServer();
    upstream = await startLegacyMcpServer({ name: 'legacy-upstream' });
    const logger = createLogger({
      level: 'info',
      destination: { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) },
    });
    gateway = await startTestGateway({
      authenticate: devAuth(),
      toolRouter: { discovery: 'search' },
      logger,
      operations: { audit: createAuditLog(logger) },
    });
    await register(
      'alice',
      'tools',
      tool('invoice-pdf', 'Renders an invoice as a PDF document, ready to print or send', INVOICE_INPUT),
    );
    await register('alice', 'tools', tool('weather-now', 'Current weather conditions for a city'));
    // Bob's own, not readable by alice, and worded to match her invoice queries: a leaky filter shows it.
    await register(
      'bob',
      'tools',
      tool('ledger-private', 'Renders the private ledger of invoices as a PDF document'),
    );
    // Alice's federated adapter: its tools (`legacy__echo`, …) are hers, not bob's.
    await register('alice', 'adapters', { name: 'legacy', endpoints: [upstream.url], federate: true });
  });
  afterAll(async () => {
    await gateway?.close();
    await Promise.all([tools?.close(), upstream?.close()]);
  });

  describe.each(CLIENT_ERAS)('%s client', (_era, connect) => {
    it('lists exactly search_tools and call_tool, with their schemas', async () => {
      const client = await connect(`${gateway.url}/mcp`, as('alice'));
      try {
        const page = (await client.listPage()) as {
          tools: { name: string; inputSchema: object; outputSchema?: object }[];
          nextCursor?: string;
        };
        expect(page.tools.map((t) => t.name)).toEqual(['search_tools', 'call_tool']);
        expect(page.nextCursor).toBeUndefined();
        expect(page.tools[0]!.inputSchema).toMatchObject({ required: ['query'] });
        expect(page.tools[0]!.outputSchema).toMatchObject({ required: ['tools'] });
        expect(page.tools[1]!.inputSchema).toMatchObject({ required: ['name'] });
      } finally {
        await client.close();
      }
    });

    it('finds a registered tool and a federated one by what they do, with what a call needs', async () => {
      const client = await connect(`${gateway.url}/mcp`, as('alice'));
      try {
        await client.listPage();
        const found = await search(client, 'print an invoice as pdf');
        expect(found[0]).toEqual({
          name: 'invoice-pdf',
          description: 'Renders an invoice as a PDF document, ready to print or send',
          inputSchema: INVOICE_INPUT,
        });
        expect(namesOf(await search(client, 'echo some text back'))).toContain('legacy__echo');
        // By a parameter's description, and with a typo.
        expect(namesOf(await search(client, 'render invoce number'))[0]).toBe('invoice-pdf');
        expect(await search(client, 'weather', 1)).toHaveLength(1);
      } finally {
        await client.close();
      }
    });

    it('call_tool calls the tool and returns its real result; a direct tools/call by its name works too', async () => {
      const client = await connect(`${gateway.url}/mcp`, as('alice'));
      try {
        const through = await client.call('call_tool', {
          name: 'invoice-pdf',
          arguments: { invoice_id: 'A-17', copies: 2 },
        });
        expect(through.isError).toBeFalsy();
        expect(tools.bodies.at(-1)).toEqual({ invoice_id: 'A-17', copies: 2 });
        expect(through.structuredContent).toEqual({ received: { invoice_id: 'A-17', copies: 2 } });
        expect(
          textOf(await client.call('call_tool', { name: 'legacy__echo', arguments: { text: 'hi' } })),
        ).toBe('hi');
        const direct = await client.call('invoice-pdf', { invoice_id: 'A-18' });
        expect(direct.structuredContent).toEqual({ received: { invoice_id: 'A-18' } });
      } finally {
        await client.close();
      }
    });

    it('gives call_tool the argument checks and errors of a direct call, and checks its own arguments', async () => {
      const client = await connect(`${gateway.url}/mcp`, as('alice'));
      try {
        const before = tools.bodies.length;
        const refusalOf = (promise: Promise<unknown>) =>
          promise.then(
            () => undefined,
            (error: { code?: number; message?: string }) => ({ code: error.code, message: error.message }),
          );
        const direct = await refusalOf(client.call('invoice-pdf', { invoice_id: 5 }));
        expect(direct).toMatchObject({
          code: -32602,
          message: expect.stringContaining("Invalid arguments for tool 'invoice-pdf': arguments/invoice_id:"),
        });
        expect(
          await refusalOf(client.call('call_tool', { name: 'invoice-pdf', arguments: { invoice_id: 5 } })),
        ).toEqual(direct);
        expect(tools.bodies.length).toBe(before);
        // Another user's tool and a tool that does not exist: the same answer as a direct call, and as each other.
        for (const name of ['ledger-private', 'no-such-tool']) {
          const unknown = await refusalOf(client.call(name, {}));
          expect(unknown).toMatchObject({
            code: -32602,
            message: expect.stringContaining(`Unknown tool: ${name}`),
          });
          expect(await refusalOf(client.call('call_tool', { name, arguments: {} }))).toEqual(unknown);
        }
        // A search tool is not reachable through call_tool.
        await expect(
          client.call('call_tool', { name: 'search_tools', arguments: { query: 'x' } }),
        ).rejects.toMatchObject({
          code: -32602,
          message: expect.stringContaining('Unknown tool: search_tools'),
        });
        await expect(client.call('call_tool', { arguments: {} })).rejects.toMatchObject({
          code: -32602,
          message: expect.stringContaining(
            `Invalid arguments for tool 'call_tool': arguments: Instance does not have required property "name"`,
          ),
        });
        await expect(client.call('search_tools', { query: 'pdf', limit: 51 })).rejects.toMatchObject({
          code: -32602,
          message: expect.stringContaining(`Invalid arguments for tool 'search_tools': arguments/limit:`),
        });
        await expect(client.call('search_tools', {})).rejects.toMatchObject({ code: -32602 });
      } finally {
        await client.close();
      }
    });

    it('never shows a user another user’s private tools', async () => {
      const alice = await connect(`${gateway.url}/mcp`, as('alice'));
      const bob = await connect(`${gateway.url}/mcp`, as('bob'));
      try {
        const queries = [
          'private ledger of invoices pdf',
          'render pdf document',
          'ledger',
          'echo text',
          'weather',
        ];
        const aliceMay = new Set(['invoice-pdf', 'weather-now']);
        for (const query of queries) {
          for (const name of namesOf(await search(alice, query, 50))) {
            expect(aliceMay.has(name) || name.startsWith('legacy__') || name.startsWith('tide-')).toBe(true);
          }
          for (const name of namesOf(await search(bob, query, 50))) expect(name).toBe('ledger-private');
        }
        // Each sees their own.
        expect(namesOf(await search(bob, 'private ledger of invoices'))).toEqual(['ledger-private']);
        expect(namesOf(await search(alice, 'private ledger of invoices'))).toContain('invoice-pdf');
      } finally {
        await Promise.all([alice.close(), bob.close()]);
      }
    });

    it('finds a tool registered a moment ago at the next search; the list stays the two tools', async () => {
      const client = await connect(`${gateway.url}/mcp`, as('alice'));
      try {
        const name = `tide-${client.era}`;
        expect(namesOf(await search(client, 'ocean tide times harbour'))).not.toContain(name);
        await register('alice', 'tools', tool(name, 'Predicts ocean tide times for a harbour'));
        // The other era's test registered one just like it: both are found, nothing else ranks above them.
        expect(namesOf(await search(client, 'ocean tide times harbour')).slice(0, 2)).toContain(name);
        expect(textOf(await client.call('call_tool', { name, arguments: { port: 'Brest' } }))).toContain(
          'Brest',
        );
        expect((await client.listAll()).names).toEqual(['search_tools', 'call_tool']);
      } finally {
        await client.close();
      }
    });
  });

  it('audits a call through call_tool as the call of the tool itself', async () => {
    const client = await CLIENT_ERAS[1][1](`${gateway.url}/mcp`, as('alice'));
    try {
      const before = lines.length;
      await client.call('call_tool', { name: 'weather-now', arguments: {} });
      await client.call('weather-now', {});
      const audits = lines.slice(before).filter((l) => l.audit === true && l.via === 'tool-router');
      expect(audits).toHaveLength(2);
      const { time: _t1, ...throughCall } = audits[0]!;
      const { time: _t2, ...directCall } = audits[1]!;
      expect(throughCall).toMatchObject({
        tool: 'weather-now',
        kind: 'tool',
        name: 'weather-now',
        outcome: 'success',
      });
      expect({ ...throughCall, seconds: 0 }).toEqual({ ...directCall, seconds: 0 });
    } finally {
      await client.close();
    }
  });

  // Last: it drains the router's GET streams, after which new ones end at once.
  it('announces no list change in search mode: the two-tool list does not change when the catalog does', async () => {
    const legacy = new LegacyClient({ name: 'capabilities', version: '1.0.0' });
    await legacy.connect(new LegacyTransport(new URL(`${gateway.url}/mcp`), { requestInit: as('alice') }));
    expect(legacy.getServerCapabilities()?.tools).toEqual({ listChanged: false });
    await legacy.close();

    const open = (lastEventId?: string) =>
      fetch(`${gateway.url}/mcp`, {
        headers: {
          accept: 'text/event-stream',
          ...as('alice').headers,
          ...(lastEventId !== undefined && { 'last-event-id': lastEventId }),
        },
      });
    const fresh = await open();
    const resumed = await open('search');
    // Last saw a list-mode list (before the gateway switched modes): that list did change, once.
    const outdated = await open('0-0');
    const client = await CLIENT_ERAS[1][1](`${gateway.url}/mcp`, as('alice'));
    try {
      await register('alice', 'tools', tool('almanac', 'Sunrise and sunset times'));
      // The search rebuilt the catalog, and every change listener ran, before it answered.
      expect(namesOf(await search(client, 'sunrise sunset'))).toContain('almanac');
    } finally {
      await client.close();
    }
    gateway.toolRouter!.drain();
    const [freshText, resumedText, outdatedText] = await Promise.all(
      [fresh, resumed, outdated].map((res) => res.text()),
    );
    expect(freshText).toContain('id: search');
    expect(freshText).not.toContain('list_changed');
    expect(resumedText).not.toContain('list_changed');
    expect(outdatedText!.match(/notifications\/tools\/list_changed/g)).toHaveLength(1);
  });
});
