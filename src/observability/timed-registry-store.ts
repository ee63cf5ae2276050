/**
 * @module timed-registry-store: wraps a {@link RegistryStore} so every registry call records its latency and
 * outcome, by operation. The data plane reads through a cache, so this adds nothing per proxied request.
 */
import type { RegistryStore } from '../registry/index.js';
import type { GatewayMetrics } from './metrics.js';

/** Options for {@link timedRegistryStore}. */
export interface TimedRegistryStoreOptions {
  readonly metrics: GatewayMetrics;
  /** Milliseconds from an arbitrary origin; injected for tests. */
  readonly now?: () => number;
}

/** The asynchronous calls that are timed; anything else on the store passes through untouched. */
const TIMED_OPERATIONS: ReadonlySet<string> = new Set<keyof RegistryStore | 'revision'>([
  'create',
  'get',
  'list',
  'count',
  'update',
  'delete',
  'createSecret',
  'getSecret',
  'listSecrets',
  'updateSecret',
  'deleteSecret',
  'getOrCreateSetting',
  'getSetting',
  'replaceSetting',
  'deleteSetting',
  'saveGrant',
  'getGrant',
  'listGrants',
  'deleteGrant',
  'listSecretsSealedOtherThan',
  'resealSecret',
  'listGrantsSealedOtherThan',
  'resealGrant',
  'listSettings',
  'ping',
  'revision',
]);

type AsyncCall = (...args: unknown[]) => Promise<unknown>;

/**
 * Returns `store` with its operations timed. A proxy rather than a hand-written wrapper, so whatever else the
 * implementation offers (change feeds, dialect extras) stays reachable and is called on the real store.
 */
export function timedRegistryStore<S extends RegistryStore>(store: S, options: TimedRegistryStoreOptions): S {
  const { metrics } = options;
  const now = options.now ?? (() => performance.now());
  const bound = new Map<PropertyKey, unknown>();

  function timed(op: string, call: AsyncCall, target: S): AsyncCall {
    return async (...args) => {
      const started = now();
      try {
        const result = await call.apply(target, args);
        metrics.registryOperation(op, (now() - started) / 1000, true);
        return result;
      } catch (err) {
        metrics.registryOperation(op, (now() - started) / 1000, false);
        throw err;
      }
    };
  }

  return new Proxy(store, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop, target);
      if (typeof value !== 'function') return value;
      let wrapped = bound.get(prop);
      if (wrapped === undefined) {
        wrapped =
          typeof prop === 'string' && TIMED_OPERATIONS.has(prop)
            ? timed(prop, value as AsyncCall, target)
            : (value as AsyncCall).bind(target);
        bound.set(prop, wrapped);
      }
      return wrapped;
    },
  });
}
