/** @module RegistryStore: the persistence port every registry dialect implements. */
import type { ToolPinStore } from './tool-pin-store.js';

/** The two deployable resource families the control plane manages; each has its own name space. */
export type ResourceKind = 'adapter' | 'tool';

/**
 * Every kind the resources table keeps: the deployable kinds and toolsets (named groups of tools the tool router
 * serves on an endpoint of their own; nothing is deployed for them). Each is its own name space.
 */
export type StoredKind = ResourceKind | 'toolset';

/** What the registry's errors name: a stored kind, or a secret (its own name space, see {@link StoredSecret}). */
export type RegistryEntryKind = StoredKind | 'secret';

/** A JSON object as stored: the validated user-facing spec of an adapter or tool, minus its name. */
export type JsonObject = { [key: string]: unknown };

/** One stored adapter, tool or toolset. */
export interface StoredResource {
  readonly kind: StoredKind;
  readonly name: string;
  /**
   * Random, given at create and never changed: which incarnation of `name` this is. A resource deleted and
   * created again under the same name gets a new one, so its ETag and its sealed session ids differ from its
   * predecessor's even within one millisecond. Not shown in the API.
   */
  readonly uid: string;
  /** The validated spec (everything the user sent except `name`), stored as JSON. */
  readonly spec: JsonObject;
  /** Starts at 1 and grows by one on every update: the basis of the ETag. */
  readonly version: number;
  readonly createdBy: string;
  readonly createdAt: Date;
  readonly lastUpdatedAt: Date;
}

/**
 * A secret's value as the registry keeps it: AES-256-GCM ciphertext, never the value (see `secret-cipher.ts`,
 * which makes and opens these). The store only carries the three strings.
 */
export interface SealedSecretValue {
  /** Which key sealed it, so a gateway with several keys (a rotation) knows which to use. */
  readonly keyId: string;
  /** The 96-bit IV, base64url. */
  readonly iv: string;
  /** Ciphertext with the 128-bit tag appended, base64url. */
  readonly ciphertext: string;
}

/** One stored secret: its sealed value and who wrote it when. */
export interface StoredSecret extends SealedSecretValue {
  readonly name: string;
  /** Random, given at create and never changed (like {@link StoredResource.uid}): the basis of the ETag. */
  readonly uid: string;
  /** Starts at 1 and grows by one on every rotation. */
  readonly version: number;
  readonly createdBy: string;
  readonly createdAt: Date;
  /** When the value was last set (create or rotation). */
  readonly lastUpdatedAt: Date;
}

/**
 * One caller's OAuth grant for one adapter's upstream (the token vault, `upstreamAuth: {"type":"oauth-user"}`):
 * the tokens sealed like a secret's value (`secret-cipher.ts`, named by `grantSealName(userId, adapter)`),
 * beside what `GET /connections` shows in the clear — never a token.
 */
export interface StoredGrant extends SealedSecretValue {
  /** The caller (the principal's `userId`); with `adapter`, the key. */
  readonly userId: string;
  readonly adapter: string;
  /** The adapter's uid when the grant was made: a grant outlives neither its adapter nor a re-created one. */
  readonly adapterUid: string;
  /** Scopes the authorization server granted, space-separated as OAuth writes them; '' when it named none. */
  readonly scopes: string;
  readonly createdAt: Date;
  /** When the access token expires, when the authorization server said. */
  readonly expiresAt: Date | undefined;
  /** Last refresh (or createdAt). */
  readonly lastUpdatedAt: Date;
}

/** Options for {@link RegistryStore.list}: keyset pagination ordered by name. */
export interface ListOptions {
  /** At most this many rows (1 or more). */
  readonly limit: number;
  /** Only names strictly greater than this one. */
  readonly after?: string;
}

/** Options for conditional writes. */
export interface WriteConditionOptions {
  /** When set, the write happens only if the stored version equals it. */
  readonly expectedVersion?: number;
}

/** Thrown by `create` (or `createSecret`) when the kind already holds that name. */
export class ResourceExistsError extends Error {
  constructor(
    readonly kind: RegistryEntryKind,
    readonly resourceName: string,
  ) {
    super(`${kind} '${resourceName}' already exists`);
    this.name = 'ResourceExistsError';
  }
}

/** Thrown by `update`/`delete` (and their secret counterparts) when no such entry exists. */
export class ResourceNotFoundError extends Error {
  constructor(
    readonly kind: RegistryEntryKind,
    readonly resourceName: string,
  ) {
    super(`${kind} '${resourceName}' does not exist`);
    this.name = 'ResourceNotFoundError';
  }
}

