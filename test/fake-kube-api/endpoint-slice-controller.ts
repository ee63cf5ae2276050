/**
 * @module endpoint-slice-controller: the fake cluster's EndpointSlice controller, following the real one's
 * rules (kube-controller-manager's `endpointslice-controller.k8s.io`): for every Service with a selector, the
 * pods it selects that have an IP and are not terminal become endpoints — terminating ones included — with
 * `serving` = the pod's Ready condition, `terminating` = it has a deletion timestamp, and `ready` = `serving &&
 * !terminating`, or always `true` under `publishNotReadyAddresses`. Addresses are pod IPs; ports are the
 * Service's, with the target port resolved against each pod (by name or number), one slice per distinct port
 * set and at most 100 endpoints per slice, a placeholder slice when nothing is selected. Slices carry the
 * Service's labels plus `kubernetes.io/service-name`, `endpointslice.kubernetes.io/managed-by` and, for a
 * headless Service, `service.kubernetes.io/headless`; they are owned by the Service and go with it. Each
 * write is validated like any other object, and runs a microtask after the change that caused it, so watches
 * see events in resource-version order.
 */
import { randomBytes } from 'node:crypto';
import type { JsonObject, KubeObject, ObjectStore, StoreEvent } from './object-store.js';
import { validateObject } from './validation.js';

/** The label naming a slice's Service. */
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
/** The label naming a slice's manager. */
export const MANAGED_BY_LABEL = 'endpointslice.kubernetes.io/managed-by';
/** The real controller's name, in that label. */
export const CONTROLLER_NAME = 'endpointslice-controller.k8s.io';
const HEADLESS_LABEL = 'service.kubernetes.io/headless';
const TRIGGER_ANNOTATION = 'endpoints.kubernetes.io/last-change-trigger-time';
const RESERVED = new Set([SERVICE_NAME_LABEL, MANAGED_BY_LABEL, HEADLESS_LABEL]);
/** kube-controller-manager's default `--max-endpoints-per-slice`. */
const MAX_ENDPOINTS_PER_SLICE = 100;

type Port = { name: string; port: number; protocol: string; appProtocol?: string };

function podStatus(pod: KubeObject): JsonObject {
  return (pod['status'] ?? {}) as JsonObject;
}

function isPodReady(pod: KubeObject): boolean {
  const conditions = (podStatus(pod)['conditions'] ?? []) as JsonObject[];
  return conditions.some((c) => c['type'] === 'Ready' && c['status'] === 'True');
}

/** `ShouldPodBeInEndpoints(pod, includeTerminating=true)`: not terminal, has an IP. */
function belongsInSlices(pod: KubeObject): boolean {
  const phase = podStatus(pod)['phase'];
  if (phase === 'Succeeded' || phase === 'Failed') return false;
  const ips = (podStatus(pod)['podIPs'] ?? []) as JsonObject[];
  return Boolean(podStatus(pod)['podIP']) || ips.length > 0;
}

/** `FindPort`: a numeric target port as is, a named one from the pod's container ports. */
function resolvePort(pod: KubeObject, servicePort: JsonObject): number | undefined {
  const target = servicePort['targetPort'] ?? servicePort['port'];
  if (typeof target === 'number') return target;
  const containers = (((pod['spec'] ?? {}) as JsonObject)['containers'] ?? []) as JsonObject[];
  for (const container of containers)
    for (const port of (container['ports'] ?? []) as JsonObject[])
      if (port['name'] === target && (port['protocol'] ?? 'TCP') === (servicePort['protocol'] ?? 'TCP'))
        return port['containerPort'] as number;
  return undefined;
}

function randomSuffix(): string {
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  return [...randomBytes(5)].map((b) => alphabet[b % alphabet.length]).join('');
}

/** Keeps the EndpointSlices of every Service in line with its pods. */
export class EndpointSliceController {
  private readonly pending = new Set<string>();
  private readonly unsubscribe: () => void;

  constructor(private readonly store: ObjectStore) {
    this.unsubscribe = store.subscribe((event) => this.onEvent(event));
  }

  /** Stops reacting to changes. */
  stop(): void {
    this.unsubscribe();
  }

  /** Brings every Service's slices in `namespace` in line now (changes also do so on their own). */
  sync(namespace: string): void {
    const services = this.store.list('services', namespace);
    const slices = this.store.list('endpointslices', namespace);
    for (const slice of slices) {
      const owner = slice.metadata.labels?.[SERVICE_NAME_LABEL];
      if (slice.metadata.labels?.[MANAGED_BY_LABEL] !== CONTROLLER_NAME) continue;
      const service = services.find((s) => s.metadata.name === owner);
      const selector = ((service?.['spec'] ?? {}) as JsonObject)['selector'];
      // The garbage collector (owner gone) or the controller (the Service lost its selector).
      const ownedBy = slice.metadata.ownerReferences?.some((r) => r.uid === service?.metadata.uid);
      if (!service || !ownedBy || !selector || Object.keys(selector).length === 0)
        this.store.delete('endpointslices', namespace, slice.metadata.name);
    }
    for (const service of services) this.syncService(namespace, service);
  }

