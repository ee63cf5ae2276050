/**
 * @module pod-view: what status reads from a pod — readiness, its endpoint URL, and a per-replica status line
 * (routing reads EndpointSlices instead: endpoint-slice-view). Pods arrive both from typed list calls and as raw watch JSON, so only fields that look the same in both
 * (strings, numbers, booleans; timestamps only tested for presence) are read.
 */
import type { ReplicaState } from '../runtime-inspector.js';
import { ANNOTATIONS, CONTAINER_NAME, LABELS, PORT_NAME } from './manifests.js';

interface ContainerStateView {
  readonly running?: object;
  readonly waiting?: { readonly reason?: string; readonly message?: string };
  readonly terminated?: { readonly reason?: string; readonly exitCode?: number; readonly message?: string };
}

/** The fields of a pod the deployer reads. */
export interface PodView {
  readonly metadata?: {
    readonly name?: string;
    readonly uid?: string;
    readonly labels?: Readonly<Record<string, string>>;
    readonly annotations?: Readonly<Record<string, string>>;
    readonly deletionTimestamp?: unknown;
    readonly resourceVersion?: string;
  };
  readonly spec?: {
    readonly containers?: readonly {
      readonly name?: string;
      readonly image?: string;
      readonly ports?: readonly { readonly name?: string; readonly containerPort?: number }[];
    }[];
  };
  readonly status?: {
    readonly phase?: string;
    readonly podIP?: string;
    readonly reason?: string;
    readonly message?: string;
    readonly conditions?: readonly { readonly type?: string; readonly status?: string }[];
    readonly containerStatuses?: readonly {
      readonly name?: string;
      readonly image?: string;
      readonly ready?: boolean;
      readonly restartCount?: number;
      readonly state?: ContainerStateView;
      readonly lastState?: ContainerStateView;
    }[];
  };
}

/** Ready means: the Ready condition holds and the pod is not being deleted. */
export function isPodReady(pod: PodView): boolean {
  if (pod.metadata?.deletionTimestamp) return false;
  return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

/** The ordinal of a StatefulSet pod (`mcp-a-x-2` → 2), or undefined. */
export function ordinalOf(pod: PodView): number | undefined {
  const instance = pod.metadata?.labels?.[LABELS.instance];
  const name = pod.metadata?.name ?? '';
  if (!instance || !name.startsWith(`${instance}-`)) return undefined;
  const ordinal = Number(name.slice(instance.length + 1));
  return Number.isInteger(ordinal) && ordinal >= 0 ? ordinal : undefined;
}

function mcpPort(pod: PodView): number | undefined {
  const container = pod.spec?.containers?.find((c) => c.name === CONTAINER_NAME);
  return container?.ports?.find((p) => p.name === PORT_NAME)?.containerPort;
}

/** Where to reach this pod's DNS zone and how adapters are addressed. */
export interface EndpointAddressing {
  readonly namespace: string;
  readonly clusterDomain: string;
}

/**
 * The URL of a pod's MCP or tool endpoint, from the pod itself (its port and path annotation), so a pod still
 * running an older spec is addressed as it serves. Adapters: the per-pod DNS name the headless Service gives
 * (`{pod}.{service}.{namespace}.svc.{domain}`); tools: the pod IP (their Service is a ClusterIP one, which has
 * no per-pod names). Undefined when the pod cannot be addressed yet.
 */
export function endpointUrl(pod: PodView, addressing: EndpointAddressing): string | undefined {
  const name = pod.metadata?.name;
  const service = pod.metadata?.labels?.[LABELS.instance];
  const component = pod.metadata?.labels?.[LABELS.component];
  const port = mcpPort(pod);
  const path = pod.metadata?.annotations?.[ANNOTATIONS.path] ?? '/';
  if (!name || !service || port === undefined) return undefined;
  if (component === 'adapter')
    return `http://${name}.${service}.${addressing.namespace}.svc.${addressing.clusterDomain}:${port}${path}`;
  const ip = pod.status?.podIP;
  if (!ip) return undefined;
  return `http://${ip.includes(':') ? `[${ip}]` : ip}:${port}${path}`;
}

/** Image the pod's MCP container runs (status first: it names what was actually pulled). */
export function podImage(pod: PodView): string | undefined {
  return (
    pod.status?.containerStatuses?.find((c) => c.name === CONTAINER_NAME)?.image ??
    pod.spec?.containers?.find((c) => c.name === CONTAINER_NAME)?.image
  );
}

/**
 * One replica's status: `state` is `Ready`, `Terminating`, the container's waiting or terminated reason
 * (`CrashLoopBackOff`, `ImagePullBackOff`, `ContainerCreating`, `OOMKilled`), `NotReady` (running, probe
 * failing), or the pod phase; `detail` carries restarts, the last exit, the image and the kubelet's message.
 */
export function replicaState(
  instance: number,
  pod: PodView | undefined,
  addressing: EndpointAddressing,
  checkedAt: Date,
): ReplicaState {
  if (!pod) return { instance, ready: false, state: 'Missing', detail: 'pod not created yet', checkedAt };
  const container = pod.status?.containerStatuses?.find((c) => c.name === CONTAINER_NAME);
  const ready = isPodReady(pod);
  const waiting = container?.state?.waiting;
  const terminated = container?.state?.terminated;
  const state = pod.metadata?.deletionTimestamp
    ? 'Terminating'
    : ready
      ? 'Ready'
      : (waiting?.reason ??
        terminated?.reason ??
        (container?.state?.running ? 'NotReady' : (pod.status?.reason ?? pod.status?.phase ?? 'Pending')));
  const details: string[] = [`restarts: ${container?.restartCount ?? 0}`];
  const last = container?.lastState?.terminated;
  if (last) details.push(`last exit: ${last.exitCode ?? '?'}${last.reason ? ` (${last.reason})` : ''}`);
  const image = podImage(pod);
  if (image) details.push(`image: ${image}`);
  const message = waiting?.message ?? terminated?.message ?? pod.status?.message;
  if (message) details.push(message);
  const endpoint = endpointUrl(pod, addressing);
  return {
    instance,
    ...(endpoint ? { endpoint } : {}),
    ready,
    state,
    detail: details.join('; '),
    checkedAt,
  };
}
