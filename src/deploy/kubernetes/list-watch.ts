/**
 * @module list-watch: a list-then-watch cache of one kind of object in one namespace, label-selected (the
 * deployer keeps one for EndpointSlices and one for Services). A dropped or timed-out
 * watch resumes from the last resource version seen (bookmarks keep it fresh); `410 Gone` — as an HTTP status
 * or as an ERROR event — means that version was compacted away, so the cache is rebuilt from a new list and
 * the watch resumes from the list's version. Failures retry with capped exponential backoff on injected
 * timers; the last known objects stay cached meanwhile, so routing keeps working through an API outage.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { Watch } from '@kubernetes/client-node';
import type { Logger } from '../../observability/index.js';
import { delay } from '../timers.js';
import type { Timers } from '../timers.js';
import { statusCodeOf } from './kube-errors.js';

/** What the cache reads of every object: its name and resource version. */
export interface WatchedObject {
  readonly metadata?: { readonly name?: string; readonly resourceVersion?: string };
}

/** One page of a typed list call (the client's `V1…List`). */
export interface ObjectList<T> {
  readonly items: readonly T[];
  readonly metadata?: { readonly resourceVersion?: string };
}

/** Options of {@link ListWatch}. */
export interface ListWatchOptions<T extends WatchedObject> {
  readonly kubeConfig: KubeConfig;
  /** What is watched, for log lines (`EndpointSlice`, `Service`). */
  readonly kind: string;
  /** The collection path the watch opens, e.g. `/apis/discovery.k8s.io/v1/namespaces/ns/endpointslices`. */
  readonly path: string;
  /** The typed list call of the same collection, with the same selector. */
  readonly list: () => Promise<ObjectList<T>>;
  readonly namespace: string;
  readonly labelSelector: string;
  readonly timeoutSeconds: number;
  readonly minBackoffMs: number;
  readonly maxBackoffMs: number;
  readonly timers: Timers;
  /** Milliseconds now (the injected clock), to tell a watch that lasted from one that ended at once. */
  readonly now: () => number;
  readonly logger: Logger;
  /** Called with the objects that were added, changed or removed (removed ones as last seen). */
  readonly onChange: (changed: readonly T[]) => void;
}

interface WatchOutcome {
  readonly expired: boolean;
  /** Events delivered, bookmarks included (they prove the stream was alive). */
  readonly events: number;
  readonly durationMs: number;
}

/** A watch that stayed open this long was healthy even if the namespace was quiet. */
const HEALTHY_WATCH_MS = 5_000;

/** The cache; `start()` runs the loop until `stop()`. */
export class ListWatch<T extends WatchedObject> {
  private readonly objects = new Map<string, T>();
  private resourceVersion = '';
  private readonly stopper = new AbortController();
  private request: AbortController | undefined;
  private loop: Promise<void> | undefined;
  private markSynced: () => void = () => undefined;
  private readonly syncedPromise: Promise<void>;
  private synced = false;

  constructor(private readonly options: ListWatchOptions<T>) {
    this.syncedPromise = new Promise<void>((resolve) => {
      this.markSynced = resolve;
    });
  }

  /** Starts listing and watching (once). */
  start(): void {
    this.loop ??= this.run();
  }

  /** Resolves after the first successful list. */
  whenSynced(): Promise<void> {
    return this.syncedPromise;
  }

  /** Whether a list has succeeded yet (before that the cache is empty, not "none"). */
  get isSynced(): boolean {
    return this.synced;
  }

  /** The cached object named `name`. */
  get(name: string): T | undefined {
    return this.objects.get(name);
  }

  /** The cached objects. */
  all(): IterableIterator<T> {
    return this.objects.values();
  }

  /** Stops the loop and the open watch; resolves when the loop has exited. */
  async stop(): Promise<void> {
    this.stopper.abort(new Error(`${this.options.kind} watch stopped`));
    this.request?.abort();
    await this.loop;
  }

