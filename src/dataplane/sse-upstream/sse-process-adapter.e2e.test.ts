/**
 * A `command` adapter with `transport: "sse"`: the process deployer runs a 2024-11-05 server (SDK 1.x
 * `SSEServerTransport`) on its loopback port, sandboxed as any child; it is ready once its port answers, and the
 * data plane reaches its `/sse` (the default path) for an SDK 1.x client's Streamable HTTP session. Deleting the
 * adapter reaps the process.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { SSE_SERVER } from '../../../test/process-fixtures.js';
import {
  MARKER_VARIABLE,
  canScanProcesses,
  killMarked,
  markedProcesses,
  newMarker,
} from '../../../test/process-tree.js';
import { startTestGateway } from '../../../test/test-gateway.js';

const marker = newMarker();
afterAll(() => killMarked(marker));

const textOf = (result: unknown) => (result as { content: { text: string }[] }).content[0]!.text;

describe.runIf(canScanProcesses)('an sse command adapter (process deployer)', () => {
  it('runs the server, serves an SDK 1.x client through its SSE stream, and reaps it on delete', async () => {
    const gateway = await startTestGateway({ processDeployer: true });
    try {
      const created = await fetch(`${gateway.url}/adapters`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          name: 'sse-child',
          command: process.execPath,
          args: [SSE_SERVER],
          transport: 'sse',
          environmentVariables: { [MARKER_VARIABLE]: marker },
        }),
      });
      expect(created.status).toBe(201);
      expect(await created.json()).toMatchObject({ transport: 'sse', path: '/sse' });
      await vi.waitFor(
        async () => {
          const status = (await (await fetch(`${gateway.url}/adapters/sse-child/status`)).json()) as {
            readyReplicas: number;
          };
          expect(status.readyReplicas).toBe(1);
        },
        { timeout: 30_000, interval: 100 },
      );

      const client = new Client({ name: 'v1', version: '1.0.0' });
      const transport = new StreamableHTTPClientTransport(new URL(`${gateway.url}/adapters/sse-child/mcp`));
      await client.connect(transport);
      expect(client.getServerVersion()?.name).toBe('sse-process');
      const [pid] = markedProcesses(marker);
      expect(textOf(await client.callTool({ name: 'whoami', arguments: {} }))).toMatch(/^pid \d+$/);
      expect(pid).toBeDefined();
      await transport.terminateSession();
      await client.close();

      expect((await fetch(`${gateway.url}/adapters/sse-child`, { method: 'DELETE' })).status).toBe(204);
      await vi.waitFor(() => expect(markedProcesses(marker)).toEqual([]), { timeout: 20_000, interval: 100 });
    } finally {
      await gateway.close();
    }
  });
});