  private onEvent(event: StoreEvent): void {
    if (event.plural !== 'pods' && event.plural !== 'services') return;
    if (this.pending.size === 0) queueMicrotask(() => this.flush());
    this.pending.add(event.namespace);
  }

  private flush(): void {
    const namespaces = [...this.pending];
    this.pending.clear();
    for (const namespace of namespaces) this.sync(namespace);
  }

  private syncService(namespace: string, service: KubeObject): void {
    const spec = (service['spec'] ?? {}) as JsonObject;
    const selector = spec['selector'] as Record<string, string> | undefined;
    if (!selector || Object.keys(selector).length === 0) return;
    const name = service.metadata.name;
    const publishNotReady = spec['publishNotReadyAddresses'] === true;
    const servicePorts = (spec['ports'] ?? []) as JsonObject[];
    const groups = new Map<string, { ports: Port[]; endpoints: JsonObject[] }>();
    const pods = this.store
      .list('pods', namespace)
      .filter((p) => Object.entries(selector).every(([k, v]) => p.metadata.labels?.[k] === v))
      .filter(belongsInSlices);
    for (const pod of pods) {
      const ports: Port[] = [];
      for (const servicePort of servicePorts) {
        const port = resolvePort(pod, servicePort);
        if (port === undefined) continue;
        ports.push({
          name: String(servicePort['name'] ?? ''),
          port,
          protocol: String(servicePort['protocol'] ?? 'TCP'),
          ...(servicePort['appProtocol'] ? { appProtocol: String(servicePort['appProtocol']) } : {}),
        });
      }
      const serving = isPodReady(pod);
      const terminating = pod.metadata.deletionTimestamp !== undefined;
      const podSpec = (pod['spec'] ?? {}) as JsonObject;
      const hostname = podSpec['hostname'];
      const endpoint: JsonObject = {
        addresses: [String(podStatus(pod)['podIP'])],
        conditions: { ready: publishNotReady || (serving && !terminating), serving, terminating },
        ...(typeof hostname === 'string' && hostname && podSpec['subdomain'] === name ? { hostname } : {}),
        targetRef: { kind: 'Pod', namespace, name: pod.metadata.name, uid: pod.metadata.uid },
        ...(podSpec['nodeName'] ? { nodeName: podSpec['nodeName'] } : {}),
      };
      const key = JSON.stringify(ports);
      const group = groups.get(key) ?? { ports, endpoints: [] };
      group.endpoints.push(endpoint);
      groups.set(key, group);
    }
    const desired: { ports: Port[] | undefined; endpoints: JsonObject[] }[] = [];
    for (const group of groups.values())
      for (let i = 0; i < group.endpoints.length; i += MAX_ENDPOINTS_PER_SLICE)
        desired.push({
          ports: group.ports,
          endpoints: group.endpoints.slice(i, i + MAX_ENDPOINTS_PER_SLICE),
        });
    // Nothing selected: one placeholder slice, as the real controller keeps.
    if (desired.length === 0) desired.push({ ports: undefined, endpoints: [] });

    const existing = this.store
      .list('endpointslices', namespace)
      .filter(
        (s) =>
          s.metadata.labels?.[SERVICE_NAME_LABEL] === name &&
          s.metadata.labels[MANAGED_BY_LABEL] === CONTROLLER_NAME,
      );
    const labels: Record<string, string> = {};
    for (const [k, v] of Object.entries(service.metadata.labels ?? {})) if (!RESERVED.has(k)) labels[k] = v;
    if (spec['clusterIP'] === 'None') labels[HEADLESS_LABEL] = '';
    labels[SERVICE_NAME_LABEL] = name;
    labels[MANAGED_BY_LABEL] = CONTROLLER_NAME;
    const owner = {
      apiVersion: 'v1',
      kind: 'Service',
      name,
      uid: service.metadata.uid ?? '',
      controller: true,
      blockOwnerDeletion: true,
    };
    const unused = [...existing];
    for (const want of desired) {
      // Reuse a slice with the same ports (the real controller fills existing slices before creating one).
      const index = unused.findIndex(
        (s) => JSON.stringify(s['ports'] ?? null) === JSON.stringify(want.ports),
      );
      const live = index >= 0 ? unused.splice(index, 1)[0] : undefined;
      const same =
        live &&
        JSON.stringify(live['endpoints'] ?? []) === JSON.stringify(want.endpoints) &&
        JSON.stringify(live.metadata.labels) === JSON.stringify(labels);
      if (same) continue;
      const slice: KubeObject = {
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: {
          ...(live?.metadata ?? { name: `${name}-${randomSuffix()}`, generateName: `${name}-` }),
          namespace,
          labels,
          annotations: { [TRIGGER_ANNOTATION]: this.store.now() },
          ownerReferences: [owner],
        },
        addressType: 'IPv4',
        endpoints: want.endpoints,
        ...(want.ports ? { ports: want.ports } : {}),
      };
      const causes = validateObject('endpointslices', slice, live);
      if (causes.length > 0)
        throw new Error(`fake EndpointSlice controller wrote an invalid slice: ${JSON.stringify(causes)}`);
      if (live) this.store.update('endpointslices', namespace, slice);
      else this.store.create('endpointslices', namespace, slice);
    }
    for (const stale of unused) this.store.delete('endpointslices', namespace, stale.metadata.name);
  }
}
