/**
 * @module KubernetesDeployer: the `image` runtime. Each adapter runs as a StatefulSet plus a headless Service,
 * each tool as a StatefulSet plus a ClusterIP Service, written with server-side apply under the field manager
 * `mcp-gateway` (so a variable removed from the spec disappears from the pods); a resource that references
 * gateway secrets (`secretEnvironmentVariables`) also gets a Secret of the same name holding their values, which
 * the pods read by `secretKeyRef` — never a value in the StatefulSet. An object with the gateway's
 * name that the gateway did not create is never adopted, changed or deleted. Routing endpoints come from the
 * EndpointSlices the cluster keeps for each Service (one label-selected list-then-watch per namespace, with
 * one of the Services for the endpoint path): a serving pod takes new sessions, a terminating one that still
 * serves keeps only those it holds (`draining`). Status and logs read the pods.
 */
import { Writable } from 'node:stream';
import {
  AppsV1Api,
  CoreV1Api,
  DiscoveryV1Api,
  Log,
  PatchStrategy,
  setHeaderOptions,
} from '@kubernetes/client-node';
import type {
  KubeConfig,
  V1DeleteOptions,
  V1ObjectMeta,
  V1Secret,
  V1Service,
  V1StatefulSet,
} from '@kubernetes/client-node';
import { createSilentLogger } from '../../observability/index.js';
import type { Logger } from '../../observability/index.js';
import type { Registered } from '../../registry/index.js';
import type {
  Deployer,
  DeployerLogs,
  DeployerLogsOptions,
  EndpointsListener,
  ReplicaEndpoint,
  ResourceRef,
} from '../deployer.js';
import { refKey } from '../resource-change.js';
import { NO_SECRET_SOURCE, resolveSecretEnvironment } from '../secret-environment.js';
import type { SecretSource } from '../secret-environment.js';
import type { RuntimeStatus } from '../runtime-inspector.js';
import { systemTimers } from '../timers.js';
import { NotOwnedError, apiMessage, describeApiError, statusCodeOf } from './kube-errors.js';
import { contextNamespace, loadKubeConfig } from './kube-config.js';
import { FIELD_MANAGER, resolveKubernetesOptions } from './kubernetes-options.js';
import type { KubernetesDeployerOptions, ResolvedKubernetesOptions } from './kubernetes-options.js';
import {
  CONTAINER_NAME,
  imageOf,
  objectName,
  ownedSelector,
  ownershipProblem,
  refFromLabels,
  renderSecret,
  renderService,
  renderStatefulSet,
  selectorOf,
} from './manifests.js';
import { SLICE_CONTROLLER, SLICE_LABELS, endpointsFromSlices } from './endpoint-slice-view.js';
import type { EndpointSliceView, ServiceView } from './endpoint-slice-view.js';
import { ListWatch } from './list-watch.js';
import type { ListWatchOptions, WatchedObject } from './list-watch.js';
import type { EndpointAddressing, PodView } from './pod-view.js';
import { pendingStatus, statusFrom } from './workload-status.js';

interface LiveObject {
  readonly metadata?: V1ObjectMeta;
}

/** The objects the deployer writes per resource, by kind. */
interface ObjectsByKind {
  readonly StatefulSet: V1StatefulSet;
  readonly Service: V1Service;
  readonly Secret: V1Secret;
}

type ObjectKind = keyof ObjectsByKind;

/** A server-side apply of one object (the Content-Type that makes the PATCH an apply is the table's business). */
interface ApplyRequest<T> {
  readonly name: string;
  readonly namespace: string;
  readonly body: T;
  readonly fieldManager: string;
  readonly fieldValidation: 'Strict';
  readonly force?: boolean;
}

