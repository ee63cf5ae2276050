/**
 * @module config-file-control: the control plane as `MCP_GATEWAY_CONFIG` drives it at start — the same
 * `/adapters`, `/tools` and `/toolsets` routes as the public app (so the same validation: body schemas, cross-field
 * rules, the SSRF guard, the command gate, secret references that must exist), called in-process with Fetch
 * `Request`s (no socket, no token) as the {@link CONFIG_FILE_PRINCIPAL}. A dry-run variant runs every check on a
 * registry whose writes change nothing, so a file the gateway refuses is refused before anything is written.
 */
import { commandGate as defaultCommandGate, localPrincipal } from '../auth/index.js';
import type { CommandGate, Principal, SecretReferenceGate } from '../auth/index.js';
import type { ResourceChangeListener } from '../control/index.js';
import { ADMIN_ROLE } from '../core/index.js';
import type { RuntimeInspector, SsrfPolicy } from '../deploy/index.js';
import type { AuditLog, Logger } from '../observability/index.js';
import { ResourceExistsError, ResourceNotFoundError, VersionMismatchError } from '../registry/index.js';
import type { RegistryStore, StoredResource } from '../registry/index.js';
import { createApp } from './app.js';
import type { AppDeps } from './app.js';

/**
 * Who the configuration file acts as: the creator of what it creates (`createdBy`), an administrator so every
 * gate admits it, as an operator who controls the file controls the gateway's host anyway.
 */
export const CONFIG_FILE_PRINCIPAL: Principal = Object.freeze({
  userId: 'system:config-file',
  roles: Object.freeze([ADMIN_ROLE]),
});

/** A control plane reached without a socket: a Fetch handler. */
export type InProcessFetch = (request: Request) => Promise<Response>;

/** The two ways the start-up apply reaches the control plane. */
export interface ConfigFileControl {
  /** Writes for real. */
  readonly fetch: InProcessFetch;
  /** Checks every write as `fetch` would and answers as if it were made, but changes nothing. */
  readonly dryRun: InProcessFetch;
}

/** What {@link createConfigFileControl} needs: the public app's own gates and policies. */
export interface ConfigFileControlOptions {
  readonly store: RegistryStore;
  readonly inspector: RuntimeInspector;
  readonly logger: Logger;
  readonly bodyLimitBytes: number;
  readonly commandGate?: CommandGate;
  readonly secretReferenceGate?: SecretReferenceGate;
  readonly isProgramFile?: (command: string) => Promise<boolean>;
  readonly ssrf?: SsrfPolicy;
  /** As the public app's (`upstreamAuth` `token-exchange` in token auth modes). */
  readonly tokenExchange?: AppDeps['tokenExchange'];
  /** Told after every real write (the reconciler, caches), as the public app's writes are. */
  readonly onResourceChange?: ResourceChangeListener;
  readonly audit?: AuditLog;
  /** Default {@link CONFIG_FILE_PRINCIPAL}. */
  readonly principal?: Principal;
}

/** The in-process control planes of a start-up apply. */
export function createConfigFileControl(options: ConfigFileControlOptions): ConfigFileControl {
  const build = (store: RegistryStore, onResourceChange?: ResourceChangeListener, audit?: AuditLog) => {
    const app = createApp({
      store,
      inspector: options.inspector,
      logger: options.logger,
      bodyLimitBytes: options.bodyLimitBytes,
      // Not a browser and not on a socket: no Host or Origin to check.
      origins: { publicUrl: 'http://127.0.0.1', allowedOrigins: [], loopback: false },
      authenticate: localPrincipal({ principal: options.principal ?? CONFIG_FILE_PRINCIPAL }),
      commandGate: options.commandGate ?? defaultCommandGate({ commandRoles: [] }),
      ...(options.secretReferenceGate && { secretReferenceGate: options.secretReferenceGate }),
      ...(options.isProgramFile && { isProgramFile: options.isProgramFile }),
      ...(options.ssrf && { ssrf: options.ssrf }),
      ...(options.tokenExchange && { tokenExchange: options.tokenExchange }),
      ...(onResourceChange && { onResourceChange }),
      ...(audit && { audit }),
    });
    return async (request: Request) => app.fetch(request);
  };
  // Built on first use: a gateway started without a configuration file never builds them.
  let real: InProcessFetch | undefined;
  let dry: InProcessFetch | undefined;
  return {
    fetch: (request) => (real ??= build(options.store, options.onResourceChange, options.audit))(request),
    dryRun: (request) => (dry ??= build(dryRunStore(options.store)))(request),
  };
}

