/**
 * @module RemoteDeployer: the `endpoints` runtime. Nothing is started; the URLs of a server that already runs
 * are health-checked, and a dead one leaves the ready set until a probe finds it answering again.
 */
import type { Registered } from '../../registry/index.js';
import type { Deployer, DeployerLogs, EndpointsListener, ReplicaEndpoint, ResourceRef } from '../deployer.js';
import type { ReplicaState, RuntimeStatus } from '../runtime-inspector.js';
import { summarizeReplicas } from '../runtime-inspector.js';
import { probeEndpoint } from './probe-endpoint.js';
import type { ProbeSender } from './probe-endpoint.js';
import { remoteLogs } from './remote-inspector.js';

/** Options for {@link RemoteDeployer}. */
export interface RemoteDeployerOptions {
  /** How often every known endpoint is probed. */
  readonly probeIntervalMs: number;
  readonly probeTimeoutMs: number;
  /**
   * How probes are sent; default the global `fetch`. The Node gateway passes its guarded sender, so a name that
   * resolves to a blocked address is not contacted either.
   */
  readonly send?: ProbeSender;
  readonly clock?: () => Date;
  /** Why a URL must not be contacted (SSRF guard); such an endpoint is never probed and never ready. */
  readonly refuseUrl?: (url: string) => string | undefined;
}

const keyOf = (ref: ResourceRef) => `${ref.kind}/${ref.name}`;

/** Health-checked remote endpoints, as a Deployer. */
export class RemoteDeployer implements Deployer {
  readonly runtime = 'endpoints' as const;
  private readonly applied = new Map<string, Registered>();
  /** Last probe result per URL; a URL never probed counts as ready (a new adapter works at once). */
  private readonly health = new Map<string, ReplicaState>();
  /** Bumped whenever an endpoint turns ready or not, so remembered ready lists are recomputed. */
  private readiness = 0;
  /** Ready lists per spec `endpoints` array: the data plane asks on every request, the answer rarely changes. */
  private readonly readyLists = new WeakMap<
    readonly string[],
    { readiness: number; ready: ReplicaEndpoint[] }
  >();
  private readonly listeners = new Set<EndpointsListener>();
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(private readonly options: RemoteDeployerOptions) {}

  /** Starts periodic probing. */
  start(): void {
    this.timer ??= setInterval(() => void this.probeAll(), this.options.probeIntervalMs);
    this.timer.unref?.();
  }

  async apply(resource: Registered): Promise<void> {
    this.applied.set(keyOf(resource), resource);
    await this.probeUrls(resource.spec.endpoints ?? []);
    this.emit(resource);
  }

  async remove(ref: ResourceRef): Promise<void> {
    if (!this.applied.delete(keyOf(ref))) return;
    for (const listener of this.listeners) listener(ref, []);
  }

  async list(): Promise<ResourceRef[]> {
    return [...this.applied.values()].map(({ kind, name }) => ({ kind, name }));
  }

  async status(resource: Registered): Promise<RuntimeStatus> {
    const endpoints = resource.spec.endpoints ?? [];
    const replicas = await this.probeUrls(endpoints);
    const ready = replicas.filter((r) => r.ready).length;
    return {
      readyReplicas: ready,
      updatedReplicas: endpoints.length,
      availableReplicas: ready,
      image: 'Unknown',
      replicaStatus: summarizeReplicas(ready, endpoints.length),
      runtime: 'endpoints',
      replicas,
    };
  }

  async logs(resource: Registered): Promise<DeployerLogs> {
    return remoteLogs(resource);
  }

  endpoints(ref: ResourceRef): readonly ReplicaEndpoint[] {
    const resource = this.applied.get(keyOf(ref));
    return resource ? this.endpointsOf(resource) : [];
  }

  /** Ready endpoints of a resource straight from its spec, whether or not it was applied yet. */
  endpointsOf(resource: Registered): readonly ReplicaEndpoint[] {
    const urls = resource.spec.endpoints;
    if (!urls) return [];
    const known = this.readyLists.get(urls);
    if (known?.readiness === this.readiness) return known.ready;
    const ready: ReplicaEndpoint[] = [];
    for (const url of urls) {
      if (this.health.get(url)?.ready !== false) ready.push({ id: url, url, weight: 1 });
    }
    this.readyLists.set(urls, { readiness: this.readiness, ready });
    return ready;
  }

  /** The data plane saw a refused connection: take the URL out now and let the next probe decide. */
  reportUnreachable(url: string): void {
    const previous = this.health.get(url);
    if (previous?.ready === false) return;
    this.readiness++;
    this.health.set(url, {
      instance: previous?.instance ?? 0,
      endpoint: url,
      ready: false,
      state: 'Unreachable',
      detail: 'connection refused',
      checkedAt: (this.options.clock ?? (() => new Date()))(),
    });
    this.emitFor(url);
    void this.probeUrls([url]);
  }

  onEndpointsChange(listener: EndpointsListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    this.listeners.clear();
  }

  private async probeAll(): Promise<void> {
    const urls = new Set([...this.applied.values()].flatMap((r) => r.spec.endpoints ?? []));
    await this.probeUrls([...urls]);
  }

  private async probeUrls(urls: readonly string[]): Promise<ReplicaState[]> {
    const probe = {
      timeoutMs: this.options.probeTimeoutMs,
      send: this.options.send,
      clock: this.options.clock,
      refuseUrl: this.options.refuseUrl,
    };
    const results = await Promise.all(urls.map((url, i) => probeEndpoint(i, url, probe)));
    for (const result of results) {
      const url = result.endpoint!;
      const changed = this.health.get(url)?.ready !== result.ready;
      this.health.set(url, result);
      if (changed) {
        this.readiness++;
        this.emitFor(url);
      }
    }
    return results;
  }

  private emitFor(url: string): void {
    for (const resource of this.applied.values()) {
      if (resource.spec.endpoints?.includes(url)) this.emit(resource);
    }
  }

  private emit(resource: Registered): void {
    const endpoints = this.endpointsOf(resource);
    for (const listener of this.listeners) listener({ kind: resource.kind, name: resource.name }, endpoints);
  }
}
