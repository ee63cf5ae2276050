/**
 * @module Tests of KubernetesDeployer beyond the contract, with the real client against the fake API server:
 * server-side apply really removes a dropped variable, unowned objects are refused and left alone, routing
 * follows the EndpointSlices' serving/terminating conditions (a terminating pod that still serves is draining),
 * the watches survive dropped connections and compaction (410), status shows pod-level trouble, logs tail and
 * follow, and every request made is one the shipped Role grants.
 */
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Registered } from '../../registry/index.js';
import { acceptingNew } from '../deployer.js';
import type { ReplicaEndpoint, ResourceRef } from '../deployer.js';
import type { Timers } from '../timers.js';
import { refOf } from '../resource-change.js';
import {
  imageResource,
  startKubeTestKit,
  ungrantedRequests,
  waitFor,
} from '../../../test/fake-kube-api/index.js';
import type { AuditRecord, JsonObject, KubeObject, KubeTestKit } from '../../../test/fake-kube-api/index.js';
import { LABELS, MANAGED_BY, NotOwnedError, objectName } from './index.js';

const seen: AuditRecord[] = [];
let kit: KubeTestKit;

async function start(options: Parameters<typeof startKubeTestKit>[0] = {}): Promise<KubeTestKit> {
  kit = await startKubeTestKit(options);
  return kit;
}

afterEach(async () => {
  if (!kit) return;
  seen.push(...kit.api.requests);
  await kit.close();
});

afterAll(async () => {
  // Every request these tests made is one the shipped Role allows (and some were made).
  expect(await ungrantedRequests(seen)).toEqual([]);
});

function statefulSet(name: string): KubeObject {
  const found = kit.api.store.get('statefulsets', kit.namespace, name);
  if (!found) throw new Error(`no StatefulSet ${name}`);
  return found;
}

function container(object: KubeObject): JsonObject {
  const spec = object['spec'] as JsonObject;
  const template = (spec['template'] ?? spec) as JsonObject;
  const podSpec = (template['spec'] ?? spec) as JsonObject;
  return ((podSpec['containers'] ?? []) as JsonObject[])[0] ?? {};
}

function envOf(object: KubeObject): Record<string, unknown> {
  return Object.fromEntries(
    ((container(object)['env'] ?? []) as JsonObject[]).map((e) => [e['name'], e['value']]),
  );
}

const idsOf = (endpoints: readonly ReplicaEndpoint[]) => endpoints.map((e) => e.id);
const podNames = (endpoints: readonly ReplicaEndpoint[]) => endpoints.map((e) => e.id.split('/')[0] ?? '');

async function applied(resource: Registered, ready = resource.spec.replicaCount): Promise<void> {
  await kit.deployer.apply(resource);
  await waitFor(() => kit.deployer.endpoints(refOf(resource)).length === ready, `${ready} ready endpoints`);
}

function unowned(
  kind: 'StatefulSet' | 'Service',
  name: string,
  labels: Record<string, string> = {},
): KubeObject {
  if (kind === 'Service')
    return {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name, labels: { app: 'someone-else', ...labels } },
      spec: { selector: { app: 'someone-else' }, ports: [{ port: 6379 }] },
    };
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name, labels: { app: 'someone-else', ...labels } },
    spec: {
      serviceName: name,
      replicas: 1,
      selector: { matchLabels: { app: 'someone-else' } },
      template: {
        metadata: { labels: { app: 'someone-else' } },
        spec: { containers: [{ name: 'redis', image: 'redis:7', env: [{ name: 'KEEP', value: 'me' }] }] },
      },
    },
  };
}

