/**
 * @module InMemoryDeployer: a Deployer that runs nothing and reports every replica ready at once. It exists so
 * the reconciler and the deployer contract can be tested in milliseconds, and it passes that contract itself.
 */
import { runtimeOf } from '../src/registry/index.js';
import type { Registered, RuntimeKind } from '../src/registry/index.js';
import type {
  Deployer,
  DeployerLogs,
  DeployerLogsOptions,
  EndpointsListener,
  ReplicaEndpoint,
  ResourceRef,
} from '../src/deploy/deployer.js';
import { refKey, refOf } from '../src/deploy/resource-change.js';
import type { RuntimeStatus } from '../src/deploy/runtime-inspector.js';
import { summarizeReplicas } from '../src/deploy/runtime-inspector.js';

/** Options for {@link InMemoryDeployer}. */
export interface InMemoryDeployerOptions {
  /** The runtime it claims (default `command`). */
  readonly runtime?: RuntimeKind;
  readonly clock?: () => Date;
}

interface Entry {
  readonly resource: Registered;
  readonly fingerprint: string;
  readonly generation: number;
  readonly endpoints: readonly ReplicaEndpoint[];
}

/** What, besides the replica count, makes replicas be replaced. */
function fingerprintOf(resource: Registered): string {
  const { spec } = resource;
  return JSON.stringify([
    spec.command,
    spec.args,
    spec.imageName,
    spec.imageVersion,
    spec.environmentVariables,
  ]);
}

/** Keeps desired state in a map; endpoints are `memory://` URLs. */
export class InMemoryDeployer implements Deployer {
  readonly runtime: RuntimeKind;
  readonly #clock: () => Date;
  readonly #entries = new Map<string, Entry>();
  readonly #listeners = new Set<EndpointsListener>();
  #generation = 0;
  #closed = false;

  constructor(options: InMemoryDeployerOptions = {}) {
    this.runtime = options.runtime ?? 'command';
    this.#clock = options.clock ?? (() => new Date());
  }

  async apply(resource: Registered): Promise<void> {
    if (this.#closed) throw new Error('the deployer is closed');
    const runtime = runtimeOf(resource.spec);
    if (runtime !== this.runtime) {
      throw new Error(`${resource.kind} '${resource.name}' uses the ${runtime} runtime, not ${this.runtime}`);
    }
    const key = refKey(resource);
    const fingerprint = fingerprintOf(resource);
    const previous = this.#entries.get(key);
    const generation =
      previous && previous.fingerprint === fingerprint ? previous.generation : (this.#generation += 1);
    const endpoints = Array.from({ length: resource.spec.replicaCount }, (_, index) => {
      const kept = previous?.generation === generation ? previous.endpoints[index] : undefined;
      return (
        kept ?? {
          id: `${resource.name}-${index}.g${generation}`,
          url: `memory://${resource.kind}/${resource.name}/${index}`,
          weight: 1,
        }
      );
    });
    this.#entries.set(key, { resource, fingerprint, generation, endpoints });
    const before = previous?.endpoints.map((e) => e.id).join() ?? '';
    if (before !== endpoints.map((e) => e.id).join() || !previous) this.#emit(refOf(resource), endpoints);
  }

  async remove(ref: ResourceRef): Promise<void> {
    const key = refKey(ref);
    if (!this.#entries.delete(key)) return;
    this.#emit(ref, []);
  }

  async list(): Promise<ResourceRef[]> {
    return [...this.#entries.values()].map((e) => refOf(e.resource));
  }

  async status(resource: Registered): Promise<RuntimeStatus> {
    const entry = this.#entries.get(refKey(resource));
    const endpoints = entry?.endpoints ?? [];
    const checkedAt = this.#clock();
    return {
      readyReplicas: endpoints.length,
      updatedReplicas: endpoints.length,
      availableReplicas: endpoints.length,
      image: resource.spec.command ?? resource.spec.imageName ?? 'Unknown',
      replicaStatus: entry ? summarizeReplicas(endpoints.length, resource.spec.replicaCount) : 'Pending',
      runtime: this.runtime,
      replicas: endpoints.map((e, instance) => ({
        instance,
        endpoint: e.url,
        ready: true,
        state: 'Running',
        checkedAt,
      })),
    };
  }

  async logs(resource: Registered, options: DeployerLogsOptions): Promise<DeployerLogs> {
    const entry = this.#entries.get(refKey(resource));
    const line =
      entry && options.instance < entry.endpoints.length ? `replica ${options.instance} running\n` : '';
    if (!options.follow) return { ok: true, text: line };
    const signal = options.signal;
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        if (line) controller.enqueue(new TextEncoder().encode(line));
        if (!signal) return controller.close();
        if (signal.aborted) return controller.close();
        signal.addEventListener('abort', () => controller.close(), { once: true });
      },
    });
    return { ok: true, stream };
  }

  endpoints(ref: ResourceRef): readonly ReplicaEndpoint[] {
    return this.#entries.get(refKey(ref))?.endpoints ?? [];
  }

  onEndpointsChange(listener: EndpointsListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.#closed = true;
    const refs = [...this.#entries.values()].map((e) => refOf(e.resource));
    this.#entries.clear();
    for (const ref of refs) this.#emit(ref, []);
  }

  #emit(ref: ResourceRef, endpoints: readonly ReplicaEndpoint[]): void {
    for (const listener of this.#listeners) {
      try {
        listener(ref, endpoints);
      } catch {
        // A listener's failure is its own; other listeners still hear of the change.
      }
    }
  }
}
