import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closedPort, startHttpServer } from '../../test/http-fixture.js';
import type { RunningServer } from '../../test/http-fixture.js';
import { createTestApp, imageAdapter, imageTool, json } from '../../test/test-app.js';

let live: RunningServer;
let failing: RunningServer;
let deadPort: number;
const seenMethods: string[] = [];

beforeAll(async () => {
  live = await startHttpServer((req, res) => {
    seenMethods.push(req.method ?? '');
    // Like an MCP server that serves only POST/GET/DELETE: it still proves it is up.
    res.writeHead(405).end();
  });
  failing = await startHttpServer((_req, res) => res.writeHead(503).end());
  deadPort = await closedPort();
});
afterAll(async () => {
  await live.close();
  await failing.close();
});

describe('GET /{kind}/{name}/status', () => {
  it('probes each endpoint of a remote adapter for real and reports Degraded with per-replica detail', async () => {
    const { app, close } = await createTestApp();
    const endpoints = [`${live.url}/mcp`, `http://127.0.0.1:${deadPort}/mcp`, `${failing.url}/mcp`];
    await app.request('/adapters', json('POST', { name: 'remote', endpoints }));
    const res = await app.request('/adapters/remote/status');
    expect(res.status).toBe(200);
    const status = (await res.json()) as Record<string, unknown> & { replicas: Record<string, unknown>[] };
    expect(status).toMatchObject({
      readyReplicas: 1,
      availableReplicas: 1,
      updatedReplicas: 3,
      replicaStatus: 'Degraded: 1/3 ready',
      runtime: 'endpoints',
    });
    expect(status.replicas).toMatchObject([
      { instance: 0, endpoint: endpoints[0], ready: true, state: 'Reachable', detail: 'HTTP 405' },
      { instance: 1, endpoint: endpoints[1], ready: false, state: 'Unreachable', detail: 'ECONNREFUSED' },
      { instance: 2, endpoint: endpoints[2], ready: false, state: 'Unhealthy', detail: 'HTTP 503' },
    ]);
    // The probe must not open an MCP stream or call a tool: OPTIONS only.
    expect(new Set(seenMethods)).toEqual(new Set(['OPTIONS']));
    await close();
  });

  it('reports Healthy when every endpoint answers, for tools too', async () => {
    const { app, close } = await createTestApp();
    const body = {
      ...imageTool('t'),
      imageName: undefined,
      imageVersion: undefined,
      endpoints: [`${live.url}/score`],
    };
    body.toolDefinition = {
      tool: { name: 't', description: 'Scores text', inputSchema: { type: 'object' } },
    };
    expect((await app.request('/tools', json('POST', body))).status).toBe(201);
    const status = (await (await app.request('/tools/t/status')).json()) as Record<string, unknown>;
    expect(status).toMatchObject({ readyReplicas: 1, replicaStatus: 'Healthy' });
    await close();
  });

  it('answers 501 for a runtime that no configured deployer runs, and 404 for a missing resource', async () => {
    const { app, close } = await createTestApp();
    await app.request('/adapters', json('POST', imageAdapter('img')));
    const res = await app.request('/adapters/img/status');
    expect(res.status).toBe(501);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(
      /image runtime .* no deployer for it is configured/,
    );
    expect((await app.request('/adapters/none/status')).status).toBe(404);
    await close();
  });
});

describe('GET /{kind}/{name}/logs', () => {
  it('answers 404 with a reason for a remote runtime, which has no logs', async () => {
    const { app, close } = await createTestApp();
    await app.request('/adapters', json('POST', { name: 'remote', endpoints: [`${live.url}/mcp`] }));
    const res = await app.request('/adapters/remote/logs?instance=0');
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/has no logs/);
    await close();
  });

  it('answers 400 for an instance out of range or not a number', async () => {
    const { app, close } = await createTestApp();
    await app.request('/adapters', json('POST', imageAdapter('img', { replicaCount: 2 })));
    const out = await app.request('/adapters/img/logs?instance=2');
    expect(out.status).toBe(400);
    expect(((await out.json()) as { error: { message: string } }).error.message).toMatch(
      /instance: .* has 2 replica\(s\); use 0–1/,
    );
    expect((await app.request('/adapters/img/logs?instance=x')).status).toBe(400);
    expect((await app.request('/adapters/img/logs?tail=0')).status).toBe(400);
    expect((await app.request('/adapters/img/logs')).status).toBe(501);
    await close();
  });
});
