/**
 * @module timers: the timer functions deployers and the reconciler schedule work with, injected so tests can
 * drive time, and unref'd by default so pending restarts or passes never keep a stopping gateway alive.
 */

/** An opaque handle returned by {@link Timers.setTimeout} / {@link Timers.setInterval}. */
export type TimerHandle = unknown;

/** The subset of the timer API this folder uses. */
export interface Timers {
  setTimeout(callback: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
  setInterval(callback: () => void, ms: number): TimerHandle;
  clearInterval(handle: TimerHandle): void;
}

function unref(handle: TimerHandle): TimerHandle {
  // `unref` exists on Node; Fetch-API runtimes (the edge build) have numeric handles without it.
  (handle as { unref?: () => void }).unref?.();
  return handle;
}

/** The runtime's timers, unref'd. */
export const systemTimers: Timers = {
  setTimeout: (callback, ms) => unref(setTimeout(callback, ms)),
  clearTimeout: (handle) => clearTimeout(handle as Parameters<typeof clearTimeout>[0]),
  setInterval: (callback, ms) => unref(setInterval(callback, ms)),
  clearInterval: (handle) => clearInterval(handle as Parameters<typeof clearInterval>[0]),
};

/** Resolves after `ms` on `timers`, or rejects with the signal's reason when it aborts first. */
export function delay(ms: number, timers: Timers, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason as Error);
      return;
    }
    const onAbort = () => {
      timers.clearTimeout(handle);
      reject(signal?.reason as Error);
    };
    const handle = timers.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * The runtime's timers, ref'd: for waits during start-up, when nothing else may yet hold the event loop open
 * (an unref'd poll there lets Node exit in the middle of an `await`).
 */
export const startupTimers: Timers = {
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as Parameters<typeof clearTimeout>[0]),
  setInterval: (callback, ms) => setInterval(callback, ms),
  clearInterval: (handle) => clearInterval(handle as Parameters<typeof clearInterval>[0]),
};
