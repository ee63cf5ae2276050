/** @module PostgresRegistryStore: the registry shared by several gateway replicas, postgres-js through Drizzle. */
import { and, asc, count, eq, gt, isNull, ne, or, sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/postgres-js';
import type { PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import { migrate } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import { assertSchemaNotTooNew, findMigrationsFolder, readKnownMigrations } from '../migrations.js';
import type { AppliedMigrations } from '../migrations.js';
import { ResourceExistsError, randomUid } from '../registry-store.js';
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

/** The channel the revision trigger (migration 0002) notifies on every resource write. */
export const REGISTRY_CHANNEL = 'mcp_gateway_registry';

/** Postgres' SQLSTATE for a unique (here: primary key) violation. */
const UNIQUE_VIOLATION = '23505';

/**
 * Key of the session advisory lock every gateway holds while it checks and applies migrations, so replicas
 * starting together migrate one after another instead of racing on CREATE SCHEMA / CREATE TABLE.
 */
const MIGRATION_LOCK_NAME = 'mcp-gateway:migrations';

type Sql = postgres.Sql;
type Db = PostgresJsDatabase;

/** {@link RegistryStore} on a Postgres database reached through a postgres-js connection pool. */
export class PostgresRegistryStore implements RegistryStore, RegistryChangeFeed {
  readonly dialect = 'postgres';
  private readonly changes: RevisionFeed;
  private closed = false;

  private constructor(
    private readonly client: Sql,
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly newUid: UidGenerator,
  ) {
    // LISTEN on a dedicated connection (postgres-js re-listens after a reconnect and then calls `onlisten`,
    // where a re-read catches up on notifications missed while it was down).
    this.changes = createRevisionFeed({
      read: () => this.revision(),
      start: (feed) => {
        let unlisten: (() => Promise<void>) | undefined;
        let stopped = false;
        this.client
          .listen(
            REGISTRY_CHANNEL,
            () => feed.check(),
            () => feed.check(),
          )
          .then(
            (request) => {
              unlisten = request.unlisten;
              if (stopped) void unlisten().catch(() => undefined);
            },
            () => undefined,
          );
        return () => {
          stopped = true;
          void unlisten?.().catch(() => undefined);
        };
      },
    });
  }

  /**
   * Connects to `url` (`postgres://…` or `postgresql://…`) and applies pending migrations under an advisory
   * lock. Rejects with `SchemaTooNewError` when a newer gateway has migrated the database.
   */
  static async open(url: string, options: RegistryStoreOptions = {}): Promise<PostgresRegistryStore> {
    const client = postgres(url, {
      // Migrations emit NOTICEs ("schema drizzle already exists"); postgres-js would print them to stdout.
      onnotice: () => {},
      connection: { application_name: 'mcp-gateway' },
    });
    try {
      const db = drizzle({ client });
      await applyMigrations(client, db);
      return new PostgresRegistryStore(
        client,
        db,
        options.clock ?? (() => new Date()),
        options.newUid ?? randomUid,
      );
    } catch (error) {
      await client.end({ timeout: 5 });
      throw error;
    }
  }

  async create(kind: StoredKind, name: string, spec: JsonObject, createdBy: string): Promise<StoredResource> {
    const now = this.clock();
    try {
      const [row] = await this.db
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
        .returning();
      if (!row) throw new Error(`insert of ${kind} '${name}' returned no row`);
      return toStored(row);
    } catch (error) {
      if (hasErrorCode(error, UNIQUE_VIOLATION)) throw new ResourceExistsError(kind, name);
      throw error;
    }
  }

  async get(kind: StoredKind, name: string): Promise<StoredResource | undefined> {
    const [row] = await this.db.select().from(resources).where(byKey(kind, name));
    return row && toStored(row);
  }

  async list(kind: StoredKind, options: ListOptions): Promise<StoredResource[]> {
    assertListLimit(options.limit);
    // `name` is COLLATE "C", so both the comparison and the order are by bytes, as in SQLite.
    const after = options.after === undefined ? undefined : gt(resources.name, options.after);
    const rows = await this.db
      .select()
      .from(resources)
      .where(and(eq(resources.kind, kind), after))
      .orderBy(asc(resources.name))
      .limit(options.limit);
    return rows.map(toStored);
  }

  async count(kind: StoredKind): Promise<number> {
    const [row] = await this.db.select({ n: count() }).from(resources).where(eq(resources.kind, kind));
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
      const [row] = await this.db
        .update(resources)
        .set({ spec, version: sql`${resources.version} + 1`, lastUpdatedAt: this.clock() })
        .where(byKey(kind, name, expectedVersion))
        .returning();
      if (row) return toStored(row);
      const miss = explainMissedWrite(kind, name, expectedVersion, await this.versionOf(kind, name));
      if (miss) throw miss;
    }
  }

  async delete(kind: StoredKind, name: string, options: WriteConditionOptions = {}): Promise<void> {
    const { expectedVersion } = options;
    for (;;) {
      const [row] = await this.db
        .delete(resources)
        .where(byKey(kind, name, expectedVersion))
        .returning({ version: resources.version });
      if (row) return;
      const miss = explainMissedWrite(kind, name, expectedVersion, await this.versionOf(kind, name));
      if (miss) throw miss;
    }
  }

  async createSecret(name: string, value: SealedSecretValue, createdBy: string): Promise<StoredSecret> {
    const now = this.clock();
    try {
      const [row] = await this.db
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
        .returning();
      if (!row) throw new Error(`insert of secret '${name}' returned no row`);
      return toStoredSecret(row);
    } catch (error) {
      if (hasErrorCode(error, UNIQUE_VIOLATION)) throw new ResourceExistsError('secret', name);
      throw error;
    }
  }

  async getSecret(name: string): Promise<StoredSecret | undefined> {
    const [row] = await this.db.select().from(secrets).where(eq(secrets.name, name));
    return row && toStoredSecret(row);
  }

  async listSecrets(options: ListOptions): Promise<StoredSecret[]> {
    assertListLimit(options.limit);
    // `name` is COLLATE "C": compared and ordered by bytes, as in SQLite.
    const after = options.after === undefined ? undefined : gt(secrets.name, options.after);
    const rows = await this.db
      .select()
      .from(secrets)
      .where(after)
      .orderBy(asc(secrets.name))
      .limit(options.limit);
    return rows.map(toStoredSecret);
  }

  async updateSecret(
    name: string,
    value: SealedSecretValue,
    options: WriteConditionOptions = {},
  ): Promise<StoredSecret> {
    const { expectedVersion } = options;
    for (;;) {
      const [row] = await this.db
        .update(secrets)
        .set({ ...sealedColumns(value), version: sql`${secrets.version} + 1`, lastUpdatedAt: this.clock() })
        .where(secretByName(name, expectedVersion))
        .returning();
      if (row) return toStoredSecret(row);
      const miss = explainMissedWrite('secret', name, expectedVersion, await this.secretVersionOf(name));
      if (miss) throw miss;
    }
  }

  async deleteSecret(name: string, options: WriteConditionOptions = {}): Promise<void> {
    const { expectedVersion } = options;
    for (;;) {
      const [row] = await this.db
        .delete(secrets)
        .where(secretByName(name, expectedVersion))
        .returning({ version: secrets.version });
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
      .onConflictDoUpdate({ target: [oauthGrants.userId, oauthGrants.adapter], set: rest });
  }

  async getGrant(userId: string, adapter: string): Promise<StoredGrant | undefined> {
    const [row] = await this.db
      .select()
      .from(oauthGrants)
      .where(and(eq(oauthGrants.userId, userId), eq(oauthGrants.adapter, adapter)));
    return row && toStoredGrant(row);
  }

  async listGrants(userId: string): Promise<StoredGrant[]> {
    const rows = await this.db
      .select()
      .from(oauthGrants)
      .where(eq(oauthGrants.userId, userId))
      .orderBy(asc(oauthGrants.adapter));
    return rows.map(toStoredGrant);
  }

  async deleteGrant(userId: string, adapter: string): Promise<boolean> {
    const rows = await this.db
      .delete(oauthGrants)
      .where(and(eq(oauthGrants.userId, userId), eq(oauthGrants.adapter, adapter)))
      .returning({ adapter: oauthGrants.adapter });
    return rows.length > 0;
  }

  async listSecretsSealedOtherThan(keyId: string): Promise<StoredSecret[]> {
    const rows = await this.db
      .select()
      .from(secrets)
      .where(ne(secrets.keyId, keyId))
      .orderBy(asc(secrets.name));
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
      .returning({ name: secrets.name });
    return rows.length > 0;
  }

  async listGrantsSealedOtherThan(keyId: string): Promise<StoredGrant[]> {
    const rows = await this.db
      .select()
      .from(oauthGrants)
      .where(ne(oauthGrants.keyId, keyId))
      .orderBy(asc(oauthGrants.userId), asc(oauthGrants.adapter));
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
      .returning({ adapter: oauthGrants.adapter });
    return rows.length > 0;
  }

  async listSettings(): Promise<Array<{ key: string; value: string }>> {
    return await this.db
      .select({ key: settings.key, value: settings.value })
      .from(settings)
      .orderBy(asc(settings.key));
  }

  async getOrCreateSetting(key: string, candidate: string): Promise<string> {
    // Another replica may delete the row between the insert and the read; then insert again.
    for (let attempt = 0; attempt < SETTING_ATTEMPTS; attempt++) {
      await this.db
        .insert(settings)
        .values({ key, value: candidate, createdAt: this.clock() })
        .onConflictDoNothing();
      const value = await this.getSetting(key);
      if (value !== undefined) return value;
    }
    throw settingVanished(key);
  }

  async getSetting(key: string): Promise<string | undefined> {
    const [row] = await this.db.select({ value: settings.value }).from(settings).where(eq(settings.key, key));
    return row?.value;
  }

  async replaceSetting(key: string, expected: string, value: string): Promise<boolean> {
    const rows = await this.db
      .update(settings)
      .set({ value })
      .where(and(eq(settings.key, key), eq(settings.value, expected)))
      .returning({ key: settings.key });
    return rows.length > 0;
  }

  async deleteSetting(key: string, expected: string): Promise<boolean> {
    const rows = await this.db
      .delete(settings)
      .where(and(eq(settings.key, key), eq(settings.value, expected)))
      .returning({ key: settings.key });
    return rows.length > 0;
  }

  async pinToolIfAbsent(pin: NewToolPin): Promise<ToolPin> {
    await this.db
      .insert(toolPins)
      .values({ ...pinColumns(pin), pinnedAt: this.clock() })
      .onConflictDoNothing();
    const stored = await this.getToolPin(pin.adapter, pin.tool);
    if (!stored) throw pinVanished(pin);
    return stored;
  }

  async pinToolsIfAbsent(pins: readonly NewToolPin[]): Promise<void> {
    const pinnedAt = this.clock();
    for (let i = 0; i < pins.length; i += PIN_BATCH) {
      const rows = pins.slice(i, i + PIN_BATCH).map((pin) => ({ ...pinColumns(pin), pinnedAt }));
      await this.db.insert(toolPins).values(rows).onConflictDoNothing();
    }
  }

  async getToolPin(adapter: string, tool: string): Promise<ToolPin | undefined> {
    const [row] = await this.db
      .select()
      .from(toolPins)
      .where(and(eq(toolPins.adapter, adapter), eq(toolPins.tool, tool)));
    return row && toToolPin(row);
  }

  async listToolPins(adapter: string): Promise<ToolPin[]> {
    const rows = await this.db
      .select()
      .from(toolPins)
      .where(eq(toolPins.adapter, adapter))
      .orderBy(asc(toolPins.tool));
    return rows.map(toToolPin);
  }

  async repinTool(pin: NewToolPin, expectedHash: string): Promise<ToolPin | undefined> {
    const [row] = await this.db
      .update(toolPins)
      .set({ ...pinColumns(pin), pinnedAt: this.clock(), reportedHash: null })
      .where(
        and(eq(toolPins.adapter, pin.adapter), eq(toolPins.tool, pin.tool), eq(toolPins.hash, expectedHash)),
      )
      .returning();
    return row && toToolPin(row);
  }

  async reportToolChange(
    adapter: string,
    tool: string,
    pinnedHash: string,
    changedHash: string,
  ): Promise<boolean> {
    const rows = await this.db
      .update(toolPins)
      .set({ reportedHash: changedHash })
      .where(unreportedChange(adapter, tool, pinnedHash, changedHash))
      .returning({ tool: toolPins.tool });
    return rows.length > 0;
  }

  async revision(): Promise<number> {
    const [row] = await this.db.select({ value: registryRevision.value }).from(registryRevision);
    return row?.value ?? 0;
  }

  watchChanges(listener: RevisionListener): () => void {
    if (this.closed) return () => {};
    return this.changes.subscribe(listener);
  }

  async ping(): Promise<void> {
    await this.db.execute(sql`select 1`);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.changes.close();
    await this.client.end({ timeout: 5 });
  }

  private async secretVersionOf(name: string): Promise<number | undefined> {
    const [row] = await this.db
      .select({ version: secrets.version })
      .from(secrets)
      .where(eq(secrets.name, name));
    return row?.version;
  }

  private async versionOf(kind: StoredKind, name: string): Promise<number | undefined> {
    const [row] = await this.db
      .select({ version: resources.version })
      .from(resources)
      .where(byKey(kind, name));
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
 * Checks and applies migrations while holding the migration advisory lock on a reserved connection.
 * Drizzle's migrator runs on the pool (it needs `begin`, which a reserved connection lacks); the lock only
 * has to exclude other gateways, not our own pool.
 */
async function applyMigrations(client: Sql, db: Db): Promise<void> {
  const migrationsFolder = findMigrationsFolder('postgres');
  const known = readKnownMigrations(migrationsFolder);
  const reserved = await client.reserve();
  try {
    await reserved`select pg_advisory_lock(hashtextextended(${MIGRATION_LOCK_NAME}, 0))`;
    try {
      assertSchemaNotTooNew(known, await readApplied(reserved));
      await migrate(db, { migrationsFolder });
    } finally {
      await reserved`select pg_advisory_unlock(hashtextextended(${MIGRATION_LOCK_NAME}, 0))`;
    }
  } finally {
    reserved.release();
  }
}

async function readApplied(connection: Sql): Promise<AppliedMigrations> {
  const [table] = await connection<{ exists: boolean }[]>`
    select to_regclass('drizzle.__drizzle_migrations') is not null as exists`;
  if (!table?.exists) return { count: 0, latestMillis: undefined };
  const [row] = await connection<{ n: number; latest: string | null }[]>`
    select count(*)::int as n, max(created_at)::text as latest from drizzle.__drizzle_migrations`;
  return { count: row?.n ?? 0, latestMillis: row?.latest == null ? undefined : Number(row.latest) };
}

/** Pins per multi-row insert: 7 parameters each, well under the 65,535 a Postgres statement may bind. */
const PIN_BATCH = 1000;

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
