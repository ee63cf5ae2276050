/**
 * @module End to end: `npx -y @modelcontextprotocol/server-everything` (the example) run by the process
 * deployer over the stdio bridge with two replicas, reached by the official SDK 1.x client at each replica URL.
 * `npm_config_offline` proves it runs from the local install without the network; in the sandbox, that install
 * is the repository's `node_modules`, mounted read-only and named with `--prefix`. A killed session process and
 * a killed spare are replaced and reported, and nothing is left running after close().
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, describe, expect, it } from 'vitest';
import { eventually } from '../../../test/polling.js';
import { canScanProcesses } from '../../../test/process-tree.js';
import { refOf } from '../resource-change.js';
import type { RuntimeStatus } from '../runtime-inspector.js';
import {
  fastDeployer,
  killAllMarked,
  marker,
  npxFromRepository,
  processResource,
  running,
} from '../../../test/process-fixtures.js';

afterAll(() => killAllMarked());

const textOf = (result: unknown) => (result as { content: { text: string }[] }).content[0]!.text;

describe.runIf(canScanProcesses)('server-everything over the stdio bridge (e2e)', () => {
  it('two replicas serve the SDK client, survive killed processes, and leave nothing behind', async () => {
    const value = marker();
    const deployer = fastDeployer({ startTimeoutMs: 30_000 });
    const clients: Client[] = [];
    try {
      const resource = processResource('everything', {
        ...npxFromRepository('@modelcontextprotocol/server-everything'),
        transport: 'stdio',
        replicaCount: 2,
        marker: value,
      });
      const ref = refOf(resource);
      await deployer.apply(resource);
      await eventually(() => deployer.endpoints(ref).length === 2, 'two ready replicas', 60_000, 50);
      const endpoints = deployer.endpoints(ref);
      expect(new Set(endpoints.map((e) => e.url)).size).toBe(2);

      const connect = async (url: string) => {
        const client = new Client({ name: 'e2e', version: '1.0.0' });
        clients.push(client);
        const transport = new StreamableHTTPClientTransport(new URL(url));
        await client.connect(transport);
        return { client, transport };
      };
      const sessions = [];
      for (const endpoint of endpoints) {
        const session = await connect(endpoint.url);
        const tools = (await session.client.listTools()).tools.map((t) => t.name);
        expect(tools).toContain('echo');
        const echoed = await session.client.callTool({
          name: 'echo',
          arguments: { message: `hi ${endpoint.id}` },
        });
        expect(textOf(echoed)).toBe(`Echo: hi ${endpoint.id}`);
        sessions.push(session);
      }

      // Kill the process behind replica 0's session (the npx leader; its node child must go with its group).
      const status = async () => deployer.status(resource);
      const replica0 = async (s: RuntimeStatus) => s.replicas.find((r) => r.instance === 0)!;
      const detail0 = (await replica0(await status())).detail!;
      const sessionPid = Number(/sessions 1\/16 \(pids (\d+)\)/.exec(detail0)![1]);
      process.kill(sessionPid, 'SIGKILL');
      let last: RuntimeStatus | undefined;
      await eventually(
        async () =>
          /restarts 1; last exit: killed by SIGKILL/.test((await replica0((last = await status()))).detail!),
        `the killed session process in status (${JSON.stringify(last)})`,
        15_000,
      );
      await expect(
        sessions[0]!.client.callTool({ name: 'echo', arguments: { message: 'x' } }),
      ).rejects.toThrow();
      const fresh = await connect(endpoints[0]!.url);
      expect(textOf(await fresh.client.callTool({ name: 'echo', arguments: { message: 'again' } }))).toBe(
        'Echo: again',
      );

      // Kill replica 1's warm spare: the deployer restarts it (with backoff) and reports the restart.
      let sparePid = 0;
      await eventually(
        async () => {
          const detail1 = (await status()).replicas.find((r) => r.instance === 1)!.detail!;
          sparePid = Number(/spare ready \(pid (\d+)\)/.exec(detail1)?.[1] ?? 0);
          return sparePid > 0;
        },
        "replica 1's new spare to be ready",
        30_000,
        50,
      );
      process.kill(sparePid, 'SIGKILL');
      await eventually(
        async () => {
          const replica = (await status()).replicas.find((r) => r.instance === 1)!;
          return /spare ready \(pid \d+\); restarts 1; last exit: killed by SIGKILL/.test(replica.detail!);
        },
        'the spare restarted and reported',
        30_000,
        50,
      );
      expect((await status()).replicaStatus).toBe('Healthy');
      expect(deployer.endpoints(ref).map((e) => e.id)).toEqual(endpoints.map((e) => e.id));
      expect(
        textOf(await sessions[1]!.client.callTool({ name: 'echo', arguments: { message: 'still' } })),
      ).toBe('Echo: still');
      const logs = await deployer.logs(resource, { instance: 0, tail: 200 });
      expect(logs.ok && 'text' in logs && logs.text).toContain('[mcp-gateway] started pid');
    } finally {
      await Promise.allSettled(clients.map((c) => c.close()));
      await deployer.close();
    }
    expect(running(value)).toEqual([]);
  }, 120_000);
});