/** Thrown by conditional writes when the stored version differs from the expected one. */
export class VersionMismatchError extends Error {
  constructor(
    readonly kind: RegistryEntryKind,
    readonly resourceName: string,
    readonly expectedVersion: number,
    readonly actualVersion: number,
  ) {
    super(`${kind} '${resourceName}' is at version ${actualVersion}, not ${expectedVersion}`);
    this.name = 'VersionMismatchError';
  }
}

/** Thrown at start when the database holds migrations this build does not know. */
export class SchemaTooNewError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SchemaTooNewError';
  }
}

/**
 * Persistence of adapters, tools, secrets and gateway settings. Every method is atomic on its own;
 * implementations must give identical semantics (one contract suite runs against each).
 */
export interface RegistryStore extends ToolPinStore {
  /** Which implementation this is, for logs and `/readyz` (e.g. `sqlite`, `postgres`). */
  readonly dialect: string;
  /** Inserts a new resource at version 1 with a fresh uid and createdAt = lastUpdatedAt = now. */
  create(kind: StoredKind, name: string, spec: JsonObject, createdBy: string): Promise<StoredResource>;
  get(kind: StoredKind, name: string): Promise<StoredResource | undefined>;
  /** Resources of one kind ordered by name (byte order), starting after `after`. */
  list(kind: StoredKind, options: ListOptions): Promise<StoredResource[]>;
  /** How many resources of this kind exist. */
  count(kind: StoredKind): Promise<number>;
  /** Replaces the spec, bumps the version and lastUpdatedAt; uid, createdBy and createdAt never change. */
  update(
    kind: StoredKind,
    name: string,
    spec: JsonObject,
    options?: WriteConditionOptions,
  ): Promise<StoredResource>;
  /** Removes the resource; throws ResourceNotFoundError when absent. */
  delete(kind: StoredKind, name: string, options?: WriteConditionOptions): Promise<void>;
  /**
   * Inserts a secret at version 1 with a fresh uid and createdAt = lastUpdatedAt = now; throws
   * ResourceExistsError (kind `secret`) when the name is taken. Secrets are their own name space, and a write to
   * them does not move the {@link RegistryChangeFeed.revision} (that counts resource changes).
   */
  createSecret(name: string, value: SealedSecretValue, createdBy: string): Promise<StoredSecret>;
  getSecret(name: string): Promise<StoredSecret | undefined>;
  /** Secrets ordered by name (byte order), starting after `after`, like {@link list}. */
  listSecrets(options: ListOptions): Promise<StoredSecret[]>;
  /**
   * Replaces the sealed value (a rotation), bumps the version and lastUpdatedAt; uid, createdBy and createdAt
   * never change. Throws ResourceNotFoundError or VersionMismatchError like {@link update}.
   */
  updateSecret(
    name: string,
    value: SealedSecretValue,
    options?: WriteConditionOptions,
  ): Promise<StoredSecret>;
  /** Removes the secret; throws ResourceNotFoundError when absent, VersionMismatchError like {@link delete}. */
  deleteSecret(name: string, options?: WriteConditionOptions): Promise<void>;
  /**
   * Returns the setting stored under `key`, first storing `candidate` if there is none. Concurrent callers
   * (several gateway replicas starting at once) all get the same, first-stored value.
   */
  getOrCreateSetting(key: string, candidate: string): Promise<string>;
  /** The setting stored under `key`, or undefined when there is none. */
  getSetting(key: string): Promise<string | undefined>;
  /**
   * Replaces the setting under `key` with `value` only if it still holds `expected` (compare and set, so two
   * replicas rewriting one value — e.g. encrypting a plaintext one — cannot lose each other's write). Resolves
   * true when it replaced it.
   */
  replaceSetting(key: string, expected: string, value: string): Promise<boolean>;
  /** Deletes the setting under `key` only if it still holds `expected`; resolves true when it deleted it. */
  deleteSetting(key: string, expected: string): Promise<boolean>;
  /** Stores a grant, replacing the one of the same (userId, adapter) if any. */
  saveGrant(grant: StoredGrant): Promise<void>;
  getGrant(userId: string, adapter: string): Promise<StoredGrant | undefined>;
  /** The caller's grants, ordered by adapter name (byte order). */
  listGrants(userId: string): Promise<StoredGrant[]>;
  /** Removes the grant; resolves true when there was one. */
  deleteGrant(userId: string, adapter: string): Promise<boolean>;
  /** Secrets whose value is sealed under a key other than `keyId` (a rotation under way), ordered by name. */
  listSecretsSealedOtherThan(keyId: string): Promise<StoredSecret[]>;
  /**
   * A rekey's write: replaces the sealed value of secret `name` only if it still holds `expected` (compare and
   * set, so a rotation written meanwhile is not lost). Version and lastUpdatedAt stay: the value is the same.
   * Resolves true when it replaced it.
   */
  resealSecret(name: string, expected: SealedSecretValue, value: SealedSecretValue): Promise<boolean>;
  /** Grants sealed under a key other than `keyId`, ordered by user then adapter. */
  listGrantsSealedOtherThan(keyId: string): Promise<StoredGrant[]>;
  /** Like {@link resealSecret}, for the grant of (userId, adapter); the rest of the grant stays. */
  resealGrant(
    userId: string,
    adapter: string,
    expected: SealedSecretValue,
    value: SealedSecretValue,
  ): Promise<boolean>;
  /** Every setting's key and stored value, ordered by key (a rekey finds the sealed ones among them). */
  listSettings(): Promise<Array<{ key: string; value: string }>>;
  /** Resolves when the database answers a trivial query; rejects otherwise. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** Told the registry's new revision after a change (see {@link RegistryChangeFeed.watchChanges}). */
export type RevisionListener = (revision: number) => void;

/**
 * How a process learns that the registry changed, whichever process wrote: the port gateway instances sharing a
 * database use to invalidate what they cache (the tool router's catalog). A port of its own beside
 * {@link RegistryStore}, so stores and decorators that cannot report changes need not pretend to.
 */
export interface RegistryChangeFeed {
  /**
   * The registry's change counter: grows (by one or more) with every committed create, update or delete of a
   * resource, by any process sharing the database, and never otherwise (reads, settings, failed writes).
   * Comparing two readings tells whether anything changed in between.
   */
  revision(): Promise<number>;
  /**
   * Calls `listener` with the new {@link revision} soon after resources change, whichever process wrote them.
   * Changes may be coalesced into one call, and a call may come without a change (after a reconnect), so
   * listeners re-read rather than apply deltas. Returns the unsubscribe function; never throws.
   */
  watchChanges(listener: RevisionListener): () => void;
}

/** A feed that never reports a change: for registries only this process writes (tests, fakes). */
export const STATIC_REGISTRY_FEED: RegistryChangeFeed = Object.freeze({
  revision: async () => 0,
  watchChanges: () => () => undefined,
});

/** Clock used for createdAt/lastUpdatedAt; injected so tests control time. */
export type Clock = () => Date;

/** Makes the {@link StoredResource.uid} of a new resource; injected so tests can make two creates collide. */
export type UidGenerator = () => string;

/** Default {@link UidGenerator}: a random UUID (122 random bits), on every runtime. */
export const randomUid: UidGenerator = () => crypto.randomUUID();

/** Options every implementation accepts. */
export interface RegistryStoreOptions {
  readonly clock?: Clock;
  /** Default {@link randomUid}. */
  readonly newUid?: UidGenerator;
  /**
   * How often a dialect without push notifications (SQLite) reads the revision while someone watches it;
   * default {@link DEFAULT_CHANGE_POLL_MS}. Postgres is told by LISTEN/NOTIFY and ignores it.
   */
  readonly changePollMs?: number;
  /**
   * SQLite files only: told when the database's files or directory were more open than private and were
   * tightened, or could not be (see `docs/storage.md`); the gateway logs it. Other dialects ignore it.
   */
  readonly onPermissions?: (notice: FilePermissionsNotice) => void;
  /**
   * SQLite files only: other entries the gateway keeps in the database's directory (the secret file), so that
   * directory still counts as the gateway's own and is made private. Other dialects ignore it.
   */
  readonly companionEntries?: (name: string) => boolean;
}

/** What {@link RegistryStoreOptions.onPermissions} is told: one file or directory whose mode was found too open. */
export interface FilePermissionsNotice {
  readonly path: string;
  readonly kind: 'file' | 'directory';
  /** `tightened`: its mode was changed; `left-open`: it is readable by others and was not changed (see reason). */
  readonly action: 'tightened' | 'left-open';
  /** The permission bits found, as octal text (`0644`). */
  readonly from: string;
  /** The permission bits set, when tightened. */
  readonly to?: string;
  readonly reason?: string;
}

/** Default of {@link RegistryStoreOptions.changePollMs}. */
export const DEFAULT_CHANGE_POLL_MS = 1000;
