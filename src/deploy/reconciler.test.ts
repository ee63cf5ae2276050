/** @module Tests of the reconciler: convergence, orphans, runtime changes, coalescing, and repair after failures. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openRegistryStore } from '../registry/index.js';
import type { JsonObject, Registered, RegistryStore, ResourceKind } from '../registry/index.js';
import type { Deployer, ResourceRef } from './deployer.js';
import { InMemoryDeployer } from '../../test/in-memory-deployer.js';
import { createReconciler } from './reconciler.js';
import type { Reconciler, ReconcilerOptions } from './reconciler.js';
import { nullResourceChangeListener } from './resource-change.js';
import type { Timers } from './timers.js';

const commandSpec = (replicaCount = 1, env: Record<string, string> = {}): JsonObject => ({
  command: 'server',
  args: [],
  transport: 'stdio',
  environmentVariables: env,
  replicaCount,
  description: '',
  useWorkloadIdentity: false,
  requiredRoles: [],
});
const imageSpec = (): JsonObject => ({
  imageName: 'team/server',
  imageVersion: '1.0.0',
  environmentVariables: {},
  replicaCount: 1,
  description: '',
  useWorkloadIdentity: false,
  requiredRoles: [],
});
const toolSpec = (): JsonObject => ({
  ...commandSpec(),
  toolDefinition: { tool: { name: 'score', inputSchema: { type: 'object' } }, path: '/score' },
});
const endpointsSpec = (): JsonObject => ({
  ...imageSpec(),
  imageName: undefined,
  endpoints: ['http://x/mcp'],
});

type Method = 'apply' | 'remove' | 'list';

/** Wraps a deployer so that chosen calls fail once, as a crash between two steps would leave things. */
class FlakyDeployer implements Deployer {
  readonly failures: Method[] = [];
  readonly calls: Method[] = [];
  constructor(readonly inner: Deployer) {}
  get runtime() {
    return this.inner.runtime;
  }
  failNext(method: Method): void {
    this.failures.push(method);
  }
  #maybeFail(method: Method): void {
    this.calls.push(method);
    const index = this.failures.indexOf(method);
    if (index >= 0) {
      this.failures.splice(index, 1);
      throw new Error(`${method} crashed (injected)`);
    }
  }
  async apply(resource: Registered) {
    this.#maybeFail('apply');
    return this.inner.apply(resource);
  }
  async remove(ref: ResourceRef) {
    this.#maybeFail('remove');
    return this.inner.remove(ref);
  }
  async list() {
    this.#maybeFail('list');
    return this.inner.list();
  }
  status = (r: Registered) => this.inner.status(r);
  logs: Deployer['logs'] = (r, o) => this.inner.logs(r, o);
  endpoints = (ref: ResourceRef) => this.inner.endpoints(ref);
  onEndpointsChange: Deployer['onEndpointsChange'] = (l) => this.inner.onEndpointsChange(l);
  close = () => this.inner.close();
}

const names = async (d: Deployer) => (await d.list()).map((r) => `${r.kind}/${r.name}`).sort();

