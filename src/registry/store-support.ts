/** @module Dialect-independent rules every registry implementation applies the same way. */
import { ResourceNotFoundError, VersionMismatchError } from './registry-store.js';
import type { ToolPin } from './tool-pin-store.js';
import type {
  JsonObject,
  RegistryEntryKind,
  RevisionListener,
  SealedSecretValue,
  StoredResource,
  StoredSecret,
} from './registry-store.js';

/**
 * Refuses a `list` limit that is not a positive integer: SQLite reads `LIMIT -1` as "no limit" while
 * Postgres rejects it, so the store checks first to behave the same on both.
 */
export function assertListLimit(limit: number): void {
  if (!Number.isInteger(limit) || limit < 1) {
    throw new RangeError(`list limit must be a positive integer, got ${limit}`);
  }
}

/**
 * Explains why a conditional `UPDATE`/`DELETE` matched no row, given the version read right after it
 * (`undefined` when the row is gone). Returns `undefined` when the row is back at the expected version —
 * deleted and re-created in between — so the caller should simply try the write again.
 */
export function explainMissedWrite(
  kind: RegistryEntryKind,
  name: string,
  expectedVersion: number | undefined,
  actualVersion: number | undefined,
): Error | undefined {
  if (actualVersion === undefined || expectedVersion === undefined) {
    return new ResourceNotFoundError(kind, name);
  }
  if (actualVersion === expectedVersion) return undefined;
  return new VersionMismatchError(kind, name, expectedVersion, actualVersion);
}

/**
 * Whether `error` or one of its causes carries `code`. Drizzle wraps driver errors in a
 * `DrizzleQueryError` whose `cause` is the driver's error, so the code is usually one level down.
 */
export function hasErrorCode(error: unknown, code: string): boolean {
  for (let current = error, depth = 0; current instanceof Error && depth < 5; depth++) {
    if ((current as { code?: unknown }).code === code) return true;
    current = current.cause;
  }
  return false;
}

/** A set of revision listeners fed by one source (a poll timer or LISTEN/NOTIFY); see {@link createRevisionFeed}. */
export interface RevisionFeed {
  /** Adds a listener; the first one starts the source, the last one leaving stops it. */
  subscribe(listener: RevisionListener): () => void;
  /** Re-reads the revision and tells every listener if it moved (a push hint, a reconnect, a poll tick). */
  check(): void;
  /** Stops the source and forgets every listener. */
  close(): void;
}

/** Options for {@link createRevisionFeed}. */
export interface RevisionFeedOptions {
  /** Reads the current revision. */
  readonly read: () => Promise<number>;
  /** Starts the source (called when the first listener arrives); returns its stop function. */
  readonly start: (feed: RevisionFeed) => () => void;
  /** Told when a read fails (the feed retries at the next hint). */
  readonly onError?: (error: unknown) => void;
}

/**
 * Listener bookkeeping shared by the dialects: reads run one at a time (a hint during a read schedules one
 * more), and listeners hear only revisions that differ from the last one seen. The first read after the source
 * starts sets the baseline without telling anyone.
 */
export function createRevisionFeed(options: RevisionFeedOptions): RevisionFeed {
  const listeners = new Set<RevisionListener>();
  let stop: (() => void) | undefined;
  let last: number | undefined;
  let reading = false;
  let again = false;

  const feed: RevisionFeed = {
    subscribe(listener) {
      listeners.add(listener);
      if (!stop) {
        last = undefined;
        stop = options.start(feed);
        feed.check();
      }
      return () => {
        listeners.delete(listener);
        if (listeners.size === 0) halt();
      };
    },
    check() {
      if (!stop) return;
      if (reading) {
        again = true;
        return;
      }
      reading = true;
      options
        .read()
        .then(
          (revision) => {
            const previous = last;
            last = revision;
            if (previous === undefined || previous === revision || !stop) return;
            for (const listener of [...listeners]) {
              try {
                listener(revision);
              } catch (error) {
                options.onError?.(error);
              }
            }
          },
          (error: unknown) => options.onError?.(error),
        )
        .finally(() => {
          reading = false;
          if (again) {
            again = false;
            feed.check();
          }
        });
    },
    close() {
      listeners.clear();
      halt();
    },
  };
  function halt() {
    const current = stop;
    stop = undefined;
    current?.();
  }
  return feed;
}

/** How many times `getOrCreateSetting` re-inserts when a concurrent `deleteSetting` removed the row it found. */
export const SETTING_ATTEMPTS = 5;

/** The error `getOrCreateSetting` throws when the row kept vanishing (a delete racing every insert). */
export function settingVanished(key: string): Error {
  return new Error(`setting '${key}' was deleted each time right after it was stored`);
}

/**
 * A stored resource from a row of any dialect: the row types differ only in how their columns are declared,
 * so each store maps through this one function and returns plain objects with no extra columns.
 */
export function toStored(row: StoredResource): StoredResource {
  return {
    kind: row.kind,
    name: row.name,
    uid: row.uid,
    spec: row.spec,
    version: row.version,
    createdBy: row.createdBy,
    createdAt: row.createdAt,
    lastUpdatedAt: row.lastUpdatedAt,
  };
}

/** A stored secret from a row of any dialect, with no extra columns (see {@link toStored}). */
export function toStoredSecret(row: StoredSecret): StoredSecret {
  return {
    name: row.name,
    uid: row.uid,
    keyId: row.keyId,
    iv: row.iv,
    ciphertext: row.ciphertext,
    version: row.version,
    createdBy: row.createdBy,
    createdAt: row.createdAt,
    lastUpdatedAt: row.lastUpdatedAt,
  };
}

/** Only the three sealed strings of a secret's value, whatever else the caller's object carries. */
export function sealedColumns(value: SealedSecretValue): SealedSecretValue {
  return { keyId: value.keyId, iv: value.iv, ciphertext: value.ciphertext };
}

/** A `tool_pins` row as every dialect reads it. */
export interface ToolPinRow {
  readonly adapter: string;
  readonly tool: string;
  readonly hash: string;
  readonly definition: JsonObject;
  readonly pinnedBy: string;
  readonly pinnedAt: Date;
  readonly reportedHash: string | null;
}

/** The {@link ToolPin} of a row: an absent reported hash is undefined, not null. */
export function toToolPin(row: ToolPinRow): ToolPin {
  return {
    adapter: row.adapter,
    tool: row.tool,
    hash: row.hash,
    definition: row.definition,
    pinnedBy: row.pinnedBy,
    pinnedAt: row.pinnedAt,
    reportedHash: row.reportedHash ?? undefined,
  };
}

/** A pin just stored (or found) is gone when read back: deleted by hand in between, which the gateway never does. */
export function pinVanished(pin: { readonly adapter: string; readonly tool: string }): Error {
  return new Error(`the pin of tool '${pin.tool}' of adapter '${pin.adapter}' vanished while being stored`);
}
