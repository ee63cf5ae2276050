/**
 * @module fake-controller: the StatefulSet controller, kubelet and garbage collector of the fake cluster, in
 * miniature and driven by the test: it creates and deletes a StatefulSet's pods to match its replicas (a
 * template change replaces them at once), marks pods ready or not, lets a pod terminate gracefully, sets
 * waiting reasons such as
 * `CrashLoopBackOff`, keeps container logs, and deletes the pods of a deleted owner.
 */
import { createHash } from 'node:crypto';
import type { JsonObject, KubeObject, ObjectStore } from './object-store.js';
import { cloneJson } from './object-store.js';

/** Options of {@link FakeController}. */
export interface FakeControllerOptions {
  /** Pods start ready (as if their readiness probe passed at once). Default true. */
  readonly readyOnCreate?: boolean;
  /** Lines every new pod's container logs when it starts (default none). */
  readonly startupLog?: readonly string[];
}

/** Waiting state of a pod's container. */
export interface WaitingState {
  readonly reason: string;
  readonly message?: string;
  /** Restart count to report (CrashLoopBackOff implies some). */
  readonly restartCount?: number;
}

function ordinalOf(podName: string, statefulSet: string): number {
  return Number(podName.slice(statefulSet.length + 1));
}

/** Drives pods of the fake cluster. Every change goes through the store, so watches see it. */
export class FakeController {
  private readonly logs = new Map<string, string[]>();
  private readonly logListeners = new Map<string, Set<(chunk: string | null) => void>>();
  private nextIp = 10;
  /** Whether new pods start ready; tests may flip it. */
  readyOnCreate: boolean;
  private readonly startupLog: readonly string[];

  constructor(
    private readonly store: ObjectStore,
    options: FakeControllerOptions = {},
  ) {
    this.readyOnCreate = options.readyOnCreate ?? true;
    this.startupLog = options.startupLog ?? [];
  }

  /** Brings the pods of one StatefulSet in line with its spec and updates its status. */
  reconcile(namespace: string, name: string): void {
    const statefulSet = this.store.get('statefulsets', namespace, name);
    if (!statefulSet || statefulSet.metadata.deletionTimestamp) return;
    const spec = statefulSet['spec'] as JsonObject;
    const desired = typeof spec['replicas'] === 'number' ? spec['replicas'] : 1;
    const revision = `${name}-${createHash('sha256').update(JSON.stringify(spec['template'])).digest('hex').slice(0, 10)}`;
    const owned = this.podsOf(namespace, statefulSet);
    for (const pod of owned) {
      const ordinal = ordinalOf(pod.metadata.name, name);
      const stale = pod.metadata.labels?.['controller-revision-hash'] !== revision;
      if (ordinal >= desired || stale) this.removePod(namespace, pod.metadata.name);
    }
    for (let i = 0; i < desired; i += 1) {
      if (!this.store.get('pods', namespace, `${name}-${i}`))
        this.createPod(namespace, statefulSet, i, revision);
    }
    this.updateStatus(namespace, name, revision);
  }

  /** Reconciles every StatefulSet of the store. */
  reconcileAll(): void {
    for (const s of this.store.list('statefulsets', undefined))
      this.reconcile(s.metadata.namespace ?? '', s.metadata.name);
  }

  /** Pods a StatefulSet owns (by controller reference). */
  podsOf(namespace: string, statefulSet: KubeObject): KubeObject[] {
    return this.store
      .list('pods', namespace)
      .filter((p) => p.metadata.ownerReferences?.some((r) => r.uid === statefulSet.metadata.uid));
  }

  /** The garbage collector: deletes what the owner with `uid` owned. */
  collectGarbage(namespace: string, uid: string | undefined): void {
    for (const pod of this.store.list('pods', namespace)) {
      if (pod.metadata.ownerReferences?.some((r) => r.uid === uid))
        this.removePod(namespace, pod.metadata.name);
    }
  }