describe('server-side apply', () => {
  beforeEach(async () => {
    await start();
  });

  it('removes an environment variable dropped from the spec, from the StatefulSet and the pods', async () => {
    const resource = imageResource('adapter', 'weather', {
      environmentVariables: { API_KEY: 'secret', REGION: 'eu', DEBUG: '1' },
      replicaCount: 2,
    });
    await applied(resource);
    expect(envOf(statefulSet('mcp-a-weather'))).toEqual({ API_KEY: 'secret', DEBUG: '1', REGION: 'eu' });

    const updated = imageResource(
      'adapter',
      'weather',
      { environmentVariables: { REGION: 'us' }, replicaCount: 2 },
      2,
    );
    await kit.deployer.apply(updated);
    expect(envOf(statefulSet('mcp-a-weather'))).toEqual({ REGION: 'us' });
    for (const pod of kit.api.store.list('pods', kit.namespace)) expect(envOf(pod)).toEqual({ REGION: 'us' });

    await kit.deployer.apply(imageResource('adapter', 'weather', { replicaCount: 2 }, 3));
    expect(container(statefulSet('mcp-a-weather'))['env']).toBeUndefined();
  });

  it('applies with the mcp-gateway field manager, forced only onto its own objects', async () => {
    const resource = imageResource('adapter', 'fm');
    await applied(resource);
    const managers = statefulSet('mcp-a-fm').metadata.managedFields?.map((m) => [
      m['manager'],
      m['operation'],
    ]);
    expect(managers).toEqual([['mcp-gateway', 'Apply']]);
    const patches = kit.api.requests.filter((r) => r.verb === 'patch');
    expect(patches.map((r) => r.resource)).toEqual(['services', 'statefulsets']);
  });

  it('re-applying an unchanged spec writes nothing (no new resource version, no rollout)', async () => {
    const resource = imageResource('adapter', 'same', {
      environmentVariables: { B: '2', A: '1' },
      replicaCount: 2,
    });
    await applied(resource);
    const before = statefulSet('mcp-a-same').metadata.resourceVersion;
    const pods = idsOf(kit.deployer.endpoints(refOf(resource)));
    await kit.deployer.apply(
      imageResource('adapter', 'same', { environmentVariables: { A: '1', B: '2' }, replicaCount: 2 }),
    );
    expect(statefulSet('mcp-a-same').metadata.resourceVersion).toBe(before);
    expect(idsOf(kit.deployer.endpoints(refOf(resource)))).toEqual(pods);
  });

  it('takes back a field someone else changed with kubectl, without touching fields only they set', async () => {
    const resource = imageResource('adapter', 'drift', { replicaCount: 2 });
    await applied(resource);
    // `kubectl scale` and a hand-added label: an Update by another manager.
    const live = statefulSet('mcp-a-drift');
    (live['spec'] as JsonObject)['replicas'] = 5;
    live.metadata.labels = { ...live.metadata.labels, team: 'ops' };
    kit.api.updateAs('kubectl-edit', 'statefulsets', kit.namespace, live);
    expect(statefulSet('mcp-a-drift').metadata.managedFields?.map((m) => m['manager'])).toContain(
      'kubectl-edit',
    );
    await kit.deployer.apply(imageResource('adapter', 'drift', { replicaCount: 2 }, 2));
    const after = statefulSet('mcp-a-drift');
    expect((after['spec'] as JsonObject)['replicas']).toBe(2);
    expect(after.metadata.labels?.['team']).toBe('ops');
  });

  it('refuses to run a resource whose StatefulSet is being deleted, and says so', async () => {
    await applied(imageResource('adapter', 'dying'));
    const live = statefulSet('mcp-a-dying');
    live.metadata.deletionTimestamp = new Date().toISOString();
    kit.api.store.update('statefulsets', kit.namespace, live);
    await expect(kit.deployer.apply(imageResource('adapter', 'dying', {}, 2))).rejects.toThrow(
      /being deleted/,
    );
  });

  it('reports what Kubernetes refused (422) with its message', async () => {
    // The control plane never stores a negative count; the API server's validation is the last line.
    const bad = imageResource('adapter', 'bad', { replicaCount: -1 });
    await expect(kit.deployer.apply(bad)).rejects.toThrow(
      /applying StatefulSet mcp-a-bad in namespace mcp-servers: Kubernetes refused the object as invalid: .*spec.replicas: Invalid value: -1/,
    );
  });
});

