/**
 * The edge build end to end, offline: `wrangler.toml` and `src/worker.ts` run in wrangler's own local runtime
 * (workerd from npm) with a local D1, JWT auth against a local issuer, and real MCP servers on 127.0.0.1 as the
 * `endpoints` of registered adapters. Also checks what `wrangler deploy` would bundle.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  Client as ClientV2,
  StreamableHTTPClientTransport as TransportV2,
} from '@modelcontextprotocol/client';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closedPort } from '../test/http-fixture.js';
import { mcpPostHeaders } from '../test/legacy-requests.js';
import { startLegacyMcpServer, startModernMcpServer } from '../test/mcp-servers.js';
import type { RunningMcpServer } from '../test/mcp-servers.js';
import { startTokenIssuer } from '../test/token-issuer.js';
import type { TokenIssuer } from '../test/token-issuer.js';
import {
  REPO_ROOT,
  buildWorkerBundle,
  stageProject,
  startLocalWorker,
  wranglerUnavailableReason,
} from '../test/wrangler-worker.js';
import type { LocalWorker, StagedProject } from '../test/wrangler-worker.js';

const SECRET = 'edge-test-secret-0123456789abcdef-0123456789';

const unavailable = wranglerUnavailableReason();
if (unavailable) process.stderr.write(`worker e2e tests skipped: ${unavailable}\n`);
const suite = unavailable ? describe.skip : describe;

const textOf = (result: unknown) => (result as { content: { text: string }[] }).content[0]?.text ?? '';

suite(unavailable ? `edge worker (skipped: ${unavailable})` : 'edge worker (wrangler local runtime)', () => {
  let project: StagedProject;
  let worker: LocalWorker;
  let issuer: TokenIssuer;
  let legacy: RunningMcpServer;
  let modern: RunningMcpServer;
  let adminToken: string;
  let userToken: string;

  beforeAll(async () => {
    [issuer, legacy, modern] = await Promise.all([
      startTokenIssuer(),
      startLegacyMcpServer({ name: 'legacy-upstream' }),
      startModernMcpServer({ name: 'modern-upstream' }),
    ]);
    project = stageProject();
    // The public URL must be known before start: take a port that was free a moment ago.
    const port = await closedPort();
    worker = await startLocalWorker({
      config: project.path('wrangler.toml'),
      port,
      vars: {
        MCP_GATEWAY_PUBLIC_URL: `http://127.0.0.1:${port}`,
        MCP_GATEWAY_AUTH: 'jwt',
        MCP_GATEWAY_JWKS_URL: issuer.jwksUri,
        MCP_GATEWAY_JWT_ISSUER: issuer.issuer,
        MCP_GATEWAY_IDENTITY_JWT: 'on',
        MCP_GATEWAY_LOG_LEVEL: 'warn',
      },
      secrets: { MCP_GATEWAY_SECRET: SECRET },
    });
    adminToken = await issuer.mint({ sub: 'admin', roles: ['mcp.admin'] }, { audience: worker.url });
    userToken = await issuer.mint({ sub: 'bob', roles: ['mcp.engineer'] }, { audience: worker.url });
  });
  afterAll(async () => {
    await worker?.dispose();
    project?.remove();
    await Promise.all([issuer?.close(), legacy?.close(), modern?.close()]);
  });

  const api = (path: string, init: RequestInit = {}, token = adminToken) =>
    fetch(`${worker.url}${path}`, {
      ...init,
      headers: {
        authorization: `Bearer ${token}`,
        ...(init.body ? { 'content-type': 'application/json' } : {}),
        ...(init.headers as Record<string, string> | undefined),
      },
    });
  /** Registers an adapter as the admin that engineers may use. */
  const register = async (name: string, endpoints: string[]) => {
    const body = JSON.stringify({ name, endpoints, requiredRoles: ['mcp.engineer'] });
    const res = await api('/adapters', { method: 'POST', body });
    expect(res.status, await res.clone().text()).toBe(201);
  };

  it('is live and ready on its D1 registry', async () => {
    expect((await fetch(`${worker.url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${worker.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ready', registry: 'd1' });
    const doc = (await (await fetch(`${worker.url}/openapi.json`)).json()) as { info: { version: string } };
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(doc.info.version).toBe(pkg.version);
  });

  it('authenticates with JWTs from the bindings: 401 with the RFC 9728 challenge without one', async () => {
    const res = await fetch(`${worker.url}/adapters`);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe(
      `Bearer resource_metadata="${worker.url}/.well-known/oauth-protected-resource"`,
    );
    const metadata = await fetch(`${worker.url}/.well-known/oauth-protected-resource/adapters/x/mcp`);
    expect(await metadata.json()).toMatchObject({
      resource: `${worker.url}/adapters/x/mcp`,
      authorization_servers: [issuer.issuer],
    });
  });

  it('creates, reads, lists, updates and deletes adapters in D1', async () => {
    await register('crud', [legacy.url]);
    const read = await api('/adapters/crud');
    expect(read.status).toBe(200);
    expect(await read.json()).toMatchObject({ name: 'crud', endpoints: [legacy.url], createdBy: 'admin' });
    const etag = read.headers.get('etag')!;
    expect(etag).toBeTruthy();

    const listed = (await (await api('/adapters')).json()) as { name: string }[];
    expect(listed.map((a) => a.name)).toContain('crud');

    const body = JSON.stringify({
      name: 'crud',
      endpoints: [legacy.url, modern.url],
      description: 'two',
      requiredRoles: ['mcp.engineer'],
    });
    const updated = await api('/adapters/crud', { method: 'PUT', body, headers: { 'if-match': etag } });
    expect(updated.status).toBe(200);
    expect(await updated.json()).toMatchObject({ description: 'two', endpoints: [legacy.url, modern.url] });
    const stale = await api('/adapters/crud', { method: 'PUT', body, headers: { 'if-match': etag } });
    expect(stale.status).toBe(412);

    // Status probes the endpoints from inside the worker, within the request.
    const status = (await (await api('/adapters/crud/status')).json()) as Record<string, unknown>;
    expect(status).toMatchObject({ readyReplicas: 2, replicaStatus: 'Healthy', runtime: 'endpoints' });

    // Ownership is enforced on the edge as on Node: bob may read (his role is required) but not delete.
    expect((await api('/adapters/crud', {}, userToken)).status).toBe(200);
    expect((await api('/adapters/crud', { method: 'DELETE' }, userToken)).status).toBe(403);
    expect((await api('/adapters/crud', { method: 'DELETE' })).status).toBe(204);
    expect((await api('/adapters/crud')).status).toBe(404);
  });

  it('keeps write-only secrets in D1, sealed with WebCrypto on the edge', async () => {
    const value = 'edge-secret-value-4f1c9a';
    const created = await api('/secrets', {
      method: 'POST',
      body: JSON.stringify({ name: 'edge-key', value }),
    });
    const createdText = await created.text();
    expect(created.status, createdText).toBe(201);
    expect(JSON.parse(createdText)).toMatchObject({ name: 'edge-key', createdBy: 'admin' });
    const etag = created.headers.get('etag')!;
    const rotated = await api('/secrets/edge-key', {
      method: 'PUT',
      body: JSON.stringify({ value: `${value}-2` }),
      headers: { 'if-match': etag },
    });
    const answers = [createdText, await rotated.text(), await (await api('/secrets')).text()];
    expect(rotated.status).toBe(200);
    for (const answer of answers) expect(answer).not.toContain(value);
    // Without a secret role: 403 insufficient_scope, as on Node.
    const refused = await api('/secrets/edge-key', {}, userToken);
    expect(refused.status).toBe(403);
    expect(refused.headers.get('www-authenticate')).toMatch(/error="insufficient_scope"/);
    expect((await api('/secrets/edge-key', { method: 'DELETE' })).status).toBe(204);
  });

  it('refuses runtimes the edge cannot run', async () => {
    const res = await api('/adapters', {
      method: 'POST',
      body: JSON.stringify({ name: 'local', command: 'node', args: ['server.js'] }),
    });
    if (res.status === 201) {
      const status = await api('/adapters/local/status');
      expect(status.status).toBe(501);
      expect(((await status.json()) as { error: { message: string } }).error.message).toMatch(/no deployer/);
      expect((await api('/adapters/local', { method: 'DELETE' })).status).toBe(204);
    } else {
      expect(res.status).toBe(400);
    }
  });

  it('proxies a legacy session (SDK 1.x): sealed session id, tools/list, tools/call, identity headers', async () => {
    await register('legacy', [legacy.url]);
    const transport = new StreamableHTTPClientTransport(new URL(`${worker.url}/adapters/legacy/mcp`), {
      requestInit: { headers: { authorization: `Bearer ${userToken}` } },
    });
    const client = new Client({ name: 'edge-test', version: '1.0.0' });
    await client.connect(transport);
    try {
      expect(transport.sessionId).toMatch(/^v2\.[A-Za-z0-9_-]+$/);
      const tools = await client.listTools();
      expect(tools.tools.map((t) => t.name)).toContain('echo');
      expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'héllo edge' } }))).toBe(
        'héllo edge',
      );
      const { headers } = JSON.parse(textOf(await client.callTool({ name: 'whoami', arguments: {} }))) as {
        headers: Record<string, string>;
      };
      expect(headers['x-mcp-userid']).toBe('bob');
      expect(headers).not.toHaveProperty('authorization');
      // Signed on the edge with the key kept in D1, verifiable with the worker's published JWKS.
      const identity = headers['x-mcp-identity']!;
      const jwks = createLocalJWKSet(await (await fetch(`${worker.url}/.well-known/jwks.json`)).json());
      const { payload } = await jwtVerify(identity, jwks, { issuer: worker.url });
      expect(payload.sub).toBe('bob');
    } finally {
      await client.close();
    }
  });

  it('proxies a modern stateless call (SDK 2.x, 2026-07-28)', async () => {
    await register('modern', [modern.url]);
    const client = new ClientV2(
      { name: 'edge-v2', version: '2.0.0' },
      { versionNegotiation: { mode: 'auto' } },
    );
    await client.connect(
      new TransportV2(new URL(`${worker.url}/adapters/modern/mcp`), {
        requestInit: { headers: { authorization: `Bearer ${userToken}` } },
      }),
    );
    try {
      expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'stateless' } }))).toBe(
        'stateless',
      );
    } finally {
      await client.close();
    }
  });

  it('takes an endpoint whose connection failed out of rotation (passive health)', async () => {
    const dead = `http://127.0.0.1:${await closedPort()}/mcp`;
    await register('failover', [dead, modern.url]);
    const call = async (user: string) => {
      const token = await issuer.mint({ sub: user, roles: ['mcp.engineer'] }, { audience: worker.url });
      const res = await fetch(`${worker.url}/adapters/failover/mcp`, {
        method: 'POST',
        headers: mcpPostHeaders({ authorization: `Bearer ${token}`, 'mcp-protocol-version': '2025-11-25' }),
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }),
      });
      await res.body?.cancel();
      return res.status;
    };
    // Rendezvous placement by user: about every other user lands on the dead endpoint first. workerd cannot
    // say whether a lost connection carried the request, so that call is answered 502, never retried…
    const first: number[] = [];
    for (let i = 0; i < 64 && !first.includes(502); i++) first.push(await call(`user-${i}`));
    expect(first.at(-1)).toBe(502);
    expect(first.slice(0, -1).every((status) => status === 200)).toBe(true);
    // … and from then on every user is served by the live endpoint.
    const after = await Promise.all(Array.from({ length: 12 }, (_, i) => call(`user-${i}`)));
    expect(after).toEqual(Array.from({ length: 12 }, () => 200));
  });
});

