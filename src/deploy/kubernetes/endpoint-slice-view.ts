/**
 * @module endpoint-slice-view: the replica endpoints of one resource, read from the EndpointSlices the cluster's
 * EndpointSlice controller keeps for its Service (`discovery.k8s.io/v1`, label `kubernetes.io/service-name`),
 * and the endpoint path the Service carries. Slices arrive both from typed list calls and as raw watch JSON;
 * only fields that look the same in both are read.
 */
import type { ReplicaEndpoint } from '../deployer.js';
import { ANNOTATIONS, LABELS, PORT_NAME } from './manifests.js';
import type { EndpointAddressing } from './pod-view.js';

/** Labels the EndpointSlice controller writes on every slice it manages. */
export const SLICE_LABELS = {
  serviceName: 'kubernetes.io/service-name',
  managedBy: 'endpointslice.kubernetes.io/managed-by',
} as const;

/**
 * The only slice manager the gateway trusts: Kubernetes' own controller, which derives a slice from the
 * Service's selector. A slice someone else wrote with the gateway's labels is not routed to.
 */
export const SLICE_CONTROLLER = 'endpointslice-controller.k8s.io';

/** The fields of an EndpointSlice the deployer reads. */
export interface EndpointSliceView {
  readonly metadata?: {
    readonly name?: string;
    readonly resourceVersion?: string;
    readonly labels?: Readonly<Record<string, string>>;
  };
  readonly addressType?: string;
  readonly endpoints?: readonly {
    readonly addresses?: readonly string[];
    readonly conditions?: {
      readonly ready?: boolean | null;
      readonly serving?: boolean | null;
      readonly terminating?: boolean | null;
    };
    readonly hostname?: string;
    readonly targetRef?: { readonly kind?: string; readonly name?: string; readonly uid?: string };
  }[];
  readonly ports?: readonly { readonly name?: string; readonly port?: number }[] | null;
}

/** The fields of a Service the deployer reads. */
export interface ServiceView {
  readonly metadata?: {
    readonly name?: string;
    readonly resourceVersion?: string;
    readonly labels?: Readonly<Record<string, string>>;
    readonly annotations?: Readonly<Record<string, string>>;
  };
}

/** Where one endpoint stands, from its three conditions (a missing one read as the API defines it). */
export type EndpointState = 'accepting' | 'draining' | 'unroutable';

/**
 * `serving` (nil: true) says the pod's readiness probe passes; `terminating` (nil: false) that it is being
 * deleted; `ready` (nil: true) is `serving && !terminating`, except under `publishNotReadyAddresses` — which
 * the adapters' headless Service sets — where the controller writes `true` whatever the pod does. So: a
 * serving endpoint takes new work unless it is terminating (or, from another manager, not ready), and a
 * terminating one that still serves keeps only the sessions it holds.
 */
export function endpointState(
  conditions: NonNullable<EndpointSliceView['endpoints']>[number]['conditions'],
): EndpointState {
  const serving = conditions?.serving ?? true;
  if (!serving) return 'unroutable';
  const terminating = conditions?.terminating ?? false;
  const ready = conditions?.ready ?? true;
  return ready && !terminating ? 'accepting' : 'draining';
}

/**
 * The replica id of a pod endpoint: `{pod name}/{uid prefix}`, e.g. `mcp-a-weather-0/5f3e2a1b`. A StatefulSet
 * pod keeps its name when it is replaced (rollout, eviction) but not its uid, so a sealed session bound to the
 * old pod gets the gateway's own 404 instead of reaching a server that never heard of it. A slice does not
 * carry a container's restart count: after a restart in place the id stays, and the restarted server answers
 * the old session's id with its own 404 (the client re-initialises either way).
 */
export function sliceReplicaId(
  targetRef: { readonly name?: string; readonly uid?: string } | undefined,
): string | undefined {
  const name = targetRef?.name;
  if (!name) return undefined;
  const uid = (targetRef.uid ?? '').replace(/-/g, '').slice(0, 8) || 'nouid';
  return `${name}/${uid}`;
}

/**
 * The endpoints one Service's slices publish, sorted by id, each once. Adapters are addressed by the per-pod
 * DNS name the headless Service gives (`{hostname}.{service}.{namespace}.svc.{domain}`), tools by address;
 * the port is the slice's `mcp` port (the pod's own container port), the path the Service's annotation. An
 * endpoint not serving is left out; a serving terminating one is published as draining.
 */
export function endpointsFromSlices(
  service: ServiceView | undefined,
  slices: Iterable<EndpointSliceView>,
  addressing: EndpointAddressing,
): ReplicaEndpoint[] {
  const serviceName = service?.metadata?.name;
  const path = service?.metadata?.annotations?.[ANNOTATIONS.path];
  if (!serviceName || path === undefined) return [];
  const headless = service.metadata?.labels?.[LABELS.component] === 'adapter';
  const byId = new Map<string, ReplicaEndpoint>();
  for (const slice of slices) {
    const labels = slice.metadata?.labels;
    if (
      labels?.[SLICE_LABELS.serviceName] !== serviceName ||
      labels[SLICE_LABELS.managedBy] !== SLICE_CONTROLLER
    )
      continue;
    if (slice.addressType !== 'IPv4' && slice.addressType !== 'IPv6') continue;
    const port = slice.ports?.find((p) => p.name === PORT_NAME)?.port;
    if (port === undefined) continue;
    for (const endpoint of slice.endpoints ?? []) {
      const state = endpointState(endpoint.conditions);
      if (state === 'unroutable') continue;
      if (endpoint.targetRef?.kind !== 'Pod') continue;
      const id = sliceReplicaId(endpoint.targetRef);
      if (!id) continue;
      let host: string | undefined;
      if (headless) {
        if (endpoint.hostname)
          host = `${endpoint.hostname}.${serviceName}.${addressing.namespace}.svc.${addressing.clusterDomain}`;
      } else {
        const ip = endpoint.addresses?.[0];
        if (ip) host = ip.includes(':') ? `[${ip}]` : ip;
      }
      if (!host) continue;
      const previous = byId.get(id);
      // The controller may list an endpoint in two slices for a moment while it moves it, and which copy is
      // newer is unknown: if either says it is draining, it takes no new work.
      if (previous?.draining) continue;
      byId.set(id, {
        id,
        url: `http://${host}:${port}${path}`,
        weight: 1,
        ...(state === 'draining' ? { draining: true } : {}),
      });
    }
  }
  return [...byId.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}
