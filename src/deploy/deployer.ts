/**
 * @module Deployer: the port every runtime implements (local processes, Kubernetes, remote URLs). A deployer
 * converges what runs to a registered spec, reports status and logs, and publishes the ready endpoints the
 * data plane and tool router route to.
 */
import type { Registered, ResourceKind, RuntimeKind } from '../registry/index.js';
import type { LogsResult, RuntimeStatus } from './runtime-inspector.js';

/** Identifies a registered resource. */
export interface ResourceRef {
  readonly kind: ResourceKind;
  readonly name: string;
}

/** One replica the gateway may send traffic to. */
export interface ReplicaEndpoint {
  /**
   * Stable id of the replica (e.g. `weather-0`, a pod name, or the endpoint URL): rendezvous hashing and sealed
   * session ids refer to it, so it must not change while the replica lives, and must differ after a restart
   * that loses in-memory MCP sessions only if the deployer can tell.
   */
  readonly id: string;
  /** Full URL of the replica's MCP endpoint (adapters) or tool endpoint (tools), e.g. `http://127.0.0.1:4100/mcp`. */
  readonly url: string;
  /** Relative capacity for weighted rendezvous hashing; 1 unless the deployer knows better. */
  readonly weight: number;
  /** Most sessions the replica itself accepts, when its runtime has such a cap (the stdio bridge's). */
  readonly maxSessions?: number;
  /**
   * The replica is shutting down but still serving (a terminating pod): the sessions it already holds keep
   * reaching it, but no new session or stateless request is placed on it. Absent means false.
   */
  readonly draining?: boolean;
}

/**
 * The endpoints that take new work (sessions, stateless requests): all but the draining ones. Returns `endpoints`
 * itself when none is draining, so the per-request path allocates nothing in the common case.
 */
export function acceptingNew(endpoints: readonly ReplicaEndpoint[]): readonly ReplicaEndpoint[] {
  return endpoints.some((e) => e.draining === true)
    ? endpoints.filter((e) => e.draining !== true)
    : endpoints;
}

/** Options of a logs read. */
export interface DeployerLogsOptions {
  readonly instance: number;
  readonly tail: number;
  /** Keep the response open and stream new lines as they come. */
  readonly follow?: boolean;
  /** Aborted when the client goes away (follow mode). */
  readonly signal?: AbortSignal;
}

/** Logs as text, or as a stream when following. */
export type DeployerLogs = LogsResult | { readonly ok: true; readonly stream: ReadableStream<Uint8Array> };

/** Open sessions the data plane counts on one replica of a resource (by the id its endpoint carries). */
export type SessionCount = (resource: Registered, replicaId: string) => number;

/** A no-op end of a {@link Deployer.hold}: what resources without scaling get, allocation-free. */
export const NOTHING_HELD = (): void => undefined;

/** Called when the ready endpoints of a resource change. */
export type EndpointsListener = (ref: ResourceRef, endpoints: readonly ReplicaEndpoint[]) => void;

/**
 * Runs resources of one runtime. Every method is idempotent, and a crash between any two calls leaves a
 * state the next `apply`/`remove` repairs.
 */
export interface Deployer {
  /** The runtime this deployer serves. */
  readonly runtime: RuntimeKind;
  /** Converges what runs to the spec (create, scale, replace). Returns once the change is started, not ready. */
  apply(resource: Registered): Promise<void>;
  /** Stops and removes everything run for the resource; a no-op when nothing runs. */
  remove(ref: ResourceRef): Promise<void>;
  /** Every resource this deployer currently runs something for (so the reconciler can remove orphans). */
  list(): Promise<ResourceRef[]>;
  status(resource: Registered): Promise<RuntimeStatus>;
  logs(resource: Registered, options: DeployerLogsOptions): Promise<DeployerLogs>;
  /** Ready endpoints now (cached; cheap enough for the per-request path). Empty when none or unknown. */
  endpoints(ref: ResourceRef): readonly ReplicaEndpoint[];
  /** Subscribes to endpoint changes; returns the unsubscribe function. */
  onEndpointsChange(listener: EndpointsListener): () => void;
  /**
   * Scale on demand (the process runtime's `minReplicas`): starts the replicas of a resource that was scaled
   * down, and resolves with its ready endpoints once one accepts new work, or after `timeoutMs` with whatever is
   * ready then (possibly none). Concurrent calls share one start. Absent on runtimes that always run
   * `replicaCount` replicas; undefined for a resource that does not scale (nothing to wait for).
   */
  wake?(ref: ResourceRef, timeoutMs: number): Promise<readonly ReplicaEndpoint[]> | undefined;
  /**
   * Marks an exchange with the resource in flight (a request or a stream), which keeps it from being scaled down;
   * returns the function that ends it (idempotent). Absent where nothing scales down.
   */
  hold?(ref: ResourceRef): () => void;
  /** Where scale-down decisions read the sessions the data plane holds on a replica (its session ledger). */
  countSessionsWith?(count: SessionCount): void;
  /** Stops everything this deployer started (gateway shutdown) and releases its resources. */
  close(): Promise<void>;
}