describe('objects the gateway does not own', () => {
  beforeEach(async () => {
    await start();
  });

  for (const kind of ['StatefulSet', 'Service'] as const) {
    it(`refuses a ${kind} with its name but no managed-by label, and leaves it untouched`, async () => {
      const plural = kind === 'Service' ? 'services' : 'statefulsets';
      const seeded = kit.api.seed(plural, kit.namespace, unowned(kind, 'mcp-a-redis'));
      const resource = imageResource('adapter', 'redis');
      const failure = kit.deployer.apply(resource);
      await expect(failure).rejects.toBeInstanceOf(NotOwnedError);
      await expect(failure).rejects.toThrow(
        new RegExp(`${kind} mcp-a-redis already exists .* no app.kubernetes.io/managed-by label`),
      );
      expect(kit.api.store.get(plural, kit.namespace, 'mcp-a-redis')).toEqual(seeded);
      expect(
        kit.api.requests.filter(
          (r) => r.verb === 'patch' && r.name === 'mcp-a-redis' && r.resource === plural,
        ),
      ).toEqual([]);

      await kit.deployer.remove(refOf(resource));
      expect(kit.api.store.get(plural, kit.namespace, 'mcp-a-redis')).toEqual(seeded);
      expect(kit.api.requests.filter((r) => r.verb === 'delete' && r.resource === plural)).toEqual([]);
      expect(await kit.deployer.list()).toEqual([]);
      expect((await kit.deployer.status(resource)).replicaStatus).toMatch(
        new RegExp(
          `^Failed: ${kind} mcp-a-redis exists but is not the gateway's: it has no app.kubernetes.io/managed-by label`,
        ),
      );
    });
  }

  it("refuses another gateway installation's object and another resource's object", async () => {
    kit.api.seed(
      'statefulsets',
      kit.namespace,
      unowned('StatefulSet', 'mcp-a-shared', { [LABELS.managedBy]: MANAGED_BY, [LABELS.partOf]: 'staging' }),
    );
    await expect(kit.deployer.apply(imageResource('adapter', 'shared'))).rejects.toThrow(
      /another MCP Gateway installation/,
    );
    kit.api.seed(
      'services',
      kit.namespace,
      unowned('Service', 'mcp-t-other', {
        [LABELS.managedBy]: MANAGED_BY,
        [LABELS.partOf]: 'mcp-gateway',
        [LABELS.component]: 'tool',
        [LABELS.name]: 'somebody-else',
      }),
    );
    await expect(kit.deployer.apply(imageResource('tool', 'other'))).rejects.toThrow(
      /belongs to tool 'somebody-else'/,
    );
  });

  it('keeps adapters and tools of the same name apart', async () => {
    await applied(imageResource('adapter', 'twin'));
    await applied(imageResource('tool', 'twin'));
    expect(kit.api.store.get('statefulsets', kit.namespace, 'mcp-a-twin')).toBeDefined();
    expect(kit.api.store.get('statefulsets', kit.namespace, 'mcp-t-twin')).toBeDefined();
    await kit.deployer.remove({ kind: 'tool', name: 'twin' });
    expect(await kit.deployer.list()).toEqual([{ kind: 'adapter', name: 'twin' }]);
    expect(kit.deployer.endpoints({ kind: 'adapter', name: 'twin' })).toHaveLength(1);
  });
});

describe('remove', () => {
  beforeEach(async () => {
    await start();
  });

  it('deletes the StatefulSet (Background propagation, uid precondition) and the Service; 404 is fine', async () => {
    const resource = imageResource('tool', 'gone', { replicaCount: 2 });
    await applied(resource);
    await kit.deployer.remove(refOf(resource));
    const deletes = kit.api.requests.filter((r) => r.verb === 'delete');
    expect(deletes.map((r) => [r.resource, r.name, r.propagationPolicy])).toEqual([
      ['statefulsets', 'mcp-t-gone', 'Background'],
      ['services', 'mcp-t-gone', 'Background'],
    ]);
    expect(kit.api.store.list('pods', kit.namespace)).toEqual([]);
    expect(kit.api.store.list('services', kit.namespace)).toEqual([]);
    await kit.deployer.remove(refOf(resource));
    expect(kit.api.requests.filter((r) => r.verb === 'delete')).toHaveLength(2);
  });

  it('lists a lone Service left by a crash between the two writes, and removes it', async () => {
    const resource = imageResource('adapter', 'half');
    await applied(resource);
    kit.api.store.delete('statefulsets', kit.namespace, 'mcp-a-half');
    expect(await kit.deployer.list()).toEqual([{ kind: 'adapter', name: 'half' }]);
    await kit.deployer.remove(refOf(resource));
    expect(await kit.deployer.list()).toEqual([]);
  });
});

/** The watches the deployer keeps open: EndpointSlices and Services. */
const WATCHES = 2;

/** The EndpointSlice endpoint of `pod`, as the fake cluster's controller wrote it. */
function sliceEndpointOf(pod: string): JsonObject | undefined {
  for (const slice of kit.api.store.list('endpointslices', kit.namespace))
    for (const endpoint of (slice['endpoints'] ?? []) as JsonObject[])
      if ((endpoint['targetRef'] as JsonObject | undefined)?.['name'] === pod) return endpoint;
  return undefined;
}

