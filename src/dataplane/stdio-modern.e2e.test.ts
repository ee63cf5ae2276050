/**
 * A stdio adapter served to 2026-07-28 clients through the gateway: an SDK 1.x stdio server (`Server` +
 * `StdioServerTransport`) registered as a command adapter; the SDK 2.x client pinned to 2026-07-28 reaches it at
 * `/adapters/{name}/mcp` (server/discover, tools/list, tools/call) without a session, while the SDK 1.x client
 * still gets a 2025 session of its own; deleting the adapter leaves no process.
 */
import { Client as LegacyClient } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as LegacyTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  Client as ModernClient,
  StreamableHTTPClientTransport as ModernTransport,
} from '@modelcontextprotocol/client';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { mcpPostHeaders } from '../../test/legacy-requests.js';
import { eventually, until } from '../../test/polling.js';
import {
  canScanProcesses,
  killMarked,
  markedProcesses,
  MARKER_VARIABLE,
  newMarker,
} from '../../test/process-tree.js';
import { startTestGateway } from '../../test/test-gateway.js';

const marker = newMarker();
afterAll(() => killMarked(marker));
const SDK_STDIO_SERVER = fileURLToPath(new URL('../../test/sdk-stdio-server.mjs', import.meta.url));
const textOf = (result: unknown) => (result as { content: { text: string }[] }).content[0]!.text;

describe.runIf(canScanProcesses)('a stdio adapter for 2026-07-28 clients, through the gateway', () => {
  it('serves the SDK 2.x client statelessly from the pool and the SDK 1.x client on a session', async () => {
    const gateway = await startTestGateway({ processDeployer: true });
    try {
      const created = await fetch(`${gateway.url}/adapters`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          name: 'sdk-stdio',
          command: process.execPath,
          args: [SDK_STDIO_SERVER],
          warmSessions: 1,
          environmentVariables: { [MARKER_VARIABLE]: marker },
        }),
      });
      expect(created.status).toBe(201);
      expect(await created.json()).toMatchObject({ warmSessions: 1 });
      await until(
        async () =>
          (await (await fetch(`${gateway.url}/adapters/sdk-stdio/status`)).json()) as {
            readyReplicas: number;
          },
        (status) => status.readyReplicas === 1,
        'a ready replica',
        60_000,
        100,
      );
      const url = new URL(`${gateway.url}/adapters/sdk-stdio/mcp`);

      const modern = new ModernClient(
        { name: 'e2e-modern', version: '2.0.0' },
        { versionNegotiation: { mode: { pin: '2026-07-28' } } },
      );
      const modernTransport = new ModernTransport(url);
      await modern.connect(modernTransport);
      try {
        expect(modern.getServerVersion()).toMatchObject({ name: 'sdk-stdio-server' });
        expect(modern.getInstructions()).toBe('An SDK 1.x server on stdio.');
        expect((await modern.listTools()).tools.map((t) => t.name)).toEqual(['echo', 'instance']);
        expect(textOf(await modern.callTool({ name: 'echo', arguments: { message: '2026' } }))).toBe(
          'Echo: 2026',
        );
        // A raw server/discover says what the pool offers: 2026-07-28 only, no list-change stream.
        const discover = await fetch(url, {
          method: 'POST',
          headers: mcpPostHeaders({
            'mcp-protocol-version': '2026-07-28',
            'mcp-method': 'server/discover',
          }),
          body: JSON.stringify({
            jsonrpc: '2.0',
            id: 7,
            method: 'server/discover',
            params: {
              _meta: {
                'io.modelcontextprotocol/protocolVersion': '2026-07-28',
                'io.modelcontextprotocol/clientCapabilities': {},
              },
            },
          }),
        });
        expect(discover.status).toBe(200);
        expect(discover.headers.get('mcp-session-id')).toBeNull();
        const body = (await discover.json()) as { id: number; result: Record<string, unknown> };
        expect(body.id).toBe(7);
        expect(body.result).toMatchObject({
          resultType: 'complete',
          supportedVersions: ['2026-07-28'],
          capabilities: { tools: {} },
          _meta: { 'io.modelcontextprotocol/serverInfo': { name: 'sdk-stdio-server' } },
        });
        expect(body.result.capabilities).not.toHaveProperty('tools.listChanged');

        const legacy = new LegacyClient({ name: 'e2e-legacy', version: '1.0.0' });
        const legacyTransport = new LegacyTransport(url);
        await legacy.connect(legacyTransport);
        try {
          expect(legacyTransport.sessionId).toBeDefined();
          expect(textOf(await legacy.callTool({ name: 'echo', arguments: { message: '2025' } }))).toBe(
            'Echo: 2025',
          );
          const sessionInstance = textOf(await legacy.callTool({ name: 'instance', arguments: {} }));
          const poolInstance = textOf(await modern.callTool({ name: 'instance', arguments: {} }));
          expect(sessionInstance).not.toBe(poolInstance);
        } finally {
          await legacy.close();
        }
      } finally {
        await modern.close();
      }
      expect((await fetch(`${gateway.url}/adapters/sdk-stdio`, { method: 'DELETE' })).status).toBe(204);
      await eventually(() => markedProcesses(marker).length === 0, 'no process left', 20_000, 100);
    } finally {
      await gateway.close();
    }
    expect(markedProcesses(marker)).toEqual([]);
  });
});
