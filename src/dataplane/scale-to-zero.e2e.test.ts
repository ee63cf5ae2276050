/**
 * End to end: scale to zero (`minReplicas: 0`) of process adapters through the gateway, with real MCP peers —
 * `npx -y @modelcontextprotocol/server-everything` (the npm cache of this repository, offline) over the stdio
 * bridge and over its own Streamable HTTP, and the SDK 1.x client. Registered, nothing runs; the first
 * `initialize` starts it and succeeds; an open session keeps it up; once the session is gone and `idleSeconds`
 * have passed it is stopped again (the test waits for the scale-down event, then for the processes to go);
 * concurrent first requests start one server.
 */
import { readFileSync } from 'node:fs';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, describe, expect, it } from 'vitest';
import { legacyInitializeBody, mcpPostHeaders } from '../../test/legacy-requests.js';
import { until } from '../../test/polling.js';
import { HTTP_SERVER, npxFromRepository } from '../../test/process-fixtures.js';
import {
  MARKER_VARIABLE,
  canScanProcesses,
  killMarked,
  markedCommandProcesses,
  newMarker,
} from '../../test/process-tree.js';
import { startTestGateway } from '../../test/test-gateway.js';
import type { TestGateway } from '../../test/test-gateway.js';

const markers: string[] = [];
afterAll(() => markers.forEach((m) => killMarked(m)));

const everything = npxFromRepository('@modelcontextprotocol/server-everything');
/** The session id of a process (field 6 of /proc/<pid>/stat): one per started child tree. */
const sessionOf = (pid: number) => {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[3];
};
const textOf = (result: unknown) => (result as { content: { text: string }[] }).content[0]!.text;

interface Scaling {
  readonly gateway: TestGateway;
  readonly events: string[];
  readonly marker: string;
  status(): Promise<{ replicaStatus: string; readyReplicas: number }>;
  connect(): Promise<{ client: Client; transport: StreamableHTTPClientTransport }>;
}

async function scalingGateway(
  name: string,
  fields: Record<string, unknown>,
  use: (s: Scaling) => Promise<void>,
): Promise<void> {
  const events: string[] = [];
  const marker = newMarker();
  markers.push(marker);
  // The first request waits for the cold start as long as for a connection: generous on a busy machine.
  const gateway = await startTestGateway({
    processDeployer: true,
    connectTimeoutMs: 60_000,
    onScale: (ref, direction) => events.push(`${ref.name}:${direction}`),
  });
  const clients: Client[] = [];
  try {
    const created = await fetch(`${gateway.url}/adapters`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        name,
        command: everything.command,
        environmentVariables: { ...everything.environmentVariables, [MARKER_VARIABLE]: marker },
        ...fields,
      }),
    });
    expect(created.status, await created.clone().text()).toBe(201);
    const status = async () =>
      (await (await fetch(`${gateway.url}/adapters/${name}/status`)).json()) as {
        replicaStatus: string;
        readyReplicas: number;
      };
    const connect = async () => {
      const client = new Client({ name: 'scale-e2e', version: '1.0.0' });
      clients.push(client);
      const transport = new StreamableHTTPClientTransport(new URL(`${gateway.url}/adapters/${name}/mcp`));
      await client.connect(transport);
      return { client, transport };
    };
    await use({ gateway, events, marker, status, connect });
  } finally {
    await Promise.allSettled(clients.map((c) => c.close()));
    await gateway.close();
  }
  expect(markedCommandProcesses(marker)).toEqual([]);
}

