/** @module Tests of createDeployerInspector: dispatch by runtime, reconcile failures, fallback, follow. */
import { describe, expect, it } from 'vitest';
import type { Registered } from '../registry/index.js';
import { createDeployerInspector } from './deployer-inspector.js';
import { InMemoryDeployer } from '../../test/in-memory-deployer.js';
import type { ReconcileResult } from './reconciler.js';
import type { RuntimeInspector } from './runtime-inspector.js';

const base = {
  uid: 'uid-1',
  version: 1,
  createdBy: 'a',
  createdAt: new Date(0),
  lastUpdatedAt: new Date(0),
  kind: 'adapter' as const,
};
const common = { environmentVariables: {}, description: '', useWorkloadIdentity: false, requiredRoles: [] };
const command: Registered = {
  ...base,
  name: 'cmd',
  spec: { ...common, replicaCount: 2, command: 'x', args: [] },
};
const image: Registered = {
  ...base,
  name: 'img',
  spec: { ...common, replicaCount: 1, imageName: 'a/b', imageVersion: '1' },
};
const remote: Registered = {
  ...base,
  name: 'rem',
  spec: { ...common, replicaCount: 1, endpoints: ['http://x'] },
};

describe('createDeployerInspector', () => {
  it("answers status and logs from the resource's runtime deployer", async () => {
    const deployer = new InMemoryDeployer({ runtime: 'command' });
    await deployer.apply(command);
    const inspector = createDeployerInspector({ deployers: [deployer] });
    const status = await inspector.status(command);
    expect(status.ok && status.status).toMatchObject({
      readyReplicas: 2,
      replicaStatus: 'Healthy',
      runtime: 'command',
    });
    expect(await inspector.logs(command, { instance: 1, tail: 10 })).toEqual({
      ok: true,
      text: 'replica 1 running\n',
    });
  });

  it('shows a failed reconcile step as Failed: <reason>', async () => {
    const deployer = new InMemoryDeployer({ runtime: 'command' });
    const failure: ReconcileResult = {
      ok: false,
      action: 'apply',
      message: 'quota exceeded',
      at: new Date(),
    };
    const inspector = createDeployerInspector({
      deployers: [deployer],
      reconciler: { lastResult: () => failure },
    });
    const status = await inspector.status(command);
    expect(status.ok && status.status.replicaStatus).toBe('Failed: quota exceeded');
  });

  it('says not-built for a runtime without deployer, or asks the fallback', async () => {
    const inspector = createDeployerInspector({ deployers: [new InMemoryDeployer({ runtime: 'command' })] });
    expect(await inspector.status(image)).toMatchObject({ ok: false, reason: 'not-built' });
    expect(await inspector.logs(image, { instance: 0, tail: 1 })).toMatchObject({
      ok: false,
      reason: 'not-built',
    });
    const fallback: RuntimeInspector = {
      status: async () => ({ ok: false, reason: 'no-logs', message: 'fallback status' }),
      logs: async () => ({ ok: false, reason: 'no-logs', message: 'fallback logs' }),
    };
    const withFallback = createDeployerInspector({ deployers: [], fallback });
    expect(await withFallback.status(remote)).toMatchObject({ message: 'fallback status' });
    expect(await withFallback.logs(remote, { instance: 0, tail: 1 })).toMatchObject({
      message: 'fallback logs',
    });
    expect(await withFallback.follow(remote, { instance: 0, tail: 1 })).toMatchObject({
      message: 'fallback logs',
    });
  });

  it('follows logs as a stream that ends with the signal', async () => {
    const deployer = new InMemoryDeployer({ runtime: 'command' });
    await deployer.apply(command);
    const abort = new AbortController();
    const logs = await createDeployerInspector({ deployers: [deployer] }).follow(command, {
      instance: 0,
      tail: 5,
      signal: abort.signal,
    });
    if (!logs.ok || !('stream' in logs)) throw new Error('expected a stream');
    const reader = logs.stream.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toBe('replica 0 running\n');
    abort.abort();
    expect((await reader.read()).done).toBe(true);
  });
});
