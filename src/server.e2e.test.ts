/**
 * `node server.js`, spawned as the reference's listing tells users to (`claude mcp add --transport stdio … node
 * server.js --env PORT="3000" --env MCP_GATEWAY_HOST="0.0.0.0" --env MCP_GATEWAY_LOG_LEVEL="info"`), driven by the
 * SDKs' stdio clients: the tool router on stdio with the HTTP side held off by the host rules; with HTTP allowed,
 * both sides on one registry; with no client on stdin, `npm start`. Runs the real top-level file against dist/,
 * which it compiles first when stale.
 */
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client as LegacyClient } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport as LegacyStdio } from '@modelcontextprotocol/sdk/client/stdio.js';
import { Client as ModernClient } from '@modelcontextprotocol/client';
import { StdioClientTransport as ModernStdio } from '@modelcontextprotocol/client/stdio';
import { SCORE_TOOL, startScoreServer } from '../scripts/samples/score-server.js';
import type { ScoreServer } from '../scripts/samples/score-server.js';
import { legacyInitialize } from '../test/legacy-requests.js';
import { eventually } from '../test/polling.js';
import { openRegistryStore } from './registry/index.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SERVER_JS = join(ROOT, 'server.js');
/** The launch line's own settings. */
const LAUNCH_LINE = { PORT: '3000', MCP_GATEWAY_HOST: '0.0.0.0', MCP_GATEWAY_LOG_LEVEL: 'info' };

/** The port of the `listening` log line among `output`'s JSON lines, once there is one. */
function listeningPort(output: string): number | undefined {
  for (const line of output.split('\n')) {
    if (!line.startsWith('{')) continue;
    const entry = JSON.parse(line) as { msg?: string; port?: number };
    if (entry.msg === 'listening') return entry.port;
  }
  return undefined;
}

describe('node server.js', () => {
  const folder = mkdtempSync(join(tmpdir(), 'mcpgw-server-js-'));
  const env = (extra: Record<string, string>) => ({
    PATH: process.env.PATH ?? '',
    HOME: folder,
    DATABASE_URL: join(folder, 'registry.db'),
    ...extra,
  });
  let score: ScoreServer;

  beforeAll(async () => {
    // What server.js does first anyway; done here so no test's own time goes to a compile.
    const build = spawnSync(process.execPath, [join(ROOT, 'scripts/build-if-stale.mjs')], {
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    expect(build.status).toBe(0);
    score = await startScoreServer();
    const store = await openRegistryStore(join(folder, 'registry.db'));
    await store.create(
      'tool',
      'score',
      {
        environmentVariables: {},
        replicaCount: 1,
        description: '',
        useWorkloadIdentity: false,
        requiredRoles: [],
        endpoints: [score.url],
        toolDefinition: { tool: SCORE_TOOL },
      },
      'alice',
    );
    await store.close();
  }, 300_000);
  afterAll(async () => {
    await score?.close();
    rmSync(folder, { recursive: true, force: true });
  });

  it('as the launch line runs it: the tool router on stdio for SDK 2.x and 1.x clients, HTTP off with one line', async () => {
    const modern = new ModernClient(
      { name: 'launch-line', version: '2.0.0' },
      { versionNegotiation: { mode: 'auto' } },
    );
    const transport = new ModernStdio({
      command: process.execPath,
      args: [SERVER_JS],
      env: env(LAUNCH_LINE),
      stderr: 'pipe',
    });
    let stderr = '';
    transport.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    await modern.connect(transport);
    try {
      expect(modern.getNegotiatedProtocolVersion()).toBe('2026-07-28');
      expect((await modern.listTools()).tools.map((t) => t.name)).toEqual(['score']);
      const scored = await modern.callTool({ name: 'score', arguments: { text: 'great work' } });
      expect(scored.structuredContent).toMatchObject({ label: 'positive' });
    } finally {
      await modern.close();
    }
    expect(stderr).toContain(
      'mcp-gateway: the HTTP side is off: MCP_GATEWAY_HOST is "0.0.0.0", a non-loopback address, and MCP_GATEWAY_AUTH is not set',
    );
    expect(listeningPort(stderr)).toBeUndefined();

    const legacy = new LegacyClient({ name: 'launch-line', version: '1.0.0' });
    await legacy.connect(
      new LegacyStdio({
        command: process.execPath,
        args: [SERVER_JS],
        env: env(LAUNCH_LINE),
        stderr: 'ignore',
      }),
    );
    try {
      const scored = await legacy.callTool({ name: 'score', arguments: { text: 'awful' } });
      expect(scored.structuredContent).toMatchObject({ label: 'negative' });
    } finally {
      await legacy.close();
    }
  });

  it('with HTTP allowed, serves both sides from one registry and exits 0 once the client closes stdin', async () => {
    const child: ChildProcessWithoutNullStreams = spawn(process.execPath, [SERVER_JS], {
      env: env({ PORT: '0', MCP_GATEWAY_HOST: '127.0.0.1', MCP_GATEWAY_AUTH: 'dev' }),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const exit = new Promise<number | null>((resolve) => child.once('exit', resolve));
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    try {
      const send = (message: object) => child.stdin.write(`${JSON.stringify(message)}\n`);
      send(legacyInitialize({ clientVersion: '0' }));
      await eventually(
        () => stdout.includes('"id":1') && listeningPort(stderr) !== undefined,
        'the answer to initialize and the listening line',
        60_000,
      );
      send({ jsonrpc: '2.0', method: 'notifications/initialized' });
      send({ jsonrpc: '2.0', id: 2, method: 'tools/list' });
      await eventually(() => stdout.includes('"id":2'), 'the answer to tools/list', 60_000);

      // A tool registered over HTTP is announced and listed on stdio: one runtime behind both.
      const port = listeningPort(stderr)!;
      const created = await fetch(`http://127.0.0.1:${port}/tools`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          name: 'late',
          endpoints: [score.url],
          toolDefinition: { tool: { ...SCORE_TOOL, name: 'late' } },
        }),
      });
      expect(created.status).toBe(201);
      await eventually(
        () => stdout.includes('notifications/tools/list_changed'),
        'a list change on stdio',
        60_000,
      );
      send({ jsonrpc: '2.0', id: 3, method: 'tools/list' });
      await eventually(() => stdout.includes('"id":3'), 'the answer to the second tools/list', 60_000);
      const lines = stdout
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as { id?: number });
      // Stdout carried protocol messages only: every line parsed, and none of them is a log entry.
      for (const line of lines) expect(line).toMatchObject({ jsonrpc: '2.0' });
      const listed = lines.find((line) => line.id === 3) as unknown as {
        result: { tools: { name: string }[] };
      };
      expect(listed.result.tools.map((t) => t.name).sort()).toEqual(['late', 'score']);

      child.stdin.end();
      expect(await exit).toBe(0);
      expect(stderr).toMatch(/"msg":"stopped"/);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('with nothing on stdin, is npm start: HTTP only, logs on stdout, SIGTERM stops it', async () => {
    const child = spawn(process.execPath, [SERVER_JS], {
      env: env({ PORT: '0', MCP_GATEWAY_HOST: '127.0.0.1' }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exit = new Promise<number | null>((resolve) => child.once('exit', resolve));
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    try {
      await eventually(() => listeningPort(stdout) !== undefined, 'the listening line', 60_000);
      const health = await fetch(`http://127.0.0.1:${listeningPort(stdout)}/healthz`);
      expect(health.status).toBe(200);
      expect(stdout).not.toContain('tool router on stdio');
      child.kill('SIGTERM');
      expect(await exit).toBe(0);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
