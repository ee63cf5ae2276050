/**
 * @module session-status: adds the data plane's session counts to `/adapters/{name}/status` for replicas whose
 * runtime does not count sessions itself (remote endpoints, Kubernetes pods): `sessions` per replica as this
 * gateway instance holds them, the adapter's `maxSessionsPerReplica` as `maxSessions`, and `Full` or `Degraded`
 * when ready replicas are at that cap. Replicas that report their own count (the stdio bridge) keep it.
 */
import type { RuntimeInspector, StatusResult } from '../deploy/runtime-inspector.js';
import type { Registered } from '../registry/index.js';
import type { ReplicaResolver } from './mcp-proxy.js';
import type { SessionLedger } from './session-ledger.js';

/** Wraps `inspector` so adapter status carries this instance's session counts. */
export function withSessionCounts(
  inspector: RuntimeInspector,
  sessions: SessionLedger,
  replicas: ReplicaResolver,
): RuntimeInspector {
  return {
    logs: (resource, options) => inspector.logs(resource, options),
    ...(inspector.follow && { follow: inspector.follow.bind(inspector) }),
    async status(resource): Promise<StatusResult> {
      const result = await inspector.status(resource);
      if (!result.ok || resource.kind !== 'adapter') return result;
      const adapter = resource as Registered<'adapter'>;
      const cap = adapter.spec.maxSessionsPerReplica;
      // Status names a replica by its URL; the ledger by its id.
      const idOf = new Map(replicas.ready(adapter).map((r) => [r.url, r.id]));
      let counted = false;
      const states = result.status.replicas.map((state) => {
        if (state.sessions !== undefined || state.endpoint === undefined) return state;
        const id = idOf.get(state.endpoint);
        if (id === undefined) return state;
        counted = true;
        return {
          ...state,
          sessions: sessions.sessionsOn(adapter, id),
          ...(cap !== undefined && { maxSessions: cap }),
        };
      });
      if (!counted) return result;
      const { status } = result;
      let replicaStatus = status.replicaStatus;
      const ready = states.filter((s) => s.ready);
      const full = ready.filter((s) => s.maxSessions !== undefined && (s.sessions ?? 0) >= s.maxSessions);
      if (status.replicaStatus === 'Healthy' && full.length > 0) {
        replicaStatus =
          full.length === ready.length
            ? `Full: every replica is at its session cap (${ready.length}/${states.length})`
            : `Degraded: ${full.length}/${states.length} replicas at their session cap`;
      }
      return { ok: true, status: { ...status, replicaStatus, replicas: states } };
    },
  };
}
