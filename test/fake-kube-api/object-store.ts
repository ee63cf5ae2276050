/**
 * @module object-store: the fake API server's etcd. Every write takes the next `resourceVersion` (one counter
 * for all kinds, as etcd's revision is), and is kept in a bounded history that watches replay from; `compact()`
 * forgets the history so a watch resumed from an older version gets `410 Gone`, as after etcd compaction.
 */
import { randomUUID } from 'node:crypto';
import type { LabelSelector } from './label-selector.js';

/** A JSON object as the API stores it. */
export type JsonObject = Record<string, unknown>;

/** Object metadata the fake reads and writes. */
export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: { apiVersion: string; kind: string; name: string; uid: string; controller?: boolean }[];
  managedFields?: JsonObject[];
  [key: string]: unknown;
}

/** A stored Kubernetes object. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  [key: string]: unknown;
}

/** The kinds the fake serves, by their plural resource name. */
export type Plural = 'pods' | 'services' | 'statefulsets' | 'secrets' | 'endpointslices';

/** API group, version and kinds of a served resource. */
export interface KindInfo {
  readonly group: '' | 'apps' | 'discovery.k8s.io';
  readonly apiVersion: string;
  readonly kind: string;
  readonly listKind: string;
}

/** Every resource the fake serves. */
export const KINDS: Readonly<Record<Plural, KindInfo>> = {
  pods: { group: '', apiVersion: 'v1', kind: 'Pod', listKind: 'PodList' },
  services: { group: '', apiVersion: 'v1', kind: 'Service', listKind: 'ServiceList' },
  secrets: { group: '', apiVersion: 'v1', kind: 'Secret', listKind: 'SecretList' },
  statefulsets: { group: 'apps', apiVersion: 'apps/v1', kind: 'StatefulSet', listKind: 'StatefulSetList' },
  endpointslices: {
    group: 'discovery.k8s.io',
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    listKind: 'EndpointSliceList',
  },
};

/** One change, as a watch reports it. `previous` lets filtered watches turn label changes into ADDED/DELETED. */
export interface StoreEvent {
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED';
  readonly plural: Plural;
  readonly namespace: string;
  readonly resourceVersion: number;
  readonly object: KubeObject;
  readonly previous?: KubeObject;
}

/** Options of {@link ObjectStore}. */
export interface ObjectStoreOptions {
  readonly clock?: () => Date;
  readonly uid?: () => string;
  /** Events kept for watches to replay; older ones are compacted away. */
  readonly historyLimit?: number;
}

/** Thrown by store writes; the server turns it into a `Status` body. */
export class StoreError extends Error {
  constructor(
    readonly code: 404 | 409,
    readonly reason: 'NotFound' | 'AlreadyExists' | 'Conflict',
    message: string,
  ) {
    super(message);
  }
}

/** Deep copy of JSON data, so callers never share the stored objects. */
export function cloneJson<T>(value: T): T {
  return structuredClone(value);
}

function keyOf(plural: Plural, namespace: string, name: string): string {
  return `${plural}/${namespace}/${name}`;
}

/** In-memory objects with resource versions, a change history and change listeners. */
export class ObjectStore {
  private revision = 1000;
  private compactedThrough = 0;
  private readonly objects = new Map<string, KubeObject>();
  private history: StoreEvent[] = [];
  private readonly listeners = new Set<(event: StoreEvent) => void>();
  private readonly clock: () => Date;
  private readonly uid: () => string;
  private readonly historyLimit: number;

  constructor(options: ObjectStoreOptions = {}) {
    this.clock = options.clock ?? (() => new Date());
    this.uid = options.uid ?? randomUUID;
    this.historyLimit = options.historyLimit ?? 10_000;
  }

  /** The latest resource version of the whole store. */
  get resourceVersion(): string {
    return String(this.revision);
  }

  /** Time source for timestamps the server writes. */
  now(): string {
    return this.clock()
      .toISOString()
      .replace(/\.\d{3}Z$/, 'Z');
  }

  get(plural: Plural, namespace: string, name: string): KubeObject | undefined {
    const found = this.objects.get(keyOf(plural, namespace, name));
    return found ? cloneJson(found) : undefined;
  }