describe('routing endpoints from EndpointSlices', () => {
  it('addresses adapter pods by per-pod DNS and tool pods by IP, with their port and path', async () => {
    await start({ deployer: { clusterDomain: 'corp.internal' } });
    const adapter = imageResource('adapter', 'dns', { port: 9000, path: '/v1/mcp', replicaCount: 2 });
    const tool = imageResource('tool', 'calc', {
      toolDefinition: { tool: { name: 'calc', inputSchema: { type: 'object' } } },
    });
    await applied(adapter);
    await applied(tool);
    expect(kit.deployer.endpoints(refOf(adapter)).map((e) => e.url)).toEqual([
      'http://mcp-a-dns-0.mcp-a-dns.mcp-servers.svc.corp.internal:9000/v1/mcp',
      'http://mcp-a-dns-1.mcp-a-dns.mcp-servers.svc.corp.internal:9000/v1/mcp',
    ]);
    const [toolEndpoint] = kit.deployer.endpoints(refOf(tool));
    expect(toolEndpoint?.url).toMatch(/^http:\/\/10\.244\.\d+\.\d+:8000\/score$/);
    expect(toolEndpoint?.id).toMatch(/^mcp-t-calc-0\/[0-9a-f]{8}$/);
  });

  it('follows readiness: a pod failing its probe leaves the set and comes back', async () => {
    await start();
    const resource = imageResource('adapter', 'flaky', { replicaCount: 2 });
    await applied(resource);
    const heard: string[][] = [];
    kit.deployer.onEndpointsChange((ref, endpoints) => {
      if (ref.name === 'flaky') heard.push(podNames(endpoints));
    });
    kit.api.controller.setPodReady(kit.namespace, 'mcp-a-flaky-1', false);
    await waitFor(() => kit.deployer.endpoints(refOf(resource)).length === 1, 'one ready endpoint');
    expect(podNames(kit.deployer.endpoints(refOf(resource)))).toEqual(['mcp-a-flaky-0']);
    // The headless Service publishes not-ready addresses, so the slice says `ready` anyway: only `serving`
    // tells, and the deployer reads it.
    expect(sliceEndpointOf('mcp-a-flaky-1')?.['conditions']).toEqual({
      ready: true,
      serving: false,
      terminating: false,
    });
    kit.api.controller.setPodReady(kit.namespace, 'mcp-a-flaky-1', true);
    await waitFor(() => kit.deployer.endpoints(refOf(resource)).length === 2, 'two ready endpoints');
    expect(heard).toEqual([['mcp-a-flaky-0'], ['mcp-a-flaky-0', 'mcp-a-flaky-1']]);
  });

  for (const abrupt of [false, true]) {
    it(`resumes a ${abrupt ? 'broken' : 'closed'} watch from the last resource version, without a re-list`, async () => {
      await start();
      const resource = imageResource('adapter', 'resume', { replicaCount: 2 });
      await applied(resource);
      const lists = () =>
        kit.api.requests.filter((r) => r.verb === 'list' && r.resource === 'endpointslices').length;
      const listsBefore = lists();
      const watchesBefore = kit.api.requests.filter((r) => r.verb === 'watch').length;
      kit.api.dropWatches({ abrupt });
      await waitFor(
        () =>
          kit.api.requests.filter((r) => r.verb === 'watch').length > watchesBefore + 1 &&
          kit.api.openWatches() === WATCHES,
        'new watches',
      );
      const resumed = kit.api.requests.filter((r) => r.verb === 'watch').at(-1);
      expect(Number(resumed?.resourceVersion)).toBeGreaterThan(0);
      kit.api.controller.setPodReady(kit.namespace, 'mcp-a-resume-0', false);
      await waitFor(() => kit.deployer.endpoints(refOf(resource)).length === 1, 'the change after the drop');
      expect(lists()).toBe(listsBefore);
    });
  }

  it('sees changes made while it was disconnected', async () => {
    await start();
    const resource = imageResource('adapter', 'gap', { replicaCount: 3 });
    await applied(resource);
    kit.api.dropWatches({ abrupt: true });
    // Changes land before the deployer reconnects (its first retry waits at least 10 ms).
    kit.api.controller.setPodReady(kit.namespace, 'mcp-a-gap-2', false);
    await kit.deployer.apply(imageResource('adapter', 'gap', { replicaCount: 1 }, 2));
    await waitFor(() => kit.deployer.endpoints(refOf(resource)).length === 1, 'one endpoint after the gap');
    expect(podNames(kit.deployer.endpoints(refOf(resource)))).toEqual(['mcp-a-gap-0']);
  });

  it('re-lists after 410 Gone (history compacted while disconnected) and resumes from the new version', async () => {
    await start();
    const resource = imageResource('adapter', 'expired', { replicaCount: 2 });
    await applied(resource);
    const sliceLists = () =>
      kit.api.requests.filter((r) => r.verb === 'list' && r.resource === 'endpointslices');
    const listsBefore = sliceLists().length;
    kit.api.dropWatches({ abrupt: true });
    kit.api.controller.deletePod(kit.namespace, 'mcp-a-expired-1');
    kit.api.store.compact();
    const compactedAt = Number(kit.api.store.resourceVersion);
    await waitFor(() => sliceLists().length > listsBefore, 'a re-list after 410');
    await waitFor(() => kit.api.openWatches() === WATCHES, 'new watches');
    const watches = kit.api.requests.filter((r) => r.verb === 'watch' && r.resource === 'endpointslices');
    // Resumed from the new list's version, not from one compaction threw away.
    expect(Number(watches.at(-1)?.resourceVersion)).toBeGreaterThanOrEqual(compactedAt);
    expect(podNames(kit.deployer.endpoints(refOf(resource)))).toEqual(['mcp-a-expired-0']);
    // The watch after the re-list delivers again.
    kit.api.controller.reconcile(kit.namespace, 'mcp-a-expired');
    await waitFor(() => kit.deployer.endpoints(refOf(resource)).length === 2, 'the re-created pod');
  });

  it('bookmarks keep the resume point fresh, so compaction does not force a re-list', async () => {
    await start();
    const resource = imageResource('adapter', 'bookmark');
    await applied(resource);
    // Unrelated writes move the store's version past the last pod event the watch saw.
    await applied(imageResource('tool', 'unrelated'));
    await kit.deployer.apply(imageResource('tool', 'unrelated', {}, 2));
    const sliceLists = () =>
      kit.api.requests.filter((r) => r.verb === 'list' && r.resource === 'endpointslices').length;
    const listsBefore = sliceLists();
    const watchesBefore = kit.api.requests.filter((r) => r.verb === 'watch').length;
    // The bookmark and then the end of the stream travel on one connection, so the client reads them in order.
    kit.api.sendBookmarks();
    kit.api.store.compact();
    kit.api.dropWatches();
    await waitFor(
      () =>
        kit.api.requests.filter((r) => r.verb === 'watch').length > watchesBefore + 1 &&
        kit.api.openWatches() === WATCHES,
      'resumed watches',
    );
    expect(sliceLists()).toBe(listsBefore);
  });

  it('backs off from watches that end at once, but resumes at once after one that lasted', async () => {
    let now = 0;
    const delays: number[] = [];
    const timers: Timers = {
      setTimeout: (callback, ms) => {
        delays.push(ms);
        return setTimeout(callback, 0);
      },
      clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
      setInterval: (callback, ms) => setInterval(callback, ms),
      clearInterval: (handle) => clearInterval(handle as NodeJS.Timeout),
    };
    await start({ deployer: { clock: () => new Date(now), timers } });
    await kit.deployer.start();
    const watches = () => kit.api.requests.filter((r) => r.verb === 'watch').length;
    const dropAndAwaitNext = async () => {
      await waitFor(() => kit.api.openWatches() === WATCHES, 'open watches');
      const before = watches();
      kit.api.dropWatches();
      await waitFor(() => watches() > before + 1 && kit.api.openWatches() === WATCHES, 'the next watches');
    };
    // Each watch backs off on its own.
    for (let i = 0; i < 3; i += 1) await dropAndAwaitNext();
    expect([...delays].sort((a, b) => a - b)).toEqual([10, 10, 20, 20, 40, 40]);
    // A quiet namespace: the server ends a watch that delivered nothing after its timeout.
    await waitFor(() => kit.api.openWatches() === WATCHES, 'open watches');
    now += 6_000;
    await dropAndAwaitNext();
    expect(delays).toHaveLength(6);
  });

  it('stops publishing a removed resource at once, even while its pods terminate', async () => {
    await start({ api: { autoReconcile: false } });
    const resource = imageResource('adapter', 'slow', { replicaCount: 1 });
    await kit.deployer.apply(resource);
    kit.api.controller.reconcile(kit.namespace, 'mcp-a-slow');
    await waitFor(() => kit.deployer.endpoints(refOf(resource)).length === 1, 'one endpoint');
    await kit.deployer.remove(refOf(resource));
    expect(kit.deployer.endpoints(refOf(resource))).toEqual([]);
  });

  it('publishes an endpoint only once its pod turns ready', async () => {
    await start({ api: { readyOnCreate: false } });
    const resource = imageResource('adapter', 'late', { replicaCount: 2 });
    await kit.deployer.apply(resource);
    await waitFor(() => sliceEndpointOf('mcp-a-late-1') !== undefined, 'the pods in a slice');
    expect(kit.deployer.endpoints(refOf(resource))).toEqual([]);
    kit.api.controller.setPodReady(kit.namespace, 'mcp-a-late-1', true);
    await waitFor(() => kit.deployer.endpoints(refOf(resource)).length === 1, 'the ready pod');
    expect(podNames(kit.deployer.endpoints(refOf(resource)))).toEqual(['mcp-a-late-1']);
    expect(kit.deployer.endpoints(refOf(resource))[0]?.draining).toBeUndefined();
  });

  it('a terminating pod that still serves is draining: no new work, still found by its id; gone when it stops serving', async () => {
    await start();
    const resource = imageResource('adapter', 'rolling', { replicaCount: 2 });
    await applied(resource);
    const ref = refOf(resource);
    const [, leaving] = kit.deployer.endpoints(ref);
    expect(leaving?.draining).toBeUndefined();
    kit.api.controller.terminatePod(kit.namespace, 'mcp-a-rolling-1');
    await waitFor(() => kit.deployer.endpoints(ref).some((e) => e.draining), 'a draining endpoint');
    expect(sliceEndpointOf('mcp-a-rolling-1')?.['conditions']).toEqual({
      ready: true,
      serving: true,
      terminating: true,
    });
    // Same replica, same URL: a session sealed to it still resolves; new work goes elsewhere only.
    const endpoints = kit.deployer.endpoints(ref);
    expect(endpoints.find((e) => e.id === leaving?.id)).toEqual({ ...leaving, draining: true });
    expect(podNames(acceptingNew(endpoints))).toEqual(['mcp-a-rolling-0']);
    // Its readiness probe fails once the server shuts down: no longer routed at all.
    kit.api.controller.setPodReady(kit.namespace, 'mcp-a-rolling-1', false);
    await waitFor(() => kit.deployer.endpoints(ref).length === 1, 'the draining endpoint gone');
    expect(podNames(kit.deployer.endpoints(ref))).toEqual(['mcp-a-rolling-0']);
    // The replacement pod (a new uid) is a new replica that takes new work.
    kit.api.controller.deletePod(kit.namespace, 'mcp-a-rolling-1');
    kit.api.controller.reconcile(kit.namespace, 'mcp-a-rolling');
    await waitFor(() => acceptingNew(kit.deployer.endpoints(ref)).length === 2, 'the replacement');
    expect(idsOf(kit.deployer.endpoints(ref))).not.toContain(leaving?.id);
  });

  it('routes only slices written by the cluster controller for the resource’s own Service', async () => {
    await start();
    const resource = imageResource('adapter', 'spoof');
    await applied(resource);
    const [slice] = kit.api.store
      .list('endpointslices', kit.namespace)
      .filter((s) => s.metadata.labels?.['kubernetes.io/service-name'] === 'mcp-a-spoof');
    if (!slice) throw new Error('no slice');
    const forged = (name: string, managedBy: string, ip: string): KubeObject => ({
      ...slice,
      metadata: {
        name,
        labels: { ...slice.metadata.labels, 'endpointslice.kubernetes.io/managed-by': managedBy },
      },
      endpoints: [
        {
          addresses: [ip],
          conditions: { ready: true, serving: true, terminating: false },
          hostname: 'intruder',
          targetRef: { kind: 'Pod', namespace: kit.namespace, name: 'intruder', uid: 'u-1' },
        },
      ],
    });
    kit.api.seed('endpointslices', kit.namespace, forged('mcp-a-spoof-forged', 'someone-else', '10.9.9.9'));
    // A slice the deployer does watch (the controller's label), to show the watch is live afterwards.
    kit.api.controller.setPodReady(kit.namespace, 'mcp-a-spoof-0', false);
    await waitFor(() => kit.deployer.endpoints(refOf(resource)).length === 0, 'the change after the forgery');
    kit.api.controller.setPodReady(kit.namespace, 'mcp-a-spoof-0', true);
    await waitFor(() => kit.deployer.endpoints(refOf(resource)).length === 1, 'the pod back');
    expect(podNames(kit.deployer.endpoints(refOf(resource)))).toEqual(['mcp-a-spoof-0']);
  });
});