suite(unavailable ? `edge worker start-up (skipped: ${unavailable})` : 'edge worker start-up', () => {
  it('answers 503 without MCP_GATEWAY_SECRET, and says why in its log only', async () => {
    const project = stageProject();
    try {
      const worker = await startLocalWorker({
        config: project.path('wrangler.toml'),
        vars: { MCP_GATEWAY_PUBLIC_URL: 'https://edge.example', MCP_GATEWAY_AUTH: 'dev-insecure' },
      });
      try {
        const res = await fetch(`${worker.url}/healthz`);
        expect(res.status).toBe(503);
        expect(res.headers.get('retry-after')).toBe('10');
        const body = (await res.json()) as { error: { code: string; message: string } };
        expect(body.error.code).toBe('gateway_unavailable');
        expect(body.error.message).not.toMatch(/MCP_GATEWAY_SECRET/);
      } finally {
        await worker.dispose();
      }
    } finally {
      project.remove();
    }
  });

  it('bundles without any Node-only module, with every migration', async () => {
    const project = stageProject();
    try {
      const bundle = await buildWorkerBundle(project);
      const forbidden = [
        /node_modules\/better-sqlite3\//,
        /node_modules\/postgres\//,
        /node_modules\/@kubernetes\/client-node\//,
        /src\/registry\/(sqlite\/sqlite-registry-store|postgres\/|migrations\.ts)/,
        /src\/deploy\/(process|kubernetes)\//,
        /src\/dataplane\/node\//,
      ];
      for (const pattern of forbidden)
        expect(bundle.inputs.filter((input) => pattern.test(input))).toEqual([]);
      // No import of a Node built-in survived (without nodejs_compat one would not even resolve).
      expect(bundle.code).not.toMatch(
        /(\bfrom|\bimport|require\()\s*\(?\s*["'](node:)?(child_process|fs|path|net|http|https|tls|dns|os|crypto|stream|util|events|url|zlib|worker_threads)(\/[a-z]+)?["']/,
      );
      expect(bundle.code).not.toMatch(/child_process/);
      // Sanity: the inputs are really listed (the worker, the D1 dialect, the Fetch forwarder).
      for (const module of [
        'src/worker.ts',
        'src/registry/d1/d1-registry-store.ts',
        'src/dataplane/fetch-io.ts',
      ]) {
        expect(bundle.inputs.some((input) => input.endsWith(module))).toBe(true);
      }
      const journal = JSON.parse(
        readFileSync(join(REPO_ROOT, 'migrations', 'sqlite', 'meta', '_journal.json'), 'utf8'),
      ) as { entries: { tag: string }[] };
      const bundled = (await import('node:fs')).readdirSync(bundle.outDir);
      for (const { tag } of journal.entries) {
        expect(bundled.some((file) => file.endsWith(`-${tag}.sql`))).toBe(true);
      }
    } finally {
      project.remove();
    }
  });
});