  list(plural: Plural, namespace: string | undefined, selector?: LabelSelector): KubeObject[] {
    const items: KubeObject[] = [];
    for (const [key, object] of this.objects) {
      if (!key.startsWith(`${plural}/`)) continue;
      if (namespace !== undefined && object.metadata.namespace !== namespace) continue;
      if (selector && !selector.matches(object.metadata.labels)) continue;
      items.push(cloneJson(object));
    }
    return items.sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : 1));
  }

  /** Stores a new object; sets uid, creation time, generation and resource version. */
  create(plural: Plural, namespace: string, object: KubeObject): KubeObject {
    const key = keyOf(plural, namespace, object.metadata.name);
    if (this.objects.has(key)) {
      throw new StoreError(
        409,
        'AlreadyExists',
        `${plural}${KINDS[plural].group ? `.${KINDS[plural].group}` : ''} "${object.metadata.name}" already exists`,
      );
    }
    const stored = cloneJson(object);
    stored.apiVersion = KINDS[plural].apiVersion;
    stored.kind = KINDS[plural].kind;
    stored.metadata.namespace = namespace;
    stored.metadata.uid = this.uid();
    stored.metadata.creationTimestamp = this.now();
    if (plural === 'statefulsets') stored.metadata.generation = 1;
    return this.write('ADDED', plural, namespace, key, stored, undefined);
  }

  /**
   * Replaces a stored object. `expectedResourceVersion` is the optimistic-concurrency precondition; the
   * generation moves when `spec` changes. Returns the stored object unchanged (same resource version) when
   * nothing differs, as the API server does for a no-op write.
   */
  update(
    plural: Plural,
    namespace: string,
    object: KubeObject,
    expectedResourceVersion?: string,
  ): KubeObject {
    const key = keyOf(plural, namespace, object.metadata.name);
    const current = this.objects.get(key);
    if (!current) throw this.notFound(plural, object.metadata.name);
    if (
      expectedResourceVersion !== undefined &&
      expectedResourceVersion !== current.metadata.resourceVersion
    ) {
      throw new StoreError(
        409,
        'Conflict',
        `Operation cannot be fulfilled on ${plural} "${object.metadata.name}": the object has been modified; please apply your changes to the latest version and try again`,
      );
    }
    const next = cloneJson(object);
    next.apiVersion = current.apiVersion;
    next.kind = current.kind;
    next.metadata.namespace = namespace;
    next.metadata.uid = current.metadata.uid;
    next.metadata.creationTimestamp = current.metadata.creationTimestamp;
    next.metadata.resourceVersion = current.metadata.resourceVersion;
    if (current.metadata.generation !== undefined) {
      const specChanged = JSON.stringify(current['spec']) !== JSON.stringify(next['spec']);
      next.metadata.generation = current.metadata.generation + (specChanged ? 1 : 0);
    }
    if (JSON.stringify(stripVolatile(current)) === JSON.stringify(stripVolatile(next)))
      return cloneJson(current);
    return this.write('MODIFIED', plural, namespace, key, next, current);
  }

  /** Removes an object and reports it as DELETED with a fresh resource version. */
  delete(plural: Plural, namespace: string, name: string): KubeObject {
    const key = keyOf(plural, namespace, name);
    const current = this.objects.get(key);
    if (!current) throw this.notFound(plural, name);
    this.objects.delete(key);
    const gone = cloneJson(current);
    this.revision += 1;
    gone.metadata.resourceVersion = String(this.revision);
    this.record({
      type: 'DELETED',
      plural,
      namespace,
      resourceVersion: this.revision,
      object: gone,
      previous: current,
    });
    return cloneJson(gone);
  }

  /** Events after `resourceVersion`, or `expired` when the history no longer reaches back that far. */
  eventsSince(resourceVersion: number): StoreEvent[] | 'expired' {
    if (resourceVersion < this.compactedThrough) return 'expired';
    return this.history.filter((e) => e.resourceVersion > resourceVersion);
  }

  /** Forgets every event so far: a watch resumed from any earlier version gets 410 Gone. */
  compact(): void {
    this.compactedThrough = this.revision;
    this.history = [];
  }

  /** Subscribes to every change; returns the unsubscribe function. */
  subscribe(listener: (event: StoreEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private write(
    type: 'ADDED' | 'MODIFIED',
    plural: Plural,
    namespace: string,
    key: string,
    object: KubeObject,
    previous: KubeObject | undefined,
  ): KubeObject {
    this.revision += 1;
    object.metadata.resourceVersion = String(this.revision);
    this.objects.set(key, object);
    this.record({
      type,
      plural,
      namespace,
      resourceVersion: this.revision,
      object: cloneJson(object),
      ...(previous ? { previous: cloneJson(previous) } : {}),
    });
    return cloneJson(object);
  }

  private record(event: StoreEvent): void {
    this.history.push(event);
    if (this.history.length > this.historyLimit) {
      const dropped = this.history.splice(0, this.history.length - this.historyLimit);
      this.compactedThrough = dropped[dropped.length - 1]?.resourceVersion ?? this.compactedThrough;
    }
    for (const listener of [...this.listeners]) listener(event);
  }

  private notFound(plural: Plural, name: string): StoreError {
    const group = KINDS[plural].group;
    return new StoreError(404, 'NotFound', `${plural}${group ? `.${group}` : ''} "${name}" not found`);
  }
}

// Managed-field timestamps change on every write; they alone do not make a write a change.
function stripVolatile(object: KubeObject): unknown {
  const copy = cloneJson(object);
  copy.metadata.managedFields = (copy.metadata.managedFields ?? []).map((entry) => ({
    ...entry,
    time: undefined,
  }));
  return copy;
}