/**
 * `store` with resource writes that check what the real ones check (the name is free, the resource exists, the
 * version is the expected one) and answer what they would have stored, without storing it. Reads, secrets and
 * settings are the real store's: a dry run must see the secrets that exist.
 */
export function dryRunStore(store: RegistryStore): RegistryStore {
  return {
    dialect: store.dialect,
    async create(kind, name, spec, createdBy) {
      if (await store.get(kind, name)) throw new ResourceExistsError(kind, name);
      const now = new Date();
      const row: StoredResource = {
        kind,
        name,
        uid: crypto.randomUUID(),
        spec,
        version: 1,
        createdBy,
        createdAt: now,
        lastUpdatedAt: now,
      };
      return row;
    },
    get: (kind, name) => store.get(kind, name),
    list: (kind, listOptions) => store.list(kind, listOptions),
    count: (kind) => store.count(kind),
    async update(kind, name, spec, conditions) {
      const current = await store.get(kind, name);
      if (!current) throw new ResourceNotFoundError(kind, name);
      const expected = conditions?.expectedVersion;
      if (expected !== undefined && expected !== current.version)
        throw new VersionMismatchError(kind, name, expected, current.version);
      return { ...current, spec, version: current.version + 1, lastUpdatedAt: new Date() };
    },
    async delete(kind, name, conditions) {
      const current = await store.get(kind, name);
      if (!current) throw new ResourceNotFoundError(kind, name);
      const expected = conditions?.expectedVersion;
      if (expected !== undefined && expected !== current.version)
        throw new VersionMismatchError(kind, name, expected, current.version);
    },
    createSecret: () => Promise.reject(new Error('a dry run does not write secrets')),
    getSecret: (name) => store.getSecret(name),
    listSecrets: (listOptions) => store.listSecrets(listOptions),
    updateSecret: () => Promise.reject(new Error('a dry run does not write secrets')),
    deleteSecret: () => Promise.reject(new Error('a dry run does not write secrets')),
    getOrCreateSetting: (key, candidate) => store.getOrCreateSetting(key, candidate),
    getSetting: (key) => store.getSetting(key),
    replaceSetting: () => Promise.reject(new Error('a dry run does not write settings')),
    deleteSetting: () => Promise.reject(new Error('a dry run does not write settings')),
    // Pins are the tool router's, which a dry run never reaches: reads pass through, writes are refused.
    pinToolIfAbsent: () => Promise.reject(new Error('a dry run does not pin tools')),
    pinToolsIfAbsent: () => Promise.reject(new Error('a dry run does not pin tools')),
    getToolPin: (adapter, tool) => store.getToolPin(adapter, tool),
    listToolPins: (adapter) => store.listToolPins(adapter),
    repinTool: () => Promise.reject(new Error('a dry run does not pin tools')),
    reportToolChange: () => Promise.reject(new Error('a dry run does not pin tools')),
    // Grants are the token vault's (callers connecting), which a dry run never reaches: reads pass through.
    saveGrant: () => Promise.reject(new Error('a dry run does not write OAuth grants')),
    getGrant: (userId, adapter) => store.getGrant(userId, adapter),
    listGrants: (userId) => store.listGrants(userId),
    deleteGrant: () => Promise.reject(new Error('a dry run does not write OAuth grants')),
    // A rekey is not a dry run's business either: reads pass through, writes are refused.
    listSecretsSealedOtherThan: (keyId) => store.listSecretsSealedOtherThan(keyId),
    resealSecret: () => Promise.reject(new Error('a dry run does not write secrets')),
    listGrantsSealedOtherThan: (keyId) => store.listGrantsSealedOtherThan(keyId),
    resealGrant: () => Promise.reject(new Error('a dry run does not write OAuth grants')),
    listSettings: () => store.listSettings(),
    ping: () => store.ping(),
    // The real store is closed by its owner.
    close: async () => undefined,
  };
}
