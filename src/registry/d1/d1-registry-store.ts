/** @module D1RegistryStore: the registry of the edge build, a Cloudflare D1 database through Drizzle. */
import { and, asc, count, eq, gt, isNull, ne, or, sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/d1';
import type { DrizzleD1Database } from 'drizzle-orm/d1';
import { DrizzleQueryError } from 'drizzle-orm/errors';
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
  SETTING_ATTEMPTS,
  assertListLimit,
  createRevisionFeed,
  explainMissedWrite,
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
import { applyD1Migrations } from './d1-migrations.js';
import type { D1Migration } from './d1-migrations.js';
import { oauthGrants, registryRevision, resources, secrets, settings, toolPins } from './schema.js';
import type { NewToolPin, ToolPin } from '../tool-pin-store.js';

/**
 * A D1 binding (`env.DB`, a `D1Database` of `@cloudflare/workers-types`). Only the two methods Drizzle calls
 * are named, so Node code (tests) can type it without the Workers globals, which clash with Node's.
 */
export interface D1DatabaseBinding {
  prepare(query: string): unknown;
  batch(statements: unknown[]): Promise<unknown[]>;
}

/** Options for {@link D1RegistryStore.open}. */
export interface D1RegistryStoreOptions extends RegistryStoreOptions {
  /** The migrations of this build (see `d1Migrations`); pending ones are applied on open. */
  readonly migrations: readonly D1Migration[];
}

type Db = DrizzleD1Database;

/** How SQLite words a violation of the resources key; D1 errors carry no code property, only the message. */
const DUPLICATE_KEY = /UNIQUE constraint failed: resources\.kind, resources\.name/;
const DUPLICATE_SECRET = /UNIQUE constraint failed: secrets\.name/;

/**
 * {@link RegistryStore} on a D1 database. D1 has no interactive transactions, so every write is one statement
 * (D1 runs each atomically); conditional writes are `… WHERE version = ?` statements, as in the SQLite dialect.
 */
export class D1RegistryStore implements RegistryStore, RegistryChangeFeed {
  readonly dialect = 'd1';
  private readonly changes: RevisionFeed;
  private closed = false;

  private constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly newUid: UidGenerator,
    changePollMs: number,
  ) {
    // D1 has no notifications: other writers are seen by reading the trigger-kept counter, as on SQLite. A
    // worker's timers stop with its request, so on the edge a watch lasts only as long as the request that made it.
    this.changes = createRevisionFeed({
      read: () => this.revision(),
      start: (feed) => {
        const timer = setInterval(() => feed.check(), changePollMs);
        // Node (tests) only: Workers timers have no unref.
        timer.unref?.();
        return () => clearInterval(timer);
      },
    });
  }

  /**
   * Wraps `database` and applies pending migrations. Rejects with `SchemaTooNewError` when a newer gateway
   * has migrated it.
   */
  static async open(database: D1DatabaseBinding, options: D1RegistryStoreOptions): Promise<D1RegistryStore> {
    const db = drizzle(database as Parameters<typeof drizzle>[0]);
    await applyD1Migrations(db, options.migrations);
    return new D1RegistryStore(
      db,
      options.clock ?? (() => new Date()),
      options.newUid ?? randomUid,
      options.changePollMs ?? DEFAULT_CHANGE_POLL_MS,
    );
  }

  async create(kind: StoredKind, name: string, spec: JsonObject, createdBy: string): Promise<StoredResource> {
    const now = this.clock();
    try {
      const row = await this.db
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
      if (!row) throw new Error(`insert of ${kind} '${name}' returned no row`);
      return toStored(row);
    } catch (error) {
      if (isDriverError(error, DUPLICATE_KEY)) throw new ResourceExistsError(kind, name);
      throw error;
    }
  }

  async get(kind: StoredKind, name: string): Promise<StoredResource | undefined> {
    const row = await this.db.select().from(resources).where(byKey(kind, name)).get();
    return row && toStored(row);
  }

  async list(kind: StoredKind, options: ListOptions): Promise<StoredResource[]> {
    assertListLimit(options.limit);
    const after = options.after === undefined ? undefined : gt(resources.name, options.after);
    const rows = await this.db
      .select()
      .from(resources)
      .where(and(eq(resources.kind, kind), after))
      .orderBy(asc(resources.name))
      .limit(options.limit)
      .all();
    return rows.map(toStored);
  }

  async count(kind: StoredKind): Promise<number> {
    const row = await this.db.select({ n: count() }).from(resources).where(eq(resources.kind, kind)).get();
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
      const row = await this.db
        .update(resources)
        .set({ spec, version: sql`${resources.version} + 1`, lastUpdatedAt: this.clock() })
        .where(byKey(kind, name, expectedVersion))
        .returning()
        .get();
      if (row) return toStored(row);
      const miss = explainMissedWrite(kind, name, expectedVersion, await this.versionOf(kind, name));
      if (miss) throw miss;
    }
  }

  async delete(kind: StoredKind, name: string, options: WriteConditionOptions = {}): Promise<void> {
    const { expectedVersion } = options;
    for (;;) {
      const row = await this.db
        .delete(resources)
        .where(byKey(kind, name, expectedVersion))
        .returning({ version: resources.version })
        .get();
      if (row) return;
      const miss = explainMissedWrite(kind, name, expectedVersion, await this.versionOf(kind, name));
      if (miss) throw miss;
    }
  }

  async createSecret(name: string, value: SealedSecretValue, createdBy: string): Promise<StoredSecret> {
    const now = this.clock();
    try {
      const row = await this.db
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
      if (!row) throw new Error(`insert of secret '${name}' returned no row`);
      return toStoredSecret(row);
    } catch (error) {
      if (isDriverError(error, DUPLICATE_SECRET)) throw new ResourceExistsError('secret', name);
      throw error;
    }
  }

  async getSecret(name: string): Promise<StoredSecret | undefined> {
    const row = await this.db.select().from(secrets).where(eq(secrets.name, name)).get();
    return row && toStoredSecret(row);
  }

  async listSecrets(options: ListOptions): Promise<StoredSecret[]> {
    assertListLimit(options.limit);
    const after = options.after === undefined ? undefined : gt(secrets.name, options.after);
    const rows = await this.db
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
      const row = await this.db
        .update(secrets)
        .set({ ...sealedColumns(value), version: sql`${secrets.version} + 1`, lastUpdatedAt: this.clock() })
        .where(secretByName(name, expectedVersion))
        .returning()
        .get();
      if (row) return toStoredSecret(row);
      const miss = explainMissedWrite('secret', name, expectedVersion, await this.secretVersionOf(name));
      if (miss) throw miss;
    }
  }

  async deleteSecret(name: string, options: WriteConditionOptions = {}): Promise<void> {
    const { expectedVersion } = options;
    for (;;) {
      const row = await this.db
        .delete(secrets)
        .where(secretByName(name, expectedVersion))
        .returning({ version: secrets.version })
        .get();
      if (row) return;
      const miss = explainMissedWrite('secret', name, expectedVersion, await this.secretVersionOf(name));
      if (miss) throw miss;
    }
  }

  async saveGrant(grant: StoredGrant): Promise<void> {
    const row = grantColumns(grant);
    const { userId: _u, adapter: _a, ...rest } = row;
    await this.db
      .insert(oauthGrants)
      .values(row)
      .onConflictDoUpdate({ target: [oauthGrants.userId, oauthGrants.adapter], set: rest })
      .run();
  }

  async getGrant(userId: string, adapter: string): Promise<StoredGrant | undefined> {
    const row = await this.db
      .select()
      .from(oauthGrants)
      .where(and(eq(oauthGrants.userId, userId), eq(oauthGrants.adapter, adapter)))
      .get();
    return row && toStoredGrant(row);
  }

  async listGrants(userId: string): Promise<StoredGrant[]> {
    const rows = await this.db
      .select()
      .from(oauthGrants)
      .where(eq(oauthGrants.userId, userId))
      .orderBy(asc(oauthGrants.adapter))
      .all();
    return rows.map(toStoredGrant);
  }

  async deleteGrant(userId: string, adapter: string): Promise<boolean> {
    const rows = await this.db
      .delete(oauthGrants)
      .where(and(eq(oauthGrants.userId, userId), eq(oauthGrants.adapter, adapter)))
      .returning({ adapter: oauthGrants.adapter })
      .all();
    return rows.length > 0;
  }

  async listSecretsSealedOtherThan(keyId: string): Promise<StoredSecret[]> {
    const rows = await this.db
      .select()
      .from(secrets)
      .where(ne(secrets.keyId, keyId))
      .orderBy(asc(secrets.name))
      .all();
    return rows.map(toStoredSecret);
  }

  async resealSecret(name: string, expected: SealedSecretValue, value: SealedSecretValue): Promise<boolean> {
    const rows = await this.db
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
    const rows = await this.db
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
    const rows = await this.db
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
    return await this.db
      .select({ key: settings.key, value: settings.value })
      .from(settings)
      .orderBy(asc(settings.key))
      .all();
  }

  async getOrCreateSetting(key: string, candidate: string): Promise<string> {
    // Another isolate may delete the row between the insert and the read; then insert again.
    for (let attempt = 0; attempt < SETTING_ATTEMPTS; attempt++) {
      await this.db
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
    const row = await this.db
      .select({ value: settings.value })
      .from(settings)
      .where(eq(settings.key, key))
      .get();
    return row?.value;
  }

  async replaceSetting(key: string, expected: string, value: string): Promise<boolean> {
    const row = await this.db
      .update(settings)
      .set({ value })
      .where(and(eq(settings.key, key), eq(settings.value, expected)))
      .returning({ key: settings.key })
      .get();
    return row !== undefined;
  }

  async deleteSetting(key: string, expected: string): Promise<boolean> {
    const row = await this.db
      .delete(settings)
      .where(and(eq(settings.key, key), eq(settings.value, expected)))
      .returning({ key: settings.key })
      .get();
    return row !== undefined;
  }

  async pinToolIfAbsent(pin: NewToolPin): Promise<ToolPin> {
    await this.db
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
    for (let i = 0; i < pins.length; i += PIN_BATCH) {
      const rows = pins.slice(i, i + PIN_BATCH).map((pin) => ({ ...pinColumns(pin), pinnedAt }));
      await this.db.insert(toolPins).values(rows).onConflictDoNothing().run();
    }
  }

  async getToolPin(adapter: string, tool: string): Promise<ToolPin | undefined> {
    const row = await this.db
      .select()
      .from(toolPins)
      .where(and(eq(toolPins.adapter, adapter), eq(toolPins.tool, tool)))
      .get();
    return row && toToolPin(row);
  }

  async listToolPins(adapter: string): Promise<ToolPin[]> {
    const rows = await this.db
      .select()
      .from(toolPins)
      .where(eq(toolPins.adapter, adapter))
      .orderBy(asc(toolPins.tool))
      .all();
    return rows.map(toToolPin);
  }

  async repinTool(pin: NewToolPin, expectedHash: string): Promise<ToolPin | undefined> {
    const row = await this.db
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
    const row = await this.db
      .update(toolPins)
      .set({ reportedHash: changedHash })
      .where(unreportedChange(adapter, tool, pinnedHash, changedHash))
      .returning({ tool: toolPins.tool })
      .get();
    return row !== undefined;
  }

  async revision(): Promise<number> {
    const row = await this.db.select({ value: registryRevision.value }).from(registryRevision).get();
    return row?.value ?? 0;
  }

  watchChanges(listener: RevisionListener): () => void {
    if (this.closed) return () => {};
    return this.changes.subscribe(listener);
  }

  async ping(): Promise<void> {
    await this.db.get(sql`select 1`);
  }

  async close(): Promise<void> {
    // The binding belongs to the Workers runtime: there is no connection to close, only the watch to stop.
    this.closed = true;
    this.changes.close();
  }

  private async secretVersionOf(name: string): Promise<number | undefined> {
    const row = await this.db
      .select({ version: secrets.version })
      .from(secrets)
      .where(eq(secrets.name, name))
      .get();
    return row?.version;
  }

  private async versionOf(kind: StoredKind, name: string): Promise<number | undefined> {
    const row = await this.db
      .select({ version: resources.version })
      .from(resources)
      .where(byKey(kind, name))
      .get();
    return row?.version;
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

/**
 * Whether the D1 error in `error`'s cause chain has a message matching `pattern`. Drizzle's wrapper is skipped:
 * its message quotes the query's parameters, which are user data.
 */
function isDriverError(error: unknown, pattern: RegExp): boolean {
  for (let current = error, depth = 0; current instanceof Error && depth < 5; depth++) {
    if (!(current instanceof DrizzleQueryError) && pattern.test(current.message)) return true;
    current = current.cause;
  }
  return false;
}

/** Pins per multi-row insert: D1 binds at most 100 parameters per statement, and a row takes 7. */
const PIN_BATCH = 14;

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
