/** @module RuntimeInspector: the port the control plane reads live status and logs through. */
import type { Registered, RuntimeKind } from '../registry/index.js';

/** One replica as observed now. */
export interface ReplicaState {
  readonly instance: number;
  readonly endpoint?: string;
  readonly ready: boolean;
  /** Short state word, e.g. `Reachable`, `Unreachable`, `Unhealthy`. */
  readonly state: string;
  readonly detail?: string;
  readonly latencyMs?: number;
  readonly checkedAt: Date;
  /** Open legacy sessions: the replica's own count (stdio bridge), else what this gateway instance counts. */
  readonly sessions?: number;
  /** The replica's session cap, when it has one. */
  readonly maxSessions?: number;
}

/** The reference's `AdapterStatus`, plus the runtime and a per-replica list. */
export interface RuntimeStatus {
  readonly readyReplicas: number;
  readonly updatedReplicas: number;
  readonly availableReplicas: number;
  readonly image: string;
  /** `Healthy` or `Degraded: r/n ready`. */
  readonly replicaStatus: string;
  readonly runtime: RuntimeKind;
  readonly replicas: readonly ReplicaState[];
}

/** Why an inspector could not answer. */
export interface Unavailable {
  readonly ok: false;
  /** `no-logs`: this runtime has none; `not-built`: the gateway cannot run this runtime yet. */
  readonly reason: 'no-logs' | 'not-built';
  readonly message: string;
}

export type StatusResult = { readonly ok: true; readonly status: RuntimeStatus } | Unavailable;
export type LogsResult = { readonly ok: true; readonly text: string } | Unavailable;

/** Options of a logs read. */
export interface LogsOptions {
  readonly instance: number;
  readonly tail: number;
}

/** Reads what is running for a registered resource. */
export interface RuntimeInspector {
  status(resource: Registered): Promise<StatusResult>;
  logs(resource: Registered, options: LogsOptions): Promise<LogsResult>;
  /** The last lines, then new ones as they come, until `signal` aborts; absent where logs cannot be followed. */
  follow?(
    resource: Registered,
    options: LogsOptions & { readonly signal?: AbortSignal },
  ): Promise<LogsResult | { readonly ok: true; readonly stream: ReadableStream<Uint8Array> }>;
}

/** `Healthy` when every replica is ready, else the reference's `Degraded: r/n ready`. */
export function summarizeReplicas(ready: number, desired: number): string {
  return ready === desired ? 'Healthy' : `Degraded: ${ready}/${desired} ready`;
}
