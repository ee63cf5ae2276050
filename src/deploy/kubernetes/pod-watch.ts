/**
 * @module pod-watch: a list-then-watch cache of the gateway's pods in one namespace. A dropped or timed-out
 * watch resumes from the last resource version seen (bookmarks keep it fresh); `410 Gone` — as an HTTP status
 * or as an ERROR event — means that version was compacted away, so the cache is rebuilt from a new list and
 * the watch resumes from the list's version. Failures retry with capped exponential backoff on injected
 * timers; the last known pods stay cached meanwhile, so routing keeps working through an API outage.
 */
import type { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { Watch } from '@kubernetes/client-node';
import type { Logger } from '../../observability/index.js';
import { delay } from '../timers.js';
import type { Timers } from '../timers.js';
import { statusCodeOf } from './kube-errors.js';
import type { PodView } from './pod-view.js';

/** Options of {@link PodWatch}. */
export interface PodWatchOptions {
  readonly kubeConfig: KubeConfig;
  readonly core: CoreV1Api;
  readonly namespace: string;
  readonly labelSelector: string;
  readonly timeoutSeconds: number;
  readonly minBackoffMs: number;
  readonly maxBackoffMs: number;
  readonly timers: Timers;
  /** Milliseconds now (the injected clock), to tell a watch that lasted from one that ended at once. */
  readonly now: () => number;
  readonly logger: Logger;
  /** Called with the pods that were added, changed or removed (removed ones as last seen). */
  readonly onChange: (changed: readonly PodView[]) => void;
}

interface WatchOutcome {
  readonly expired: boolean;
  /** Events delivered, bookmarks included (they prove the stream was alive). */
  readonly events: number;
  readonly durationMs: number;
}

/** A watch that stayed open this long was healthy even if the namespace was quiet. */
const HEALTHY_WATCH_MS = 5_000;

/** The pod cache; `start()` runs the loop until `stop()`. */
export class PodWatch {
  private readonly pods = new Map<string, PodView>();
  private resourceVersion = '';
  private readonly stopper = new AbortController();
  private request: AbortController | undefined;
  private loop: Promise<void> | undefined;
  private markSynced: () => void = () => undefined;
  private readonly syncedPromise: Promise<void>;
  private synced = false;

  constructor(private readonly options: PodWatchOptions) {
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

  /** Whether a list has succeeded yet (before that the cache is empty, not "no pods"). */
  get isSynced(): boolean {
    return this.synced;
  }

  /** The cached pods. */
  all(): IterableIterator<PodView> {
    return this.pods.values();
  }

  /** Stops the loop and the open watch; resolves when the loop has exited. */
  async stop(): Promise<void> {
    this.stopper.abort(new Error('pod watch stopped'));
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
          'Kubernetes pod list/watch failed; retrying',
        );
      }
      if (failures > 0 && !this.stopped) {
        const ms = Math.min(this.options.maxBackoffMs, this.options.minBackoffMs * 2 ** (failures - 1));
        await delay(ms, this.options.timers, this.stopper.signal).catch(() => undefined);
      }
    }
  }

  private async relist(): Promise<void> {
    const list = await this.options.core.listNamespacedPod({
      namespace: this.options.namespace,
      labelSelector: this.options.labelSelector,
    });
    if (this.stopped) return;
    const changed: PodView[] = [];
    const seen = new Set<string>();
    for (const pod of list.items as PodView[]) {
      const name = pod.metadata?.name;
      if (!name) continue;
      seen.add(name);
      if (this.pods.get(name)?.metadata?.resourceVersion !== pod.metadata?.resourceVersion) changed.push(pod);
      this.pods.set(name, pod);
    }
    for (const [name, pod] of this.pods) {
      if (seen.has(name)) continue;
      this.pods.delete(name);
      changed.push(pod);
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
        const pod = object as PodView;
        const version = pod.metadata?.resourceVersion;
        if (type === 'BOOKMARK') {
          events += 1;
          if (version) this.resourceVersion = version;
          return;
        }
        const name = pod.metadata?.name;
        if (!name) return;
        events += 1;
        if (type === 'DELETED') this.pods.delete(name);
        else this.pods.set(name, pod);
        if (version) this.resourceVersion = version;
        this.options.onChange([pod]);
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
          `/api/v1/namespaces/${encodeURIComponent(this.options.namespace)}/pods`,
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
