/**
 * Faithful forwarding with real SDK peers: the client's query string reaches the upstream unchanged on every
 * request of a 2025 session (POST, the GET stream, DELETE) and on 2026-07-28 stateless requests, merged after a
 * query the registered URL has of its own; and the upstream gets an RFC 7239 `Forwarded` header a strict parser
 * reads. Run through each way the gateway serves the route (Node fast path, Hono route, Fetch forwarder).
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  Client as ClientV2,
  StreamableHTTPClientTransport as TransportV2,
} from '@modelcontextprotocol/client';
import parseForwarded from 'forwarded-parse';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startLegacyMcpServer, startModernMcpServer } from '../../test/mcp-servers.js';
import type { RunningMcpServer } from '../../test/mcp-servers.js';
import { startTestGateway } from '../../test/test-gateway.js';
import type { TestGateway } from '../../test/test-gateway.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

async function server(start: () => Promise<RunningMcpServer>): Promise<RunningMcpServer> {
  const s = await start();
  cleanups.push(() => s.close());
  return s;
}

const textOf = (result: unknown) => (result as { content: { text: string }[] }).content[0]?.text ?? '';

describe.each(['node', 'hono', 'fetch'] as const)('faithful forwarding (%s)', (io) => {
  async function gateway(): Promise<TestGateway> {
    const g = await startTestGateway({ io });
    cleanups.push(() => g.close());
    return g;
  }

  it('keeps the query on every request of a 2025 session: POST, the GET stream and DELETE', async () => {
    const upstream = await server(() => startLegacyMcpServer({ name: 'legacy' }));
    const g = await gateway();
    await g.registerRemoteAdapter('q', [upstream.url]);
    const query = 'tenant=a&region=eu-west&note=%C3%BC+x&flag';
    const client = new Client({ name: 'c', version: '1' });
    const transport = new StreamableHTTPClientTransport(new URL(`${g.url}/adapters/q/mcp?${query}`));
    await client.connect(transport);
    cleanups.push(() => client.close());
    expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'hi' } }))).toBe('hi');
    // The SDK opens its standalone GET stream once the session is initialised, in the background.
    await vi.waitFor(() => expect(upstream.targets.some((t) => t.startsWith('GET '))).toBe(true));
    await transport.terminateSession();

    const methods = new Set(upstream.targets.map((t) => t.split(' ')[0]));
    expect(methods).toEqual(new Set(['POST', 'GET', 'DELETE']));
    for (const target of upstream.targets)
      expect(target).toMatch(new RegExp(`^[A-Z]+ /mcp\\?${escape(query)}$`));
  });

  it('keeps the query on 2026-07-28 stateless requests', async () => {
    const upstream = await server(() => startModernMcpServer({ name: 'modern' }));
    const g = await gateway();
    await g.registerRemoteAdapter('m', [upstream.url]);
    const client = new ClientV2(
      { name: 'v2', version: '2.0.0' },
      { versionNegotiation: { mode: { pin: '2026-07-28' } } },
    );
    await client.connect(new TransportV2(new URL(`${g.url}/adapters/m/mcp?tenant=b&x=1`)));
    cleanups.push(() => client.close());
    const result = await client.request({
      method: 'tools/call',
      params: { name: 'echo', arguments: { text: 'yo' } },
    });
    expect(textOf(result)).toBe('yo');
    expect(upstream.targets.length).toBeGreaterThan(0);
    for (const target of upstream.targets) expect(target).toBe('POST /mcp?tenant=b&x=1');
  });

  it('appends the client query after the registered URL’s own, which the client cannot override', async () => {
    const upstream = await server(() => startLegacyMcpServer({ name: 'pinned' }));
    const g = await gateway();
    await g.registerRemoteAdapter('pinned', [`${upstream.url}?tenant=ops&key=1`]);
    const client = new Client({ name: 'c', version: '1' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${g.url}/adapters/pinned/mcp?tenant=evil&region=eu`)),
    );
    cleanups.push(() => client.close());
    await client.listTools();
    const posts = upstream.targets.filter((t) => t.startsWith('POST '));
    expect(posts.length).toBeGreaterThan(0);
    for (const target of posts) expect(target).toBe('POST /mcp?tenant=ops&key=1&region=eu');
  });

  it('sends a Forwarded header naming the client, the scheme and the host it called', async () => {
    const legacy = await server(() => startLegacyMcpServer({ name: 'legacy' }));
    const modern = await server(() => startModernMcpServer({ name: 'modern' }));
    const g = await gateway();
    await g.registerRemoteAdapter('legacy', [legacy.url]);
    await g.registerRemoteAdapter('modern', [modern.url]);
    const v1 = new Client({ name: 'c', version: '1' });
    await v1.connect(new StreamableHTTPClientTransport(new URL(`${g.url}/adapters/legacy/mcp`)));
    cleanups.push(() => v1.close());
    const v2 = new ClientV2(
      { name: 'v2', version: '2.0.0' },
      { versionNegotiation: { mode: { pin: '2026-07-28' } } },
    );
    await v2.connect(new TransportV2(new URL(`${g.url}/adapters/modern/mcp`)));
    cleanups.push(() => v2.close());
    const seen = [
      JSON.parse(textOf(await v1.callTool({ name: 'whoami', arguments: {} }))) as {
        headers: Record<string, string>;
      },
      JSON.parse(
        textOf(await v2.request({ method: 'tools/call', params: { name: 'whoami', arguments: {} } })),
      ) as {
        headers: Record<string, string>;
      },
    ];
    for (const { headers } of seen) {
      expect(parseForwarded(headers.forwarded!)).toEqual([
        { for: '127.0.0.1', proto: 'http', host: new URL(g.url).host },
      ]);
      expect(headers['x-forwarded-for']).toBe('127.0.0.1');
    }
  });
});

/** `text` as a literal inside a RegExp. */
function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