  /** Marks a pod ready or not ready (its readiness probe passing or failing). */
  setPodReady(namespace: string, name: string, ready: boolean): void {
    this.mutatePod(namespace, name, (pod) => {
      setContainers(pod, (c) => ({ ...c, ready, state: { running: { startedAt: this.store.now() } } }));
      setReady(pod, ready, this.store.now());
    });
  }

  /** Puts a pod's container in a waiting state (e.g. `CrashLoopBackOff`, `ImagePullBackOff`). */
  setPodWaiting(namespace: string, name: string, waiting: WaitingState): void {
    this.mutatePod(namespace, name, (pod) => {
      setContainers(pod, (c) => ({
        ...c,
        ready: false,
        started: false,
        restartCount: waiting.restartCount ?? c['restartCount'] ?? 0,
        state: {
          waiting: { reason: waiting.reason, ...(waiting.message ? { message: waiting.message } : {}) },
        },
        ...(waiting.reason === 'CrashLoopBackOff'
          ? { lastState: { terminated: { exitCode: 1, reason: 'Error', finishedAt: this.store.now() } } }
          : {}),
      }));
      setReady(pod, false, this.store.now());
    });
  }

  /**
   * Starts a pod's graceful deletion, as the API server does for a DELETE with a grace period: it gets a
   * deletion timestamp and stays (its readiness unchanged, so it may still serve) until {@link deletePod}
   * ends it, as the kubelet does once the container has exited.
   */
  terminatePod(namespace: string, name: string, gracePeriodSeconds = 30): void {
    this.mutatePod(namespace, name, (pod) => {
      pod.metadata.deletionTimestamp = this.store.now();
      pod.metadata['deletionGracePeriodSeconds'] = gracePeriodSeconds;
    });
  }

  /** Deletes a pod (a crash or an eviction); the StatefulSet controller recreates it on its next pass. */
  deletePod(namespace: string, name: string): void {
    this.removePod(namespace, name);
  }

  /** Appends lines to a pod's container log; followers receive them. */
  appendLog(namespace: string, pod: string, ...lines: string[]): void {
    const key = `${namespace}/${pod}`;
    const log = this.logs.get(key) ?? [];
    log.push(...lines);
    this.logs.set(key, log);
    const chunk = lines.map((l) => `${l}\n`).join('');
    for (const listener of this.logListeners.get(key) ?? []) listener(chunk);
  }

  /** Lines a pod's container has logged. */
  logOf(namespace: string, pod: string): readonly string[] {
    return this.logs.get(`${namespace}/${pod}`) ?? [];
  }

  /** Follows a pod's log: `null` means the container is gone. Returns the unsubscribe function. */
  followLog(namespace: string, pod: string, listener: (chunk: string | null) => void): () => void {
    const key = `${namespace}/${pod}`;
    const set = this.logListeners.get(key) ?? new Set();
    set.add(listener);
    this.logListeners.set(key, set);
    return () => set.delete(listener);
  }

  private removePod(namespace: string, name: string): void {
    if (!this.store.get('pods', namespace, name)) return;
    this.store.delete('pods', namespace, name);
    const key = `${namespace}/${name}`;
    this.logs.delete(key);
    for (const listener of this.logListeners.get(key) ?? []) listener(null);
    this.logListeners.delete(key);
  }