/** How one kind of object is listed, read, applied and deleted: the only code that knows which API serves it. */
interface ObjectApi<T extends LiveObject> {
  list(namespace: string, labelSelector: string): Promise<{ readonly items: readonly T[] }>;
  read(name: string, namespace: string): Promise<T>;
  apply(request: ApplyRequest<T>): Promise<unknown>;
  delete(name: string, namespace: string, options: V1DeleteOptions): Promise<unknown>;
}

/** The PATCH content type of server-side apply. */
const SERVER_SIDE_APPLY = setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply);

/** The table of {@link ObjectApi}s, one per kind, over the two API groups the deployer uses. */
function objectApis(
  apps: AppsV1Api,
  core: CoreV1Api,
): { readonly [K in ObjectKind]: ObjectApi<ObjectsByKind[K]> } {
  return {
    StatefulSet: {
      list: (namespace, labelSelector) => apps.listNamespacedStatefulSet({ namespace, labelSelector }),
      read: (name, namespace) => apps.readNamespacedStatefulSet({ name, namespace }),
      apply: (request) => apps.patchNamespacedStatefulSet(request, SERVER_SIDE_APPLY),
      delete: (name, namespace, body) => apps.deleteNamespacedStatefulSet({ name, namespace, body }),
    },
    Service: {
      list: (namespace, labelSelector) => core.listNamespacedService({ namespace, labelSelector }),
      read: (name, namespace) => core.readNamespacedService({ name, namespace }),
      apply: (request) => core.patchNamespacedService(request, SERVER_SIDE_APPLY),
      delete: (name, namespace, body) => core.deleteNamespacedService({ name, namespace, body }),
    },
    Secret: {
      list: (namespace, labelSelector) => core.listNamespacedSecret({ namespace, labelSelector }),
      read: (name, namespace) => core.readNamespacedSecret({ name, namespace }),
      apply: (request) => core.patchNamespacedSecret(request, SERVER_SIDE_APPLY),
      delete: (name, namespace, body) => core.deleteNamespacedSecret({ name, namespace, body }),
    },
  };
}

/** Attempts of one apply or delete when the object changed between our read and our write. */
const WRITE_ATTEMPTS = 3;

function sameEndpoints(a: readonly ReplicaEndpoint[], b: readonly ReplicaEndpoint[]): boolean {
  return (
    a.length === b.length &&
    a.every(
      (e, i) =>
        e.id === b[i]?.id &&
        e.url === b[i]?.url &&
        e.weight === b[i]?.weight &&
        (e.draining ?? false) === (b[i]?.draining ?? false),
    )
  );
}

/** Runs `image` resources as Kubernetes workloads. */
export class KubernetesDeployer implements Deployer {
  readonly runtime = 'image' as const;
  /** The options in force, defaults filled in. */
  readonly settings: ResolvedKubernetesOptions;
  private readonly kubeConfig: KubeConfig;
  private readonly apps: AppsV1Api;
  private readonly core: CoreV1Api;
  private readonly objects: ReturnType<typeof objectApis>;
  private readonly slices: ListWatch<EndpointSliceView>;
  private readonly services: ListWatch<ServiceView>;
  private readonly logger: Logger;
  private readonly clock: () => Date;
  private readonly addressing: EndpointAddressing;
  private readonly endpointsByRef = new Map<string, readonly ReplicaEndpoint[]>();
  /** Resources removed by this deployer: their terminating pods must not be published again. */
  private readonly removed = new Set<string>();
  private readonly listeners = new Set<EndpointsListener>();
  /** Stops each open log follow (close() ends them all). */
  private readonly followers = new Set<() => void>();
  /** Where the values of `secretEnvironmentVariables` are read. */
  private readonly secrets: SecretSource;
  private closed = false;

