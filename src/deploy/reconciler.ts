/**
 * @module Reconciler: drives what the deployers run toward what the registry says. Desired state is the
 * registry (both kinds, paged); actual state is each deployer's `list()`. Every resource is converged by one
 * idempotent step — read the row, remove it from deployers of other runtimes, `apply` it to the deployer of its
 * runtime (or `remove` it everywhere when the row is gone) — so a crash or a failure between any two steps
 * leaves a state the next pass repairs. Work is serialised per resource and bursts of notifications coalesce
 * into one more pass; the last result per resource is kept for status (`Failed: <reason>`).
 */
import { createSilentLogger } from '../observability/index.js';
import type { Logger } from '../observability/index.js';
import { listAll, registeredOf, runtimeOf } from '../registry/index.js';
import type { RegistryStore, ResourceKind, RuntimeKind } from '../registry/index.js';
import type { Deployer, ResourceRef } from './deployer.js';
import { refKey } from './resource-change.js';
import type { ResourceChangeListener } from './resource-change.js';
import { systemTimers } from './timers.js';
import type { TimerHandle, Timers } from './timers.js';

/** What the last convergence of one resource did and how it ended. */
export interface ReconcileResult {
  readonly ok: boolean;
  /** `apply`: applied to its runtime's deployer; `remove`: removed (the row is gone); `skip`: no deployer runs its runtime. */
  readonly action: 'apply' | 'remove' | 'skip';
  /** The runtime the registry names (absent after a removal). */
  readonly runtime?: RuntimeKind;
  /** The registry version that was applied. */
  readonly version?: number;
  /** Why it failed (when `ok` is false), or a note (for `skip`). */
  readonly message?: string;
  readonly at: Date;
}

/** Counts of one full pass. */
export interface ReconcileSummary {
  /** Resources the registry holds. */
  readonly desired: number;
  /** Resources converged without error. */
  readonly converged: number;
  /** Resources whose step failed (their `lastResult` says why). */
  readonly failed: number;
  /** Deployers whose `list()` failed, so orphans they may run were not looked for this pass. */
  readonly unlistedRuntimes: readonly RuntimeKind[];
}

/** Options for {@link createReconciler}. */
export interface ReconcilerOptions {
  readonly store: RegistryStore;
  /** At most one deployer per runtime. */
  readonly deployers: readonly Deployer[];
  /** Period of the full pass that repairs whatever notifications missed (e.g. 30 000). */
  readonly intervalMs: number;
  readonly logger?: Logger;
  readonly clock?: () => Date;
  readonly timers?: Timers;
  /** Registry page size of a full pass (default 500). */
  readonly pageSize?: number;
  /** Resources converged at the same time (default 4), so a pass never floods a cluster API. */
  readonly concurrency?: number;
  /** Told the result of every convergence step (metrics); must not throw. */
  readonly onResult?: (ref: ResourceRef, result: ReconcileResult) => void;
}

/** The reconciler; it is also the control plane's {@link ResourceChangeListener}. */
export interface Reconciler extends ResourceChangeListener {
  /** Runs a full pass now and then every `intervalMs`. */
  start(): void;
  /** Converges one resource soon (the control plane calls it after each write); never throws. */
  notify(ref: ResourceRef): void;
  /** One full pass: every registered resource applied, every orphan removed. Resolves when it is done. */
  reconcileAll(): Promise<ReconcileSummary>;
  /** Resolves once no resource has work queued or running. */
  settled(): Promise<void>;
  /** The result of the last convergence of `ref`, if any ran since start (cleared when it is removed). */
  lastResult(ref: ResourceRef): ReconcileResult | undefined;
  /** Stops the periodic pass and ignores further notifications; resolves when running work has finished. */
  stop(): Promise<void>;
}

const KINDS: readonly ResourceKind[] = ['adapter', 'tool'];

interface Slot {
  rerun: boolean;
  idle: Promise<void>;
}