describe('status', () => {
  beforeEach(async () => {
    await start();
  });

  it('is Pending before the StatefulSet exists and before its pods do', async () => {
    const resource = imageResource('adapter', 'early', { replicaCount: 2 });
    expect(await kit.deployer.status(resource)).toMatchObject({
      replicaStatus: 'Pending',
      readyReplicas: 0,
      image: 'registry.example.com/mcp/team/server:1.0.0',
      runtime: 'image',
      replicas: [],
    });
  });

  it('shows CrashLoopBackOff per pod with restarts, last exit, image and message', async () => {
    const resource = imageResource('adapter', 'crashy', {
      replicaCount: 2,
      imageName: 'team/crashy',
      imageVersion: '2.1',
    });
    await applied(resource);
    kit.api.controller.setPodWaiting(kit.namespace, 'mcp-a-crashy-1', {
      reason: 'CrashLoopBackOff',
      message: 'back-off 40s restarting failed container=mcp-server',
      restartCount: 4,
    });
    await waitFor(
      () => kit.deployer.endpoints(refOf(resource)).length === 1,
      'the crashing pod out of the set',
    );
    const status = await kit.deployer.status(resource);
    expect(status).toMatchObject({
      readyReplicas: 1,
      replicaStatus: 'Degraded: 1/2 ready',
      image: 'registry.example.com/mcp/team/crashy:2.1',
    });
    expect(status.replicas[0]).toMatchObject({ instance: 0, ready: true, state: 'Ready' });
    expect(status.replicas[1]).toMatchObject({ instance: 1, ready: false, state: 'CrashLoopBackOff' });
    expect(status.replicas[1]?.detail).toBe(
      'restarts: 4; last exit: 1 (Error); image: registry.example.com/mcp/team/crashy:2.1; back-off 40s restarting failed container=mcp-server',
    );
    expect(status.replicas[1]?.endpoint).toBe(
      'http://mcp-a-crashy-1.mcp-a-crashy.mcp-servers.svc.cluster.local:8000/mcp',
    );
  });

  it('shows a replica the controller has not created as Missing', async () => {
    await kit.api.close();
    kit = await startKubeTestKit({ api: { autoReconcile: false } });
    const resource = imageResource('tool', 'lazy', { replicaCount: 2 });
    await kit.deployer.apply(resource);
    expect((await kit.deployer.status(resource)).replicaStatus).toBe('Pending');
    kit.api.controller.reconcile(kit.namespace, 'mcp-t-lazy');
    kit.api.controller.deletePod(kit.namespace, 'mcp-t-lazy-1');
    const status = await kit.deployer.status(resource);
    expect(status.replicaStatus).toBe('Degraded: 1/2 ready');
    expect(status.replicas[1]).toMatchObject({ instance: 1, ready: false, state: 'Missing' });
  });
});

