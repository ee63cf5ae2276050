/**
 * Tests of the process deployer's scale on demand (`minReplicas` below `replicaCount`) with the HTTP fixture
 * server and a clock the test moves: nothing starts at apply with `minReplicas: 0`; `wake` starts the replicas
 * once for every concurrent caller; an open session (the data plane's count) or an exchange in flight keeps them
 * past `idleSeconds`; idle, they are stopped down to `minReplicas`. Idle checks are observed through the session
 * count the deployer reads at each one, so the tests wait for checks, not for time.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { refOf } from '../resource-change.js';
import { eventually } from '../../../test/polling.js';
import {
  fastDeployer,
  killAllMarked,
  marker,
  processResource,
  runningCommands,
} from '../../../test/process-fixtures.js';
import type { ProcessDeployer, ScaleEvent } from './process-deployer.js';

afterAll(() => killAllMarked());

describe('ProcessDeployer: scale on demand', () => {
  const open: ProcessDeployer[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((d) => d.close()));
  });

  /** A deployer on a clock the test moves, counting idle checks (each reads the session count). */
  function setUp(fields: Record<string, unknown>, replicaCount = 1) {
    let now = 1_000_000;
    const events: ScaleEvent[] = [];
    const deployer = fastDeployer({
      clock: () => new Date(now),
      idleCheckMs: 10,
      onScale: (_ref, event) => events.push(event),
    });
    open.push(deployer);
    let sessions = 0;
    let checks = 0;
    deployer.countSessionsWith(() => {
      checks += 1;
      return sessions;
    });
    const value = marker();
    const resource = processResource('lazy', { replicaCount, marker: value, adapterFields: fields });
    return {
      deployer,
      resource,
      ref: refOf(resource),
      events,
      value,
      advance: (ms: number) => (now += ms),
      setSessions: (n: number) => (sessions = n),
      /** Resolves after `n` more idle checks. */
      checks: async (n: number) => {
        const target = checks + n;
        await eventually(() => checks >= target, `${n} idle checks`, 15_000, 5);
      },
    };
  }

  it('starts nothing for minReplicas 0, and one start for concurrent wakers', async () => {
    const t = setUp({ minReplicas: 0, idleSeconds: 60 });
    await t.deployer.apply(t.resource);
    expect(runningCommands(t.value)).toEqual([]);
    expect(await t.deployer.status(t.resource)).toMatchObject({
      readyReplicas: 0,
      replicaStatus: 'Idle: scaled to zero; the next request starts it',
    });
    const woken = await Promise.all([1, 2, 3].map(async () => (await t.deployer.wake(t.ref, 15_000))!));
    expect(woken.map((e) => e.length)).toEqual([1, 1, 1]);
    expect(new Set(woken.map((e) => e[0]!.id)).size).toBe(1);
    expect(t.events).toEqual([{ direction: 'up', replicas: 1 }]);
    expect(runningCommands(t.value)).toHaveLength(1);
    expect((await t.deployer.status(t.resource)).replicaStatus).toBe('Healthy');
    // A periodic re-apply (the reconciler) keeps a woken resource up.
    await t.deployer.apply(t.resource);
    expect(t.deployer.endpoints(t.ref)).toHaveLength(1);
  });

  it('never scales down under an open session or an exchange in flight; idle, it stops to minReplicas', async () => {
    const t = setUp({ minReplicas: 1, idleSeconds: 1 }, 3);
    await t.deployer.apply(t.resource);
    await eventually(() => t.deployer.endpoints(t.ref).length === 1, 'the minimum replica', 15_000, 20);
    expect((await t.deployer.status(t.resource)).replicaStatus).toBe(
      'Idle: 1/3 replicas until the next request',
    );
    // One replica is ready: the waker gets it at once, and the other two start.
    expect(await t.deployer.wake(t.ref, 15_000)).toHaveLength(1);
    await eventually(() => t.deployer.endpoints(t.ref).length === 3, 'three replicas', 15_000, 20);

    t.setSessions(1);
    t.advance(10_000);
    await t.checks(3);
    expect(t.events).toEqual([{ direction: 'up', replicas: 3 }]);
    expect(t.deployer.endpoints(t.ref)).toHaveLength(3);

    // The session ends, but a request is in flight (a long tools/call, a stream).
    t.setSessions(0);
    const release = t.deployer.hold(t.ref);
    t.advance(10_000);
    await t.checks(3);
    expect(t.deployer.endpoints(t.ref)).toHaveLength(3);
    release();

    // idleSeconds have not passed since the request ended: still up.
    await t.checks(1);
    expect(t.events).toHaveLength(1);
    t.advance(1_000);
    await eventually(() => t.events.length === 2, 'the scale-down', 15_000, 5);
    expect(t.events[1]).toEqual({ direction: 'down', replicas: 1 });
    expect(t.deployer.endpoints(t.ref)).toHaveLength(1);
    await eventually(() => runningCommands(t.value).length === 1, 'two replicas stopped', 15_000, 20);
    expect((await t.deployer.status(t.resource)).replicaStatus).toBe(
      'Idle: 1/3 replicas until the next request',
    );
  });

  it('turning minReplicas on for a running resource stops nothing until it is idle', async () => {
    const t = setUp({});
    await t.deployer.apply(t.resource);
    await eventually(() => t.deployer.endpoints(t.ref).length === 1, 'the replica', 15_000, 20);
    t.setSessions(1);
    const lazy = { ...t.resource, spec: { ...t.resource.spec, minReplicas: 0, idleSeconds: 1 } };
    await t.deployer.apply(lazy as typeof t.resource);
    t.advance(10_000);
    await t.checks(2);
    expect(t.deployer.endpoints(t.ref)).toHaveLength(1);
    t.setSessions(0);
    t.advance(10_000);
    await eventually(() => t.events.length === 1, 'the scale-down', 15_000, 5);
    expect(t.events).toEqual([{ direction: 'down', replicas: 0 }]);
    expect(t.deployer.endpoints(t.ref)).toHaveLength(0);
  });

  it('a resource without minReplicas neither waits nor counts (its 503 stays "no ready replica")', async () => {
    const t = setUp({});
    await t.deployer.apply(t.resource);
    await eventually(() => t.deployer.endpoints(t.ref).length === 1, 'the replica', 15_000, 20);
    expect(t.deployer.wake(t.ref, 15_000)).toBeUndefined();
    t.advance(10_000_000);
    expect(t.events).toEqual([]);
    expect(t.deployer.hold(t.ref)).toBe(t.deployer.hold(t.ref));
  });
});
