/** @module Tests of the fake Kubernetes API server itself, over plain HTTP: the behaviour the deployer's tests rely on. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startFakeKubeApi } from './fake-kube-api.js';
import type { FakeKubeApi } from './fake-kube-api.js';
import { parseLabelSelector } from './label-selector.js';
import type { JsonObject, KubeObject } from './object-store.js';

let api: FakeKubeApi;
const NS = 'test';
const base = () => `${api.url}/apis/apps/v1/namespaces/${NS}/statefulsets`;

beforeEach(async () => {
  api = await startFakeKubeApi({ autoReconcile: false });
});
afterEach(async () => {
  await api.close();
});

function call(url: string, init: RequestInit & { contentType?: string } = {}): Promise<Response> {
  return fetch(url, {
    ...init,
    headers: {
      authorization: `Bearer ${api.token}`,
      ...(init.contentType ? { 'content-type': init.contentType } : {}),
    },
  });
}

function apply(name: string, body: KubeObject, query = 'fieldManager=me&force=true'): Promise<Response> {
  return call(`${base()}/${name}?${query}`, {
    method: 'PATCH',
    contentType: 'application/apply-patch+yaml',
    body: JSON.stringify(body),
  });
}

function statefulSet(name: string, env: Record<string, string>, replicas = 1): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name, labels: { app: name } },
    spec: {
      serviceName: name,
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          containers: [
            { name: 'c', image: 'i:1', env: Object.entries(env).map(([k, v]) => ({ name: k, value: v })) },
          ],
        },
      },
    },
  };
}

const envOf = (o: KubeObject) =>
  ((
    (((o['spec'] as JsonObject)['template'] as JsonObject)['spec'] as JsonObject)[
      'containers'
    ] as JsonObject[]
  )[0]?.['env'] ?? []) as JsonObject[];

async function readLines(response: Response, count: number): Promise<JsonObject[]> {
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  while (text.split('\n').filter(Boolean).length < count) {
    const { value, done } = await reader.read();
    if (done) break;
    text += decoder.decode(value);
  }
  await reader.cancel();
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as JsonObject);
}

describe('HTTP surface', () => {
  it('refuses a request without the token (401 Status)', async () => {
    const response = await fetch(base());
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ kind: 'Status', reason: 'Unauthorized', code: 401 });
  });

  it('answers 404 with a Status body naming the object', async () => {
    const response = await call(`${base()}/nope`);
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'statefulsets.apps "nope" not found',
      reason: 'NotFound',
      code: 404,
    });
  });

  it('answers 409 AlreadyExists for a second create', async () => {
    const body = JSON.stringify(statefulSet('dup', {}));
    expect((await call(base(), { method: 'POST', body, contentType: 'application/json' })).status).toBe(201);
    const again = await call(base(), { method: 'POST', body, contentType: 'application/json' });
    expect(again.status).toBe(409);
    expect(await again.json()).toMatchObject({ reason: 'AlreadyExists', code: 409 });
  });

  it('answers 422 Invalid for a selector that does not match the template, and for an immutable change', async () => {
    const bad = statefulSet('bad', {});
    ((bad['spec'] as JsonObject)['selector'] as JsonObject)['matchLabels'] = { other: 'x' };
    const response = await apply('bad', bad);
    expect(response.status).toBe(422);
    expect(await response.json()).toMatchObject({
      reason: 'Invalid',
      message: expect.stringContaining('does not match'),
    });

    expect((await apply('ok', statefulSet('ok', {}))).status).toBe(201);
    const changed = statefulSet('ok', {});
    (changed['spec'] as JsonObject)['serviceName'] = 'other';
    const immutable = await apply('ok', changed);
    expect(immutable.status).toBe(422);
    expect(await immutable.json()).toMatchObject({ message: expect.stringContaining('Forbidden') });
  });

  it('refuses patch types it does not implement (415), and unknown fields under Strict (400)', async () => {
    const response = await call(`${base()}/x`, {
      method: 'PATCH',
      contentType: 'application/json-patch+json',
      body: '[]',
    });
    expect(response.status).toBe(415);
    const unknown = { ...statefulSet('strict', {}), spek: {} };
    const strict = await apply('strict', unknown, 'fieldManager=me&fieldValidation=Strict');
    expect(strict.status).toBe(400);
    expect(await strict.json()).toMatchObject({ message: 'strict decoding error: unknown field "spek"' });
  });
});

describe('server-side apply', () => {
  it('creates (201), then replaces the manager’s fields: dropped ones disappear', async () => {
    expect((await apply('s', statefulSet('s', { A: '1', B: '2' }))).status).toBe(201);
    const response = await apply('s', statefulSet('s', { B: '3' }));
    expect(response.status).toBe(200);
    expect(envOf((await response.json()) as KubeObject)).toEqual([{ name: 'B', value: '3' }]);
  });

  it('keeps a field another manager also owns, and conflicts on a differing one unless forced', async () => {
    await apply('s', statefulSet('s', { A: '1' }), 'fieldManager=one');
    await apply('s', statefulSet('s', { A: '1', SHARED: 'x' }), 'fieldManager=two');
    const conflict = await apply('s', statefulSet('s', { A: '1' }, 3), 'fieldManager=two');
    expect(conflict.status).toBe(409);
    expect(await conflict.json()).toMatchObject({
      reason: 'Conflict',
      details: { causes: [{ reason: 'FieldManagerConflict', field: '.spec.replicas' }] },
    });
    const forced = await apply('s', statefulSet('s', { A: '1' }, 3), 'fieldManager=two&force=true');
    expect(forced.status).toBe(200);
    const object = (await forced.json()) as KubeObject;
    expect((object['spec'] as JsonObject)['replicas']).toBe(3);
    // SHARED was only `two`'s and `two` dropped it; A is still `one`'s, so it stays.
    expect(envOf(object)).toEqual([{ name: 'A', value: '1' }]);
    const one = await apply('s', statefulSet('s', {}), 'fieldManager=one');
    expect(one.status).toBe(409);
  });

  it('honours metadata.resourceVersion as a precondition', async () => {
    await apply('s', statefulSet('s', {}));
    const stale = statefulSet('s', { A: '1' });
    stale.metadata.resourceVersion = '1';
    const response = await apply('s', stale);
    expect(response.status).toBe(409);
  });

  it('does not bump the resource version for a no-op apply', async () => {
    const first = (await (await apply('s', statefulSet('s', { A: '1' }))).json()) as KubeObject;
    const second = (await (await apply('s', statefulSet('s', { A: '1' }))).json()) as KubeObject;
    expect(second.metadata.resourceVersion).toBe(first.metadata.resourceVersion);
  });
});

describe('watch', () => {
  const podsUrl = () => `${api.url}/api/v1/namespaces/${NS}/pods`;

  function pod(name: string, labels: Record<string, string>): KubeObject {
    return {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, labels },
      spec: { containers: [{ name: 'c', image: 'i' }] },
    };
  }

  it('starts with ADDED for what exists, then streams changes; label changes become ADDED/DELETED', async () => {
    api.seed('pods', NS, pod('a', { app: 'x' }));
    const response = await call(`${podsUrl()}?watch=true&labelSelector=app%3Dx`);
    const lines = readLines(response, 3);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const a = api.store.get('pods', NS, 'a')!;
    api.store.update('pods', NS, { ...a, metadata: { ...a.metadata, labels: { app: 'y' } } });
    api.seed('pods', NS, pod('b', { app: 'x' }));
    expect((await lines).map((e) => [e['type'], (e['object'] as KubeObject).metadata.name])).toEqual([
      ['ADDED', 'a'],
      ['DELETED', 'a'],
      ['ADDED', 'b'],
    ]);
  });

  it('replays from a resource version, and answers an ERROR 410 once it was compacted', async () => {
    const list = (await (await call(podsUrl())).json()) as JsonObject;
    const from = (list['metadata'] as JsonObject)['resourceVersion'];
    api.seed('pods', NS, pod('late', {}));
    const replay = await readLines(await call(`${podsUrl()}?watch=true&resourceVersion=${String(from)}`), 1);
    expect(replay.map((e) => e['type'])).toEqual(['ADDED']);
    api.store.compact();
    const gone = await readLines(await call(`${podsUrl()}?watch=true&resourceVersion=${String(from)}`), 1);
    expect(gone[0]).toMatchObject({
      type: 'ERROR',
      object: { kind: 'Status', code: 410, reason: 'Expired' },
    });
  });

  it('sends bookmarks to watches that allow them, and counts and drops open watches', async () => {
    const response = await call(
      `${podsUrl()}?watch=true&resourceVersion=${api.store.resourceVersion}&allowWatchBookmarks=true`,
    );
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(api.openWatches()).toBe(1);
    api.sendBookmarks();
    const [bookmark] = await readLines(response, 1);
    expect(bookmark).toMatchObject({
      type: 'BOOKMARK',
      object: { metadata: { resourceVersion: api.store.resourceVersion } },
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(api.openWatches()).toBe(0);
  });
});

describe('label selectors', () => {
  it.each([
    ['a=1', { a: '1' }, true],
    ['a==1', { a: '2' }, false],
    ['a!=1', {}, true],
    ['a in (1, 2),b', { a: '2', b: '' }, true],
    ['a notin (1,2)', { a: '1' }, false],
    ['!a', { b: '1' }, true],
    ['', { any: 'thing' }, true],
  ])('%s on %j is %s', (selector, labels, expected) => {
    expect(parseLabelSelector(selector).matches(labels)).toBe(expected);
  });
});

describe('EndpointSlices (discovery.k8s.io/v1), kept by the fake EndpointSlice controller', () => {
  const slicesUrl = () => `${api.url}/apis/discovery.k8s.io/v1/namespaces/${NS}/endpointslices`;
  const forService = (name: string) =>
    `labelSelector=${encodeURIComponent(`kubernetes.io/service-name=${name}`)}`;

  function service(name: string, spec: JsonObject): KubeObject {
    return {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name, labels: { team: 'a' } },
      spec: { selector: { app: name }, ports: [{ name: 'http', port: 80, targetPort: 'web' }], ...spec },
    };
  }

  function workload(name: string, replicas: number): void {
    const set = statefulSet(name, {}, replicas);
    const template = (set['spec'] as JsonObject)['template'] as JsonObject;
    const container = ((template['spec'] as JsonObject)['containers'] as JsonObject[])[0]!;
    container['ports'] = [{ name: 'web', containerPort: 8080 }];
    api.seed('statefulsets', NS, set);
    api.controller.reconcile(NS, name);
  }

  async function slicesOf(name: string, endpoints: number): Promise<KubeObject[]> {
    for (let i = 0; i < 200; i += 1) {
      const list = (await (await call(`${slicesUrl()}?${forService(name)}`)).json()) as JsonObject;
      const items = list['items'] as KubeObject[];
      const count = items.reduce((n, s) => n + ((s['endpoints'] ?? []) as unknown[]).length, 0);
      if (items.length > 0 && count === endpoints) return items;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    throw new Error(`no slice of ${name} with ${endpoints} endpoints`);
  }

  const conditionsOf = (slices: KubeObject[]) =>
    Object.fromEntries(
      slices
        .flatMap((s) => (s['endpoints'] ?? []) as JsonObject[])
        .map((e) => [(e['targetRef'] as JsonObject)['name'], e['conditions']]),
    );

  it('publishes the selected pods with the real controller’s labels, owner, ports and endpoint fields', async () => {
    api.seed('services', NS, service('web', { clusterIP: 'None' }));
    workload('web', 2);
    const [slice, ...more] = await slicesOf('web', 2);
    expect(more).toEqual([]);
    const svc = api.store.get('services', NS, 'web')!;
    const pod = api.store.get('pods', NS, 'web-0')!;
    expect(slice?.metadata).toMatchObject({
      generateName: 'web-',
      labels: {
        team: 'a',
        'kubernetes.io/service-name': 'web',
        'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io',
        'service.kubernetes.io/headless': '',
      },
      ownerReferences: [
        {
          apiVersion: 'v1',
          kind: 'Service',
          name: 'web',
          uid: svc.metadata.uid,
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    });
    expect(slice?.['addressType']).toBe('IPv4');
    // The named target port resolved against the pod's container port.
    expect(slice?.['ports']).toEqual([{ name: 'http', port: 8080, protocol: 'TCP' }]);
    expect(((slice?.['endpoints'] ?? []) as JsonObject[])[0]).toEqual({
      addresses: [(pod['status'] as JsonObject)['podIP']],
      conditions: { ready: true, serving: true, terminating: false },
      // The pod's hostname, since its subdomain is this Service.
      hostname: 'web-0',
      targetRef: { kind: 'Pod', namespace: NS, name: 'web-0', uid: pod.metadata.uid },
      nodeName: 'fake-node',
    });
  });

  it('ready = serving && !terminating; publishNotReadyAddresses makes ready true; terminating pods stay listed', async () => {
    api.seed('services', NS, service('strict', {}));
    api.seed('services', NS, service('loose', { clusterIP: 'None', publishNotReadyAddresses: true }));
    workload('strict', 2);
    workload('loose', 2);
    for (const name of ['strict', 'loose']) {
      api.controller.setPodReady(NS, `${name}-0`, false);
      api.controller.terminatePod(NS, `${name}-1`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(conditionsOf(await slicesOf('strict', 2))).toEqual({
      'strict-0': { ready: false, serving: false, terminating: false },
      'strict-1': { ready: false, serving: true, terminating: true },
    });
    expect(conditionsOf(await slicesOf('loose', 2))).toEqual({
      'loose-0': { ready: true, serving: false, terminating: false },
      'loose-1': { ready: true, serving: true, terminating: true },
    });
    // Gone once the kubelet finishes the deletion.
    api.controller.deletePod(NS, 'strict-1');
    expect(Object.keys(conditionsOf(await slicesOf('strict', 1)))).toEqual(['strict-0']);
  });

  it('streams slice changes to a label-selected watch, keeps a placeholder, and goes with its Service', async () => {
    api.seed('services', NS, service('w', {}));
    workload('w', 1);
    await slicesOf('w', 1);
    const response = await call(
      `${slicesUrl()}?watch=true&resourceVersion=${api.store.resourceVersion}&${forService('w')}`,
    );
    const events = readLines(response, 3);
    await new Promise((resolve) => setTimeout(resolve, 20));
    api.controller.setPodReady(NS, 'w-0', false);
    await new Promise((resolve) => setTimeout(resolve, 20));
    api.controller.deletePod(NS, 'w-0');
    const seen = await events;
    // Readiness lost: the slice changes. No endpoint left: as the real reconciler does, the slice goes and a
    // placeholder (no ports, no endpoints) takes its place.
    expect(seen.map((e) => e['type'])).toEqual(['MODIFIED', 'ADDED', 'DELETED']);
    expect(((seen[0]?.['object'] as JsonObject)['endpoints'] as JsonObject[])[0]?.['conditions']).toEqual({
      ready: false,
      serving: false,
      terminating: false,
    });
    const [placeholder] = await slicesOf('w', 0);
    expect(placeholder?.['ports']).toBeUndefined();
    expect(await call(`${api.url}/api/v1/namespaces/${NS}/services/w`, { method: 'DELETE' })).toHaveProperty(
      'status',
      200,
    );
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(api.store.list('endpointslices', NS)).toEqual([]);
  });

  it('validates slices like any object (422 for a missing addressType or a bad address)', async () => {
    const slice = (body: JsonObject) =>
      call(slicesUrl(), {
        method: 'POST',
        contentType: 'application/json',
        body: JSON.stringify({
          apiVersion: 'discovery.k8s.io/v1',
          kind: 'EndpointSlice',
          metadata: { name: 's' },
          endpoints: [],
          ...body,
        }),
      });
    expect((await slice({})).status).toBe(422);
    expect((await slice({ addressType: 'IPv4', endpoints: [{ addresses: ['not-an-ip'] }] })).status).toBe(
      422,
    );
    expect((await slice({ addressType: 'IPv4', endpoints: [{ addresses: ['10.1.2.3'] }] })).status).toBe(201);
  });
});