  constructor(options: KubernetesDeployerOptions) {
    this.kubeConfig = loadKubeConfig(options.kubeconfig ?? { kind: 'default' });
    this.settings = resolveKubernetesOptions(options, contextNamespace(this.kubeConfig));
    this.apps = this.kubeConfig.makeApiClient(AppsV1Api);
    this.core = this.kubeConfig.makeApiClient(CoreV1Api);
    this.objects = objectApis(this.apps, this.core);
    this.logger = options.logger ?? createSilentLogger();
    this.clock = options.clock ?? (() => new Date());
    this.secrets = options.secrets ?? NO_SECRET_SOURCE;
    this.addressing = { namespace: this.settings.namespace, clusterDomain: this.settings.clusterDomain };
    const namespace = this.settings.namespace;
    const common = {
      kubeConfig: this.kubeConfig,
      namespace,
      timeoutSeconds: options.watch?.timeoutSeconds ?? 300,
      minBackoffMs: options.watch?.minBackoffMs ?? 500,
      maxBackoffMs: options.watch?.maxBackoffMs ?? 30_000,
      timers: options.timers ?? systemTimers,
      now: () => this.clock().getTime(),
      logger: this.logger,
      onChange: (changed: readonly WatchedObject[]) => this.onObjectsChanged(changed),
    } satisfies Partial<ListWatchOptions<WatchedObject>>;
    const discovery = this.kubeConfig.makeApiClient(DiscoveryV1Api);
    // The controller copies the Service's labels onto its slices, so the gateway's own selector finds them;
    // only the cluster's controller's slices are asked for.
    const sliceSelector = `${ownedSelector(this.settings)},${SLICE_LABELS.managedBy}=${SLICE_CONTROLLER}`;
    this.slices = new ListWatch<EndpointSliceView>({
      ...common,
      kind: 'EndpointSlice',
      path: `/apis/discovery.k8s.io/v1/namespaces/${encodeURIComponent(namespace)}/endpointslices`,
      labelSelector: sliceSelector,
      list: () => discovery.listNamespacedEndpointSlice({ namespace, labelSelector: sliceSelector }),
    });
    const serviceSelector = ownedSelector(this.settings);
    this.services = new ListWatch<ServiceView>({
      ...common,
      kind: 'Service',
      path: `/api/v1/namespaces/${encodeURIComponent(namespace)}/services`,
      labelSelector: serviceSelector,
      list: () => this.core.listNamespacedService({ namespace, labelSelector: serviceSelector }),
    });
  }

  /**
   * Starts the EndpointSlice and Service watches (every method does so lazily); resolves once the first list
   * of each has arrived. They keep retrying an unreachable or forbidden API in the background, so bound the
   * wait if startup must not hang.
   */
  async start(): Promise<void> {
    this.ensureStarted();
    await Promise.all([this.slices.whenSynced(), this.services.whenSynced()]);
  }

  async apply(resource: Registered): Promise<void> {
    this.ensureStarted();
    // Read at every apply, so a rotation gives a new revision (a new pod template: the pods roll). A missing
    // secret fails here, before any write: the pods already running keep what they have.
    const secrets = await resolveSecretEnvironment(this.secrets, resource);
    const service = renderService(resource, this.settings);
    const statefulSet = renderStatefulSet(resource, this.settings, secrets);
    this.removed.delete(refKey(resource));
    // The Secret before the pods that read it; the Service next: the headless one gives pods their DNS names
    // the moment they start.
    if (secrets.revision)
      await this.applyObject('Secret', resource, renderSecret(resource, this.settings, secrets));
    await this.applyObject('Service', resource, service);
    await this.applyObject('StatefulSet', resource, statefulSet);
    // After the pods stopped referencing it: a Secret the spec no longer needs goes.
    if (!secrets.revision) await this.deleteObject('Secret', resource);
    this.publish(resource);
  }

  async remove(ref: ResourceRef): Promise<void> {
    this.ensureStarted();
    this.removed.add(refKey(ref));
    this.publish(ref);
    await this.deleteObject('StatefulSet', ref);
    await this.deleteObject('Service', ref);
    await this.deleteObject('Secret', ref);
  }

