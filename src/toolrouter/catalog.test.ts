/**
 * Tests of the catalog with a real in-memory registry, a fake federation and an injected clock: what is
 * merged, when adapters are listed again, and when listeners hear of a change.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Tool } from '@modelcontextprotocol/server';
import { createSilentLogger } from '../observability/index.js';
import { openRegistryStore } from '../registry/index.js';
import type {
  JsonObject,
  Registered,
  RegistryChangeFeed,
  RegistryStore,
  RevisionListener,
} from '../registry/index.js';
import { createXxh64Hash } from '../routing/index.js';
import { createCatalog } from './catalog.js';
import type { Catalog, CatalogSnapshot, RouterCatalog } from './catalog.js';
import { NoReadyReplicaError } from './federation.js';
import type { Federation } from './federation.js';
import { createToolNamer } from './tool-names.js';

const spec = (extra: JsonObject = {}): JsonObject => ({
  environmentVariables: {},
  replicaCount: 1,
  description: '',
  useWorkloadIdentity: false,
  requiredRoles: [],
  endpoints: ['http://127.0.0.1:1/x'],
  ...extra,
});
const toolSpec = (name: string, extra: JsonObject = {}) =>
  spec({ toolDefinition: { tool: { name, inputSchema: { type: 'object' } } }, ...extra });
const upstreamTool = (name: string): Tool => ({ name, inputSchema: { type: 'object' } });

/** A federation whose listings the test scripts, adapter by adapter. */
function fakeFederation() {
  const behaviour = new Map<string, () => Promise<Tool[]>>();
  /** The cache hint each adapter's upstream answers with (none: a 2025-era upstream). */
  const hints = new Map<string, { ttlMs?: number; cacheScope?: 'public' | 'private' }>();
  const calls: string[] = [];
  const forgotten: string[] = [];
  const listeners = new Set<(adapter: string) => void>();
  const federation: Federation = {
    async listTools(adapter) {
      calls.push(adapter.name);
      return {
        tools: await (behaviour.get(adapter.name) ?? (async () => []))(),
        ...hints.get(adapter.name),
      };
    },
    listToolsFor: async () => ({ tools: [] }),
    listResources: async () => ({ resources: [], resourceTemplates: [] }),
    readResource: async () => ({ contents: [] }),
    subscribeResources: async () => ({ accepted: [], close: async () => undefined }),
    callTool: async () => ({ content: [] }),
    onListChanged(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    onResourcesChanged: () => () => undefined,
    forget: (adapter) => void forgotten.push(adapter),
    close: async () => undefined,
  };
  return {
    federation,
    behaviour,
    hints,
    calls,
    forgotten,
    announce: (adapter: string) => listeners.forEach((l) => l(adapter)),
  };
}

/** A change feed the test triggers. */
function fakeFeed() {
  const listeners = new Set<RevisionListener>();
  let revision = 0;
  const feed: RegistryChangeFeed = {
    revision: async () => revision,
    watchChanges(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
  };
  return { feed, emit: () => listeners.forEach((l) => l(++revision)) };
}

const waitFor = async (check: () => boolean, timeoutMs = 2000) => {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
};

describe('catalog', () => {
  let store: RegistryStore;
  let now: number;
  let fed: ReturnType<typeof fakeFederation>;
  let feed: ReturnType<typeof fakeFeed>;
  let catalog: Catalog;
  let changes: CatalogSnapshot[];

  beforeEach(async () => {
    store = await openRegistryStore(':memory:');
    now = 1_000_000;
    fed = fakeFederation();
    feed = fakeFeed();
    const hash = await createXxh64Hash();
    catalog = createCatalog({
      store,
      changes: feed.feed,
      federation: fed.federation,
      namer: createToolNamer({ separator: '__', maxLength: 64, hash }),
      hash,
      logger: createSilentLogger(),
      retryMs: 10_000,
      refreshMs: 60_000,
      registryMaxAgeMs: 30_000,
      now: () => now,
    });
    changes = [];
    catalog.onChange((snapshot) => changes.push(snapshot));
  });
  afterEach(async () => {
    catalog.close();
    await store.close();
  });

  it('merges registered tools and federated adapters’ tools in name order; others stay out', async () => {
    await store.create('tool', 'zeta', toolSpec('zeta'), 'alice');
    await store.create('tool', 'alpha', toolSpec('alpha'), 'alice');
    await store.create('adapter', 'mid', spec({ federate: true }), 'alice');
    await store.create('adapter', 'plain', spec(), 'alice');
    fed.behaviour.set('mid', async () => [upstreamTool('b'), upstreamTool('a')]);
    const snapshot = await catalog.snapshot();
    expect(snapshot.entries.map((e) => e.name)).toEqual(['alpha', 'mid__a', 'mid__b', 'zeta']);
    const federated = snapshot.byName.get('mid__a')!;
    expect(federated.tool.name).toBe('mid__a');
    expect(federated.target).toMatchObject({ kind: 'federated', upstream: { name: 'a' } });
    expect(fed.calls).toEqual(['mid']);
    expect(catalog.federationStatus('mid')).toMatchObject({ state: 'listed', tools: 2 });
    expect(catalog.federationStatus('plain')).toBeUndefined();
  });

  it('filters per principal and gives each principal a fingerprint of what they see', async () => {
    await store.create('tool', 'mine', toolSpec('mine'), 'alice');
    await store.create('tool', 'team', toolSpec('team', { requiredRoles: ['team'] }), 'alice');
    const snapshot = await catalog.snapshot();
    const bob = { userId: 'bob', roles: ['team'] };
    const carol = { userId: 'carol', roles: [] };
    expect(catalog.visible(snapshot, { userId: 'alice', roles: [] }).map((e) => e.name)).toEqual([
      'mine',
      'team',
    ]);
    expect(catalog.visible(snapshot, bob).map((e) => e.name)).toEqual(['team']);
    expect(catalog.visible(snapshot, carol)).toEqual([]);
    expect(catalog.fingerprintFor(snapshot, bob)).not.toBe(catalog.fingerprintFor(snapshot, carol));
    expect(catalog.fingerprintFor(snapshot, carol)).toBe(
      catalog.fingerprintFor(snapshot, { userId: 'dan', roles: [] }),
    );
  });

  it('leaves a failing adapter out, does not wait for it again, retries it after retryMs and announces it', async () => {
    await store.create('adapter', 'flaky', spec({ federate: true }), 'alice');
    await store.create('tool', 'steady', toolSpec('steady'), 'alice');
    fed.behaviour.set('flaky', async () => {
      throw new Error('connection refused');
    });
    expect((await catalog.snapshot()).entries.map((e) => e.name)).toEqual(['steady']);
    expect(catalog.federationStatus('flaky')).toMatchObject({ state: 'failed', error: 'connection refused' });

    // Retried after 1 s, then 2 s, 4 s … at most retryMs.
    now += 500;
    await catalog.snapshot();
    expect(fed.calls).toEqual(['flaky']);
    now += 500;
    await catalog.snapshot();
    await waitFor(() => fed.calls.length === 2);
    now += 1_500;
    await catalog.snapshot();
    expect(fed.calls).toHaveLength(2);

    let recover: (tools: Tool[]) => void = () => undefined;
    fed.behaviour.set('flaky', () => new Promise<Tool[]>((resolve) => (recover = resolve)));
    now += 500;
    // Due for a retry: served at once without waiting for it, and the retry's success is announced.
    expect((await catalog.snapshot()).entries.map((e) => e.name)).toEqual(['steady']);
    recover([upstreamTool('t')]);
    await waitFor(() => changes.length > 0);
    expect(changes.at(-1)!.entries.map((e) => e.name)).toEqual(['flaky__t', 'steady']);
    expect(fed.calls).toEqual(['flaky', 'flaky', 'flaky']);
  });

  it('shows an adapter without a ready replica as pending, and lists it soon after', async () => {
    await store.create('adapter', 'starting', spec({ federate: true }), 'alice');
    fed.behaviour.set('starting', async () => {
      throw new NoReadyReplicaError('starting');
    });
    expect((await catalog.snapshot()).entries).toEqual([]);
    expect(catalog.federationStatus('starting')).toMatchObject({
      state: 'pending',
      error: expect.stringMatching(/no ready replica/),
    });
    fed.behaviour.set('starting', async () => [upstreamTool('up')]);
    now += 1_000;
    await catalog.snapshot();
    await waitFor(() => changes.length === 1);
    expect(catalog.federationStatus('starting')).toMatchObject({ state: 'listed', tools: 1 });
  });

  it('lists an upstream again when its ttlMs runs out, and one without a hint after refreshMs', async () => {
    await store.create('adapter', 'short', spec({ federate: true }), 'alice');
    await store.create('adapter', 'plain', spec({ federate: true }), 'alice');
    await store.create('adapter', 'zero', spec({ federate: true }), 'alice');
    fed.hints.set('short', { ttlMs: 5_000, cacheScope: 'public' });
    // ttlMs 0 promises no freshness: the router goes on relying on list_changed and refreshMs.
    fed.hints.set('zero', { ttlMs: 0, cacheScope: 'private' });
    const listed = (name: string) => fed.calls.filter((c) => c === name).length;
    await catalog.snapshot();
    expect([listed('short'), listed('plain'), listed('zero')]).toEqual([1, 1, 1]);
    const short = (await store.get('adapter', 'short')) as unknown as Registered<'adapter'>;
    expect((catalog as RouterCatalog).upstreamListing(short)).toEqual({ ttlMs: 5_000, cacheScope: 'public' });

    now += 4_000;
    await catalog.snapshot();
    expect([listed('short'), listed('plain'), listed('zero')]).toEqual([1, 1, 1]);
    now += 1_500;
    await catalog.snapshot();
    await waitFor(() => listed('short') === 2);
    expect([listed('plain'), listed('zero')]).toEqual([1, 1]);
    now += 60_000;
    await catalog.snapshot();
    await waitFor(() => listed('plain') === 2 && listed('zero') === 2);
  });

  it('keeps the last good list through a failed refresh', async () => {
    await store.create('adapter', 'adp', spec({ federate: true }), 'alice');
    fed.behaviour.set('adp', async () => [upstreamTool('t')]);
    await catalog.snapshot();
    fed.behaviour.set('adp', async () => {
      throw new Error('timeout');
    });
    fed.announce('adp');
    await waitFor(() => fed.calls.length === 2);
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect((await catalog.snapshot()).entries.map((e) => e.name)).toEqual(['adp__t']);
    expect(catalog.federationStatus('adp')).toMatchObject({ state: 'listed', tools: 1 });
  });

  it('relists an adapter whose upstream announced a change, and tells listeners when the list differs', async () => {
    await store.create('adapter', 'adp', spec({ federate: true }), 'alice');
    fed.behaviour.set('adp', async () => [upstreamTool('one')]);
    await catalog.snapshot();
    fed.behaviour.set('adp', async () => [upstreamTool('one'), upstreamTool('two')]);
    fed.announce('adp');
    await waitFor(() => changes.length === 1);
    expect(changes[0]!.entries.map((e) => e.name)).toEqual(['adp__one', 'adp__two']);
    // The same list again: no announcement.
    fed.announce('adp');
    await waitFor(() => fed.calls.length === 3);
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(changes).toHaveLength(1);
  });

  it('rebuilds on the registry’s change feed (another instance’s write), and forgets removed adapters', async () => {
    await store.create('adapter', 'adp', spec({ federate: true }), 'alice');
    await catalog.snapshot();
    await store.create('tool', 'late', toolSpec('late'), 'bob');
    feed.emit();
    await waitFor(() => changes.length === 1);
    expect(changes[0]!.entries.map((e) => e.name)).toContain('late');

    await store.delete('adapter', 'adp');
    feed.emit();
    await waitFor(() => fed.forgotten.includes('adp'));
  });

  it('relists an adapter whose spec changed (a new version), and reloads the registry after its max age', async () => {
    await store.create('adapter', 'adp', spec({ federate: true }), 'alice');
    fed.behaviour.set('adp', async () => [upstreamTool('v1')]);
    await catalog.snapshot();
    await store.update('adapter', 'adp', spec({ federate: true, description: 'moved' }));
    fed.behaviour.set('adp', async () => [upstreamTool('v2')]);
    // No change notice: the registry is read again once its max age has passed.
    now += 31_000;
    expect((await catalog.snapshot()).entries.map((e) => e.name)).toEqual(['adp__v2']);
    expect(fed.forgotten).toContain('adp');
  });
});