describe('logs', () => {
  beforeEach(async () => {
    await start();
  });

  it('reads the last `tail` lines of pod N', async () => {
    const resource = imageResource('adapter', 'chatty', { replicaCount: 2 });
    await applied(resource);
    kit.api.controller.appendLog(kit.namespace, 'mcp-a-chatty-1', 'one', 'two', 'three');
    expect(await kit.deployer.logs(resource, { instance: 1, tail: 2 })).toEqual({
      ok: true,
      text: 'two\nthree\n',
    });
    expect(await kit.deployer.logs(resource, { instance: 0, tail: 10 })).toEqual({ ok: true, text: '' });
  });

  it('answers no-logs for a pod that does not exist or has not started', async () => {
    const resource = imageResource('adapter', 'quiet', { replicaCount: 1 });
    await applied(resource);
    expect(await kit.deployer.logs(resource, { instance: 3, tail: 10 })).toMatchObject({
      ok: false,
      reason: 'no-logs',
      message: expect.stringContaining('pod mcp-a-quiet-3'),
    });
    kit.api.controller.setPodWaiting(kit.namespace, 'mcp-a-quiet-0', { reason: 'ContainerCreating' });
    expect(await kit.deployer.logs(resource, { instance: 0, tail: 10 })).toMatchObject({
      ok: false,
      reason: 'no-logs',
      message: expect.stringContaining('is waiting to start: ContainerCreating'),
    });
  });

  it('follows: streams new lines, ends when the pod goes, and close() ends what is open', async () => {
    const resource = imageResource('adapter', 'stream', { replicaCount: 1 });
    await applied(resource);
    kit.api.controller.appendLog(kit.namespace, 'mcp-a-stream-0', 'old-1', 'old-2');
    const logs = await kit.deployer.logs(resource, { instance: 0, tail: 1, follow: true });
    if (!logs.ok || !('stream' in logs)) throw new Error('expected a stream');
    const reader = logs.stream.getReader();
    const decoder = new TextDecoder();
    let text = '';
    const readUntil = async (needle: string) => {
      while (!text.includes(needle)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`stream ended before ${needle}`);
        text += decoder.decode(value);
      }
    };
    await readUntil('old-2\n');
    expect(text).toBe('old-2\n');
    kit.api.controller.appendLog(kit.namespace, 'mcp-a-stream-0', 'new-1');
    await readUntil('new-1\n');
    kit.api.controller.deletePod(kit.namespace, 'mcp-a-stream-0');
    expect((await reader.read()).done).toBe(true);
    await waitFor(() => kit.api.openLogFollows() === 0, 'the server side of the follow closed');

    kit.api.controller.reconcile(kit.namespace, 'mcp-a-stream');
    const again = await kit.deployer.logs(resource, { instance: 0, tail: 1, follow: true });
    if (!again.ok || !('stream' in again)) throw new Error('expected a stream');
    await waitFor(() => kit.api.openLogFollows() === 1, 'a follow open');
    await kit.deployer.close();
    expect((await again.stream.getReader().read()).done).toBe(true);
    await waitFor(() => kit.api.openLogFollows() === 0, 'the follow closed by close()');
  });
});

