/** @module Tests of InMemoryDeployer: the Deployer contract, which it must pass like any real deployer. */
import type { Registered } from '../src/registry/index.js';
import { runDeployerContract } from '../src/deploy/deployer.contract.js';
import { InMemoryDeployer } from './in-memory-deployer.js';

runDeployerContract('in-memory', async () => {
  const deployer = new InMemoryDeployer();
  return {
    deployer,
    closeStopsReplicas: true,
    timeoutMs: 2_000,
    logLine: 'running',
    resource: ({ name, replicaCount, environmentVariables = {} }): Registered => ({
      kind: 'adapter',
      name,
      uid: `uid-${name}`,
      version: 1,
      createdBy: 'test',
      createdAt: new Date(0),
      lastUpdatedAt: new Date(0),
      spec: {
        command: 'true',
        args: [],
        transport: 'streamable-http',
        environmentVariables,
        replicaCount,
        description: '',
        useWorkloadIdentity: false,
        requiredRoles: [],
      },
    }),
    running: async (ref) => deployer.endpoints(ref).length > 0,
  };
});
