/**
 * The router's fast path (`fast-call.ts`, `lean-federated-call.ts`) against its SDK path, end to end: two gateways
 * alike but for `fastPath` (on, the default; off: every request through the SDK server and every federated call
 * through the SDK client) get the same table of requests — raw 2026-07-28 POSTs, plain and unusual, well-formed
 * and not, and calls by real SDK 2.x and 1.x clients — to the same upstreams (a registered HTTP tool, an SDK 2.x
 * upstream with answers of every kind, an SDK 1.x upstream), and must answer each alike: status, content type,
 * body. The fast gateway's own counts show which requests it took and how it answered them. Then the guards:
 * a plain call on the fast path is still refused by the tool policy, the argument check and the pinning gate.
 */
import {
  ProtocolError,
  Server,
  createMcpHandler,
  inputRequired,
  isInputRequiredResult,
} from '@modelcontextprotocol/server';
import type { CallToolResult } from '@modelcontextprotocol/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCORE_TOOL, startScoreServer } from '../../scripts/samples/score-server.js';
import type { ScoreServer } from '../../scripts/samples/score-server.js';
import { devAuth } from '../auth/index.js';
import { serveMcpFetch, startHttpServer } from '../../test/http-fixture.js';
import type { RunningServer } from '../../test/http-fixture.js';
import { CLIENT_ERAS } from '../../test/mcp-clients.js';
import { startLegacyMcpServer } from '../../test/mcp-servers.js';
import type { RunningMcpServer } from '../../test/mcp-servers.js';
import { federationListed } from '../../test/federating-gateway.js';
import { startTestGateway } from '../../test/test-gateway.js';
import type { TestGateway } from '../../test/test-gateway.js';
import { fastPathCounts } from './fast-call.js';
import { leanCallCounts } from './lean-federated-call.js';
import { toolPolicyFrom } from './policy/index.js';

const ALICE = { 'x-dev-userid': 'alice', 'x-dev-roles': '' };
const ENVELOPE = {
  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientInfo': { name: 'table', version: '1.0.0' },
  'io.modelcontextprotocol/clientCapabilities': {},
};

/** The gateways' tool policy: `guarded` only with a short text; everything else allowed. */
const POLICY = toolPolicyFrom(
  {
    default: 'allow',
    rules: [{ name: 'short-only', tools: ['guarded'], when: 'args.text.size() > 5', effect: 'deny' }],
  },
  'test policy',
);

/**
 * A low-level SDK 2.x upstream (nothing checks its answers) whose tools answer in every way a tool can: text,
 * an image, structured content (conforming or not), a tool error, a JSON-RPC error, an internal error, an
 * `input_required` round, and a text answer on an SSE stream (a log message sent first).
 */
async function startOddUpstream(): Promise<{ url: string; close(): Promise<void> }> {
  const tools = ['text', 'picture', 'structured', 'failing', 'refusing', 'crashing', 'asking', 'chatty'].map(
    (name) => ({
      name,
      inputSchema: { type: 'object' as const, properties: { text: { type: 'string' } } },
      ...(name === 'structured' && {
        outputSchema: {
          type: 'object' as const,
          properties: { n: { type: 'number' } },
          required: ['n'],
        },
      }),
    }),
  );
  const handler = createMcpHandler(() => {
    const server = new Server(
      { name: 'odd-upstream', version: '2.0.0' },
      { capabilities: { tools: {}, logging: {} } },
    );
    server.setRequestHandler('tools/list', () => ({ tools }));
    server.setRequestHandler('tools/call', async (request, ctx) => {
      const text = String(request.params.arguments?.text ?? '');
      switch (request.params.name) {
        case 'text':
          return { content: [{ type: 'text', text: `text:${text}` }] } satisfies CallToolResult;
        case 'picture':
          return { content: [{ type: 'image', data: 'aGVsbG8=', mimeType: 'image/png' }] };
        case 'structured':
          return {
            content: [{ type: 'text', text: '{}' }],
            structuredContent: text === 'wrong' ? { n: 'one' } : { n: 1 },
          };
        case 'failing':
          return { isError: true, content: [{ type: 'text', text: 'it failed' }] };
        case 'refusing':
          throw new ProtocolError(-32602, `refused: ${text}`);
        case 'crashing':
          throw new Error('crashed');
        case 'asking':
          if (ctx.mcpReq.inputResponses?.['colour'] !== undefined) {
            return { content: [{ type: 'text', text: 'thanks' }] };
          }
          return inputRequired({
            inputRequests: {
              colour: inputRequired.elicit({
                message: 'Favourite colour?',
                requestedSchema: { type: 'object', properties: { c: { type: 'string' } } },
              }),
            },
          });
        case 'chatty':
          await ctx.mcpReq.notify({ method: 'notifications/message', params: { level: 'info', data: 'hi' } });
          return { content: [{ type: 'text', text: `chatty:${text}` }] };
        default:
          throw new ProtocolError(-32602, `Unknown tool: ${request.params.name}`);
      }
    });
    return server;
  });
  const http = await serveMcpFetch((request) => handler.fetch(request));
  return {
    url: http.mcpUrl,
    close: http.close,
  };
}

