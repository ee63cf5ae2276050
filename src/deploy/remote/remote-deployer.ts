/**
 * @module RemoteDeployer: the `endpoints` runtime. Nothing is started; the URLs of a server that already runs
 * are health-checked, and a dead one leaves the ready set until a probe finds it answering again. Each distinct
 * URL is probed once per interval however many resources list it, on a schedule spread over the interval, with
 * a bounded number of probes in flight and backoff for URLs that stay down (`probe-scheduler.ts`); a URL that
 * just answered the data plane is not probed again that interval.
 */
import type { Registered } from '../../registry/index.js';
import type { Deployer, DeployerLogs, EndpointsListener, ReplicaEndpoint, ResourceRef } from '../deployer.js';
import type { ReplicaState, RuntimeStatus } from '../runtime-inspector.js';
import { summarizeReplicas } from '../runtime-inspector.js';
import { probeEndpoint } from './probe-endpoint.js';
import type { ProbeSender, SseProbeSender } from './probe-endpoint.js';
import { ProbeScheduler } from './probe-scheduler.js';
import { remoteLogs } from './remote-inspector.js';

/** Options for {@link RemoteDeployer}. */
export interface RemoteDeployerOptions {
  /** How often every known endpoint is probed (each at its own point of the interval). */
  readonly probeIntervalMs: number;
  readonly probeTimeoutMs: number;
  /** Probes in flight at most, whoever asked for them; default 64. */
  readonly probeConcurrency?: number;
  /** The longest a URL that stays down waits between probes; default five minutes (or the interval if longer). */
  readonly maxProbeBackoffMs?: number;
  /** For the spread and jitter of the schedule; default `Math.random`. */
  readonly random?: () => number;
  /**
   * How probes are sent; default the global `fetch`. The Node gateway passes its guarded sender, so a name that
   * resolves to a blocked address is not contacted either.
   */
  readonly send?: ProbeSender;
  /** How the SSE URLs of `transport: "sse"` adapters are probed (GET, an event stream); the Node gateway's is guarded. */
  readonly sendSse?: SseProbeSender;
  readonly clock?: () => Date;
  /** Why a URL must not be contacted (SSRF guard); such an endpoint is never probed and never ready. */
  readonly refuseUrl?: (url: string) => string | undefined;
}

const keyOf = (ref: ResourceRef) => `${ref.kind}/${ref.name}`;

/** An adapter whose endpoints speak the 2024-11-05 HTTP+SSE transport. */
const isSseAdapter = (resource: Registered | undefined) =>
  resource?.kind === 'adapter' && (resource as Registered<'adapter'>).spec.transport === 'sse';

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
  /** The applied resources (keys) listing each URL: a URL is on the schedule while some resource lists it. */
  private readonly listedBy = new Map<string, Set<string>>();
  /** The listed URLs some `sse` adapter names: probed with a GET for an event stream (`OPTIONS` proves little). */
  private readonly sseUrls = new Set<string>();
  private readonly scheduler: ProbeScheduler<ReplicaState>;

  constructor(private readonly options: RemoteDeployerOptions) {
    const probe = {
      timeoutMs: options.probeTimeoutMs,
      send: options.send,
      sendSse: options.sendSse,
      clock: options.clock,
      refuseUrl: options.refuseUrl,
    };
    const sseProbe = { ...probe, sse: true };
    this.scheduler = new ProbeScheduler({
      probe: (url) => probeEndpoint(0, url, this.sseUrls.has(url) ? sseProbe : probe),
      isUp: (result) => result.ready,
      onResult: (url, result) => this.record(url, result),
      intervalMs: options.probeIntervalMs,
      maxBackoffMs: options.maxProbeBackoffMs,
      concurrency: options.probeConcurrency,
      random: options.random,
    });
  }

  /** Starts periodic probing. */
  start(): void {
    this.scheduler.start();
  }

  async apply(resource: Registered): Promise<void> {
    const key = keyOf(resource);
    this.unlist(this.applied.get(key));
    this.applied.set(key, resource);
    if (isSseAdapter(resource)) for (const url of resource.spec.endpoints ?? []) this.sseUrls.add(url);
    for (const url of resource.spec.endpoints ?? []) {
      const keys = this.listedBy.get(url);
      if (keys) keys.add(key);
      else this.listedBy.set(url, new Set([key]));
      this.scheduler.add(url);
    }
    // Not probed here: the schedule probes each new URL within one interval (never-probed counts as ready, and a
    // refused connection on the data plane takes it out at once). Waiting here would make a reconcile pass over
    // thousands of endpoints that never answer take one probe timeout per resource.
    this.emit(resource);
  }

  async remove(ref: ResourceRef): Promise<void> {
    const key = keyOf(ref);
    const resource = this.applied.get(key);
    if (!resource) return;
    this.applied.delete(key);
    this.unlist(resource);
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
    void this.scheduler.probe(url);
  }

  /** The data plane had an answer from `url`: it is up, so its next probe waits a whole interval. */
  reportAnswered(url: string): void {
    this.scheduler.answered(url);
  }

  onEndpointsChange(listener: EndpointsListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.scheduler.close();
    this.listeners.clear();
  }

  private unlist(resource: Registered | undefined): void {
    if (!resource) return;
    const key = keyOf(resource);
    for (const url of resource.spec.endpoints ?? []) {
      const keys = this.listedBy.get(url);
      keys?.delete(key);
      if (keys?.size) {
        // Probed as an SSE URL while any resource still listing it says so.
        if (![...keys].some((k) => isSseAdapter(this.applied.get(k)))) this.sseUrls.delete(url);
        continue;
      }
      this.listedBy.delete(url);
      this.sseUrls.delete(url);
      this.scheduler.delete(url);
      this.health.delete(url);
    }
  }

  /** Probes `urls` now (bounded, joined with probes in flight); the result's `instance` is the URL's index. */
  private async probeUrls(urls: readonly string[]): Promise<ReplicaState[]> {
    const results = await Promise.all(urls.map((url) => this.scheduler.probe(url)));
    return results.map((result, instance) => ({ ...result, instance }));
  }

  private record(url: string, result: ReplicaState): void {
    // Kept only for URLs some resource lists, so results of probes that outlived their resource do not pile up.
    if (!this.listedBy.has(url)) return;
    // A URL never probed already counts as ready.
    const changed = (this.health.get(url)?.ready ?? true) !== result.ready;
    this.health.set(url, result);
    if (changed) {
      this.readiness++;
      this.emitFor(url);
    }
  }

  private emitFor(url: string): void {
    for (const key of this.listedBy.get(url) ?? []) {
      const resource = this.applied.get(key);
      if (resource) this.emit(resource);
    }
  }

  private emit(resource: Registered): void {
    const endpoints = this.endpointsOf(resource);
    for (const listener of this.listeners) listener({ kind: resource.kind, name: resource.name }, endpoints);
  }
}
