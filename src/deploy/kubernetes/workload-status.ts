/**
 * @module workload-status: a resource's runtime status from what the cluster holds — its StatefulSet and the
 * pods it selects — with no API call, so every rule (one entry per desired replica, pods above it ignored, which
 * image is shown, `Pending` versus `Degraded`) is unit-tested on plain objects.
 */
import type { V1StatefulSet } from '@kubernetes/client-node';
import type { RuntimeStatus } from '../runtime-inspector.js';
import { summarizeReplicas } from '../runtime-inspector.js';
import { CONTAINER_NAME } from './manifests.js';
import { ordinalOf, podImage, replicaState } from './pod-view.js';
import type { EndpointAddressing, PodView } from './pod-view.js';

/** What {@link statusFrom} needs besides the cluster's objects. */
export interface WorkloadStatusContext {
  /** The registry's `replicaCount`: one replica entry each, whatever the StatefulSet says meanwhile. */
  readonly desiredReplicas: number;
  readonly addressing: EndpointAddressing;
  readonly checkedAt: Date;
  /** The image the spec asks for, shown when neither the StatefulSet nor a pod names one. */
  readonly desiredImage: string;
}

/** A status with nothing running yet (no StatefulSet, or one the gateway refuses to touch). */
export function pendingStatus(replicaStatus: string, image: string): RuntimeStatus {
  return {
    readyReplicas: 0,
    updatedReplicas: 0,
    availableReplicas: 0,
    image,
    replicaStatus,
    runtime: 'image',
    replicas: [],
  };
}

/** The status of a resource whose StatefulSet exists, from it and its pods. */
export function statusFrom(
  set: V1StatefulSet,
  pods: readonly PodView[],
  context: WorkloadStatusContext,
): RuntimeStatus {
  const { desiredReplicas: desired, addressing, checkedAt } = context;
  const byOrdinal = new Map<number, PodView>();
  for (const pod of pods) {
    const ordinal = ordinalOf(pod);
    if (ordinal !== undefined) byOrdinal.set(ordinal, pod);
  }
  // One entry per desired replica: pods above it are on their way out after a scale-down.
  const replicas = Array.from({ length: desired }, (_, i) =>
    replicaState(i, byOrdinal.get(i), addressing, checkedAt),
  );
  const ready = replicas.filter((r) => r.ready).length;
  const image =
    set.spec?.template.spec?.containers.find((c) => c.name === CONTAINER_NAME)?.image ??
    podImage(pods[0] ?? {}) ??
    context.desiredImage;
  return {
    readyReplicas: ready,
    updatedReplicas: set.status?.updatedReplicas ?? 0,
    availableReplicas: set.status?.availableReplicas ?? 0,
    image,
    // Nothing scheduled yet for a resource that wants replicas: it is on its way, not degraded.
    replicaStatus: pods.length === 0 && desired > 0 ? 'Pending' : summarizeReplicas(ready, desired),
    runtime: 'image',
    replicas,
  };
}