  private get stopped(): boolean {
    return this.stopper.signal.aborted;
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.stopped) {
      try {
        if (!this.resourceVersion) await this.relist();
        const outcome = await this.watchOnce();
        if (outcome.expired) {
          // Compacted: rebuild from a fresh list at once; this is routine, not a failure.
          this.resourceVersion = '';
          failures = 0;
          continue;
        }
        // A watch that delivered something or stayed open a while (the server's timeout on a quiet namespace)
        // was healthy: resume at once. One that ends at once repeatedly (a proxy closing streams) must not
        // spin, so it counts as a failure for the backoff.
        const healthy = outcome.events > 0 || outcome.durationMs >= HEALTHY_WATCH_MS;
        failures = healthy ? 0 : failures + 1;
      } catch (err) {
        if (this.stopped) break;
        if (statusCodeOf(err) === 410) {
          this.resourceVersion = '';
          continue;
        }
        failures += 1;
        this.options.logger.warn(
          { err, namespace: this.options.namespace, failures },
          `Kubernetes ${this.options.kind} list/watch failed; retrying`,
        );
      }
      if (failures > 0 && !this.stopped) {
        const ms = Math.min(this.options.maxBackoffMs, this.options.minBackoffMs * 2 ** (failures - 1));
        await delay(ms, this.options.timers, this.stopper.signal).catch(() => undefined);
      }
    }
  }

  private async relist(): Promise<void> {
    const list = await this.options.list();
    if (this.stopped) return;
    const changed: T[] = [];
    const seen = new Set<string>();
    for (const object of list.items) {
      const name = object.metadata?.name;
      if (!name) continue;
      seen.add(name);
      if (this.objects.get(name)?.metadata?.resourceVersion !== object.metadata?.resourceVersion)
        changed.push(object);
      this.objects.set(name, object);
    }
    for (const [name, object] of this.objects) {
      if (seen.has(name)) continue;
      this.objects.delete(name);
      changed.push(object);
    }
    this.resourceVersion = list.metadata?.resourceVersion ?? '';
    if (changed.length > 0) this.options.onChange(changed);
    if (!this.synced) {
      this.synced = true;
      this.markSynced();
    }
  }

  private watchOnce(): Promise<WatchOutcome> {
    const watcher = new Watch(this.options.kubeConfig);
    return new Promise<WatchOutcome>((resolve, reject) => {
      let expired = false;
      let finished = false;
      let events = 0;
      const startedAt = this.options.now();
      let failure: Error | undefined;
      const onEvent = (type: string, object: unknown): void => {
        if (type === 'ERROR') {
          const code = (object as { code?: number } | undefined)?.code;
          if (code === 410) expired = true;
          else failure = new Error(`watch error event: ${JSON.stringify(object)}`);
          return;
        }
        const item = object as T;
        const version = item.metadata?.resourceVersion;
        if (type === 'BOOKMARK') {
          events += 1;
          if (version) this.resourceVersion = version;
          return;
        }
        const name = item.metadata?.name;
        if (!name) return;
        events += 1;
        if (type === 'DELETED') this.objects.delete(name);
        else this.objects.set(name, item);
        if (version) this.resourceVersion = version;
        this.options.onChange([item]);
      };
      const onDone = (err: unknown): void => {
        finished = true;
        this.request = undefined;
        const durationMs = this.options.now() - startedAt;
        if (expired) resolve({ expired: true, events, durationMs });
        else if (failure) reject(failure);
        else if (err) reject(err);
        else resolve({ expired: false, events, durationMs });
      };
      watcher
        .watch(
          this.options.path,
          {
            labelSelector: this.options.labelSelector,
            resourceVersion: this.resourceVersion,
            allowWatchBookmarks: true,
            timeoutSeconds: this.options.timeoutSeconds,
          },
          onEvent,
          onDone,
        )
        .then((request) => {
          if (finished) return;
          this.request = request;
          if (this.stopped) request.abort();
        })
        .catch(reject);
    });
  }
}