describe.runIf(canScanProcesses)('scale to zero: process adapters with minReplicas 0 (e2e)', () => {
  it('starts server-everything (stdio, npx) on the first initialize, keeps it while a session is open, stops it when idle', async () => {
    await scalingGateway(
      'lazy',
      { args: everything.args, minReplicas: 0, idleSeconds: 1 },
      async ({ gateway, events, marker, status, connect }) => {
        // Registered and reconciled: reported idle, and no process of it runs.
        const idle = await until(status, (s) => s.replicaStatus.startsWith('Idle'), 'idle status', 60_000);
        expect(idle).toMatchObject({ replicaStatus: 'Idle: scaled to zero; the next request starts it' });
        expect(idle.readyReplicas).toBe(0);
        expect(markedCommandProcesses(marker)).toEqual([]);
        expect(events).toEqual([]);

        const { client, transport } = await connect();
        expect(events).toEqual(['lazy:up']);
        expect(markedCommandProcesses(marker).length).toBeGreaterThan(0);
        expect(textOf(await client.callTool({ name: 'echo', arguments: { message: 'cold' } }))).toBe(
          'Echo: cold',
        );
        expect((await status()).replicaStatus).toBe('Healthy');

        // The session stays open for several idle periods (idleSeconds is 1; checks run every second while it is
        // in use): no scale-down. Absence has no event to wait for, so this one wait is a fixed time.
        await new Promise((r) => setTimeout(r, 3_500));
        expect(events).toEqual(['lazy:up']);
        expect(textOf(await client.callTool({ name: 'echo', arguments: { message: 'warm' } }))).toBe(
          'Echo: warm',
        );

        // The session ends (DELETE): after idleSeconds the adapter is scaled down and its processes stop.
        await transport.terminateSession();
        await client.close();
        await until(
          () => events,
          (e) => e.length === 2,
          'the scale-down event',
          60_000,
        );
        expect(events).toEqual(['lazy:up', 'lazy:down']);
        await until(
          () => markedCommandProcesses(marker),
          (pids) => pids.length === 0,
          'no process left after scale-down',
          60_000,
        );
        expect((await status()).replicaStatus, events.join()).toBe(
          'Idle: scaled to zero; the next request starts it',
        );

        // And the next client wakes it again.
        const again = await connect();
        expect(textOf(await again.client.callTool({ name: 'echo', arguments: { message: 'again' } }))).toBe(
          'Echo: again',
        );
        expect(events).toEqual(['lazy:up', 'lazy:down', 'lazy:up']);

        // A session with no stream and no request open (a plain HTTP client between two calls) keeps it up too:
        // the SDK client above held a GET stream, this one holds nothing but its session.
        const mcpUrl = `${gateway.url}/adapters/lazy/mcp`;
        const headers = mcpPostHeaders();
        const initialized = await fetch(mcpUrl, {
          method: 'POST',
          headers,
          body: legacyInitializeBody({ protocolVersion: '2025-06-18' }),
        });
        expect(initialized.status).toBe(200);
        const sessionId = initialized.headers.get('mcp-session-id')!;
        await initialized.text();
        const sessionHeaders = {
          ...headers,
          'mcp-session-id': sessionId,
          'mcp-protocol-version': '2025-06-18',
        };
        const note = await fetch(mcpUrl, {
          method: 'POST',
          headers: sessionHeaders,
          body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }),
        });
        expect(note.status).toBe(202);
        await again.transport.terminateSession();
        await again.client.close();
        await new Promise((r) => setTimeout(r, 3_500));
        expect(events).toEqual(['lazy:up', 'lazy:down', 'lazy:up']);
        const ended = await fetch(mcpUrl, { method: 'DELETE', headers: sessionHeaders });
        expect(ended.status).toBeLessThan(300);
        await until(
          () => events,
          (e) => e.length === 4,
          'the scale-down after the last session ended',
          60_000,
        );
        expect(events[3]).toBe('lazy:down');
      },
    );
  }, 180_000);

  it('answers 503 with Retry-After when the woken adapter is not ready within its connect timeout', async () => {
    await scalingGateway(
      'slow',
      {
        command: process.execPath,
        args: [HTTP_SERVER, '--never-listen'],
        transport: 'streamable-http',
        minReplicas: 0,
        connectTimeoutMs: 300,
      },
      async ({ gateway, events, status }) => {
        await until(status, (s) => s.replicaStatus.startsWith('Idle'), 'idle status', 60_000);
        const res = await fetch(`${gateway.url}/adapters/slow/mcp`, {
          method: 'POST',
          headers: mcpPostHeaders(),
          body: legacyInitializeBody({ protocolVersion: '2025-06-18', clientName: 't' }),
        });
        expect(res.status).toBe(503);
        expect(res.headers.get('retry-after')).toBe('5');
        const body = (await res.json()) as { error: { message: string } };
        expect(body.error.message).toBe(
          "Adapter 'slow' was idle (scaled down) and has no ready replica after 300 ms; it is starting, retry later.",
        );
        expect(events).toEqual(['slow:up']);
        // It keeps starting (status says so), rather than pretending to be idle.
        expect((await status()).replicaStatus).toBe('Pending');
      },
    );
  }, 60_000);

  it('concurrent first requests share one start: one server process (server-everything over Streamable HTTP)', async () => {
    await scalingGateway(
      'shared',
      {
        args: [...everything.args, 'streamableHttp'],
        transport: 'streamable-http',
        minReplicas: 0,
        idleSeconds: 600,
      },
      async ({ events, marker, status, connect }) => {
        await until(status, (s) => s.replicaStatus.startsWith('Idle'), 'idle status', 60_000);
        expect(markedCommandProcesses(marker)).toEqual([]);
        const sessions = await Promise.all([connect(), connect(), connect(), connect()]);
        const echoed = await Promise.all(
          sessions.map(({ client }, i) => client.callTool({ name: 'echo', arguments: { message: `c${i}` } })),
        );
        expect(echoed.map(textOf)).toEqual(['Echo: c0', 'Echo: c1', 'Echo: c2', 'Echo: c3']);
        expect(events).toEqual(['shared:up']);
        // npx leads the server's node process, inside one sandbox: one start is one session of processes.
        const pids = markedCommandProcesses(marker);
        expect(pids.length).toBeGreaterThan(0);
        expect(new Set(pids.map(sessionOf)).size).toBe(1);
        expect(await status()).toMatchObject({ readyReplicas: 1, replicaStatus: 'Healthy' });
      },
    );
  }, 180_000);
});
