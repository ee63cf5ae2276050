import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { Registered } from '../../registry/index.js';
import { eventually } from '../../../test/polling.js';
import { startSseMcpServer } from '../../../test/sse-mcp-server.js';
import { RemoteDeployer } from './remote-deployer.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function adapter(name: string, endpoints: string[]): Registered {
  return {
    kind: 'adapter',
    name,
    uid: `uid-${name}`,
    version: 1,
    createdBy: 'dev',
    createdAt: new Date(0),
    lastUpdatedAt: new Date(0),
    spec: {
      endpoints,
      environmentVariables: {},
      replicaCount: endpoints.length,
      description: '',
      useWorkloadIdentity: false,
      requiredRoles: [],
    },
  };
}

async function listenOn(port: number): Promise<Server> {
  const server = createServer((_req, res) => res.writeHead(405).end());
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return server;
}
const stop = (server: Server) =>
  new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });

describe('RemoteDeployer', () => {
  it('probes an sse adapter with a GET for an event stream: a server that only answers OPTIONS is not up', async () => {
    const sse = await startSseMcpServer();
    cleanups.push(() => sse.close());
    const plain = await listenOn(0);
    cleanups.push(() => stop(plain));
    const notSse = `http://127.0.0.1:${(plain.address() as AddressInfo).port}/sse`;
    const deployer = new RemoteDeployer({ probeIntervalMs: 60_000, probeTimeoutMs: 2000 });
    cleanups.push(() => deployer.close());
    const resource = adapter('legacy', [sse.url, notSse]);
    (resource.spec as { transport?: string }).transport = 'sse';
    await deployer.apply(resource);
    const status = await deployer.status(resource);
    expect(status.replicas).toMatchObject([
      { endpoint: sse.url, ready: true, state: 'Reachable', detail: 'HTTP 200, an SSE stream' },
      {
        endpoint: notSse,
        ready: false,
        state: 'Unhealthy',
        detail: expect.stringContaining('HTTP 405 to GET'),
      },
    ]);
    // The probe's stream is closed at its head, so it holds no session on the server.
    await eventually(() => sse.openStreams() === 0, 'no open stream on the server', 20_000);
    expect(deployer.endpoints(resource).map((e) => e.url)).toEqual([sse.url]);
    // The same URL in a Streamable HTTP adapter is probed with OPTIONS, and any answer below 500 is up.
    const plainAdapter = adapter('plain', [notSse]);
    await deployer.apply(plainAdapter);
    await deployer.remove(resource);
    expect((await deployer.status(plainAdapter)).replicas[0]).toMatchObject({
      ready: true,
      detail: 'HTTP 405',
    });
  });

  it('takes a dead endpoint out of the ready set and puts it back when it answers again', async () => {
    let server = await listenOn(0);
    const port = (server.address() as AddressInfo).port;
    const other = await listenOn(0);
    cleanups.push(() => stop(other));
    const urls = [
      `http://127.0.0.1:${port}/mcp`,
      `http://127.0.0.1:${(other.address() as AddressInfo).port}/mcp`,
    ];
    // A stopped server refuses at once; the long probe timeout only keeps a busy machine from failing a live one.
    const deployer = new RemoteDeployer({ probeIntervalMs: 50, probeTimeoutMs: 10_000 });
    cleanups.push(() => deployer.close());
    const changes: number[] = [];
    deployer.onEndpointsChange((_ref, endpoints) => changes.push(endpoints.length));
    const resource = adapter('remote', urls);
    await deployer.apply(resource);
    deployer.start();
    expect(deployer.endpoints(resource).map((e) => e.url)).toEqual(urls);

    await stop(server);
    await eventually(() => deployer.endpoints(resource).length === 1, 'one endpoint', 20_000);
    expect(deployer.endpoints(resource)[0]!.url).toBe(urls[1]);
    const status = await deployer.status(resource);
    expect(status.replicaStatus).toBe('Degraded: 1/2 ready');

    server = await listenOn(port);
    cleanups.push(() => stop(server));
    await eventually(() => deployer.endpoints(resource).length === 2, 'two endpoints', 20_000);
    expect(changes).toEqual(expect.arrayContaining([1, 2]));

    await deployer.remove(resource);
    expect(deployer.endpoints(resource)).toEqual([]);
    expect(await deployer.list()).toEqual([]);
  });

  it('takes an endpoint out at once when the data plane reports it unreachable', async () => {
    const deployer = new RemoteDeployer({ probeIntervalMs: 60_000, probeTimeoutMs: 200 });
    cleanups.push(() => deployer.close());
    const resource = adapter('gone', ['http://127.0.0.1:9/mcp']);
    expect(deployer.endpointsOf(resource)).toHaveLength(1);
    deployer.reportUnreachable('http://127.0.0.1:9/mcp');
    expect(deployer.endpointsOf(resource)).toHaveLength(0);
  });

  it('never probes an endpoint the SSRF guard refuses', async () => {
    const probed: string[] = [];
    const deployer = new RemoteDeployer({
      probeIntervalMs: 60_000,
      probeTimeoutMs: 200,
      refuseUrl: (url) => (url.includes('169.254') ? 'a link-local address' : undefined),
      send: async (url) => {
        probed.push(url);
        return 405;
      },
    });
    cleanups.push(() => deployer.close());
    const resource = adapter('meta', ['http://169.254.169.254/', 'http://10.1.2.3/mcp']);
    await deployer.apply(resource);
    const status = await deployer.status(resource);
    expect(status.replicas).toMatchObject([
      { ready: false, state: 'Blocked', detail: 'a link-local address' },
      { ready: true, state: 'Reachable' },
    ]);
    expect(probed.every((url) => !url.includes('169.254'))).toBe(true);
    expect(deployer.endpointsOf(resource).map((e) => e.url)).toEqual(['http://10.1.2.3/mcp']);
  });

  it('probes a URL that several resources list once per interval, and stops when the last one goes', async () => {
    const sent = new Map<string, number>();
    const deployer = new RemoteDeployer({
      probeIntervalMs: 50,
      probeTimeoutMs: 10_000,
      send: async (url) => {
        sent.set(url, (sent.get(url) ?? 0) + 1);
        return 405;
      },
    });
    cleanups.push(() => deployer.close());
    const shared = 'http://127.0.0.1:7001/mcp';
    const alone = 'http://127.0.0.1:7002/mcp';
    const sharing = ['a', 'b', 'c'].map((name) => adapter(name, [shared]));
    for (const resource of sharing) await deployer.apply(resource);
    await deployer.apply(adapter('alone', [alone]));
    deployer.start();
    const count = (url: string) => sent.get(url) ?? 0;
    await eventually(() => count(alone) >= 12, '12 probes of the lone endpoint', 20_000);
    // Same interval, one schedule entry: the shared URL is not probed three times as often.
    expect(count(shared)).toBeLessThanOrEqual(count(alone) + 3);

    await deployer.remove({ kind: 'adapter', name: 'a' });
    await deployer.remove({ kind: 'adapter', name: 'b' });
    const stillListed = count(shared);
    await eventually(() => count(shared) >= stillListed + 3, '3 more probes of the shared endpoint', 20_000);
    await deployer.remove({ kind: 'adapter', name: 'c' });
    const last = count(shared);
    const aloneNow = count(alone);
    await eventually(() => count(alone) >= aloneNow + 6, '6 more probes of the lone endpoint', 20_000);
    // A probe already in flight at the removal may still land; nothing after it.
    expect(count(shared)).toBeLessThanOrEqual(last + 1);
  });

  it('applies without waiting for a probe, so a reconcile pass over endpoints that never answer is not held up', async () => {
    const started: string[] = [];
    const deployer = new RemoteDeployer({
      probeIntervalMs: 60_000,
      // Far beyond the test's own timeout: an apply that waited for this probe would fail the test.
      probeTimeoutMs: 600_000,
      send: (url, signal) =>
        new Promise<number>((_resolve, reject) => {
          started.push(url);
          signal.addEventListener('abort', () => reject(signal.reason as Error));
        }),
    });
    cleanups.push(() => deployer.close());
    const resources = Array.from({ length: 50 }, (_, i) =>
      adapter(`silent-${i}`, [`http://127.0.0.1:7100/e${i}`]),
    );
    for (const resource of resources) await deployer.apply(resource);
    // Never probed yet, so routable: a refused connection on the data plane would take it out at once.
    expect(deployer.endpointsOf(resources[0]!)).toHaveLength(1);
    expect(started).toEqual([]);
  });
});
