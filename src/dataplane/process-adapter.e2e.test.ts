/**
 * The laptop walk-through end to end: one POST registers `npx -y @modelcontextprotocol/server-everything` with
 * two replicas; the reconciler starts it through the process deployer; the SDK client works through
 * `/adapters/{name}/mcp`; status and logs are real; a killed session process makes the gateway answer 404 and a
 * fresh session works; delete and gateway shutdown leave no process behind.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import {
  StreamableHTTPClientTransport,
  StreamableHTTPError,
} from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, describe, expect, it } from 'vitest';
import { until } from '../../test/polling.js';
import {
  canScanProcesses,
  markedProcesses,
  newMarker,
  killMarked,
  MARKER_VARIABLE,
} from '../../test/process-tree.js';
import { npxFromRepository } from '../../test/process-fixtures.js';
import { startTestGateway } from '../../test/test-gateway.js';

const marker = newMarker();
/** `npx -y @modelcontextprotocol/server-everything` from the repository's install (see npxFromRepository). */
const everything = npxFromRepository('@modelcontextprotocol/server-everything');
afterAll(() => killMarked(marker));

const textOf = (result: unknown) => (result as { content: { text: string }[] }).content[0]!.text;

describe.runIf(canScanProcesses)('a command adapter through the gateway (process deployer)', () => {
  it('runs server-everything with two replicas, serves the SDK client, survives a killed child, reaps everything', async () => {
    const gateway = await startTestGateway({ processDeployer: true });
    try {
      const created = await fetch(`${gateway.url}/adapters`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          name: 'everything',
          command: everything.command,
          args: everything.args,
          replicaCount: 2,
          // Offline proves it runs from the local install; the marker lets the test count its processes.
          environmentVariables: { ...everything.environmentVariables, [MARKER_VARIABLE]: marker },
        }),
      });
      expect(created.status).toBe(201);

      const status = await until(
        async () =>
          (await (await fetch(`${gateway.url}/adapters/everything/status`)).json()) as Record<
            string,
            unknown
          >,
        (s) => s.readyReplicas === 2,
        'two ready replicas',
        60_000,
        200,
      );
      expect(status).toMatchObject({ replicaStatus: 'Healthy', runtime: 'command', updatedReplicas: 2 });

      const client = new Client({ name: 'e2e', version: '1.0.0' });
      const transport = new StreamableHTTPClientTransport(new URL(`${gateway.url}/adapters/everything/mcp`));
      await client.connect(transport);
      const tools = await client.listTools();
      expect(tools.tools.map((t) => t.name)).toContain('echo');
      expect(
        textOf(await client.callTool({ name: 'echo', arguments: { message: 'through the gateway' } })),
      ).toContain('through the gateway');

      const logs = await fetch(`${gateway.url}/adapters/everything/logs?instance=0&tail=50`);
      expect(logs.status).toBe(200);
      expect(logs.headers.get('content-type')).toMatch(/^text\/plain/);

      // Kill every process of the adapter except the stdio bridges' spares is hard to target; kill them all and
      // let the supervisor restart: the session's process is among them.
      const before = markedProcesses(marker);
      expect(before.length).toBeGreaterThanOrEqual(2);
      for (const pid of before) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      // A call racing the death gets the bridge's JSON-RPC error; once the bridge has seen its process exit,
      // the session is gone and the gateway passes the 404 that makes a client re-initialise.
      const error = await until(
        () =>
          client.callTool({ name: 'echo', arguments: { message: 'x' } }).then(
            () => undefined,
            (e: unknown) => e,
          ),
        (e) => e instanceof StreamableHTTPError,
        'the HTTP error of the ended session',
        10_000,
        200,
      );
      expect((error as StreamableHTTPError).code).toBe(404);
      await client.close().catch(() => undefined);

      const again = await until(
        async () => {
          const fresh = new Client({ name: 'e2e-2', version: '1.0.0' });
          try {
            await fresh.connect(
              new StreamableHTTPClientTransport(new URL(`${gateway.url}/adapters/everything/mcp`)),
            );
            const text = textOf(await fresh.callTool({ name: 'echo', arguments: { message: 'again' } }));
            return text;
          } catch {
            return '';
          } finally {
            await fresh.close().catch(() => undefined);
          }
        },
        (text) => text.includes('again'),
        'a fresh session answering',
        30_000,
        200,
      );
      expect(again).toContain('again');

      expect((await fetch(`${gateway.url}/adapters/everything`, { method: 'DELETE' })).status).toBe(204);
      await until(
        async () => markedProcesses(marker).length,
        (n) => n === 0,
        'no process left',
        20_000,
        200,
      );
    } finally {
      await gateway.close();
    }
    expect(markedProcesses(marker)).toEqual([]);
  });
});
