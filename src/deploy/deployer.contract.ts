/**
 * @module The Deployer contract: the port semantics every deployer (process, Kubernetes, remote, in-memory)
 * must meet, as one vitest suite. Not a `*.test.ts` file itself: each implementation's test file calls
 * {@link runDeployerContract} with a factory. It only uses the port and what the fixture offers, so it holds no
 * assumption about processes, clusters or URLs; waits are polls with a deadline, never fixed sleeps.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Registered } from '../registry/index.js';
import { eventually } from '../../test/polling.js';
import type { Deployer, ReplicaEndpoint, ResourceRef } from './deployer.js';
import { refOf } from './resource-change.js';

/** What the contract asks a fixture to register. */
export interface DeployerContractResourceOptions {
  readonly name: string;
  readonly replicaCount: number;
  readonly environmentVariables?: Record<string, string>;
}

/** A deployer under test, plus what the contract needs to drive and observe it. */
export interface DeployerContractFixture {
  readonly deployer: Deployer;
  /** A registered resource this deployer runs (its runtime, a spec that starts), named and sized as asked. */
  resource(options: DeployerContractResourceOptions): Registered;
  /** Whether `close()` stops the replicas (local processes) or leaves them running (Kubernetes workloads). */
  readonly closeStopsReplicas: boolean;
  /** Longest wait for replicas to become ready or go away (default 20 000 ms). */
  readonly timeoutMs?: number;
  /** Text every replica writes to its log soon after it starts; the log-content case is skipped without it. */
  readonly logLine?: string;
  /**
   * Whether anything of `ref` still runs, observed outside the deployer (a process table, a fake cluster's
   * objects); the cases that check remove and close really stop things are skipped without it.
   */
  running?(ref: ResourceRef): Promise<boolean>;
  /** Releases what the fixture holds besides the deployer (fake servers…); called after `deployer.close()`. */
  dispose?(): Promise<void>;
}

/** Builds a fresh fixture; called once per case. */
export type DeployerContractFactory = () => Promise<DeployerContractFixture>;

const ids = (endpoints: readonly ReplicaEndpoint[]) => endpoints.map((e) => e.id);

let counter = 0;
/** Names unique within a run, so cases never see each other's leftovers on a shared backend. */
function uniqueName(base: string): string {
  counter += 1;
  return `${base}-${process.pid % 10_000}-${counter}`;
}

/**
 * Registers the Deployer contract under `name`. Each case gets a fresh fixture from `make`; the deployer is
 * closed and the fixture disposed after each case, even when it fails.
 */