  async list(): Promise<ResourceRef[]> {
    this.ensureStarted();
    const labelSelector = ownedSelector(this.settings);
    const namespace = this.settings.namespace;
    try {
      const apis: readonly ObjectApi<LiveObject>[] = Object.values(this.objects);
      const lists = await Promise.all(apis.map((api) => api.list(namespace, labelSelector)));
      const refs = new Map<string, ResourceRef>();
      // Services and Secrets count too: a crash between two writes leaves a lone one.
      for (const item of lists.flatMap((list) => list.items)) {
        if (item.metadata?.deletionTimestamp) continue;
        const ref = refFromLabels(item.metadata?.labels, this.settings);
        if (ref) refs.set(refKey(ref), ref);
      }
      return [...refs.values()];
    } catch (err) {
      throw describeApiError(`listing the gateway's workloads in namespace ${namespace}`, err);
    }
  }

  async status(resource: Registered): Promise<RuntimeStatus> {
    this.ensureStarted();
    const name = objectName(resource);
    const checkedAt = this.clock();
    const live = await this.read('StatefulSet', name);
    let desiredImage: string;
    try {
      desiredImage = imageOf(resource, this.settings);
    } catch {
      desiredImage = 'Unknown';
    }
    // A same-named object the gateway refuses to touch blocks the resource for good: say so, not "Pending".
    const blocker = live ? { kind: 'StatefulSet', object: live } : await this.blockingService(resource);
    if (blocker) {
      const problem = ownershipProblem(blocker.object.metadata?.labels, resource, this.settings);
      if (problem)
        return pendingStatus(
          `Failed: ${blocker.kind} ${name} exists but is not the gateway's: ${problem}`,
          desiredImage,
        );
    }
    if (!live) return pendingStatus('Pending', desiredImage);
    return statusFrom(live, await this.podsOf(resource), {
      desiredReplicas: resource.spec.replicaCount,
      addressing: this.addressing,
      checkedAt,
      desiredImage,
    });
  }

  async logs(resource: Registered, options: DeployerLogsOptions): Promise<DeployerLogs> {
    const pod = `${objectName(resource)}-${options.instance}`;
    const namespace = this.settings.namespace;
    const noLogs = (why: string): DeployerLogs => ({
      ok: false,
      reason: 'no-logs',
      message: `${resource.kind === 'adapter' ? 'Adapter' : 'Tool'} '${resource.name}' replica ${options.instance} (pod ${pod}) has no logs: ${why}`,
    });
    if (!options.follow) {
      try {
        const text = await this.core.readNamespacedPodLog({
          name: pod,
          namespace,
          container: CONTAINER_NAME,
          tailLines: options.tail,
        });
        return { ok: true, text };
      } catch (err) {
        const code = statusCodeOf(err);
        if (code === 404) return noLogs('the pod does not exist (yet)');
        if (code === 400) return noLogs(apiMessage(err));
        throw describeApiError(`reading the logs of pod ${pod}`, err);
      }
    }
    return this.followLogs(pod, options, noLogs);
  }

  endpoints(ref: ResourceRef): readonly ReplicaEndpoint[] {
    this.ensureStarted();
    return this.endpointsByRef.get(refKey(ref)) ?? [];
  }

