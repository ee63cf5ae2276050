/** @module RemoteInspector: status of the `endpoints` runtime from live probes; it has no logs. */
import type { Registered } from '../../registry/index.js';
import type { LogsResult, RuntimeStatus, StatusResult } from '../runtime-inspector.js';
import { summarizeReplicas } from '../runtime-inspector.js';
import { probeEndpoint } from './probe-endpoint.js';
import type { ProbeOptions } from './probe-endpoint.js';

/** Probes every endpoint of a remote resource in parallel. */
export async function remoteStatus(resource: Registered, options: ProbeOptions): Promise<StatusResult> {
  const endpoints = resource.spec.endpoints ?? [];
  const sse = resource.kind === 'adapter' && (resource as Registered<'adapter'>).spec.transport === 'sse';
  const replicas = await Promise.all(endpoints.map((url, i) => probeEndpoint(i, url, { ...options, sse })));
  const ready = replicas.filter((r) => r.ready).length;
  const status: RuntimeStatus = {
    readyReplicas: ready,
    updatedReplicas: endpoints.length,
    availableReplicas: ready,
    image: 'Unknown',
    replicaStatus: summarizeReplicas(ready, endpoints.length),
    runtime: 'endpoints',
    replicas,
  };
  return { ok: true, status };
}

/** The gateway does not run a remote server, so it holds no logs of it. */
export function remoteLogs(resource: Registered): LogsResult {
  return {
    ok: false,
    reason: 'no-logs',
    message: `${resource.kind === 'adapter' ? 'Adapter' : 'Tool'} '${resource.name}' runs at remote endpoints the gateway does not operate, so the gateway has no logs of it; read them where the server runs.`,
  };
}
