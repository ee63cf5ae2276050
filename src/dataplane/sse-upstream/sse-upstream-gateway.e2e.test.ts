/**
 * `transport: "sse"` through the real gateway (`main.ts`: SQLite file, the Node runtime's SSRF-guarded outbound
 * and probes): an upstream that demands a bearer key gets the adapter's `upstreamAuth` credential on its SSE GET
 * and on every POST, never the caller's token; `/status` probes the SSE URL with a GET for an event stream; an
 * SDK 2.x client pinned to 2026-07-28 gets the legacy refusal it recognises.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGatewayProcess } from '../../../test/gateway-process.js';
import type { GatewayProcess } from '../../../test/gateway-process.js';
import { mcpPostHeaders } from '../../../test/legacy-requests.js';
import { connectLegacyClient } from '../../../test/mcp-clients.js';
import { startSseMcpServer } from '../../../test/sse-mcp-server.js';
import type { RunningSseServer } from '../../../test/sse-mcp-server.js';

const KEY = 'sse-upstream-KEY-3b9d0e7a51';
const CALLER = 'caller-TOKEN-a1b2c3d4e5';
const dir = mkdtempSync(join(tmpdir(), 'mcpgw-sse-'));
let gateway: GatewayProcess;
let upstream: RunningSseServer;

const postJson = (path: string, body: unknown) =>
  fetch(`${gateway.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

beforeAll(async () => {
  upstream = await startSseMcpServer({
    requires: { header: 'authorization', accepts: (value) => value === `Bearer ${KEY}` },
  });
  gateway = await startGatewayProcess({ DATABASE_URL: join(dir, 'registry.db') });
  expect((await postJson('/secrets', { name: 'sse-key', value: KEY })).status).toBe(201);
  const created = await postJson('/adapters', {
    name: 'legacy',
    endpoints: [upstream.url],
    transport: 'sse',
    upstreamAuth: { type: 'bearer', secret: 'sse-key' },
  });
  expect(created.status, await created.clone().text()).toBe(201);
}, 60_000);

afterAll(async () => {
  await gateway?.stop();
  await upstream?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('sse adapters through the real gateway', () => {
  it('sends upstreamAuth on the SSE GET and every POST, never the caller’s token', async () => {
    const client = await connectLegacyClient(`${gateway.url}/adapters/legacy/mcp`, {
      headers: { authorization: `Bearer ${CALLER}` },
    });
    try {
      const result = await client.call('echo', { text: 'through sse' });
      expect((result.content as { text: string }[])[0]!.text).toBe('through sse');
    } finally {
      await client.close();
    }
    const mcp = upstream.requests.filter(
      (r) => r.target.startsWith('/sse') || r.target.startsWith('/messages'),
    );
    expect(mcp.some((r) => r.method === 'GET') && mcp.some((r) => r.method === 'POST')).toBe(true);
    for (const r of mcp) {
      expect(r.headers.authorization).toBe(`Bearer ${KEY}`);
      expect(JSON.stringify(r.headers)).not.toContain(CALLER);
    }
    // Nothing the gateway logged carries the key.
    expect(JSON.stringify(gateway.logs)).not.toContain(KEY);
  });

  it('probes the SSE URL with a GET: up while it asks for credentials, and the probe carries none', async () => {
    const before = upstream.requests.length;
    const status = (await (await fetch(`${gateway.url}/adapters/legacy/status`)).json()) as {
      replicas: { ready: boolean; detail: string }[];
    };
    expect(status.replicas[0]).toMatchObject({
      ready: true,
      detail: 'HTTP 401 (the probe sends no credentials)',
    });
    const probe = upstream.requests.slice(before).find((r) => r.method === 'GET');
    expect(probe?.headers.accept).toBe('text/event-stream');
    expect(probe?.headers.authorization).toBeUndefined();
  });

  it('answers a 2026-07-28 stateless request with the legacy refusal', async () => {
    const res = await fetch(`${gateway.url}/adapters/legacy/mcp`, {
      method: 'POST',
      headers: mcpPostHeaders({
        'mcp-protocol-version': '2026-07-28',
        'mcp-method': 'tools/list',
      }),
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({
      error: { message: 'Bad Request: Mcp-Session-Id header is required' },
    });
  });
});
