/** @module SqliteRegistryStore: the embedded default registry, better-sqlite3 through Drizzle. */
import { basename, dirname } from 'node:path';
import Database from 'better-sqlite3';
import { and, asc, count, eq, gt, isNull, ne, or, sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import type { BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import {
  assertSchemaNotTooNew,
  findMigrationsFolder,
  isFullyMigrated,
  readKnownMigrations,
} from '../migrations.js';
import type { AppliedMigrations } from '../migrations.js';
import { DEFAULT_CHANGE_POLL_MS, ResourceExistsError, randomUid } from '../registry-store.js';
import type {
  Clock,
  JsonObject,
  ListOptions,
  RegistryChangeFeed,
  RegistryStore,
  RegistryStoreOptions,
  StoredKind,
  RevisionListener,
  SealedSecretValue,
  StoredResource,
  StoredGrant,
  StoredSecret,
  UidGenerator,
  WriteConditionOptions,
} from '../registry-store.js';
import {
  assertListLimit,
  createRevisionFeed,
  SETTING_ATTEMPTS,
  explainMissedWrite,
  hasErrorCode,
  sealedColumns,
  settingVanished,
  toStored,
  toStoredGrant,
  toStoredSecret,
  grantColumns,
  pinVanished,
  toToolPin,
} from '../store-support.js';
import type { RevisionFeed } from '../store-support.js';
import { oauthGrants, registryRevision, resources, secrets, settings, toolPins } from './schema.js';
import type { NewToolPin, ToolPin } from '../tool-pin-store.js';
import {
  IGNORE_PERMISSIONS,
  createPrivateFile,
  preparePrivateDirectory,
  tightenFile,
} from '../node/private-files.js';

/** The path better-sqlite3 reads as a private, non-persistent database. */
export const SQLITE_MEMORY = ':memory:';

/** The files SQLite keeps beside a database `x.db`: `x.db` itself, `x.db-wal`, `x.db-shm`, `x.db-journal`. */
const DATABASE_FILE_SUFFIXES = ['', '-wal', '-shm', '-journal'] as const;

/** How long a write waits for another connection's lock before failing with SQLITE_BUSY. */
const BUSY_TIMEOUT_MS = 5_000;

type Db = BetterSQLite3Database;

/**
 * {@link RegistryStore} on a SQLite file (or `:memory:`). better-sqlite3 is synchronous, so every method
 * runs to completion before the next starts; each is still a single statement or transaction so that other
 * processes sharing the file see atomic changes.
 */
export class SqliteRegistryStore implements RegistryStore, RegistryChangeFeed {
  readonly dialect = 'sqlite';
  private readonly changes: RevisionFeed;

  private constructor(
    private readonly connection: Database.Database,
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly newUid: UidGenerator,
    changePollMs: number,
  ) {
    // SQLite has no notifications: another process's commit is seen by reading the trigger-kept counter.
    this.changes = createRevisionFeed({
      read: () => this.revision(),
      start: (feed) => {
        const timer = setInterval(() => feed.check(), changePollMs);
        timer.unref?.();
        return () => clearInterval(timer);
      },
    });
  }

  /**
   * Opens (creating it and its parent folder if missing) the database at `path`, or a private in-memory
   * one for `:memory:`, and applies pending migrations. The files are the gateway user's alone: a new folder is
   * made 0700 and a new database 0600 (SQLite gives its `-wal` and `-shm` the database's mode), and more open
   * existing ones are tightened (see `private-files.ts`). Rejects with `SchemaTooNewError` when a newer
   * gateway has migrated the file.
   */
  static async open(path: string, options: RegistryStoreOptions = {}): Promise<SqliteRegistryStore> {
    const inMemory = path === SQLITE_MEMORY;
    if (!inMemory) makeFilesPrivate(path, options);
    const connection = new Database(path);
    try {
      if (!inMemory) {
        connection.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
        // WAL lets readers run while a write commits; NORMAL sync is durable across process crashes
        // and only risks the last commits on power loss, the usual trade-off for WAL.
        connection.pragma('journal_mode = WAL');
        connection.pragma('synchronous = NORMAL');
      }
      const db = drizzle({ client: connection });
      applyMigrations(connection, db);
      return new SqliteRegistryStore(
        connection,
        db,
        options.clock ?? (() => new Date()),
        options.newUid ?? randomUid,
        options.changePollMs ?? DEFAULT_CHANGE_POLL_MS,
      );
    } catch (error) {
      connection.close();
      throw error;
    }
  }

  async create(kind: StoredKind, name: string, spec: JsonObject, createdBy: string): Promise<StoredResource> {
    const now = this.clock();
    try {
      const row = this.db
        .insert(resources)
        .values({
          kind,
          name,
          uid: this.newUid(),
          spec,
          version: 1,
          createdBy,
          createdAt: now,
          lastUpdatedAt: now,
        })
        .returning()
        .get();
      return toStored(row);
    } catch (error) {
      if (hasErrorCode(error, 'SQLITE_CONSTRAINT_PRIMARYKEY')) throw new ResourceExistsError(kind, name);
      throw error;
    }
  }

  async get(kind: StoredKind, name: string): Promise<StoredResource | undefined> {
    const row = this.db.select().from(resources).where(byKey(kind, name)).get();
    return row && toStored(row);
  }

  async list(kind: StoredKind, options: ListOptions): Promise<StoredResource[]> {
    assertListLimit(options.limit);
    const after = options.after === undefined ? undefined : gt(resources.name, options.after);
    const rows = this.db
      .select()
      .from(resources)
      .where(and(eq(resources.kind, kind), after))
      .orderBy(asc(resources.name))
      .limit(options.limit)
      .all();
    return rows.map(toStored);
  }

  async count(kind: StoredKind): Promise<number> {
    const row = this.db.select({ n: count() }).from(resources).where(eq(resources.kind, kind)).get();
    return row?.n ?? 0;
  }

  async update(
    kind: StoredKind,
    name: string,
    spec: JsonObject,
    options: WriteConditionOptions = {},
  ): Promise<StoredResource> {
    const { expectedVersion } = options;
    for (;;) {
      const row = this.db
        .update(resources)
        .set({ spec, version: sql`${resources.version} + 1`, lastUpdatedAt: this.clock() })
        .where(byKey(kind, name, expectedVersion))
        .returning()
        .get();
      if (row) return toStored(row);
      const miss = explainMissedWrite(kind, name, expectedVersion, this.versionOf(kind, name));
      if (miss) throw miss;
    }
  }

  async delete(kind: StoredKind, name: string, options: WriteConditionOptions = {}): Promise<void> {
    const { expectedVersion } = options;
    for (;;) {
      const row = this.db
        .delete(resources)
        .where(byKey(kind, name, expectedVersion))
        .returning({ version: resources.version })
        .get();
      if (row) return;
      const miss = explainMissedWrite(kind, name, expectedVersion, this.versionOf(kind, name));
      if (miss) throw miss;
    }
  }

  async createSecret(name: string, value: SealedSecretValue, createdBy: string): Promise<StoredSecret> {
    const now = this.clock();
    try {
      const row = this.db
        .insert(secrets)
        .values({
          name,
          uid: this.newUid(),
          ...sealedColumns(value),
          version: 1,
          createdBy,
          createdAt: now,
          lastUpdatedAt: now,
        })
        .returning()
        .get();
      return toStoredSecret(row);
    } catch (error) {
      if (hasErrorCode(error, 'SQLITE_CONSTRAINT_PRIMARYKEY')) throw new ResourceExistsError('secret', name);
      throw error;
    }
  }

  async getSecret(name: string): Promise<StoredSecret | undefined> {
    const row = this.db.select().from(secrets).where(eq(secrets.name, name)).get();
    return row && toStoredSecret(row);
  }

  async listSecrets(options: ListOptions): Promise<StoredSecret[]> {
    assertListLimit(options.limit);
    const after = options.after === undefined ? undefined : gt(secrets.name, options.after);
    const rows = this.db
      .select()
      .from(secrets)
      .where(after)
      .orderBy(asc(secrets.name))
      .limit(options.limit)
      .all();
    return rows.map(toStoredSecret);
  }

  async updateSecret(
    name: string,
    value: SealedSecretValue,
    options: WriteConditionOptions = {},
  ): Promise<StoredSecret> {
    const { expectedVersion } = options;
    for (;;) {
      const row = this.db
        .update(secrets)
        .set({ ...sealedColumns(value), version: sql`${secrets.version} + 1`, lastUpdatedAt: this.clock() })
        .where(secretByName(name, expectedVersion))
        .returning()
        .get();
      if (row) return toStoredSecret(row);
      const miss = explainMissedWrite('secret', name, expectedVersion, this.secretVersionOf(name));
      if (miss) throw miss;
    }
  }

  async deleteSecret(name: string, options: WriteConditionOptions = {}): Promise<void> {
    const { expectedVersion } = options;
    for (;;) {
      const row = this.db
        .delete(secrets)
        .where(secretByName(name, expectedVersion))
        .returning({ version: secrets.version })
        .get();
      if (row) return;
      const miss = explainMissedWrite('secret', name, expectedVersion, this.secretVersionOf(name));
      if (miss) throw miss;
    }
  }

  async saveGrant(grant: StoredGrant): Promise<void> {
    const row = grantColumns(grant);
    const { userId: _u, adapter: _a, ...rest } = row;
    this.db
      .insert(oauthGrants)
      .values(row)
      .onConflictDoUpdate({ target: [oauthGrants.userId, oauthGrants.adapter], set: rest })
      .run();
  }

  async getGrant(userId: string, adapter: string): Promise<StoredGrant | undefined> {
    const row = this.db
      .select()
      .from(oauthGrants)
      .where(and(eq(oauthGrants.userId, userId), eq(oauthGrants.adapter, adapter)))
      .get();
    return row && toStoredGrant(row);
  }

  async listGrants(userId: string): Promise<StoredGrant[]> {
    const rows = this.db
      .select()
      .from(oauthGrants)
      .where(eq(oauthGrants.userId, userId))
      .orderBy(asc(oauthGrants.adapter))
      .all();
    return rows.map(toStoredGrant);
  }

  async deleteGrant(userId: string, adapter: string): Promise<boolean> {
    const rows = this.db
      .delete(oauthGrants)
      .where(and(eq(oauthGrants.userId, userId), eq(oauthGrants.adapter, adapter)))
      .returning({ adapter: oauthGrants.adapter })
      .all();
    return rows.length > 0;
  }

  async listSecretsSealedOtherThan(keyId: string): Promise<StoredSecret[]> {
    const rows = this.db
      .select()
      .from(secrets)
      .where(ne(secrets.keyId, keyId))
      .orderBy(asc(secrets.name))
      .all();
    return rows.map(toStoredSecret);
  }

  async resealSecret(name: string, expected: SealedSecretValue, value: SealedSecretValue): Promise<boolean> {
    const rows = this.db
      .update(secrets)
      .set(sealedColumns(value))
      .where(
        and(
          eq(secrets.name, name),
          eq(secrets.keyId, expected.keyId),
          eq(secrets.iv, expected.iv),
          eq(secrets.ciphertext, expected.ciphertext),
        ),
      )
      .returning({ name: secrets.name })
      .all();
    return rows.length > 0;
  }

  async listGrantsSealedOtherThan(keyId: string): Promise<StoredGrant[]> {
    const rows = this.db
      .select()
      .from(oauthGrants)
      .where(ne(oauthGrants.keyId, keyId))
      .orderBy(asc(oauthGrants.userId), asc(oauthGrants.adapter))
      .all();
    return rows.map(toStoredGrant);
  }

  async resealGrant(
    userId: string,
    adapter: string,
    expected: SealedSecretValue,
    value: SealedSecretValue,
  ): Promise<boolean> {
    const rows = this.db
      .update(oauthGrants)
      .set(sealedColumns(value))
      .where(
        and(
          eq(oauthGrants.userId, userId),
          eq(oauthGrants.adapter, adapter),
          eq(oauthGrants.keyId, expected.keyId),
          eq(oauthGrants.iv, expected.iv),
          eq(oauthGrants.ciphertext, expected.ciphertext),
        ),
      )
      .returning({ adapter: oauthGrants.adapter })
      .all();
    return rows.length > 0;
  }

  async listSettings(): Promise<Array<{ key: string; value: string }>> {
    return this.db
      .select({ key: settings.key, value: settings.value })
      .from(settings)
      .orderBy(asc(settings.key))
      .all();
  }

  async getOrCreateSetting(key: string, candidate: string): Promise<string> {
    // Another process may delete the row between the insert and the read; then insert again.
    for (let attempt = 0; attempt < SETTING_ATTEMPTS; attempt++) {
      this.db
        .insert(settings)
        .values({ key, value: candidate, createdAt: this.clock() })
        .onConflictDoNothing()
        .run();
      const value = await this.getSetting(key);
      if (value !== undefined) return value;
    }
    throw settingVanished(key);
  }

  async getSetting(key: string): Promise<string | undefined> {
    return this.db.select({ value: settings.value }).from(settings).where(eq(settings.key, key)).get()?.value;
  }

  async replaceSetting(key: string, expected: string, value: string): Promise<boolean> {
    const row = this.db
      .update(settings)
      .set({ value })
      .where(and(eq(settings.key, key), eq(settings.value, expected)))
      .returning({ key: settings.key })
      .get();
    return row !== undefined;
  }

  async deleteSetting(key: string, expected: string): Promise<boolean> {
    const row = this.db
      .delete(settings)
      .where(and(eq(settings.key, key), eq(settings.value, expected)))
      .returning({ key: settings.key })
      .get();
    return row !== undefined;
  }

  async pinToolIfAbsent(pin: NewToolPin): Promise<ToolPin> {
    this.db
      .insert(toolPins)
      .values({ ...pinColumns(pin), pinnedAt: this.clock() })
      .onConflictDoNothing()
      .run();
    const stored = await this.getToolPin(pin.adapter, pin.tool);
    if (!stored) throw pinVanished(pin);
    return stored;
  }

  async pinToolsIfAbsent(pins: readonly NewToolPin[]): Promise<void> {
    const pinnedAt = this.clock();
    // One transaction: a listing's pins land together, and SQLite commits once.
    this.db.transaction((tx) => {
      for (let i = 0; i < pins.length; i += PIN_BATCH) {
        const rows = pins.slice(i, i + PIN_BATCH).map((pin) => ({ ...pinColumns(pin), pinnedAt }));
        tx.insert(toolPins).values(rows).onConflictDoNothing().run();
      }
    });
  }

  async getToolPin(adapter: string, tool: string): Promise<ToolPin | undefined> {
    const row = this.db
      .select()
      .from(toolPins)
      .where(and(eq(toolPins.adapter, adapter), eq(toolPins.tool, tool)))
      .get();
    return row && toToolPin(row);
  }

  async listToolPins(adapter: string): Promise<ToolPin[]> {
    return this.db
      .select()
      .from(toolPins)
      .where(eq(toolPins.adapter, adapter))
      .orderBy(asc(toolPins.tool))
      .all()
      .map(toToolPin);
  }

  async repinTool(pin: NewToolPin, expectedHash: string): Promise<ToolPin | undefined> {
    const row = this.db
      .update(toolPins)
      .set({ ...pinColumns(pin), pinnedAt: this.clock(), reportedHash: null })
      .where(
        and(eq(toolPins.adapter, pin.adapter), eq(toolPins.tool, pin.tool), eq(toolPins.hash, expectedHash)),
      )
      .returning()
      .get();
    return row && toToolPin(row);
  }

  async reportToolChange(
    adapter: string,
    tool: string,
    pinnedHash: string,
    changedHash: string,
  ): Promise<boolean> {
    const row = this.db
      .update(toolPins)
      .set({ reportedHash: changedHash })
      .where(unreportedChange(adapter, tool, pinnedHash, changedHash))
      .returning({ tool: toolPins.tool })
      .get();
    return row !== undefined;
  }

  async revision(): Promise<number> {
    const row = this.db.select({ value: registryRevision.value }).from(registryRevision).get();
    return row?.value ?? 0;
  }

  watchChanges(listener: RevisionListener): () => void {
    if (!this.connection.open) return () => {};
    return this.changes.subscribe(listener);
  }

  async ping(): Promise<void> {
    this.db.get(sql`select 1`);
  }

  async close(): Promise<void> {
    this.changes.close();
    if (this.connection.open) this.connection.close();
  }

  private secretVersionOf(name: string): number | undefined {
    return this.db.select({ version: secrets.version }).from(secrets).where(eq(secrets.name, name)).get()
      ?.version;
  }

  private versionOf(kind: StoredKind, name: string): number | undefined {
    return this.db.select({ version: resources.version }).from(resources).where(byKey(kind, name)).get()
      ?.version;
  }
}

function byKey(kind: StoredKind, name: string, version?: number) {
  return and(
    eq(resources.kind, kind),
    eq(resources.name, name),
    version === undefined ? undefined : eq(resources.version, version),
  );
}

function secretByName(name: string, version?: number) {
  return and(eq(secrets.name, name), version === undefined ? undefined : eq(secrets.version, version));
}

/** Creates or tightens the database's folder and files before SQLite opens (and perhaps creates) them. */
function makeFilesPrivate(path: string, options: RegistryStoreOptions): void {
  const listener = options.onPermissions ?? IGNORE_PERMISSIONS;
  const base = basename(path);
  const companion = options.companionEntries ?? (() => false);
  preparePrivateDirectory(dirname(path), {
    ownEntries: (name) => DATABASE_FILE_SUFFIXES.some((suffix) => name === base + suffix) || companion(name),
    listener,
  });
  for (const suffix of DATABASE_FILE_SUFFIXES) tightenFile(path + suffix, listener);
  createPrivateFile(path);
}

function applyMigrations(connection: Database.Database, db: Db): void {
  const migrationsFolder = findMigrationsFolder('sqlite');
  const known = readKnownMigrations(migrationsFolder);
  assertSchemaNotTooNew(known, readApplied(connection));
  try {
    migrate(db, { migrationsFolder });
  } catch (error) {
    // Drizzle reads the applied list before it takes the write lock, so a second process opening a new
    // file at the same moment replays the first migration and fails on CREATE TABLE. If the other process
    // has applied everything by now, the schema is what we need.
    if (isFullyMigrated(known, readApplied(connection))) return;
    throw error;
  }
}

function readApplied(connection: Database.Database): AppliedMigrations {
  const table = connection
    .prepare("select 1 from sqlite_master where type = 'table' and name = '__drizzle_migrations'")
    .get();
  if (!table) return { count: 0, latestMillis: undefined };
  const row = connection
    .prepare('select count(*) as n, max(created_at) as latest from __drizzle_migrations')
    .get() as { n: number; latest: number | string | null };
  return { count: row.n, latestMillis: row.latest === null ? undefined : Number(row.latest) };
}

/** Pins per multi-row insert: 7 parameters each, well under the 32,766 SQLite binds. */
const PIN_BATCH = 500;

/** The columns a pin write sets from a {@link NewToolPin}, whatever else the caller's object carries. */
function pinColumns(pin: NewToolPin) {
  return {
    adapter: pin.adapter,
    tool: pin.tool,
    hash: pin.hash,
    definition: pin.definition,
    pinnedBy: pin.pinnedBy,
  };
}

/** The pin at `pinnedHash` whose change to `changedHash` is not recorded yet. */
function unreportedChange(adapter: string, tool: string, pinnedHash: string, changedHash: string) {
  return and(
    eq(toolPins.adapter, adapter),
    eq(toolPins.tool, tool),
    eq(toolPins.hash, pinnedHash),
    or(isNull(toolPins.reportedHash), ne(toolPins.reportedHash, changedHash)),
  );
}
