/**
 * The Node listener's fast path for `/adapters/{name}/mcp` must answer exactly as the Hono route does: the same
 * requests — good, refused at every step, and the odd ones the fast path hands to Hono — sent to a gateway of
 * each kind get the same status, headers that matter to clients, and body.
 */
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devAuth } from '../../auth/index.js';
import { openRegistryStore } from '../../registry/index.js';
import { modernToolCallBody, modernToolCallHeaders } from '../../../test/modern-requests.js';
import { startTestGateway } from '../../../test/test-gateway.js';
import type { TestGateway } from '../../../test/test-gateway.js';

interface Sent {
  readonly method?: string;
  readonly path?: string;
  readonly headers?: Record<string, string>;
  readonly body?: string;
}

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | undefined>;
  readonly body: string;
}

const COMPARED_HEADERS = [
  'content-type',
  'www-authenticate',
  'access-control-allow-origin',
  'access-control-expose-headers',
  'retry-after',
  'allow',
  'mcp-protocol-version',
];

/** Raw `node:http`, so the Host header and odd paths go out exactly as written. */
function send(base: string, sent: Sent): Promise<Answer> {
  const { port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: sent.method ?? 'POST',
        path: sent.path ?? '/adapters/weather/mcp',
        headers: { connection: 'close', ...MODERN, ...sent.headers },
      },
      (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => {
          const headers = Object.fromEntries(
            COMPARED_HEADERS.map((h) => [h, res.headers[h] as string | undefined]),
          );
          resolve({ status: res.statusCode ?? 0, headers, body });
        });
      },
    );
    req.on('error', reject);
    req.end(sent.body ?? (sent.method === undefined || sent.method === 'POST' ? CALL : undefined));
  });
}

const MODERN = modernToolCallHeaders('echo');
const CALL = modernToolCallBody('echo');

const CASES: [string, Sent, number][] = [
  ['a tools/call that reaches the upstream', {}, 200],
  ['an allowed browser origin', { headers: { origin: 'https://app.example.com' } }, 200],
  ['a foreign browser origin', { headers: { origin: 'https://evil.example' } }, 403],
  ['a foreign Host on a loopback gateway (DNS rebinding)', { headers: { host: 'evil.example' } }, 403],
  ['a foreign Host with a port', { headers: { host: 'evil.example:3000' } }, 403],
  ['a foreign Host that ends like a loopback name', { headers: { host: 'evil.127.0.0.1' } }, 403],
  ['a foreign Host in IPv6 brackets (Hono path)', { headers: { host: '[2001:db8::1]:3000' } }, 403],
  ["the public URL's host", { headers: { host: 'gw.example.com' } }, 200],
  ['a loopback Host on another port', { headers: { host: 'localhost:9' } }, 200],
  ['the IPv6 loopback Host (Hono path)', { headers: { host: '[::1]:3000' } }, 200],
  ['an adapter that does not exist', { path: '/adapters/nowhere/mcp' }, 404],
  ['a malformed development user id', { headers: { 'x-dev-userid': 'a b' } }, 400],
  ['a body that is not JSON', { body: '{"jsonrpc":' }, 400],
  ['Mcp-Name that differs from the body', { headers: { 'mcp-name': 'other' } }, 400],
  ['an unsupported protocol version', { headers: { 'mcp-protocol-version': '1999-01-01' } }, 400],
  // Placed like any session-less request; this upstream answers every request 200.
  [
    'a legacy GET without a session',
    { method: 'GET', headers: { 'mcp-protocol-version': '2025-11-25' } },
    200,
  ],
  ['a DELETE in the modern era', { method: 'DELETE' }, 405],
  ['a body over the limit', { body: JSON.stringify({ pad: 'x'.repeat(5000) }) }, 413],
  ['a percent-encoded adapter name (Hono decodes it)', { path: '/adapters/%77eather/mcp' }, 200],
  ['a query string', { path: '/adapters/weather/mcp?trace=1' }, 200],
  ['a method the endpoint does not serve', { method: 'PUT' }, 405],
  ['an allowed origin preflight', { method: 'OPTIONS', headers: { origin: 'https://app.example.com' } }, 204],
];

describe('the Node fast path answers as the Hono route does', () => {
  let upstream: ReturnType<typeof createServer>;
  const gateways: Record<'node' | 'hono', TestGateway | undefined> = { node: undefined, hono: undefined };

  beforeAll(async () => {
    upstream = createServer((req, res) => {
      req.resume();
      req.once('end', () => {
        res.writeHead(200, { 'content-type': 'application/json', 'mcp-protocol-version': '2026-07-28' });
        res.end(
          JSON.stringify({ jsonrpc: '2.0', id: 1, result: { content: [{ type: 'text', text: 'hi' }] } }),
        );
      });
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/mcp`;
    for (const io of ['node', 'hono'] as const) {
      const gateway = await startTestGateway({
        io,
        authenticate: devAuth({ defaultRoles: ['mcp.admin'] }),
        allowedOrigins: ['https://app.example.com'],
        publicUrl: 'https://gw.example.com',
        maxBodyBytes: 4096,
      });
      await gateway.registerRemoteAdapter('weather', [url]);
      gateways[io] = gateway;
    }
  });
  afterAll(async () => {
    await Promise.all(Object.values(gateways).map((g) => g?.close()));
    await new Promise((resolve) => upstream?.close(resolve));
  });

  it.each(CASES)('%s', async (_name, sent, status) => {
    const fast = await send(gateways.node!.url, sent);
    const hono = await send(gateways.hono!.url, sent);
    expect(fast.status).toBe(status);
    expect(fast).toEqual(hono);
  });

  it('answers an unexpected failure (the registry down) with the same 500 on both, and logs nothing secret', async () => {
    const answers = await Promise.all(
      (['node', 'hono'] as const).map(async (io) => {
        const store = await openRegistryStore(':memory:');
        const get = store.get.bind(store);
        store.get = (kind, name) =>
          name === 'broken' ? Promise.reject(new Error('disk on fire')) : get(kind, name);
        const gateway = await startTestGateway({ io, store });
        try {
          return await send(gateway.url, { path: '/adapters/broken/mcp' });
        } finally {
          await gateway.close();
        }
      }),
    );
    expect(answers[0]!.status).toBe(500);
    expect(answers[0]!.body).not.toContain('disk on fire');
    expect(answers[0]).toEqual(answers[1]);
  });

  it('refuses with 429 on both once the per-adapter bucket is empty', async () => {
    const limited = await Promise.all(
      (['node', 'hono'] as const).map(async (io) => {
        const gateway = await startTestGateway({
          io,
          operations: { rateLimits: { perAdapter: { perSecond: 0.01, burst: 1 } } },
        });
        try {
          await gateway.registerRemoteAdapter('weather', [`http://127.0.0.1:9/mcp`]);
          await send(gateway.url, {});
          return await send(gateway.url, {});
        } finally {
          await gateway.close();
        }
      }),
    );
    expect(limited[0]!.status).toBe(429);
    expect(limited[0]).toEqual(limited[1]);
  });
});