describe('createReconciler', () => {
  let store: RegistryStore;
  let command: FlakyDeployer;
  let image: FlakyDeployer;
  let reconciler: Reconciler;
  const make = (extra: Partial<ReconcilerOptions> = {}) =>
    createReconciler({ store, deployers: [command, image], intervalMs: 60_000, ...extra });

  beforeEach(async () => {
    store = await openRegistryStore(':memory:');
    command = new FlakyDeployer(new InMemoryDeployer({ runtime: 'command' }));
    image = new FlakyDeployer(new InMemoryDeployer({ runtime: 'image' }));
    reconciler = make();
  });
  afterEach(async () => {
    await reconciler.stop();
    await store.close();
  });

  const create = (kind: ResourceKind, name: string, spec: JsonObject) =>
    store.create(kind, name, spec, 'alice');
  const ref = (kind: ResourceKind, name: string): ResourceRef => ({ kind, name });

  it('applies every registered resource of both kinds, across pages', async () => {
    reconciler = make({ pageSize: 2 });
    for (const name of ['a', 'b', 'c', 'd', 'e']) await create('adapter', name, commandSpec());
    await create('tool', 'score', toolSpec());
    await create('adapter', 'img', imageSpec());
    const summary = await reconciler.reconcileAll();
    expect(summary).toEqual({ desired: 7, converged: 7, failed: 0, unlistedRuntimes: [] });
    expect(await names(command)).toEqual([
      'adapter/a',
      'adapter/b',
      'adapter/c',
      'adapter/d',
      'adapter/e',
      'tool/score',
    ]);
    expect(await names(image)).toEqual(['adapter/img']);
    expect(reconciler.lastResult(ref('adapter', 'a'))).toMatchObject({
      ok: true,
      action: 'apply',
      version: 1,
    });
  });

  it('converges on notify: create, scale, delete', async () => {
    await create('adapter', 'w', commandSpec(1));
    reconciler.notify(ref('adapter', 'w'));
    await reconciler.settled();
    expect(command.endpoints(ref('adapter', 'w'))).toHaveLength(1);

    await store.update('adapter', 'w', commandSpec(3));
    reconciler.notify(ref('adapter', 'w'));
    await reconciler.settled();
    expect(command.endpoints(ref('adapter', 'w'))).toHaveLength(3);
    expect(reconciler.lastResult(ref('adapter', 'w'))).toMatchObject({ ok: true, version: 2 });

    await store.delete('adapter', 'w');
    reconciler.notify(ref('adapter', 'w'));
    await reconciler.settled();
    expect(await names(command)).toEqual([]);
    expect(reconciler.lastResult(ref('adapter', 'w'))).toBeUndefined();
  });

  it('removes what a deployer runs but the registry no longer holds (orphans)', async () => {
    await command.inner.apply({
      kind: 'adapter',
      name: 'ghost',
      uid: 'uid-ghost',
      version: 1,
      createdBy: 'x',
      createdAt: new Date(),
      lastUpdatedAt: new Date(),
      spec: commandSpec() as never,
    });
    await create('adapter', 'kept', commandSpec());
    await reconciler.reconcileAll();
    expect(await names(command)).toEqual(['adapter/kept']);
  });

  it('moves a resource whose runtime changed, on notify and on a fresh pass', async () => {
    await create('adapter', 'm', commandSpec());
    await reconciler.reconcileAll();
    await store.update('adapter', 'm', imageSpec());
    reconciler.notify(ref('adapter', 'm'));
    await reconciler.settled();
    expect(await names(command)).toEqual([]);
    expect(await names(image)).toEqual(['adapter/m']);

    // A new reconciler (a gateway restart) knows nothing of placements; its pass lists them.
    await store.update('adapter', 'm', commandSpec());
    await reconciler.stop();
    reconciler = make();
    await reconciler.reconcileAll();
    expect(await names(command)).toEqual(['adapter/m']);
    expect(await names(image)).toEqual([]);
  });

  it('skips, and says so, a runtime no deployer runs', async () => {
    await create('adapter', 'remote', endpointsSpec());
    await reconciler.reconcileAll();
    expect(reconciler.lastResult(ref('adapter', 'remote'))).toMatchObject({
      ok: true,
      action: 'skip',
      runtime: 'endpoints',
      message: 'no deployer runs the endpoints runtime in this gateway',
    });
  });

  it('never applies one resource twice at once, and coalesces a burst', async () => {
    let active = 0;
    let maxActive = 0;
    let applies = 0;
    const slow = new InMemoryDeployer({ runtime: 'command' });
    const original = slow.apply.bind(slow);
    slow.apply = async (resource) => {
      active += 1;
      applies += 1;
      maxActive = Math.max(maxActive, active);
      await new Promise((resolve) => setTimeout(resolve, 20));
      active -= 1;
      return original(resource);
    };
    reconciler = createReconciler({ store, deployers: [slow], intervalMs: 60_000 });
    await create('adapter', 'burst', commandSpec());
    for (let i = 0; i < 20; i += 1) reconciler.notify(ref('adapter', 'burst'));
    await new Promise((resolve) => setTimeout(resolve, 5));
    for (let i = 0; i < 20; i += 1) reconciler.notify(ref('adapter', 'burst'));
    await reconciler.settled();
    expect(maxActive).toBe(1);
    expect(applies).toBe(2);
  });

  describe('repairs after a step fails once', () => {
    it('apply throws: the result says why; the next pass converges', async () => {
      await create('adapter', 'a', commandSpec(2));
      command.failNext('apply');
      const first = await reconciler.reconcileAll();
      expect(first.failed).toBe(1);
      expect(reconciler.lastResult(ref('adapter', 'a'))).toMatchObject({
        ok: false,
        action: 'apply',
        message: 'apply crashed (injected)',
      });
      expect(command.endpoints(ref('adapter', 'a'))).toHaveLength(0);
      const second = await reconciler.reconcileAll();
      expect(second.failed).toBe(0);
      expect(command.endpoints(ref('adapter', 'a'))).toHaveLength(2);
      expect(reconciler.lastResult(ref('adapter', 'a'))).toMatchObject({ ok: true });
    });

    it('remove throws: the orphan survives one pass, not two', async () => {
      await create('adapter', 'gone', commandSpec());
      await reconciler.reconcileAll();
      await store.delete('adapter', 'gone');
      command.failNext('remove');
      reconciler.notify(ref('adapter', 'gone'));
      await reconciler.settled();
      expect(await names(command)).toEqual(['adapter/gone']);
      expect(reconciler.lastResult(ref('adapter', 'gone'))).toMatchObject({ ok: false, action: 'remove' });
      await reconciler.reconcileAll();
      expect(await names(command)).toEqual([]);
    });

    it('list throws: orphans of that deployer wait for the next pass, others converge', async () => {
      await create('adapter', 'stay', commandSpec());
      await create('adapter', 'old', commandSpec());
      await reconciler.reconcileAll();
      await store.delete('adapter', 'old');
      // Forget placements, as after a restart, so only list() can find the orphan.
      await reconciler.stop();
      reconciler = make();
      await create('adapter', 'new', commandSpec());
      command.failNext('list');
      const summary = await reconciler.reconcileAll();
      expect(summary.unlistedRuntimes).toEqual(['command']);
      expect(await names(command)).toEqual(['adapter/new', 'adapter/old', 'adapter/stay']);
      await reconciler.reconcileAll();
      expect(await names(command)).toEqual(['adapter/new', 'adapter/stay']);
    });

    it('a runtime change interrupted between removing the old and applying the new converges', async () => {
      await create('adapter', 'move', commandSpec());
      await reconciler.reconcileAll();
      await store.update('adapter', 'move', imageSpec());
      image.failNext('apply');
      reconciler.notify(ref('adapter', 'move'));
      await reconciler.settled();
      expect(await names(command)).toEqual([]);
      expect(await names(image)).toEqual([]);
      await reconciler.reconcileAll();
      expect(await names(image)).toEqual(['adapter/move']);
    });

    it('a runtime change interrupted before removing the old converges', async () => {
      await create('adapter', 'move2', commandSpec());
      await reconciler.reconcileAll();
      await store.update('adapter', 'move2', imageSpec());
      command.failNext('remove');
      reconciler.notify(ref('adapter', 'move2'));
      await reconciler.settled();
      expect(await names(command)).toEqual(['adapter/move2']);
      await reconciler.reconcileAll();
      expect(await names(command)).toEqual([]);
      expect(await names(image)).toEqual(['adapter/move2']);
    });
  });

  it('runs a pass at start and on every interval tick; stop ends both and ignores notifications', async () => {
    const ticks: (() => void)[] = [];
    const timers: Timers = {
      setTimeout: (cb, ms) => setTimeout(cb, ms),
      clearTimeout: (h) => clearTimeout(h as never),
      setInterval: (cb) => ticks.push(cb),
      clearInterval: () => ticks.splice(0),
    };
    reconciler = make({ timers });
    await create('adapter', 'p', commandSpec());
    reconciler.start();
    await reconciler.settled();
    expect(await names(command)).toEqual(['adapter/p']);
    await create('adapter', 'q', commandSpec());
    expect(ticks).toHaveLength(1);
    ticks[0]!();
    await reconciler.settled();
    expect(await names(command)).toEqual(['adapter/p', 'adapter/q']);
    await reconciler.stop();
    expect(ticks).toHaveLength(0);
    await create('adapter', 'r', commandSpec());
    reconciler.notify(ref('adapter', 'r'));
    await reconciler.settled();
    expect(await names(command)).toEqual(['adapter/p', 'adapter/q']);
  });

  it('refuses two deployers for one runtime and a non-positive interval', () => {
    expect(() => createReconciler({ store, deployers: [command, command], intervalMs: 1 })).toThrow(
      /two deployers/,
    );
    expect(() => createReconciler({ store, deployers: [], intervalMs: 0 })).toThrow(/intervalMs/);
  });

  it('has a null listener for wiring without deployers', () => {
    expect(() => nullResourceChangeListener.notify(ref('adapter', 'x'))).not.toThrow();
  });
});
