/**
 * @module Tests of the Node probe sender: probes the gateway sends on its own resolve names through the guarded
 * lookup, so a name resolving to a blocked address is never contacted, and status says why. Names are resolved by
 * an injected resolver; every address it hands out reaches only this machine (0.0.0.0 connects to the local host
 * on Linux, so a broken guard shows up as a request to the loopback server, never as traffic leaving it).
 */
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { LookupAddress } from 'node:dns';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  RemoteDeployer,
  blockedAddressReason,
  blockedUrlReason,
  createRuntimeInspector,
} from '../../deploy/index.js';
import type { Registered } from '../../registry/index.js';
import { createNodeAgents } from './node-forwarder.js';
import type { NodeAgents, ResolveAll } from './node-forwarder.js';
import { createNodeProbeSender } from './node-probe-sender.js';

/** What each test name resolves to. */
const NAMES: Record<string, LookupAddress[]> = {
  'ok.test': [{ address: '127.0.0.1', family: 4 }],
  'unspecified.test': [{ address: '0.0.0.0', family: 4 }],
  // One good address does not make the name safe: a connection may use any of them.
  'mixed.test': [
    { address: '127.0.0.1', family: 4 },
    { address: '0.0.0.0', family: 4 },
  ],
  'mapped.test': [{ address: '::ffff:0.0.0.0', family: 6 }],
};

const resolve: ResolveAll = (hostname, _options, callback) => {
  const addresses = NAMES[hostname];
  if (addresses) callback(null, addresses);
  else callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }), []);
};

let server: Server;
let port: number;
const received: string[] = [];
let agents: NodeAgents;

beforeAll(async () => {
  server = createServer((req, res) => {
    received.push(`${req.method} ${req.headers.host}`);
    res.writeHead(405).end();
  });
  // 0.0.0.0 as a destination reaches a socket bound to 127.0.0.1 only through the local host: still loopback.
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  port = (server.address() as AddressInfo).port;
  agents = createNodeAgents({ refuseAddress: blockedAddressReason, resolve });
});
afterAll(async () => {
  agents.destroy();
  server.closeAllConnections();
  await new Promise((done) => server.close(done));
});

function adapter(endpoints: string[]): Registered {
  return {
    kind: 'adapter',
    name: 'probed',
    uid: 'uid-probed',
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

const url = (host: string) => `http://${host}:${port}/mcp`;

describe('probes through the guarded agents', () => {
  it('the remote deployer never contacts a name that resolves to a blocked address, and says why', async () => {
    const deployer = new RemoteDeployer({
      probeIntervalMs: 60_000,
      probeTimeoutMs: 2000,
      refuseUrl: blockedUrlReason,
      send: createNodeProbeSender(agents),
    });
    try {
      const resource = adapter([
        url('ok.test'),
        url('unspecified.test'),
        url('mixed.test'),
        url('mapped.test'),
      ]);
      received.length = 0;
      await deployer.apply(resource);
      const status = await deployer.status(resource);
      expect(status.replicas).toMatchObject([
        { endpoint: url('ok.test'), ready: true, state: 'Reachable', detail: 'HTTP 405' },
        {
          endpoint: url('unspecified.test'),
          ready: false,
          state: 'Blocked',
          detail: 'unspecified.test resolves to an unspecified address',
        },
        {
          endpoint: url('mixed.test'),
          ready: false,
          state: 'Blocked',
          detail: 'mixed.test resolves to an unspecified address',
        },
        {
          endpoint: url('mapped.test'),
          ready: false,
          state: 'Blocked',
          detail: expect.stringMatching(/^mapped\.test resolves to an IPv4-mapped address of 0\.0\.0\.0/),
        },
      ]);
      expect(status.replicaStatus).toBe('Degraded: 1/4 ready');
      // The status read probed every endpoint: only the good name was ever contacted.
      expect(received).toEqual([`OPTIONS ok.test:${port}`]);
      expect(deployer.endpointsOf(resource).map((e) => e.url)).toEqual([url('ok.test')]);
    } finally {
      await deployer.close();
    }
  });

  it('the /status inspector for remote endpoints does the same, literal addresses included', async () => {
    const inspector = createRuntimeInspector({
      probeTimeoutMs: 2000,
      refuseUrl: blockedUrlReason,
      send: createNodeProbeSender(agents),
    });
    received.length = 0;
    const result = await inspector.status(
      adapter([
        url('unspecified.test'),
        `http://0.0.0.0:${port}/mcp`,
        `http://[::ffff:0:0]:${port}/`,
        url('ok.test'),
      ]),
    );
    expect(result.ok && result.status.replicas).toMatchObject([
      { state: 'Blocked', detail: 'unspecified.test resolves to an unspecified address' },
      { state: 'Blocked', detail: 'an unspecified address' },
      { state: 'Blocked', detail: expect.stringMatching(/^an IPv4-mapped address of 0\.0\.0\.0/) },
      { state: 'Reachable' },
    ]);
    expect(received).toEqual([`OPTIONS ok.test:${port}`]);
  });

  it('the sender alone refuses a blocked literal address before connecting', async () => {
    const send = createNodeProbeSender(agents);
    received.length = 0;
    const error = await send(`http://0.0.0.0:${port}/`, AbortSignal.timeout(2000)).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'EADDRBLOCKED', message: '0.0.0.0 is an unspecified address' });
    expect(await send(url('ok.test'), AbortSignal.timeout(2000))).toBe(405);
    await expect(send(url('unknown.test'), AbortSignal.timeout(2000))).rejects.toMatchObject({
      code: 'ENOTFOUND',
    });
    expect(received).toEqual([`OPTIONS ok.test:${port}`]);
  });
});
