/**
 * DNS rebinding against a whole loopback gateway (control plane, data plane with the Node fast path, tool
 * router, metrics), through the real Node listener (`listen`, as `npm start` serves it) and through the Hono
 * app alone: a foreign `Host` is refused on a sample of every route family, with the error shape each family's
 * clients read, and the rebinding POST of a command adapter creates nothing.
 */
import { createServer, request } from 'node:http';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPrometheusMetrics } from '../observability/prometheus/index.js';
import { modernToolCallBody, modernToolCallHeaders } from '../../test/modern-requests.js';
import { startTestGateway } from '../../test/test-gateway.js';
import type { TestGateway } from '../../test/test-gateway.js';

interface Sent {
  readonly method: string;
  readonly path: string;
  readonly headers?: Record<string, string>;
  readonly body?: string;
}

interface Answer {
  readonly status: number;
  readonly body: unknown;
}

/** Raw `node:http`, so the Host header goes out exactly as written. */
function overSocket(base: string, sent: Sent): Promise<Answer> {
  const { port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: sent.method,
        path: sent.path,
        headers: { connection: 'close', ...sent.headers },
      },
      (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: parsed(text) }));
      },
    );
    req.on('error', reject);
    req.end(sent.body);
  });
}

async function throughHono(gateway: TestGateway, sent: Sent): Promise<Answer> {
  const res = await gateway.app.request(sent.path, {
    method: sent.method,
    headers: sent.headers,
    body: sent.body,
  });
  return { status: res.status, body: parsed(await res.text()) };
}

function parsed(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

const REBINDING = { host: 'evil.example:3000', origin: 'http://evil.example:3000' };
const JSON_HEADERS = { ...REBINDING, 'content-type': 'application/json' };
/** What a rebinding page would register: a command, which runs on the gateway's host. */
const SHELL = JSON.stringify({ name: 'pwned', command: 'sh', args: ['-c', 'id'], transport: 'stdio' });
const MCP = { ...REBINDING, ...modernToolCallHeaders('echo') };

const CONTROL_PLANE: [string, Sent][] = [
  ['create a command adapter', { method: 'POST', path: '/adapters', headers: JSON_HEADERS, body: SHELL }],
  ['list adapters', { method: 'GET', path: '/adapters', headers: REBINDING }],
  ['read an adapter', { method: 'GET', path: '/adapters/weather', headers: REBINDING }],
  ['delete an adapter', { method: 'DELETE', path: '/adapters/weather', headers: REBINDING }],
  ['create a tool', { method: 'POST', path: '/tools', headers: JSON_HEADERS, body: '{}' }],
  ['liveness', { method: 'GET', path: '/healthz', headers: REBINDING }],
  ['readiness', { method: 'GET', path: '/readyz', headers: REBINDING }],
  ['metrics', { method: 'GET', path: '/metrics', headers: REBINDING }],
  ['the OpenAPI document', { method: 'GET', path: '/openapi.json', headers: REBINDING }],
  ['the API docs', { method: 'GET', path: '/docs', headers: REBINDING }],
  [
    'protected-resource metadata',
    { method: 'GET', path: '/.well-known/oauth-protected-resource', headers: REBINDING },
  ],
  ['an unknown path', { method: 'GET', path: '/nowhere', headers: REBINDING }],
];

const MCP_ENDPOINTS: [string, Sent][] = [
  [
    'an adapter MCP endpoint (fast path)',
    { method: 'POST', path: '/adapters/weather/mcp', headers: MCP, body: modernToolCallBody('echo') },
  ],
  [
    'an adapter MCP stream',
    { method: 'GET', path: '/adapters/weather/mcp', headers: { ...REBINDING, accept: 'text/event-stream' } },
  ],
  ['the tool router', { method: 'POST', path: '/mcp', headers: MCP, body: modernToolCallBody('echo') }],
];

const FRONT_ENDS = [
  ['the Node listener', (g: TestGateway, sent: Sent) => overSocket(g.url, sent)],
  ['the Hono app', throughHono],
] as const;

describe('DNS rebinding against a loopback gateway', () => {
  let upstream: ReturnType<typeof createServer>;
  let gateway: TestGateway;
  let contacted = 0;

  beforeAll(async () => {
    upstream = createServer((req, res) => {
      contacted++;
      req.resume();
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ jsonrpc: '2.0', id: 1, result: { content: [] } }));
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    gateway = await startTestGateway({
      toolRouter: {},
      operations: { metrics: createPrometheusMetrics() },
      publicUrl: 'https://gw.example.com',
    });
    await gateway.registerRemoteAdapter('weather', [
      `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/mcp`,
    ]);
  });
  afterAll(async () => {
    await gateway?.close();
    await new Promise((resolve) => upstream?.close(resolve));
  });

  describe.each(FRONT_ENDS)('through %s', (_name, send) => {
    it.each(CONTROL_PLANE)('refuses: %s', async (_what, sent) => {
      const answer = await send(gateway, sent);
      expect(answer).toEqual({
        status: 403,
        body: {
          error: {
            code: 'host_not_allowed',
            message: expect.stringMatching(
              /^Host 'evil\.example' is not allowed \(DNS rebinding protection\)/,
            ),
          },
        },
      });
    });

    it.each(MCP_ENDPOINTS)('refuses with a JSON-RPC error: %s', async (_what, sent) => {
      const answer = await send(gateway, sent);
      expect(answer).toEqual({
        status: 403,
        body: {
          jsonrpc: '2.0',
          id: null,
          error: {
            code: -32000,
            message: expect.stringMatching(
              /^Host 'evil\.example' is not allowed \(DNS rebinding protection\)/,
            ),
          },
        },
      });
    });

    it("serves the public URL's host and loopback names", async () => {
      for (const host of ['gw.example.com', '127.0.0.1:3000', 'localhost:1', '[::1]:3000']) {
        expect(
          (await send(gateway, { method: 'GET', path: '/healthz', headers: { host } })).status,
          host,
        ).toBe(200);
        const mcp = {
          method: 'POST',
          path: '/adapters/weather/mcp',
          headers: { ...modernToolCallHeaders('echo'), host },
          body: modernToolCallBody('echo'),
        };
        expect((await send(gateway, mcp)).status, host).toBe(200);
      }
    });
  });

  it('created nothing, deleted nothing and reached no upstream for the refused requests', async () => {
    const before = contacted;
    for (const [, send] of FRONT_ENDS) {
      for (const [, sent] of [...CONTROL_PLANE, ...MCP_ENDPOINTS]) await send(gateway, sent);
    }
    expect(contacted).toBe(before);
    expect((await gateway.store.list('adapter', { limit: 10 })).map((r) => r.name)).toEqual(['weather']);
    expect(await gateway.store.count('tool')).toBe(0);
  });

  it('answers a request without Host (HTTP/1.0) with 400 on the Node listener, before any route', async () => {
    const { port } = new URL(gateway.url);
    const raw = `POST /adapters HTTP/1.0\r\ncontent-type: application/json\r\ncontent-length: ${SHELL.length}\r\n\r\n${SHELL}`;
    const head = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), '127.0.0.1', () => socket.end(raw));
      let text = '';
      socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
      socket.on('close', () => resolve(text.split('\r\n')[0] ?? ''));
      socket.on('error', reject);
    });
    expect(head).toBe('HTTP/1.1 400 Bad Request');
    expect(await gateway.store.get('adapter', 'pwned')).toBeUndefined();
  });
});
