import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, InMemoryTransport } from '@modelcontextprotocol/client';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../config/index.js';
import { createSilentLogger } from '../../observability/index.js';
import { FIXTURE_READ_PATHS, STDIO_SERVER } from '../../../test/process-fixtures.js';
import {
  MARKER_VARIABLE,
  canScanProcesses,
  killMarked,
  markedProcesses,
  newMarker,
} from '../../../test/process-tree.js';
import { StartupError, buildGatewayRuntime, buildStdioRuntime } from './index.js';

const dir = mkdtempSync(join(tmpdir(), 'mcp-gateway-runtime-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const options = { logger: createSilentLogger(), version: '9.9.9' };
const configFor = (database: string, env: Record<string, string> = {}) =>
  parseConfig({
    DATABASE_URL: join(dir, database),
    // The sandboxed child must be able to read the fixture server it runs.
    MCP_GATEWAY_PROCESS_READ_PATHS: FIXTURE_READ_PATHS.join(','),
    ...env,
  });
const BASE = 'http://127.0.0.1:3000';

/** SQLite keeps `-wal` beside an open WAL database and removes it when the last connection closes. */
const isOpen = (database: string) => existsSync(join(dir, `${database}-wal`));

describe('the Node gateway runtime', () => {
  it.runIf(canScanProcesses)(
    'serves the control plane from one build, and close() reaps its processes and closes the registry',
    async () => {
      const marker = newMarker();
      const runtime = await buildGatewayRuntime(configFor('serve.db'), options);
      try {
        expect(isOpen('serve.db')).toBe(true);
        const created = await runtime.app.request(`${BASE}/adapters`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            name: 'local',
            command: process.execPath,
            args: [STDIO_SERVER],
            environmentVariables: { [MARKER_VARIABLE]: marker },
          }),
        });
        expect(created.status).toBe(201);
        // The write reached the reconciler through the runtime's wiring: the process starts without a poll.
        await expect
          .poll(
            async () => {
              const res = await runtime.app.request(`${BASE}/adapters/local/status`);
              return ((await res.json()) as { readyReplicas?: number }).readyReplicas;
            },
            { timeout: 20_000, interval: 100 },
          )
          .toBe(1);
        expect(markedProcesses(marker).length).toBeGreaterThanOrEqual(1);
        const doc = (await (await runtime.app.request(`${BASE}/openapi.json`)).json()) as {
          info: { version: string };
        };
        expect(doc.info.version).toBe('9.9.9');

        runtime.drain();
        expect((await runtime.app.request(`${BASE}/readyz`)).status).toBe(503);
        await runtime.close();
        expect(markedProcesses(marker)).toEqual([]);
        expect(isOpen('serve.db')).toBe(false);
      } finally {
        killMarked(marker);
        await runtime.close();
      }
    },
  );

  it('fails a start halfway with an exit code and closes the registry it had opened', async () => {
    const config = configFor('half.db', {
      MCP_GATEWAY_AUTH: 'jwt',
      MCP_GATEWAY_JWT_ISSUER: 'https://issuer.example.com',
      MCP_GATEWAY_JWT_AUDIENCE: 'mcp-gateway',
      MCP_GATEWAY_JWKS_FILE: join(dir, 'no-such-jwks.json'),
    });
    const failure = await buildGatewayRuntime(config, options).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(StartupError);
    expect(failure).toMatchObject({ message: 'cannot set up authentication', exitCode: 2 });
    expect(String((failure as StartupError).detail)).toContain('no-such-jwks.json');
    // The registry was opened (the secret file is written beside it) and closed again.
    expect(existsSync(join(dir, 'half.db'))).toBe(true);
    expect(isOpen('half.db')).toBe(false);
  });

  it('builds the stdio runtime on the same registry: its router lists what the gateway registered', async () => {
    const serve = await buildGatewayRuntime(configFor('shared.db'), options);
    try {
      const created = await serve.app.request(`${BASE}/tools`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          name: 'score',
          endpoints: ['http://127.0.0.1:9/score'],
          toolDefinition: {
            tool: { name: 'score', description: 'Scores a text', inputSchema: { type: 'object' } },
          },
        }),
      });
      expect(created.status).toBe(201);
    } finally {
      await serve.close();
    }
    const stdio = await buildStdioRuntime(configFor('shared.db'), options);
    try {
      const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
      await stdio.toolRouter.serverFor({ userId: 'dev', roles: ['mcp.admin'] }).connect(serverSide);
      const client = new Client({ name: 'runtime-test', version: '1.0.0' });
      await client.connect(clientSide);
      expect((await client.listTools()).tools.map((t) => t.name)).toEqual(['score']);
      await client.close();
    } finally {
      await stdio.close();
    }
    expect(isOpen('shared.db')).toBe(false);
  });
});
