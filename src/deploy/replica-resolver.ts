/** @module replica-resolver: the ready replicas of an adapter, from the deployer that runs its runtime. */
import { runtimeOf } from '../registry/index.js';
import type { Registered, RuntimeKind } from '../registry/index.js';
import type { Deployer, ReplicaEndpoint } from './deployer.js';
import type { RemoteDeployer } from './remote/remote-deployer.js';

/** Resolves ready replicas per runtime; the shape the data plane's `ReplicaResolver` expects. */
export interface DeployerReplicaResolver {
  ready(resource: Registered): readonly ReplicaEndpoint[];
  reportUnreachable(resource: Registered, replica: ReplicaEndpoint): void;
  /** The replica answered a request: a remote endpoint's next probe can wait. */
  reportAnswered(resource: Registered, replica: ReplicaEndpoint): void;
  /** True when a configured deployer serves the resource's runtime (remote endpoints always are). */
  runs(resource: Registered): boolean;
}

/**
 * Remote endpoints are read from the spec itself (filtered by health), so a just-registered adapter routes
 * before any reconcile pass; other runtimes publish what their deployer watches.
 */
export function createReplicaResolver(
  remote: RemoteDeployer,
  deployers: ReadonlyMap<RuntimeKind, Deployer>,
): DeployerReplicaResolver {
  return {
    ready(resource) {
      const runtime = runtimeOf(resource.spec);
      if (runtime === 'endpoints') return remote.endpointsOf(resource);
      return deployers.get(runtime)?.endpoints({ kind: resource.kind, name: resource.name }) ?? [];
    },
    runs(resource) {
      const runtime = runtimeOf(resource.spec);
      return runtime === 'endpoints' || deployers.has(runtime);
    },
    reportUnreachable(resource, replica) {
      if (runtimeOf(resource.spec) === 'endpoints') remote.reportUnreachable(replica.url);
    },
    reportAnswered(resource, replica) {
      if (runtimeOf(resource.spec) === 'endpoints') remote.reportAnswered(replica.url);
    },
  };
}
