/**
 * @module The Deployer contract, run against KubernetesDeployer with the real @kubernetes/client-node and a
 * fake API server per case (pods start ready and log `listening`, as a healthy MCP server would).
 */
import { afterAll, expect } from 'vitest';
import { LABELS, objectName } from './index.js';
import { runDeployerContract } from '../deployer.contract.js';
import { imageResource, startKubeTestKit, ungrantedRequests } from '../../../test/fake-kube-api/index.js';
import type { AuditRecord } from '../../../test/fake-kube-api/index.js';

const seen: AuditRecord[] = [];

runDeployerContract('KubernetesDeployer', async () => {
  const kit = await startKubeTestKit({ api: { startupLog: ['listening on :8000'] } });
  return {
    deployer: kit.deployer,
    // Workloads belong to the cluster: closing the gateway leaves them running for the next gateway.
    closeStopsReplicas: false,
    timeoutMs: 5_000,
    logLine: 'listening',
    resource: ({ name, replicaCount, environmentVariables = {} }) =>
      imageResource('adapter', name, { replicaCount, environmentVariables }),
    async running(ref) {
      const name = objectName(ref);
      const pods = kit.api.store
        .list('pods', kit.namespace)
        .filter((p) => p.metadata.labels?.[LABELS.instance] === name);
      return Boolean(kit.api.store.get('statefulsets', kit.namespace, name)) || pods.length > 0;
    },
    async dispose() {
      seen.push(...kit.api.requests);
      await kit.api.close();
    },
  };
});

afterAll(async () => {
  // Every request the contract made is one the shipped Role allows.
  expect(await ungrantedRequests(seen)).toEqual([]);
});