export function runDeployerContract(name: string, make: DeployerContractFactory): void {
  describe(`${name} (Deployer contract)`, () => {
    let fx: DeployerContractFixture;
    let deployer: Deployer;
    let timeoutMs: number;

    beforeEach(async () => {
      fx = await make();
      deployer = fx.deployer;
      timeoutMs = fx.timeoutMs ?? 20_000;
    });
    afterEach(async () => {
      try {
        await deployer.close();
      } finally {
        await fx.dispose?.();
      }
    });

    const readyCount = (resource: Registered, n: number) =>
      eventually(
        () => deployer.endpoints(refOf(resource)).length === n,
        `${n} ready endpoint(s) of ${resource.name} (have ${deployer.endpoints(refOf(resource)).length})`,
        timeoutMs,
      );

    it('reports its runtime', () => {
      expect(['image', 'command', 'endpoints']).toContain(deployer.runtime);
    });

    it('apply starts replicaCount replicas that become ready endpoints', async () => {
      const resource = fx.resource({ name: uniqueName('create'), replicaCount: 2 });
      expect(deployer.endpoints(refOf(resource))).toEqual([]);
      await deployer.apply(resource);
      await readyCount(resource, 2);
      const endpoints = deployer.endpoints(refOf(resource));
      expect(new Set(ids(endpoints)).size).toBe(2);
      expect(new Set(endpoints.map((e) => e.url)).size).toBe(2);
      for (const endpoint of endpoints) {
        expect(endpoint.weight).toBeGreaterThan(0);
        expect(() => new URL(endpoint.url)).not.toThrow();
      }
    });

    it('apply again with the same spec is a no-op: the same endpoint ids', async () => {
      const resource = fx.resource({ name: uniqueName('noop'), replicaCount: 2 });
      await deployer.apply(resource);
      await readyCount(resource, 2);
      const before = ids(deployer.endpoints(refOf(resource)));
      await deployer.apply(resource);
      await deployer.apply({ ...resource, version: resource.version + 1 });
      expect(ids(deployer.endpoints(refOf(resource)))).toEqual(before);
      const status = await deployer.status(resource);
      expect(status.readyReplicas).toBe(2);
    });

    it('scales up and down, keeping the replicas that stay', async () => {
      const resource = fx.resource({ name: uniqueName('scale'), replicaCount: 1 });
      await deployer.apply(resource);
      await readyCount(resource, 1);
      const first = ids(deployer.endpoints(refOf(resource)));
      const up = { ...resource, spec: { ...resource.spec, replicaCount: 3 } };
      await deployer.apply(up);
      await readyCount(up, 3);
      const three = ids(deployer.endpoints(refOf(up)));
      expect(three).toEqual(expect.arrayContaining(first));
      const down = { ...resource, spec: { ...resource.spec, replicaCount: 1 } };
      await deployer.apply(down);
      await readyCount(down, 1);
      expect(three).toEqual(expect.arrayContaining(ids(deployer.endpoints(refOf(down)))));
      expect((await deployer.status(down)).replicas).toHaveLength(1);
    });

    it('scales to zero and back', async () => {
      const resource = fx.resource({ name: uniqueName('zero'), replicaCount: 1 });
      await deployer.apply(resource);
      await readyCount(resource, 1);
      await deployer.apply({ ...resource, spec: { ...resource.spec, replicaCount: 0 } });
      await readyCount(resource, 0);
      await deployer.apply(resource);
      await readyCount(resource, 1);
    });

    it('apply with a changed environment replaces every replica', async () => {
      const resource = fx.resource({
        name: uniqueName('env'),
        replicaCount: 2,
        environmentVariables: { A: '1' },
      });
      await deployer.apply(resource);
      await readyCount(resource, 2);
      const before = ids(deployer.endpoints(refOf(resource)));
      const changed = { ...resource, spec: { ...resource.spec, environmentVariables: { A: '2' } } };
      await deployer.apply(changed);
      await eventually(
        () => {
          const now = ids(deployer.endpoints(refOf(changed)));
          return now.length === 2 && now.every((id) => !before.includes(id));
        },
        'two replacement replicas with new ids',
        timeoutMs,
      );
    });

    it('remove empties the endpoints, tells listeners, and is idempotent', async () => {
      const resource = fx.resource({ name: uniqueName('remove'), replicaCount: 2 });
      const ref = refOf(resource);
      const heard: (readonly ReplicaEndpoint[])[] = [];
      const unsubscribe = deployer.onEndpointsChange((changed, endpoints) => {
        if (changed.kind === ref.kind && changed.name === ref.name) heard.push(endpoints);
      });
      try {
        await deployer.apply(resource);
        await readyCount(resource, 2);
        await eventually(() => heard.at(-1)?.length === 2, 'a listener call with two endpoints', timeoutMs);
        await deployer.remove(ref);
        await eventually(() => deployer.endpoints(ref).length === 0, 'no endpoints after remove', timeoutMs);
        await eventually(() => heard.at(-1)?.length === 0, 'a listener call with no endpoints', timeoutMs);
        if (fx.running) await eventually(async () => !(await fx.running!(ref)), 'nothing running', timeoutMs);
        await deployer.remove(ref);
        await deployer.remove(refOf(fx.resource({ name: uniqueName('never'), replicaCount: 1 })));
        expect(await deployer.list()).not.toContainEqual(ref);
      } finally {
        unsubscribe();
      }
    });

    it('stops calling a listener once it unsubscribed', async () => {
      const resource = fx.resource({ name: uniqueName('unsub'), replicaCount: 1 });
      let calls = 0;
      const unsubscribe = deployer.onEndpointsChange(() => {
        calls += 1;
      });
      unsubscribe();
      await deployer.apply(resource);
      await readyCount(resource, 1);
      await deployer.remove(refOf(resource));
      expect(calls).toBe(0);
    });

    it('list reflects what runs', async () => {
      const a = fx.resource({ name: uniqueName('list-a'), replicaCount: 1 });
      const b = fx.resource({ name: uniqueName('list-b'), replicaCount: 1 });
      await deployer.apply(a);
      await deployer.apply(b);
      await eventually(
        async () => {
          const listed = await deployer.list();
          return [a, b].every((r) => listed.some((l) => l.kind === r.kind && l.name === r.name));
        },
        'both resources listed',
        timeoutMs,
      );
      await deployer.remove(refOf(a));
      await eventually(
        async () => {
          const listed = await deployer.list();
          return !listed.some((l) => l.name === a.name) && listed.some((l) => l.name === b.name);
        },
        'only the second resource listed',
        timeoutMs,
      );
    });

    it('status counts ready replicas, one entry per replica', async () => {
      const resource = fx.resource({ name: uniqueName('status'), replicaCount: 2 });
      await deployer.apply(resource);
      await readyCount(resource, 2);
      await eventually(
        async () => (await deployer.status(resource)).readyReplicas === 2,
        'status with two ready replicas',
        timeoutMs,
      );
      const status = await deployer.status(resource);
      expect(status).toMatchObject({
        readyReplicas: 2,
        availableReplicas: 2,
        replicaStatus: 'Healthy',
        runtime: deployer.runtime,
      });
      expect(typeof status.image).toBe('string');
      expect(status.replicas.map((r) => r.instance).sort()).toEqual([0, 1]);
      for (const replica of status.replicas) {
        expect(replica.ready).toBe(true);
        expect(typeof replica.state).toBe('string');
        expect(replica.checkedAt).toBeInstanceOf(Date);
      }
    });

    it('logs of instance N: text, bounded by tail', async () => {
      const resource = fx.resource({ name: uniqueName('logs'), replicaCount: 2 });
      await deployer.apply(resource);
      await readyCount(resource, 2);
      for (const instance of [0, 1]) {
        if (fx.logLine) {
          await eventually(
            async () => {
              const logs = await deployer.logs(resource, { instance, tail: 1000 });
              return logs.ok && 'text' in logs && logs.text.includes(fx.logLine!);
            },
            `instance ${instance} to log '${fx.logLine}'`,
            timeoutMs,
          );
        }
        const one = await deployer.logs(resource, { instance, tail: 1 });
        expect(one.ok).toBe(true);
        if (one.ok && 'text' in one)
          expect(one.text.split('\n').filter(Boolean).length).toBeLessThanOrEqual(1);
      }
    });

    it('follow streams logs until the signal aborts', async () => {
      const resource = fx.resource({ name: uniqueName('follow'), replicaCount: 1 });
      await deployer.apply(resource);
      await readyCount(resource, 1);
      const abort = new AbortController();
      const logs = await deployer.logs(resource, {
        instance: 0,
        tail: 10,
        follow: true,
        signal: abort.signal,
      });
      expect(logs.ok).toBe(true);
      if (!logs.ok || !('stream' in logs)) throw new Error('follow must answer with a stream');
      const reader = logs.stream.getReader();
      const drained = (async () => {
        for (;;) if ((await reader.read()).done) return true;
      })();
      abort.abort();
      await expect(
        Promise.race([drained, new Promise((resolve) => setTimeout(() => resolve(false), timeoutMs))]),
      ).resolves.toBe(true);
    });

    it('close stops what it started and can be called twice', async () => {
      const resource = fx.resource({ name: uniqueName('close'), replicaCount: 2 });
      await deployer.apply(resource);
      await readyCount(resource, 2);
      await deployer.close();
      expect(deployer.endpoints(refOf(resource))).toEqual([]);
      if (fx.closeStopsReplicas && fx.running) expect(await fx.running(refOf(resource))).toBe(false);
      await deployer.close();
    });
  });
}