async function register(gateway: TestGateway, kind: 'tools' | 'adapters', body: object): Promise<void> {
  const res = await fetch(`${gateway.url}/${kind}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...ALICE },
    body: JSON.stringify(body),
  });
  if (res.status !== 201) throw new Error(`POST /${kind}: ${res.status} ${await res.text()}`);
}

interface Sent {
  readonly headers?: Record<string, string>;
  readonly body: unknown;
}

const modernHeaders = (name: string | undefined) => ({
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
  'mcp-protocol-version': '2026-07-28',
  'mcp-method': 'tools/call',
  ...(name !== undefined && { 'mcp-name': name }),
  ...ALICE,
});

/** A 2026-07-28 `tools/call` of `name` as an SDK 2.x client sends it, `params` merged over. */
const call = (name: string, args: unknown, params: Record<string, unknown> = {}, id: unknown = 7): Sent => ({
  headers: modernHeaders(name),
  body: {
    jsonrpc: '2.0',
    id,
    method: 'tools/call',
    params: { name, arguments: args, _meta: ENVELOPE, ...params },
  },
});

/** What a client sees of an answer; the sealed parts (random on every sealing) are masked. */
async function seen(gateway: TestGateway, sent: Sent, path = '/mcp') {
  const res = await fetch(`${gateway.url}${path}`, {
    method: 'POST',
    headers: sent.headers ?? modernHeaders(undefined),
    body: typeof sent.body === 'string' ? sent.body : JSON.stringify(sent.body),
  });
  const type = res.headers.get('content-type') ?? '';
  const text = await res.text();
  let body: unknown = text;
  if (type.startsWith('application/json') && text) body = JSON.parse(text);
  if (type.startsWith('text/event-stream')) {
    body = text
      .split('\n')
      .filter((line) => line.startsWith('data:'))
      .map((line) => JSON.parse(line.slice(5)) as unknown);
  }
  return {
    status: res.status,
    type,
    body: JSON.parse(JSON.stringify(body).replace(/"requestState":"[^"]+"/g, '"requestState":"(sealed)"')),
  };
}

/**
 * The table: what is sent, how the fast gateway must take it (`sdk`: not at all, to the SDK path) and, for some,
 * how its federated call must go (`read`: answer read by the lean caller, `replayed`: handed to the SDK client,
 * `none`: no lean call).
 */
const TABLE: [string, Sent, 'answered' | 'handed-over' | 'sdk', ('read' | 'replayed' | 'none')?][] = [
  ['registered tool, plain', call('score', { text: 'a wonderful day' }), 'answered', 'none'],
  ['registered tool, string id', call('score', { text: 'a wonderful day' }, {}, 'req-1'), 'answered'],
  ['registered tool, missing argument', call('score', {}), 'handed-over'],
  ['registered tool, wrong argument type', call('score', { text: 3 }), 'handed-over'],
  ['registered tool, no arguments at all', call('score', undefined), 'handed-over'],
  ['unknown tool', call('nothing-here', {}), 'handed-over'],
  ['policy: allowed', call('guarded', { text: 'hi' }), 'answered'],
  ['policy: denied', call('guarded', { text: 'far too long' }), 'handed-over'],
  ['federated 2026 upstream: text', call('odd__text', { text: 'x' }), 'answered', 'read'],
  ['federated: image content', call('odd__picture', {}), 'handed-over', 'replayed'],
  ['federated: structured content', call('odd__structured', {}), 'answered', 'read'],
  [
    'federated: structured content breaking outputSchema',
    call('odd__structured', { text: 'wrong' }),
    'answered',
    'read',
  ],
  ['federated: tool error', call('odd__failing', {}), 'answered', 'read'],
  ['federated: JSON-RPC error upstream', call('odd__refusing', { text: 'no' }), 'answered', 'replayed'],
  ['federated: internal error upstream', call('odd__crashing', {}), 'answered', 'replayed'],
  [
    'federated: input_required refused upstream (no elicitation declared)',
    call('odd__asking', {}),
    'answered',
    'replayed',
  ],
  [
    'federated: input_required',
    call(
      'odd__asking',
      {},
      { _meta: { ...ENVELOPE, 'io.modelcontextprotocol/clientCapabilities': { elicitation: { form: {} } } } },
    ),
    'handed-over',
    'replayed',
  ],
  ['federated: SSE answer', call('odd__chatty', { text: 'y' }), 'answered', 'replayed'],
  ['federated SDK 1.x upstream', call('legacy__echo', { text: 'z' }), 'answered', 'none'],
  [
    'with trace context in _meta',
    call(
      'odd__text',
      { text: 't' },
      { _meta: { ...ENVELOPE, traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' } },
    ),
    'answered',
    'read',
  ],
  ['progress token', call('legacy__count', { n: 2 }, { _meta: { ...ENVELOPE, progressToken: 'p1' } }), 'sdk'],
  [
    'log level in the envelope',
    call('odd__text', {}, { _meta: { ...ENVELOPE, 'io.modelcontextprotocol/logLevel': 'debug' } }),
    'sdk',
  ],
  [
    'multi-round-trip retry with a forged state',
    call('odd__asking', {}, { requestState: 'forged', inputResponses: {} }),
    'sdk',
  ],
  ['task augmentation', call('odd__text', {}, { task: { ttl: 1000 } }), 'sdk'],
  [
    'caller takes tasks',
    call(
      'odd__text',
      {},
      {
        _meta: {
          ...ENVELOPE,
          'io.modelcontextprotocol/clientCapabilities': {
            extensions: { 'io.modelcontextprotocol/tasks': {} },
          },
        },
      },
    ),
    'sdk',
  ],
  ['unknown params field', call('odd__text', {}, { extra: 1 }), 'sdk'],
  [
    'Mcp-Name disagrees with the body',
    { ...call('odd__text', {}), headers: modernHeaders('odd__picture') },
    'sdk',
  ],
  ['no Mcp-Name', { ...call('odd__text', {}), headers: modernHeaders(undefined) }, 'sdk'],
  [
    'SSE-only Accept',
    { ...call('odd__text', {}), headers: { ...modernHeaders('odd__text'), accept: 'text/event-stream' } },
    'sdk',
  ],
  [
    'envelope without capabilities',
    call('odd__text', {}, { _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28' } }),
    'sdk',
  ],
  [
    'capabilities not an object',
    call('odd__text', {}, { _meta: { ...ENVELOPE, 'io.modelcontextprotocol/clientCapabilities': [] } }),
    'sdk',
  ],
  [
    'client info malformed',
    call('odd__text', {}, { _meta: { ...ENVELOPE, 'io.modelcontextprotocol/clientInfo': { name: 1 } } }),
    'sdk',
  ],
  [
    'envelope names another revision',
    call(
      'odd__text',
      {},
      { _meta: { ...ENVELOPE, 'io.modelcontextprotocol/protocolVersion': '2025-11-25' } },
    ),
    'sdk',
  ],
  ['arguments an array', call('odd__text', [1]), 'sdk'],
  [
    'name not a string',
    {
      ...call('odd__text', {}),
      body: { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 5, _meta: ENVELOPE } },
    },
    'sdk',
  ],
  ['id null', call('odd__text', {}, {}, null), 'sdk'],
  ['not JSON', { headers: modernHeaders('odd__text'), body: '{"jsonrpc":' }, 'sdk'],
  ['a batch', { headers: modernHeaders('odd__text'), body: [call('odd__text', {}).body] }, 'sdk'],
];

describe('tool router fast path: the same answers as the SDK path', () => {
  let fast: TestGateway;
  let sdk: TestGateway;
  let score: ScoreServer;
  let odd: { url: string; close(): Promise<void> };
  let legacy: RunningMcpServer;

  beforeAll(async () => {
    score = await startScoreServer();
    odd = await startOddUpstream();
    legacy = await startLegacyMcpServer({ name: 'legacy-upstream' });
    fast = await startTestGateway({ authenticate: devAuth(), toolRouter: {}, policy: POLICY });
    sdk = await startTestGateway({
      authenticate: devAuth(),
      toolRouter: { fastPath: false },
      policy: POLICY,
    });
    for (const gateway of [fast, sdk]) {
      for (const name of ['score', 'guarded']) {
        await register(gateway, 'tools', {
          name,
          endpoints: [score.url],
          toolDefinition: { tool: { ...SCORE_TOOL, name } },
        });
      }
      await register(gateway, 'adapters', { name: 'odd', endpoints: [odd.url], federate: true });
      await register(gateway, 'adapters', { name: 'legacy', endpoints: [legacy.url], federate: true });
      await federationListed(gateway, ['odd', 'legacy']);
    }
  }, 120_000);

  afterAll(async () => {
    await fast?.close();
    await sdk?.close();
    await score?.close();
    await odd?.close();
    await legacy?.close();
  });

  it.each(TABLE)('%s', async (_name, sent, taken, federated) => {
    const before = { ...fastPathCounts };
    const leanBefore = { ...leanCallCounts };
    const expected = await seen(sdk, sent);
    const got = await seen(fast, sent);
    expect(got).toEqual(expected);
    const answered = fastPathCounts.answered - before.answered;
    const handedOver = fastPathCounts.handedOver - before.handedOver;
    expect({ answered, handedOver }).toEqual({
      answered: taken === 'answered' ? 1 : 0,
      handedOver: taken === 'handed-over' ? 1 : 0,
    });
    if (federated === undefined) return;
    expect({
      read: leanCallCounts.read - leanBefore.read,
      replayed: leanCallCounts.replayed - leanBefore.replayed,
    }).toEqual({ read: federated === 'read' ? 1 : 0, replayed: federated === 'replayed' ? 1 : 0 });
  });

  it('answers a toolset endpoint alike, under its renames', async () => {
    for (const gateway of [fast, sdk]) {
      const res = await fetch(`${gateway.url}/toolsets`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...ALICE },
        body: JSON.stringify({
          name: 'team',
          tools: ['score', { name: 'odd__text', rename: 'say' }],
        }),
      });
      expect(res.status).toBe(201);
    }
    for (const sent of [
      call('say', { text: 'renamed' }),
      call('score', { text: 'a wonderful day' }),
      call('odd__text', { text: 'not a member' }),
    ]) {
      expect(await seen(fast, sent, '/toolsets/team/mcp')).toEqual(
        await seen(sdk, sent, '/toolsets/team/mcp'),
      );
    }
  });

  it.each(CLIENT_ERAS)('gives an SDK client the same results and errors (%s)', async (_era, connect) => {
    const url = (gateway: TestGateway) => `${gateway.url}/mcp`;
    const clients = await Promise.all([fast, sdk].map((g) => connect(url(g), { headers: ALICE })));
    try {
      const outcome = (client: (typeof clients)[number], name: string, args: Record<string, unknown>) =>
        client.call(name, args).then(
          (result) =>
            isInputRequiredResult(result)
              ? { inputRequired: Object.keys(result.inputRequests ?? {}) }
              : result,
          (error: Error & { code?: number }) => ({ error: error.message, code: error.code }),
        );
      const before = fastPathCounts.answered + fastPathCounts.handedOver;
      const cases = [
        ['score', { text: 'a wonderful day' }],
        ['score', {}],
        ['guarded', { text: 'far too long' }],
        ['odd__text', { text: 'a' }],
        ['odd__structured', { text: 'wrong' }],
        ['odd__refusing', { text: 'b' }],
        ['odd__picture', {}],
        ['legacy__echo', { text: 'c' }],
        ['nothing-here', {}],
      ] as const;
      for (const [name, args] of cases) {
        const [got, expected] = await Promise.all(clients.map((c) => outcome(c, name, args)));
        expect(got, name).toEqual(expected);
      }
      // An SDK 2.x client's calls are exactly what the fast path takes; a 2025 client's are the SDK's.
      expect(fastPathCounts.answered + fastPathCounts.handedOver - before).toBe(
        clients[0]!.era === 'modern' ? cases.length : 0,
      );
    } finally {
      await Promise.all(clients.map((c) => c.close()));
    }
  });
});

describe('tool router fast path: the guards still apply', () => {
  let gateway: TestGateway;
  let tool: RunningServer;
  let received = 0;

  beforeAll(async () => {
    // Counts the calls that reach it; answers as the score tool would.
    tool = await startHttpServer((req, res) => {
      req.resume();
      req.once('end', () => {
        received++;
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end('{"score":0,"label":"neutral","words":1}');
      });
    });
    gateway = await startTestGateway({ authenticate: devAuth(), toolRouter: {}, policy: POLICY });
    for (const name of ['guarded', 'checked']) {
      await register(gateway, 'tools', {
        name,
        endpoints: [tool.url],
        toolDefinition: { tool: { ...SCORE_TOOL, name } },
      });
    }
  });

  afterAll(async () => {
    await gateway?.close();
    await tool?.close();
  });

  it('refuses by the tool policy and by inputSchema, and only then calls the tool', async () => {
    const calls = received;
    const before = { ...fastPathCounts };
    const denied = await seen(gateway, call('guarded', { text: 'far too long' }));
    expect(denied.body).toMatchObject({ error: { message: expect.stringContaining("rule 'short-only'") } });
    const invalid = await seen(gateway, call('checked', { text: 5 }));
    expect(invalid.body).toMatchObject({ error: { code: -32602, message: expect.stringContaining('text') } });
    expect(received).toBe(calls);
    const allowed = await seen(gateway, call('guarded', { text: 'hi' }));
    expect(allowed.body).toMatchObject({ result: { resultType: 'complete' } });
    expect(received).toBe(calls + 1);
    // All three were made on the fast path (two refusals answered by the SDK from the refused call's outcome).
    expect(fastPathCounts.answered - before.answered).toBe(1);
    expect(fastPathCounts.handedOver - before.handedOver).toBe(2);
  });
});
