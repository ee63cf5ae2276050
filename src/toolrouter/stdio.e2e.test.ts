/**
 * `mcp-gateway stdio` as an MCP client spawns it: the real CLI (`src/cli.ts` under tsx) driven by the SDKs'
 * stdio clients of both lines — embedded on a SQLite registry shared with another writer, and as a relay to a
 * running gateway with a bearer token. Stdout must carry nothing but protocol messages.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MiddlewareHandler } from 'hono';
import { Client as LegacyClient } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport as LegacyStdio } from '@modelcontextprotocol/sdk/client/stdio.js';
import { ElicitRequestSchema, ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { Client as ModernClient } from '@modelcontextprotocol/client';
import { StdioClientTransport as ModernStdio } from '@modelcontextprotocol/client/stdio';
import { SCORE_TOOL, startScoreServer } from '../../scripts/samples/score-server.js';
import type { ScoreServer } from '../../scripts/samples/score-server.js';
import { createAuthenticator, localPrincipal } from '../auth/index.js';
import { parseAuthConfig } from '../config/index.js';
import type { AppEnv } from '../http/index.js';
import { openRegistryStore } from '../registry/index.js';
import type { JsonObject } from '../registry/index.js';
import { startElicitingMcpServer } from '../../test/eliciting-mcp-server.js';
import type { ElicitingMcpServer } from '../../test/eliciting-mcp-server.js';
import { legacyInitialize } from '../../test/legacy-requests.js';
import { startLegacyMcpServer } from '../../test/mcp-servers.js';
import type { RunningMcpServer } from '../../test/mcp-servers.js';
import { eventually } from '../../test/polling.js';
import { startTestGateway } from '../../test/test-gateway.js';
import type { TestGateway } from '../../test/test-gateway.js';
import { startTokenIssuer } from '../../test/token-issuer.js';
import type { TokenIssuer } from '../../test/token-issuer.js';

const CLI = fileURLToPath(new URL('../cli.ts', import.meta.url));
const COMMAND = process.execPath;
const ARGS = ['--import', 'tsx', CLI, 'stdio'];

const base = (): JsonObject => ({
  environmentVariables: {},
  replicaCount: 1,
  description: '',
  useWorkloadIdentity: false,
  requiredRoles: [],
});
const toolSpec = (name: string, url: string): JsonObject => ({
  ...base(),
  endpoints: [url],
  toolDefinition: { tool: { ...SCORE_TOOL, name } },
});

const textOf = (result: unknown) =>
  ((result as { content: { text?: string }[] }).content[0]?.text ?? '') as string;

describe('mcp-gateway stdio, embedded', () => {
  const folder = mkdtempSync(join(tmpdir(), 'mcpgw-stdio-'));
  const databaseUrl = join(folder, 'registry.db');
  let score: ScoreServer;
  let upstream: RunningMcpServer;
  let asker: ElicitingMcpServer;
  const env = () => ({
    PATH: process.env.PATH ?? '',
    HOME: folder,
    DATABASE_URL: databaseUrl,
    MCP_GATEWAY_LOG_LEVEL: 'info',
  });

  beforeAll(async () => {
    score = await startScoreServer();
    upstream = await startLegacyMcpServer({ name: 'stdio-upstream' });
    asker = await startElicitingMcpServer();
    const store = await openRegistryStore(databaseUrl);
    await store.create('adapter', 'asker', { ...base(), endpoints: [asker.url], federate: true }, 'alice');
    await store.create('tool', 'score', toolSpec('score', score.url), 'alice');
    await store.create(
      'adapter',
      'legacy',
      { ...base(), endpoints: [upstream.url], federate: true },
      'alice',
    );
    await store.close();
  });
  afterAll(async () => {
    await score?.close();
    await upstream?.close();
    await asker?.close();
    rmSync(folder, { recursive: true, force: true });
  });

  it("relays a federated upstream's elicitation to the 2025 client on its connection", async () => {
    const transport = new LegacyStdio({ command: COMMAND, args: ARGS, env: env(), stderr: 'pipe' });
    const client = new LegacyClient(
      { name: 'stdio-elicit', version: '1.0.0' },
      { capabilities: { elicitation: {} } },
    );
    const asked: string[] = [];
    client.setRequestHandler(ElicitRequestSchema, (request) => {
      asked.push(request.params.message);
      return { action: 'accept', content: { name: 'Edsger' } };
    });
    await client.connect(transport);
    try {
      const result = await client.callTool({ name: 'asker__ask', arguments: { question: 'On stdio?' } });
      expect(textOf(result)).toBe('accept:Edsger');
      expect(asked).toEqual(['On stdio?']);
    } finally {
      await client.close();
    }
  });

  it('serves a 2025 client: lists, calls, relays progress and announces a tool another process registered', async () => {
    const transport = new LegacyStdio({ command: COMMAND, args: ARGS, env: env(), stderr: 'pipe' });
    let stderr = '';
    transport.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const client = new LegacyClient({ name: 'stdio-legacy', version: '1.0.0' });
    let changes = 0;
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => void changes++);
    await client.connect(transport);
    try {
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name)).toEqual(
        expect.arrayContaining(['score', 'legacy__echo', 'legacy__count']),
      );
      const scored = await client.callTool({ name: 'score', arguments: { text: 'great work' } });
      expect(scored.structuredContent).toMatchObject({ label: 'positive' });
      // What the gateway wrote, read where the messages arrive: the SDK 1.x client hands a progress notification
      // to its handler a microtask later, and drops it when the answer came in the same stdout chunk.
      const relayed: number[] = [];
      const deliver = transport.onmessage!;
      transport.onmessage = (message) => {
        if ('method' in message && message.method === 'notifications/progress')
          relayed.push((message.params as { progress: number }).progress);
        deliver(message);
      };
      const counted = await client.callTool({ name: 'legacy__count', arguments: { n: 3 } }, undefined, {
        onprogress: () => undefined,
      });
      expect(textOf(counted)).toBe('counted to 3');
      expect(relayed).toEqual([1, 2, 3]);

      // Another process (a gateway sharing the file) registers a tool: the change feed carries it here.
      const other = await openRegistryStore(databaseUrl);
      await other.create('tool', 'late', toolSpec('late', score.url), 'alice');
      await other.close();
      await eventually(() => changes > 0, 'a list change for the tool written by another process', 10_000);
      expect((await client.listTools()).tools.map((t) => t.name)).toContain('late');
      // Logs went to stderr (JSON lines), never to stdout (the client would have failed to parse them).
      expect(stderr).toMatch(/"msg":"tool router on stdio \(embedded\)"/);
    } finally {
      await client.close();
    }
  });

  it('serves a 2026-07-28 client, acting as --user/--roles', async () => {
    const client = new ModernClient(
      { name: 'stdio-modern', version: '2.0.0' },
      { versionNegotiation: { mode: 'auto' } },
    );
    await client.connect(
      new ModernStdio({
        command: COMMAND,
        args: [...ARGS, '--user', 'bob', '--roles', 'team'],
        env: env(),
        stderr: 'ignore',
      }),
    );
    try {
      expect(client.getNegotiatedProtocolVersion()).toBe('2026-07-28');
      // Everything was registered by alice without roles: bob sees nothing.
      expect((await client.listTools()).tools).toEqual([]);
    } finally {
      await client.close();
    }
  });

  it('writes only protocol messages to stdout, logs to stderr, and exits 0 when stdin closes', async () => {
    const child = spawn(COMMAND, ARGS, { env: env(), stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const send = (message: object) => child.stdin.write(`${JSON.stringify(message)}\n`);
    send(legacyInitialize({ clientVersion: '0' }));
    // A cold start compiles the CLI first, which takes long on a busy machine: wait while the child lives.
    const answered = (id: number) => () => {
      if (child.exitCode !== null) throw new Error(`exited ${child.exitCode}: ${stderr}`);
      return stdout.includes(`"id":${id}`);
    };
    await eventually(answered(1), 'the answer to initialize', 60_000);
    send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    send({ jsonrpc: '2.0', id: 2, method: 'tools/list' });
    await eventually(answered(2), 'the answer to tools/list', 60_000);
    const exit = new Promise<number | null>((resolve) => child.once('exit', resolve));
    child.stdin.end();
    expect(await exit).toBe(0);
    const lines = stdout.split('\n').filter(Boolean);
    for (const line of lines) expect(JSON.parse(line)).toMatchObject({ jsonrpc: '2.0' });
    expect(lines.length).toBe(2);
    expect(stderr).toContain('"level":30');
  });
});

describe('mcp-gateway stdio --url, relaying to a gateway', () => {
  let issuer: TokenIssuer;
  let gateway: TestGateway;
  let score: ScoreServer;
  let token: string;
  let controlToken: string;

  beforeAll(async () => {
    score = await startScoreServer();
    let current: MiddlewareHandler<AppEnv> = localPrincipal({ principal: { userId: 'alice', roles: [] } });
    gateway = await startTestGateway({
      authenticate: (c, next) => current(c, next),
      toolRouter: { pageSize: 2 },
    });
    for (const name of ['one', 'two', 'three']) {
      const res = await fetch(`${gateway.url}/tools`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          name,
          endpoints: [score.url],
          toolDefinition: { tool: { ...SCORE_TOOL, name } },
        }),
      });
      expect(res.status).toBe(201);
    }
    issuer = await startTokenIssuer({ audience: `${gateway.url}/mcp` });
    const auth = await createAuthenticator(
      parseAuthConfig(
        { MCP_GATEWAY_AUTH: 'oidc', MCP_GATEWAY_OIDC_ISSUER: issuer.issuer },
        { host: '127.0.0.1', publicUrl: gateway.url },
      ),
    );
    current = auth.authenticate;
    token = await issuer.mint({ sub: 'alice', roles: [] }, { expiresIn: 600 });
    // The control plane is another resource: its tokens carry the gateway's URL as audience.
    controlToken = await issuer.mint({ sub: 'alice', roles: [] }, { audience: gateway.url });
  });
  afterAll(async () => {
    await gateway?.close();
    await score?.close();
    await issuer?.close();
  });

  const env = () => ({ PATH: process.env.PATH ?? '', MCP_GATEWAY_LOG_LEVEL: 'warn' });

  it.each([
    ['a 2025 client', 'legacy'],
    ['a 2026-07-28 client', 'modern'],
  ] as const)('relays pages, calls and list changes to %s', async (_label, era) => {
    const args = [...ARGS, '--url', gateway.url];
    const transportEnv = { ...env(), MCP_GATEWAY_TOKEN: token };
    let changes = 0;
    let client: LegacyClient | ModernClient;
    if (era === 'legacy') {
      const legacy = new LegacyClient({ name: 'relay-legacy', version: '1.0.0' });
      legacy.setNotificationHandler(ToolListChangedNotificationSchema, () => void changes++);
      await legacy.connect(new LegacyStdio({ command: COMMAND, args, env: transportEnv, stderr: 'ignore' }));
      client = legacy;
    } else {
      const modern = new ModernClient(
        { name: 'relay-modern', version: '2.0.0' },
        {
          versionNegotiation: { mode: 'auto' },
          listChanged: { tools: { autoRefresh: false, debounceMs: 0, onChanged: () => void changes++ } },
        },
      );
      await modern.connect(new ModernStdio({ command: COMMAND, args, env: transportEnv, stderr: 'ignore' }));
      client = modern;
    }
    try {
      // The gateway's pages (two tools each) and cursors pass through.
      const first = await client.listTools();
      const firstNames = first.tools.map((t) => t.name);
      if (era === 'legacy') {
        expect(firstNames).toEqual(['one', 'three']);
        const second = await client.listTools({ cursor: first.nextCursor! });
        expect(second.tools.map((t) => t.name)).toEqual(['two']);
      } else {
        // The 2.x client walks every page itself (a tool the previous case added may be there too).
        expect(firstNames).toEqual(expect.arrayContaining(['one', 'three', 'two']));
        expect(firstNames).toEqual([...firstNames].sort());
      }
      const result = await client.callTool({ name: 'two', arguments: { text: 'bad' } });
      expect(result.structuredContent).toMatchObject({ label: 'negative' });
      await expect(client.callTool({ name: 'missing', arguments: {} })).rejects.toMatchObject({
        code: -32602,
      });

      // Registered on the gateway: the relay hears it and tells the local client.
      await eventually(() => (gateway.toolRouter?.listeners() ?? 0) > 0, 'the relay listening', 10_000);
      const name = `added-${era}`;
      const res = await fetch(`${gateway.url}/tools`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${controlToken}` },
        body: JSON.stringify({
          name,
          endpoints: [score.url],
          toolDefinition: { tool: { ...SCORE_TOOL, name } },
        }),
      });
      expect(res.status).toBe(201);
      await eventually(() => changes > 0, 'a list change for the tool registered on the gateway', 10_000);
    } finally {
      await client.close();
    }
  });

  it('without a usable token, requests fail with a clear error while the process stays up', async () => {
    const client = new LegacyClient({ name: 'relay-no-token', version: '1.0.0' });
    let stderr = '';
    const transport = new LegacyStdio({
      command: COMMAND,
      args: [...ARGS, '--url', `${gateway.url}/mcp`, '--token', 'not-a-token'],
      env: env(),
      stderr: 'pipe',
    });
    transport.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    await client.connect(transport);
    try {
      await expect(client.listTools()).rejects.toThrow(/cannot be reached/);
      await eventually(
        () => stderr.includes('cannot reach the gateway'),
        'the unreachable gateway logged',
        10_000,
      );
    } finally {
      await client.close();
    }
  });
});
