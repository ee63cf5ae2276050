import { ProtocolError, ProtocolErrorCode } from '@modelcontextprotocol/server';
import { describe, expect, it } from 'vitest';
import type { Principal } from '../auth/index.js';
import { createSilentLogger } from '../observability/index.js';
import type { Registered } from '../registry/index.js';
import { createFederatedResources } from './federated-resources.js';
import type { ResourceScope } from './federated-resources.js';
import { NoReadyReplicaError } from './federation.js';
import type { Federation, UpstreamResourceList } from './federation.js';

const adapter = (name: string) =>
  ({
    kind: 'adapter',
    name,
    version: 1,
    spec: { federate: true, requiredRoles: [] },
  }) as unknown as Registered<'adapter'>;

const ALICE: Principal = { userId: 'alice', roles: [] };

function fakeFederation(listings: Record<string, () => Promise<UpstreamResourceList>>) {
  const calls: string[] = [];
  let read: (name: string, uri: string) => Promise<unknown> = async (name, uri) => ({
    contents: [{ uri, text: `${name}:${uri}` }],
  });
  const federation: Pick<
    Federation,
    'listResources' | 'readResource' | 'onListChanged' | 'onResourcesChanged'
  > = {
    listResources: async (a) => {
      calls.push(a.name);
      return listings[a.name]!();
    },
    readResource: async (a, _principal, uri) => (await read(a.name, uri)) as never,
    onListChanged: () => () => undefined,
    onResourcesChanged: () => () => undefined,
  };
  return { federation, calls, failReadsWith: (f: typeof read) => (read = f) };
}

const scopeOf = (...names: string[]): ResourceScope => ({
  adapters: new Map(names.map((n) => [n, adapter(n)])),
  appUris: new Map(),
});

const many = (n: number): UpstreamResourceList => ({
  resources: Array.from({ length: n }, (_, i) => ({
    uri: `memo://n/${String(i).padStart(2, '0')}`,
    name: `n${i}`,
  })),
  resourceTemplates: [{ uriTemplate: 'memo://n/{id}', name: 'note' }],
});

function resourcesWith(fake: ReturnType<typeof fakeFederation>) {
  return createFederatedResources({
    federation: fake.federation,
    logger: createSilentLogger(),
    refreshMs: 60_000,
    readTimeoutMs: 1000,
    pageSize: 4,
  });
}

describe('federated resources', () => {
  it('pages the merged list with its own cursors, which another list refuses', async () => {
    const fake = fakeFederation({ a: async () => many(5), b: async () => many(4) });
    const resources = resourcesWith(fake);
    const scope = scopeOf('a', 'b');
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await resources.resources(scope, ALICE, cursor);
      seen.push(...page.items.map((r) => r.uri));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toHaveLength(9);
    expect(seen).toEqual([...seen].sort());
    expect(seen[0]).toBe('memo://a/n/00');
    const first = await resources.resources(scope, ALICE);
    await expect(resources.templates(scope, ALICE, first.nextCursor)).rejects.toMatchObject({
      code: ProtocolErrorCode.InvalidParams,
    });
    // Listed once per adapter, then kept while fresh.
    expect(fake.calls.filter((c) => c === 'a')).toHaveLength(1);
  });

  it('leaves out an adapter whose listing failed, and asks it again next time', async () => {
    let up = false;
    const fake = fakeFederation({
      a: async () => many(1),
      b: async () => {
        if (!up) throw new Error('connect ECONNREFUSED');
        return many(1);
      },
    });
    const resources = resourcesWith(fake);
    expect((await resources.resources(scopeOf('a', 'b'), ALICE)).items.map((r) => r.uri)).toEqual([
      'memo://a/n/00',
    ]);
    up = true;
    expect((await resources.resources(scopeOf('a', 'b'), ALICE)).items).toHaveLength(2);
  });

  it('answers a read failure as the caller should see it, naming the adapter', async () => {
    const fake = fakeFederation({ a: async () => many(1) });
    const resources = resourcesWith(fake);
    const scope = scopeOf('a');
    const signal = new AbortController().signal;
    expect(await resources.read(scope, ALICE, 'memo://a/n/00', signal)).toEqual({
      contents: [{ uri: 'memo://a/n/00', text: 'a:memo://n/00' }],
    });
    fake.failReadsWith(async (_n, uri) => {
      throw new ProtocolError(ProtocolErrorCode.ResourceNotFound, 'no such note', { uri });
    });
    await expect(resources.read(scope, ALICE, 'memo://a/n/99', signal)).rejects.toMatchObject({
      code: ProtocolErrorCode.InvalidParams,
      message: expect.stringContaining("adapter 'a' has no memo://a/n/99"),
      data: { uri: 'memo://a/n/99' },
    });
    fake.failReadsWith(async () => {
      throw new ProtocolError(ProtocolErrorCode.InternalError, 'disk on fire');
    });
    await expect(resources.read(scope, ALICE, 'memo://a/n/00', signal)).rejects.toMatchObject({
      code: ProtocolErrorCode.InternalError,
      message: expect.stringContaining("Adapter 'a' refused the read of memo://a/n/00: disk on fire"),
    });
    fake.failReadsWith(async () => {
      throw new NoReadyReplicaError('a');
    });
    await expect(resources.read(scope, ALICE, 'memo://a/n/00', signal)).rejects.toMatchObject({
      message: expect.stringContaining("Adapter 'a' has no ready replica"),
    });
    fake.failReadsWith(async () => {
      throw new Error('no answer within 1000 ms');
    });
    await expect(resources.read(scope, ALICE, 'memo://a/n/00', signal)).rejects.toMatchObject({
      code: ProtocolErrorCode.InternalError,
      message: expect.stringContaining("Adapter 'a' did not answer the read of memo://a/n/00"),
    });
  });

  it('neither lists nor reads an app view no tool of the scope links to', async () => {
    const fake = fakeFederation({
      a: async () => ({
        resources: [
          { uri: 'ui://app/linked.html', name: 'linked' },
          { uri: 'ui://app/orphan.html', name: 'orphan' },
        ],
        resourceTemplates: [{ uriTemplate: 'ui://app/{view}', name: 'views' }],
      }),
    });
    const resources = resourcesWith(fake);
    const scope: ResourceScope = {
      adapters: new Map([['a', adapter('a')]]),
      appUris: new Map([['a', new Set(['ui://app/linked.html'])]]),
    };
    expect((await resources.resources(scope, ALICE)).items.map((r) => r.uri)).toEqual([
      'ui://a/app/linked.html',
    ]);
    expect((await resources.templates(scope, ALICE)).items).toEqual([]);
    const signal = new AbortController().signal;
    await expect(resources.read(scope, ALICE, 'ui://a/app/orphan.html', signal)).rejects.toMatchObject({
      code: ProtocolErrorCode.InvalidParams,
    });
    expect((await resources.read(scope, ALICE, 'ui://a/app/linked.html', signal)).contents[0]!.uri).toBe(
      'ui://a/app/linked.html',
    );
  });
});