  private createPod(namespace: string, statefulSet: KubeObject, ordinal: number, revision: string): void {
    const spec = statefulSet['spec'] as JsonObject;
    const template = cloneJson((spec['template'] ?? {}) as JsonObject);
    const templateMeta = (template['metadata'] ?? {}) as JsonObject;
    const podSpec = (template['spec'] ?? {}) as JsonObject;
    const name = `${statefulSet.metadata.name}-${ordinal}`;
    const ip = `10.244.${Math.floor(this.nextIp / 250)}.${(this.nextIp % 250) + 2}`;
    this.nextIp += 1;
    const now = this.store.now();
    const ready = this.readyOnCreate;
    const containers = (podSpec['containers'] ?? []) as JsonObject[];
    const pod: KubeObject = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name,
        labels: {
          ...((templateMeta['labels'] ?? {}) as Record<string, string>),
          'controller-revision-hash': revision,
          'statefulset.kubernetes.io/pod-name': name,
          'apps.kubernetes.io/pod-index': String(ordinal),
        },
        ...(templateMeta['annotations']
          ? { annotations: templateMeta['annotations'] as Record<string, string> }
          : {}),
        ownerReferences: [
          {
            apiVersion: 'apps/v1',
            kind: 'StatefulSet',
            name: statefulSet.metadata.name,
            uid: statefulSet.metadata.uid ?? '',
            controller: true,
          },
        ],
      },
      spec: { ...podSpec, hostname: name, subdomain: spec['serviceName'], nodeName: 'fake-node' },
      status: {
        phase: 'Running',
        hostIP: '10.0.0.1',
        podIP: ip,
        podIPs: [{ ip }],
        startTime: now,
        conditions: [
          { type: 'PodScheduled', status: 'True', lastTransitionTime: now },
          { type: 'Initialized', status: 'True', lastTransitionTime: now },
          { type: 'ContainersReady', status: ready ? 'True' : 'False', lastTransitionTime: now },
          { type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: now },
        ],
        containerStatuses: containers.map((c) => ({
          name: c['name'],
          image: c['image'],
          imageID: '',
          ready,
          started: true,
          restartCount: 0,
          state: { running: { startedAt: now } },
        })),
      },
    };
    this.store.create('pods', namespace, pod);
    if (this.startupLog.length > 0) this.appendLog(namespace, name, ...this.startupLog);
  }

  private updateStatus(namespace: string, name: string, revision: string): void {
    const statefulSet = this.store.get('statefulsets', namespace, name);
    if (!statefulSet) return;
    const pods = this.podsOf(namespace, statefulSet);
    const ready = pods.filter(isReady).length;
    const updated = pods.filter((p) => p.metadata.labels?.['controller-revision-hash'] === revision).length;
    statefulSet['status'] = {
      observedGeneration: statefulSet.metadata.generation,
      replicas: pods.length,
      readyReplicas: ready,
      currentReplicas: updated,
      updatedReplicas: updated,
      availableReplicas: ready,
      currentRevision: revision,
      updateRevision: revision,
    };
    this.store.update('statefulsets', namespace, statefulSet);
  }

  private mutatePod(namespace: string, name: string, change: (pod: KubeObject) => void): void {
    const pod = this.store.get('pods', namespace, name);
    if (!pod) throw new Error(`fake cluster: pod ${namespace}/${name} does not exist`);
    change(pod);
    this.store.update('pods', namespace, pod);
    const owner = pod.metadata.ownerReferences?.find((r) => r.kind === 'StatefulSet');
    if (owner) {
      const statefulSet = this.store.get('statefulsets', namespace, owner.name);
      const status = statefulSet?.['status'] as JsonObject | undefined;
      if (statefulSet && status) this.updateStatus(namespace, owner.name, String(status['updateRevision']));
    }
  }
}

function setContainers(pod: KubeObject, change: (status: JsonObject) => JsonObject): void {
  const status = pod['status'] as JsonObject;
  status['containerStatuses'] = ((status['containerStatuses'] ?? []) as JsonObject[]).map(change);
}

function setReady(pod: KubeObject, ready: boolean, now: string): void {
  const status = pod['status'] as JsonObject;
  status['conditions'] = ((status['conditions'] ?? []) as JsonObject[]).map((c) =>
    c['type'] === 'Ready' || c['type'] === 'ContainersReady'
      ? { ...c, status: ready ? 'True' : 'False', lastTransitionTime: now }
      : c,
  );
}

function isReady(pod: KubeObject): boolean {
  const conditions = ((pod['status'] as JsonObject | undefined)?.['conditions'] ?? []) as JsonObject[];
  return conditions.some((c) => c['type'] === 'Ready' && c['status'] === 'True');
}
