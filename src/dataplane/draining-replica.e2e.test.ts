/**
 * A draining replica (what the Kubernetes deployer publishes for a terminating pod that still serves) through a
 * real gateway with SDK 1.x servers and clients: the sessions it holds keep reaching it, new sessions go to the
 * other replicas, and with every replica draining a new session gets 503 while the open one still works.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import {
  StreamableHTTPClientTransport,
  StreamableHTTPError,
} from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterEach, expect, it } from 'vitest';
import { startLegacyMcpServer } from '../../test/mcp-servers.js';
import { startTestGateway } from '../../test/test-gateway.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

async function connect(url: string): Promise<Client> {
  const client = new Client({ name: 'draining-test', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(url)));
  cleanups.push(() => client.close());
  return client;
}

const replicaOf = async (client: Client): Promise<string> => {
  const result = (await client.callTool({ name: 'whoami', arguments: {} })) as {
    content: { text: string }[];
  };
  return (JSON.parse(result.content[0]?.text ?? '{}') as { replica: string }).replica;
};

it('keeps routing the open sessions of a draining replica and places no new session on it', async () => {
  const servers = await Promise.all([0, 1, 2].map((i) => startLegacyMcpServer({ name: `replica-${i}` })));
  cleanups.push(() => Promise.all(servers.map((s) => s.close())));
  const draining = new Set<string>();
  const g = await startTestGateway({
    replicas: (resolver) => ({
      ...resolver,
      ready: (resource) =>
        resolver.ready(resource).map((e) => (draining.has(e.url) ? { ...e, draining: true } : e)),
    }),
  });
  cleanups.push(() => g.close());
  await g.registerRemoteAdapter(
    'rolling',
    servers.map((s) => s.url),
  );
  const url = `${g.url}/adapters/rolling/mcp`;

  const open = await connect(url);
  const held = await replicaOf(open);
  const heldServer = servers.find((s) => s.name === held);
  if (!heldServer) throw new Error(`unknown replica ${held}`);
  draining.add(heldServer.url);

  // The open session stays where it started.
  expect(await replicaOf(open)).toBe(held);
  // One caller's new sessions would all land on `held` (placement keys on the caller): none does now.
  const placed = new Set<string>();
  for (let i = 0; i < 6; i += 1) placed.add(await replicaOf(await connect(url)));
  expect(placed.has(held)).toBe(false);
  expect(placed.size).toBeGreaterThan(0);

  // Every replica draining: no new session (503, retry later), the open one still answers.
  for (const s of servers) draining.add(s.url);
  const refused = await connect(url).then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(refused).toBeInstanceOf(StreamableHTTPError);
  expect((refused as StreamableHTTPError).code).toBe(503);
  expect(await replicaOf(open)).toBe(held);
});
