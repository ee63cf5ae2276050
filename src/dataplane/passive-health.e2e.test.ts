/**
 * Passive health through a real gateway: a replica's answer to a proxied request counts as a passed probe (the
 * remote deployer then skips its next one), and only an answer below 500 does — a replica that fails with 5xx is
 * left to its probes.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterEach, expect, it } from 'vitest';
import { startHttpServer } from '../../test/http-fixture.js';
import { legacyInitializeBody, mcpPostHeaders } from '../../test/legacy-requests.js';
import { startLegacyMcpServer } from '../../test/mcp-servers.js';
import { startTestGateway } from '../../test/test-gateway.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

/** A gateway that records which replica URLs the data plane reported as having answered. */
async function recordingGateway() {
  const answered: string[] = [];
  const g = await startTestGateway({
    replicas: (resolver) => ({
      ...resolver,
      reportAnswered: (resource, replica) => {
        answered.push(replica.url);
        resolver.reportAnswered(resource, replica);
      },
    }),
  });
  cleanups.push(() => g.close());
  return { g, answered };
}

it('reports each answer of a replica to the deployer, as a passed probe', async () => {
  const server = await startLegacyMcpServer({ name: 'answers' });
  cleanups.push(() => server.close());
  const { g, answered } = await recordingGateway();
  await g.registerRemoteAdapter('answers', [server.url]);
  const client = new Client({ name: 'passive-health', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${g.url}/adapters/answers/mcp`)));
  cleanups.push(() => client.close());
  const before = answered.length;
  await client.listTools();
  expect(answered.length).toBeGreaterThan(before);
  expect(new Set(answered)).toEqual(new Set([server.url]));
});

it('does not count a 5xx answer as one', async () => {
  const failing = await startHttpServer((_req, res) => res.writeHead(503).end('overloaded'));
  cleanups.push(() => failing.close());
  const { g, answered } = await recordingGateway();
  await g.registerRemoteAdapter('failing', [`${failing.url}/mcp`]);
  const res = await fetch(`${g.url}/adapters/failing/mcp`, {
    method: 'POST',
    headers: mcpPostHeaders(),
    body: legacyInitializeBody({ clientName: 'x', clientVersion: '0' }),
  });
  await res.body?.cancel();
  expect(res.status).toBeGreaterThanOrEqual(500);
  expect(answered).toEqual([]);
});