  onEndpointsChange(listener: EndpointsListener): () => void {
    this.ensureStarted();
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const stop of [...this.followers]) stop();
    this.followers.clear();
    this.listeners.clear();
    await Promise.all([this.slices.stop(), this.services.stop()]);
    this.endpointsByRef.clear();
  }

  private ensureStarted(): void {
    if (this.closed) return;
    this.slices.start();
    this.services.start();
  }

  private async followLogs(
    pod: string,
    options: DeployerLogsOptions,
    noLogs: (why: string) => DeployerLogs,
  ): Promise<DeployerLogs> {
    let sink!: ReadableStreamDefaultController<Uint8Array>;
    let resume: (() => void) | undefined;
    let request: AbortController | undefined;
    let open = true;
    const stopFollowing = (): void => {
      this.followers.delete(stopFollowing);
      request?.abort();
      // An aborted response body errors rather than ends, and the client's pipe does not pass that on.
      if (open) {
        open = false;
        try {
          sink.close();
        } catch {
          // The consumer cancelled it already.
        }
      }
    };
    const stream = new ReadableStream<Uint8Array>(
      {
        start(controller) {
          sink = controller;
        },
        // Backpressure: the client's pipe waits while the consumer is behind.
        pull() {
          const next = resume;
          resume = undefined;
          next?.();
        },
        cancel() {
          open = false;
          stopFollowing();
        },
      },
      { highWaterMark: 64 * 1024, size: (chunk) => chunk.byteLength },
    );
    const writable = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        if (!open) {
          callback();
          return;
        }
        sink.enqueue(new Uint8Array(chunk));
        if ((sink.desiredSize ?? 1) > 0) callback();
        else resume = () => callback();
      },
      final(callback) {
        if (open) {
          open = false;
          sink.close();
        }
        callback();
      },
    });
    try {
      request = await new Log(this.kubeConfig).log(this.settings.namespace, pod, CONTAINER_NAME, writable, {
        follow: true,
        tailLines: options.tail,
      });
    } catch (err) {
      const code = statusCodeOf(err);
      if (code === 404) return noLogs('the pod does not exist (yet)');
      if (code === 400) return noLogs('its container has not started');
      throw describeApiError(`following the logs of pod ${pod}`, err);
    }
    this.followers.add(stopFollowing);
    const signal = options.signal;
    if (signal?.aborted) stopFollowing();
    signal?.addEventListener('abort', stopFollowing, { once: true });
    return { ok: true, stream };
  }

  private onObjectsChanged(objects: readonly WatchedObject[]): void {
    const refs = new Map<string, ResourceRef>();
    for (const object of objects as readonly (EndpointSliceView | ServiceView)[]) {
      const ref = refFromLabels(object.metadata?.labels, this.settings);
      if (ref) refs.set(refKey(ref), ref);
    }
    for (const ref of refs.values()) this.publish(ref);
  }

  /**
   * Recomputes the endpoints of `ref` from the slice and Service caches and tells listeners when they changed.
   * The Service must be the resource's own (its labels name it), so a same-named one never routes.
   */
  private publish(ref: ResourceRef): void {
    if (this.closed) return;
    const key = refKey(ref);
    let next: ReplicaEndpoint[] = [];
    if (!this.removed.has(key)) {
      const name = objectName(ref);
      const service = this.services.get(name);
      const owner = refFromLabels(service?.metadata?.labels, this.settings);
      if (owner && owner.kind === ref.kind && owner.name === ref.name)
        next = endpointsFromSlices(service, this.slices.all(), this.addressing);
    }
    const previous = this.endpointsByRef.get(key) ?? [];
    if (sameEndpoints(previous, next)) return;
    if (next.length > 0) this.endpointsByRef.set(key, next);
    else this.endpointsByRef.delete(key);
    for (const listener of [...this.listeners]) {
      try {
        listener({ kind: ref.kind, name: ref.name }, next);
      } catch (err) {
        this.logger.error({ err, ref }, 'endpoints listener failed');
      }
    }
  }

  private async blockingService(ref: ResourceRef): Promise<{ kind: string; object: LiveObject } | undefined> {
    const service = await this.read('Service', objectName(ref));
    return service ? { kind: 'Service', object: service } : undefined;
  }

  private async podsOf(ref: ResourceRef): Promise<PodView[]> {
    const labelSelector = Object.entries(selectorOf(ref))
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
    try {
      const list = await this.core.listNamespacedPod({ namespace: this.settings.namespace, labelSelector });
      return list.items as PodView[];
    } catch (err) {
      throw describeApiError(`listing the pods of ${objectName(ref)}`, err);
    }
  }

  private async read<K extends ObjectKind>(kind: K, name: string): Promise<ObjectsByKind[K] | undefined> {
    const namespace = this.settings.namespace;
    try {
      return await this.objects[kind].read(name, namespace);
    } catch (err) {
      if (statusCodeOf(err) === 404) return undefined;
      throw describeApiError(`reading ${kind} ${name}`, err);
    }
  }

  /**
   * Server-side apply of one object we own or that does not exist. The read before the write is the
   * ownership check; the write carries the resource version read as a precondition, so an object replaced
   * in between (deleted and re-created by someone else) is not overwritten: the 409 leads to a fresh read.
   * A create is not forced, so an object appearing between the read and the write conflicts instead of
   * being merged into.
   */
  private async applyObject<K extends ObjectKind>(
    kind: K,
    ref: ResourceRef,
    desired: ObjectsByKind[K],
  ): Promise<void> {
    const name = objectName(ref);
    const namespace = this.settings.namespace;
    for (let attempt = 1; ; attempt += 1) {
      const live = await this.read(kind, name);
      if (live) {
        const problem = ownershipProblem(live.metadata?.labels, ref, this.settings);
        if (problem)
          throw new NotOwnedError(
            `${kind} ${name} already exists in namespace ${namespace} and is not the gateway's (${problem}); the gateway never adopts, changes or deletes objects it did not create — rename the ${ref.kind} or remove that object`,
          );
        if (live.metadata?.deletionTimestamp)
          throw new Error(`${kind} ${name} is still being deleted; it will be re-created once it is gone`);
      }
      const body = live
        ? { ...desired, metadata: { ...desired.metadata, resourceVersion: live.metadata?.resourceVersion } }
        : desired;
      try {
        await this.objects[kind].apply({
          name,
          namespace,
          body,
          fieldManager: FIELD_MANAGER,
          fieldValidation: 'Strict',
          ...(live ? { force: true } : {}),
        });
        return;
      } catch (err) {
        if (statusCodeOf(err) === 409 && attempt < WRITE_ATTEMPTS) continue;
        throw describeApiError(`applying ${kind} ${name} in namespace ${namespace}`, err);
      }
    }
  }

  /**
   * Deletes one object if it is ours, with its uid as precondition (never a same-named replacement). Background
   * propagation: the call returns at once and the garbage collector removes the pods; they carry a deletion
   * timestamp from the first moment, so the watch stops routing to them, and a re-created resource of the same
   * name is not blocked behind a StatefulSet that Foreground deletion would keep until every pod is gone.
   */
  private async deleteObject(kind: ObjectKind, ref: ResourceRef): Promise<void> {
    const name = objectName(ref);
    const namespace = this.settings.namespace;
    for (let attempt = 1; ; attempt += 1) {
      const live = await this.read(kind, name);
      if (!live || live.metadata?.deletionTimestamp) return;
      const problem = ownershipProblem(live.metadata?.labels, ref, this.settings);
      if (problem) {
        this.logger.warn(
          { kind, name, namespace, problem },
          'not deleting an object the gateway does not own',
        );
        return;
      }
      const options = { propagationPolicy: 'Background', preconditions: { uid: live.metadata?.uid } };
      try {
        await this.objects[kind].delete(name, namespace, options);
        return;
      } catch (err) {
        const code = statusCodeOf(err);
        if (code === 404) return;
        if (code === 409 && attempt < WRITE_ATTEMPTS) continue;
        throw describeApiError(`deleting ${kind} ${name} in namespace ${namespace}`, err);
      }
    }
  }
}

/** Builds a {@link KubernetesDeployer}; it starts watching on first use or on `start()`. */
export function createKubernetesDeployer(options: KubernetesDeployerOptions): KubernetesDeployer {
  return new KubernetesDeployer(options);
}