/** A counting semaphore: bounds how many resources converge at once. */
function limiter(limit: number): <T>(task: () => Promise<T>) => Promise<T> {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async (task) => {
    if (active >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
    active += 1;
    try {
      return await task();
    } finally {
      active -= 1;
      waiting.shift()?.();
    }
  };
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Builds a reconciler over `store` and `deployers`; call `start()` to run it. */
export function createReconciler(options: ReconcilerOptions): Reconciler {
  const { store } = options;
  const logger = options.logger ?? createSilentLogger();
  const clock = options.clock ?? (() => new Date());
  const timers = options.timers ?? systemTimers;
  const pageSize = options.pageSize ?? 500;
  const onResult = options.onResult ?? (() => undefined);
  if (!(options.intervalMs > 0)) throw new Error('intervalMs must be a positive number of milliseconds');

  const byRuntime = new Map<RuntimeKind, Deployer>();
  for (const deployer of options.deployers) {
    if (byRuntime.has(deployer.runtime)) throw new Error(`two deployers for the ${deployer.runtime} runtime`);
    byRuntime.set(deployer.runtime, deployer);
  }
  const limit = limiter(Math.max(1, options.concurrency ?? 4));
  const slots = new Map<string, Slot>();
  const results = new Map<string, ReconcileResult>();
  /**
   * Where each resource is believed to run, refreshed from `list()` on every full pass and from successful
   * steps in between: it lets a notification remove a resource from the deployer of its old runtime without
   * asking every deployer to delete what it never ran.
   */
  const placed = new Map<string, Set<RuntimeKind>>();
  let interval: TimerHandle | undefined;
  let pass: Promise<ReconcileSummary> | undefined;
  let stopped = false;

  function place(key: string, runtime: RuntimeKind, present: boolean): void {
    const set = placed.get(key) ?? new Set<RuntimeKind>();
    if (present) set.add(runtime);
    else set.delete(runtime);
    if (set.size > 0) placed.set(key, set);
    else placed.delete(key);
  }

  async function removeFrom(deployer: Deployer, ref: ResourceRef, key: string): Promise<void> {
    await deployer.remove(ref);
    place(key, deployer.runtime, false);
  }

  /** The one idempotent step for one resource, reported. */
  async function converge(ref: ResourceRef): Promise<boolean> {
    const ok = await convergeStep(ref);
    onResult(ref, results.get(refKey(ref)) ?? { ok, action: 'remove', at: clock() });
    return ok;
  }

  /** The one idempotent step for one resource. Never throws: failures become its last result. */
  async function convergeStep(ref: ResourceRef): Promise<boolean> {
    const key = refKey(ref);
    let runtime: RuntimeKind | undefined;
    let action: ReconcileResult['action'] = 'apply';
    try {
      const row = await store.get(ref.kind, ref.name);
      if (!row) {
        action = 'remove';
        const known = placed.get(key);
        // Without knowledge (e.g. deleted before the first pass listed anything) every deployer is asked:
        // `remove` is idempotent, and an orphan costs more than a redundant call.
        const targets = known ? [...known].flatMap((r) => byRuntime.get(r) ?? []) : [...byRuntime.values()];
        for (const deployer of targets) await removeFrom(deployer, ref, key);
        results.delete(key);
        logger.debug({ resource: key }, 'reconciled: removed');
        return true;
      }
      const resource = registeredOf(ref.kind, row);
      runtime = runtimeOf(resource.spec);
      // A runtime change (e.g. command → image) leaves the old runtime's replicas behind unless removed here.
      for (const other of placed.get(key) ?? []) {
        const deployer = byRuntime.get(other);
        if (other !== runtime && deployer) await removeFrom(deployer, ref, key);
      }
      const deployer = byRuntime.get(runtime);
      if (!deployer) {
        action = 'skip';
        results.set(key, {
          ok: true,
          action,
          runtime,
          version: resource.version,
          message: `no deployer runs the ${runtime} runtime in this gateway`,
          at: clock(),
        });
        return true;
      }
      await deployer.apply(resource);
      place(key, runtime, true);
      results.set(key, { ok: true, action, runtime, version: resource.version, at: clock() });
      logger.debug({ resource: key, runtime, version: resource.version }, 'reconciled: applied');
      return true;
    } catch (err) {
      const message = messageOf(err);
      results.set(key, { ok: false, action, ...(runtime && { runtime }), message, at: clock() });
      logger.warn({ resource: key, action, err: message }, 'reconcile step failed; the next pass retries');
      return false;
    }
  }

  /**
   * Queues a convergence of `ref`. One run per resource at a time; a request that arrives while one runs marks
   * the slot for exactly one more run (it re-reads the registry, so it sees every write made meanwhile).
   */
  function enqueue(ref: ResourceRef): Promise<void> {
    const key = refKey(ref);
    const existing = slots.get(key);
    if (existing) {
      existing.rerun = true;
      return existing.idle;
    }
    const slot: Slot = { rerun: false, idle: Promise.resolve() };
    slots.set(key, slot);
    slot.idle = (async () => {
      // Let the synchronous rest of a burst (several notify() calls in one tick) join this run.
      await Promise.resolve();
      try {
        do {
          slot.rerun = false;
          await limit(() => converge(ref));
        } while (slot.rerun && !stopped);
      } finally {
        slots.delete(key);
      }
    })();
    return slot.idle;
  }

  async function listDesired(): Promise<Map<string, ResourceRef>> {
    const desired = new Map<string, ResourceRef>();
    for (const kind of KINDS) {
      for await (const resource of listAll(store, kind, { pageSize })) {
        desired.set(refKey(resource), { kind, name: resource.name });
      }
    }
    return desired;
  }

  async function fullPass(): Promise<ReconcileSummary> {
    const desired = await listDesired();
    const all = new Map(desired);
    const unlisted: RuntimeKind[] = [];
    await Promise.all(
      [...byRuntime.values()].map(async (deployer) => {
        try {
          const running = await deployer.list();
          const keys = new Set(running.map(refKey));
          for (const key of placed.keys()) if (!keys.has(key)) place(key, deployer.runtime, false);
          for (const ref of running) {
            const key = refKey(ref);
            place(key, deployer.runtime, true);
            if (!all.has(key)) all.set(key, { kind: ref.kind, name: ref.name });
          }
        } catch (err) {
          unlisted.push(deployer.runtime);
          logger.warn(
            { runtime: deployer.runtime, err: messageOf(err) },
            'listing what a deployer runs failed',
          );
        }
      }),
    );
    await Promise.all([...all.values()].map((ref) => enqueue(ref)));
    let converged = 0;
    let failed = 0;
    for (const key of desired.keys()) {
      if (results.get(key)?.ok === false) failed += 1;
      else converged += 1;
    }
    return { desired: desired.size, converged, failed, unlistedRuntimes: unlisted };
  }

  const reconciler: Reconciler = {
    start() {
      if (stopped || interval !== undefined) return;
      void reconciler.reconcileAll().catch(() => undefined);
      interval = timers.setInterval(() => {
        // A pass still running (slow cluster API) is not doubled; the next tick tries again.
        if (!pass) void reconciler.reconcileAll().catch(() => undefined);
      }, options.intervalMs);
    },
    notify(ref) {
      if (stopped) return;
      void enqueue({ kind: ref.kind, name: ref.name });
    },
    reconcileAll() {
      if (pass) return pass;
      const current = fullPass()
        .catch((err: unknown) => {
          logger.warn({ err: messageOf(err) }, 'reconcile pass failed; the next pass retries');
          throw err;
        })
        .finally(() => {
          pass = undefined;
        });
      pass = current;
      return current;
    },
    async settled() {
      while (slots.size > 0 || pass) {
        await Promise.allSettled([pass, ...[...slots.values()].map((s) => s.idle)]);
      }
    },
    lastResult(ref) {
      return results.get(refKey(ref));
    },
    async stop() {
      stopped = true;
      if (interval !== undefined) timers.clearInterval(interval);
      interval = undefined;
      await reconciler.settled();
    },
  };
  return reconciler;
}
