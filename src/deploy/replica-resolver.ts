/** @module replica-resolver: the ready replicas of an adapter, from the deployer that runs its runtime. */
import { runtimeOf } from '../registry/index.js';
import type { Registered, RuntimeKind } from '../registry/index.js';
import { NOTHING_HELD } from './deployer.js';
import type { Deployer, ReplicaEndpoint, SessionCount } from './deployer.js';
import type { RemoteDeployer } from './remote/remote-deployer.js';

/** Resolves ready replicas per runtime; the shape the data plane's `ReplicaResolver` expects. */
export interface DeployerReplicaResolver {
  ready(resource: Registered): readonly ReplicaEndpoint[];
  reportUnreachable(resource: Registered, replica: ReplicaEndpoint): void;
  /** The replica answered a request: a remote endpoint's next probe can wait. */
  reportAnswered(resource: Registered, replica: ReplicaEndpoint): void;
  /** True when a configured deployer serves the resource's runtime (remote endpoints always are). */
  runs(resource: Registered): boolean;
  /**
   * Starts a resource scaled down to zero and waits (at most `timeoutMs`) for a ready replica; undefined when its
   * runtime does not scale on demand (the caller answers "no ready replica" at once).
   */
  wake(resource: Registered, timeoutMs: number): Promise<readonly ReplicaEndpoint[]> | undefined;
  /** Marks an exchange in flight (it keeps the resource from scaling down); returns its end. */
  hold(resource: Registered): () => void;
  /** Where scale-down decisions read the data plane's open sessions per replica. */
  countSessionsWith(count: SessionCount): void;
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
    wake(resource, timeoutMs) {
      const runtime = runtimeOf(resource.spec);
      if (runtime === 'endpoints') return undefined;
      const deployer = deployers.get(runtime);
      return deployer?.wake?.({ kind: resource.kind, name: resource.name }, timeoutMs);
    },
    hold(resource) {
      const runtime = runtimeOf(resource.spec);
      if (runtime === 'endpoints') return NOTHING_HELD;
      return deployers.get(runtime)?.hold?.({ kind: resource.kind, name: resource.name }) ?? NOTHING_HELD;
    },
    countSessionsWith(count) {
      for (const deployer of deployers.values()) deployer.countSessionsWith?.(count);
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