describe('configuration', () => {
  it('runs workload-identity resources under the configured account and labels, and refuses them without one', async () => {
    await start({
      deployer: {
        workloadIdentity: { serviceAccountName: 'workload-sa' },
        serviceAccountName: 'mcp-servers',
      },
    });
    await applied(imageResource('adapter', 'azure', { useWorkloadIdentity: true }));
    const template = (statefulSet('mcp-a-azure')['spec'] as JsonObject)['template'] as JsonObject;
    expect((template['metadata'] as JsonObject)['labels']).toMatchObject({
      'azure.workload.identity/use': 'true',
    });
    expect(template['spec']).toMatchObject({
      serviceAccountName: 'workload-sa',
      automountServiceAccountToken: true,
    });
    await applied(imageResource('adapter', 'plain'));
    const plain = (statefulSet('mcp-a-plain')['spec'] as JsonObject)['template'] as JsonObject;
    expect(plain['spec']).toMatchObject({
      serviceAccountName: 'mcp-servers',
      automountServiceAccountToken: false,
    });
    await kit.close();

    await start();
    await expect(
      kit.deployer.apply(imageResource('adapter', 'azure', { useWorkloadIdentity: true })),
    ).rejects.toThrow(/no workload identity service account configured/);
  });

  it('refuses an image registry that is not a registry path', async () => {
    await expect(
      startKubeTestKit({ deployer: { imageRegistry: 'https://registry.example.com' } }),
    ).rejects.toThrow(/must be a registry host/);
  });

  it('names long resources within 52 characters, uniquely', async () => {
    await start();
    const long = 'a'.repeat(30) + '-' + 'b'.repeat(21);
    const ref: ResourceRef = { kind: 'adapter', name: long };
    const name = objectName(ref);
    expect(name.length).toBeLessThanOrEqual(52);
    expect(name).toMatch(/^mcp-a-a{30}-b{6}-[0-9a-f]{8}$/);
    expect(objectName({ kind: 'adapter', name: `${long.slice(0, -1)}c` })).not.toBe(name);
    await applied(imageResource('adapter', long));
    expect(kit.deployer.endpoints(ref)[0]?.url).toContain(`${name}-0.${name}.`);
    expect(await kit.deployer.list()).toEqual([ref]);
  });
});
