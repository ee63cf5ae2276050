/**
 * Proxy hygiene against raw HTTP upstreams, run with both forwarders (Node-native and Fetch): streaming
 * without buffering, byte-exact SSE, client aborts, status pass-through, timeouts, failover, limits, origin.
 */
import { createServer, request } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { openRegistryStore } from '../registry/index.js';
import type { RegistryStore } from '../registry/index.js';
import { closedPort, startHttpServer } from '../../test/http-fixture.js';
import { mcpPostHeaders } from '../../test/legacy-requests.js';
import { startTestGateway } from '../../test/test-gateway.js';
import type { TestGateway, TestGatewayOptions } from '../../test/test-gateway.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

async function upstream(handler: (req: IncomingMessage, res: ServerResponse) => void) {
  const server = await startHttpServer(handler);
  cleanups.push(() => server.close());
  return server;
}

const MODERN = mcpPostHeaders({ 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/list' });
const LIST = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' });

describe.each(['node', 'hono', 'fetch'] as const)('forwarding with the %s forwarder', (io) => {
  async function gateway(options: TestGatewayOptions = {}): Promise<TestGateway> {
    const g = await startTestGateway({ io, ...options });
    cleanups.push(() => g.close());
    return g;
  }
  const post = (g: TestGateway, adapter: string, init: RequestInit = {}) =>
    fetch(`${g.url}/adapters/${adapter}/mcp`, { method: 'POST', headers: MODERN, body: LIST, ...init });

  it('streams SSE as it arrives, byte for byte (ids, retry, priming and keep-alive lines)', async () => {
    const first = ': keepalive\n\nid: stream-1:0\nretry: 1500\ndata: \n\n';
    const second = 'id: stream-1:1\nevent: message\ndata: {"jsonrpc":"2.0","id":1,"result":{"tools":[]}}\n\n';
    let secondSentAt = 0;
    const server = await upstream((req, res) => {
      req.resume();
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      res.write(first);
      setTimeout(() => {
        secondSentAt = Date.now();
        res.end(second);
      }, 300);
    });
    const g = await gateway();
    await g.registerRemoteAdapter('sse', [`${server.url}/mcp`]);
    const res = await post(g, 'sse');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let received = '';
    while (received.length < first.length)
      received += decoder.decode((await reader.read()).value, { stream: true });
    const firstArrivedAt = Date.now();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      received += decoder.decode(value, { stream: true });
    }
    expect(received).toBe(first + second);
    expect(firstArrivedAt).toBeLessThan(secondSentAt);
  });

  it('aborts the upstream request when the client goes away', async () => {
    let upstreamClosed: () => void = () => undefined;
    const closed = new Promise<void>((resolve) => (upstreamClosed = resolve));
    const server = await upstream((req, res) => {
      req.resume();
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(': open\n\n');
      res.on('close', upstreamClosed);
    });
    const g = await gateway();
    await g.registerRemoteAdapter('abort', [`${server.url}/mcp`]);
    const controller = new AbortController();
    const res = await post(g, 'abort', { signal: controller.signal });
    await res.body!.getReader().read();
    controller.abort();
    await expect(
      Promise.race([
        closed.then(() => 'closed'),
        new Promise((r) => setTimeout(() => r('still open'), 2000)),
      ]),
    ).resolves.toBe('closed');
  });

  it('holds the upstream back while the client is not reading, and delivers every byte after', async () => {
    // Far more than the socket buffers on both sides hold: if the gateway read ahead without bound, the
    // upstream would be done long before the client reads again.
    const chunk = Buffer.alloc(64 * 1024, 'x');
    const chunks = 1024;
    let sent = 0;
    const server = await upstream((req, res) => {
      req.resume();
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const pump = () => {
        while (sent < chunks * chunk.length) {
          sent += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      pump();
    });
    const g = await gateway();
    await g.registerRemoteAdapter('big', [`${server.url}/mcp`]);
    const res = await post(g, 'big');
    const reader = res.body!.getReader();
    let received = (await reader.read()).value!.byteLength;
    await new Promise((r) => setTimeout(r, 500));
    expect(sent).toBeLessThan(chunks * chunk.length);
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      received += value.byteLength;
    }
    expect(received).toBe(chunks * chunk.length);
  });

  it('keeps one upstream connection alive across sequential requests', async () => {
    const sockets = new Set<unknown>();
    const server = await upstream((req, res) => {
      sockets.add(req.socket);
      req.resume();
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"jsonrpc":"2.0","id":1,"result":{"tools":[]}}');
    });
    const g = await gateway();
    await g.registerRemoteAdapter('reuse', [`${server.url}/mcp`]);
    for (let i = 0; i < 5; i++) {
      const res = await post(g, 'reuse');
      expect(res.status).toBe(200);
      await res.text();
    }
    expect(sockets.size).toBe(1);
  });

  it('opens a new upstream connection after one the upstream closed, by its answer or by its idle timeout', async () => {
    const sockets = new Set<unknown>();
    let closeEach = true;
    const server = createServer((req, res) => {
      sockets.add(req.socket);
      req.resume();
      res.writeHead(200, { 'content-type': 'application/json', ...(closeEach && { connection: 'close' }) });
      res.end('{"jsonrpc":"2.0","id":1,"result":{"tools":[]}}');
    });
    server.keepAliveTimeout = 100;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() =>
      new Promise((resolve) => server.close(resolve)).then(() => server.closeAllConnections()),
    );
    const g = await gateway();
    await g.registerRemoteAdapter('closing', [
      `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`,
    ]);
    const call = async () => {
      const res = await post(g, 'closing');
      expect(res.status).toBe(200);
      await res.text();
    };
    for (let i = 0; i < 3; i++) await call();
    expect(sockets.size).toBe(3);
    closeEach = false;
    await call();
    // Past the upstream's keep-alive timeout: its end of the idle connection is gone.
    await new Promise((r) => setTimeout(r, 400));
    await call();
    expect(sockets.size).toBe(5);
  });

  it('passes the final answer through after an informational 103', async () => {
    const server = await upstream((req, res) => {
      req.resume();
      res.writeEarlyHints({ link: '</style.css>; rel=preload; as=style' });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"jsonrpc":"2.0","id":1,"result":{"tools":[]}}');
    });
    const g = await gateway();
    await g.registerRemoteAdapter('hints', [`${server.url}/mcp`]);
    const res = await post(g, 'hints');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ jsonrpc: '2.0', id: 1, result: { tools: [] } });
  });

  it('sends nothing upstream for a client that left while the gateway was still deciding', async () => {
    let contacted = false;
    const server = await upstream((req, res) => {
      contacted = true;
      req.resume();
      res.writeHead(200, { 'content-type': 'text/event-stream' });
    });
    // The registry read that names the adapter waits until the client has gone.
    const store = await openRegistryStore(':memory:');
    let reading: () => void = () => undefined;
    const read = new Promise<void>((resolve) => (reading = resolve));
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => (release = resolve));
    const slowStore = new Proxy(store, {
      get(target, property, receiver) {
        if (property !== 'get') return Reflect.get(target, property, receiver) as unknown;
        return async (...args: Parameters<RegistryStore['get']>) => {
          reading();
          await released;
          return target.get(...args);
        };
      },
    });
    const g = await gateway({ store: slowStore });
    cleanups.push(() => store.close());
    await g.registerRemoteAdapter('left', [`${server.url}/mcp`]);
    const client = new AbortController();
    const pending = post(g, 'left', { signal: client.signal }).catch(() => 'aborted');
    await read;
    client.abort();
    expect(await pending).toBe('aborted');
    await new Promise((r) => setTimeout(r, 100));
    release();
    await new Promise((r) => setTimeout(r, 300));
    expect(contacted).toBe(false);
  });

  it('passes upstream statuses and bodies through, and only allow-listed response headers', async () => {
    const answers: Record<string, [number, Record<string, string>, string]> = {
      '/202': [202, {}, ''],
      '/405': [
        405,
        { allow: 'POST', 'content-type': 'application/json' },
        '{"jsonrpc":"2.0","id":null,"error":{"code":-32000,"message":"Method not allowed."}}',
      ],
      '/406': [406, { 'content-type': 'application/json' }, '{"error":"not acceptable"}'],
      '/415': [415, { 'content-type': 'application/json' }, '{"error":"unsupported"}'],
      '/cookie': [
        200,
        {
          'content-type': 'application/json',
          'set-cookie': 'a=b',
          'x-powered-by': 'x',
          'www-authenticate': 'Basic',
        },
        '{}',
      ],
      '/401': [401, { 'content-type': 'application/json' }, '{"error":"upstream credentials"}'],
    };
    const server = await upstream((req, res) => {
      req.resume();
      const [status, headers, body] = answers[req.url!]!;
      res.writeHead(status, headers).end(body);
    });
    const g = await gateway();
    for (const path of Object.keys(answers))
      await g.registerRemoteAdapter(`s${path.slice(1)}`, [`${server.url}${path}`]);
    for (const [path, [status, headers, body]] of Object.entries(answers)) {
      const res = await post(g, `s${path.slice(1)}`);
      expect(res.status).toBe(path === '/401' ? 502 : status);
      expect(await res.text()).toBe(body);
      if (headers.allow) expect(res.headers.get('allow')).toBe('POST');
    }
    const cookie = await post(g, 'scookie');
    expect(cookie.headers.get('set-cookie')).toBeNull();
    expect(cookie.headers.get('x-powered-by')).toBeNull();
    expect(cookie.headers.get('www-authenticate')).toBeNull();
  });

  it('answers 502 for an unreachable upstream, then 503 with Retry-After once it is known down', async () => {
    const g = await gateway();
    await g.registerRemoteAdapter('dead', [`http://127.0.0.1:${await closedPort()}/mcp`]);
    const first = await post(g, 'dead');
    expect(first.status).toBe(502);
    expect(((await first.json()) as { error: { message: string } }).error.message).toMatch(
      /unreachable \(connection refused\)/,
    );
    const second = await post(g, 'dead');
    expect(second.status).toBe(503);
    expect(second.headers.get('retry-after')).toBe('5');
    expect(((await second.json()) as { jsonrpc: string }).jsonrpc).toBe('2.0');
  });

  it('fails over in rendezvous order past replicas that refuse connections', async () => {
    const live = await upstream((req, res) => {
      req.resume();
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end('{"jsonrpc":"2.0","id":1,"result":{"tools":[]}}');
    });
    const dead = await Promise.all(
      [1, 2, 3, 4].map(async () => `http://127.0.0.1:${await closedPort()}/mcp`),
    );
    const g = await gateway();
    await g.registerRemoteAdapter('mixed', [...dead, `${live.url}/mcp`]);
    const res = await post(g, 'mixed');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ jsonrpc: '2.0', id: 1, result: { tools: [] } });
  });

  it('answers 504 with a JSON-RPC error when the upstream stays silent past the idle timeout', async () => {
    const server = await upstream((req) => req.resume());
    const g = await gateway({ idleTimeoutMs: 300 });
    await g.registerRemoteAdapter('slow', [`${server.url}/mcp`]);
    const res = await post(g, 'slow');
    expect(res.status).toBe(504);
    expect(((await res.json()) as { error: { code: number; message: string } }).error.message).toMatch(
      /did not answer in time/,
    );
  });

  it('cuts the client stream, and the upstream request, when the upstream falls silent mid-stream', async () => {
    let upstreamClosed = false;
    const server = await upstream((req, res) => {
      req.resume();
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('id: 1\ndata: {}\n\n');
      res.on('close', () => (upstreamClosed = true));
    });
    const g = await gateway({ idleTimeoutMs: 300 });
    await g.registerRemoteAdapter('stalls', [`${server.url}/mcp`]);
    const res = await post(g, 'stalls');
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toBe('id: 1\ndata: {}\n\n');
    // A cut (not a clean end) tells an SSE client to reconnect with Last-Event-ID.
    const ended = await reader.read().then(
      () => 'ended',
      () => 'cut',
    );
    expect(ended).toBe('cut');
    await expect.poll(() => upstreamClosed, { timeout: 5000 }).toBe(true);
  });

  it("honours an adapter's own idle timeout over the gateway default", async () => {
    const server = await upstream((req) => req.resume());
    const g = await gateway({ idleTimeoutMs: 60_000 });
    await g.registerRemoteAdapter('impatient', [`${server.url}/mcp`], { idleTimeoutMs: 1000 });
    // With the gateway's 60 s the request would outlast the test's own timeout.
    const res = await post(g, 'impatient');
    expect(res.status).toBe(504);
  });

  it('forwards a 2025-03-26 JSON-RPC batch as one request and passes the answer back', async () => {
    let received = '';
    const server = await upstream((req, res) => {
      req.on('data', (chunk: Buffer) => (received += chunk.toString()));
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('[{"jsonrpc":"2.0","id":1,"result":{}},{"jsonrpc":"2.0","id":2,"result":{}}]');
      });
    });
    const g = await gateway();
    await g.registerRemoteAdapter('batch', [`${server.url}/mcp`]);
    const batch = JSON.stringify([
      { jsonrpc: '2.0', id: 1, method: 'ping' },
      { jsonrpc: '2.0', id: 2, method: 'ping' },
    ]);
    const res = await post(g, 'batch', {
      headers: mcpPostHeaders(),
      body: batch,
    });
    expect(res.status).toBe(200);
    expect(received).toBe(batch);
    expect(await res.json()).toHaveLength(2);
    const refused = await post(g, 'batch', {
      headers: mcpPostHeaders({
        'mcp-protocol-version': '2025-06-18',
      }),
      body: batch,
    });
    expect(refused.status).toBe(400);
  });

  it('answers 413 above the body limit without contacting the upstream', async () => {
    let contacted = false;
    const server = await upstream((req, res) => {
      contacted = true;
      req.resume();
      res.end();
    });
    const g = await gateway({ maxBodyBytes: 1024 });
    await g.registerRemoteAdapter('small', [`${server.url}/mcp`]);
    const big = JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/list',
      params: { pad: 'x'.repeat(2000) },
    });
    const res = await post(g, 'small', { body: big });
    expect(res.status).toBe(413);
    expect(contacted).toBe(false);
  });

  it('refuses a foreign Origin or Host with 403 and accepts its own', async () => {
    const server = await upstream((req, res) => {
      req.resume();
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
    const g = await gateway();
    await g.registerRemoteAdapter('guarded', [`${server.url}/mcp`]);
    expect(
      (await post(g, 'guarded', { headers: { ...MODERN, origin: 'https://evil.example.com' } })).status,
    ).toBe(403);
    expect((await post(g, 'guarded', { headers: { ...MODERN, origin: g.url } })).status).toBe(200);
    const { request } = await import('node:http');
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(
        `${g.url}/adapters/guarded/mcp`,
        { method: 'POST', headers: { ...MODERN, host: 'evil.example.com' } },
        (res) => {
          res.resume();
          resolve(res.statusCode!);
        },
      );
      req.on('error', reject);
      req.end(LIST);
    });
    expect(status).toBe(403);
  });

  it('routes to the new endpoints right after a PUT (the registry cache is invalidated)', async () => {
    const answer = (name: string) =>
      upstream((req, res) => {
        req.resume();
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ from: name }));
      });
    const [one, two] = [await answer('one'), await answer('two')];
    const g = await gateway();
    await g.registerRemoteAdapter('moving', [`${one.url}/mcp`]);
    expect(await (await post(g, 'moving')).json()).toEqual({ from: 'one' });
    const put = await fetch(`${g.url}/adapters/moving`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'moving', endpoints: [`${two.url}/mcp`] }),
    });
    expect(put.status).toBe(200);
    expect(await (await post(g, 'moving')).json()).toEqual({ from: 'two' });
    await fetch(`${g.url}/adapters/moving`, { method: 'DELETE' });
    expect((await post(g, 'moving')).status).toBe(404);
  });

  it('answers CORS preflights of allowed origins and lets them read the session id', async () => {
    const server = await upstream((req, res) => {
      req.resume();
      res.writeHead(200, { 'content-type': 'application/json', 'mcp-session-id': 'upstream-1' }).end('{}');
    });
    const g = await gateway({ allowedOrigins: ['https://app.example.com'] });
    await g.registerRemoteAdapter('browser', [`${server.url}/mcp`]);
    const preflight = await fetch(`${g.url}/adapters/browser/mcp`, {
      method: 'OPTIONS',
      headers: {
        origin: 'https://app.example.com',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type, mcp-session-id',
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    expect(preflight.headers.get('access-control-allow-headers')).toBe('content-type, mcp-session-id');
    const res = await post(g, 'browser', { headers: { ...MODERN, origin: 'https://app.example.com' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    expect(res.headers.get('access-control-expose-headers')).toContain('mcp-session-id');
    const missing = await post(g, 'nope', { headers: { ...MODERN, origin: 'https://app.example.com' } });
    expect(missing.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    const foreign = await fetch(`${g.url}/adapters/browser/mcp`, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example.com' },
    });
    expect(foreign.status).toBe(403);
    expect(foreign.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('answers 404 for an adapter that does not exist', async () => {
    const g = await gateway();
    const res = await post(g, 'nope');
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { message: string } }).error.message).toBe(
      "Adapter 'nope' does not exist.",
    );
  });
});

/** A streamed answer read with `node:http`: its text so far, and how it ended (`complete`: not cut). */
function openStream(url: string, init: { method: string; headers: Record<string, string>; body?: string }) {
  let text = '';
  const listeners: (() => void)[] = [];
  const ended = new Promise<{ complete: boolean }>((resolve, reject) => {
    const req = request(url, { method: init.method, headers: init.headers, agent: false }, (res) => {
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
        for (const listener of listeners.splice(0)) listener();
      });
      res.once('end', () => resolve({ complete: res.complete }));
      res.once('aborted', () => resolve({ complete: false }));
    });
    req.once('error', reject);
    req.end(init.body);
  });
  return {
    text: () => text,
    ended,
    /** Resolves once the text received so far includes `part`. */
    async received(part: string): Promise<void> {
      while (!text.includes(part)) await new Promise<void>((resolve) => listeners.push(resolve));
    },
  };
}

describe.each(['node', 'hono'] as const)('draining with the %s forwarder', (io) => {
  it('ends a GET stream after the event in flight, never inside it, and cancels it upstream; a POST stream keeps going', async () => {
    let getAnswer: ServerResponse | undefined;
    let postAnswer: ServerResponse | undefined;
    let upstreamGetClosed: () => void = () => undefined;
    const getClosed = new Promise<void>((resolve) => (upstreamGetClosed = resolve));
    const server = await upstream((req, res) => {
      req.resume();
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      if (req.method === 'GET') {
        getAnswer = res;
        res.once('close', () => upstreamGetClosed());
        // A whole event, then half of the next one: the drain comes in the middle of it.
        res.write('id: g1\ndata: {"n":1}\n\nid: g2\ndata: {"n"');
      } else {
        postAnswer = res;
        res.write('id: p1\ndata: {"progress":1}\n\n');
      }
    });
    const g = await startTestGateway({ io });
    cleanups.push(() => g.close());
    await g.registerRemoteAdapter('drain', [`${server.url}/mcp`]);
    const url = `${g.url}/adapters/drain/mcp`;
    const get = openStream(url, {
      method: 'GET',
      headers: { accept: 'text/event-stream', 'mcp-protocol-version': '2025-11-25' },
    });
    const post = openStream(url, { method: 'POST', headers: MODERN, body: LIST });
    await get.received('data: {"n"');
    await post.received('id: p1');

    g.serverStreams.drain();
    getAnswer!.write(':2}\n\n');
    expect(await get.ended).toEqual({ complete: true });
    expect(get.text()).toBe('id: g1\ndata: {"n":1}\n\nid: g2\ndata: {"n":2}\n\n');
    await getClosed;
    expect(g.serverStreams.size).toBe(0);

    // The POST answer is not a GET stream: it runs on until the upstream ends it.
    postAnswer!.end('id: p2\ndata: {"result":1}\n\n');
    expect(await post.ended).toEqual({ complete: true });
    expect(post.text()).toBe('id: p1\ndata: {"progress":1}\n\nid: p2\ndata: {"result":1}\n\n');
  });

  it('ends a GET stream that opens while draining right after its head', async () => {
    const server = await upstream((req, res) => {
      req.resume();
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(': open\n\n');
    });
    const g = await startTestGateway({ io });
    cleanups.push(() => g.close());
    await g.registerRemoteAdapter('late', [`${server.url}/mcp`]);
    g.serverStreams.drain();
    const get = openStream(`${g.url}/adapters/late/mcp`, {
      method: 'GET',
      headers: { accept: 'text/event-stream', 'mcp-protocol-version': '2025-11-25' },
    });
    expect(await get.ended).toEqual({ complete: true });
    expect(get.text()).toBe('');
  });
});
