/**
 * @module Tests of PostgresRegistryStore: the shared contract plus migration behaviour. They need a server:
 * `TEST_DATABASE_URL` names one, and every run works in databases of its own, dropped at the end.
 */
import { rmSync } from 'node:fs';
import { drizzle } from 'drizzle-orm/postgres-js';
import { migrate } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrationsBefore } from '../../../test/older-migrations.js';
import { findMigrationsFolder, readKnownMigrations } from '../migrations.js';
import { openRegistryStore } from '../open-registry-store.js';
import { SchemaTooNewError } from '../registry-store.js';
import { runRegistryChangeFeedContract } from '../registry-change-feed.contract.js';
import { runRegistryStoreContract } from '../registry-store.contract.js';
import { runToolPinStoreContract } from '../tool-pin-store.contract.js';
import { PostgresRegistryStore } from './postgres-registry-store.js';
import { TestDatabases } from '../../../test/postgres-databases.js';

const serverUrl = process.env.TEST_DATABASE_URL;
const SKIP_REASON = 'set TEST_DATABASE_URL to a Postgres server URL';
if (!serverUrl) process.stderr.write(`postgres registry tests skipped: ${SKIP_REASON}\n`);

const quiet = { onnotice: () => {} };

/** Runs `fn` with a short-lived single connection to `url`. */
async function withConnection<T>(url: string, fn: (sql: postgres.Sql) => Promise<T>): Promise<T> {
  const sql = postgres(url, { ...quiet, max: 1 });
  try {
    return await fn(sql);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

const appliedRows = (url: string) =>
  withConnection(
    url,
    (sql) => sql<{ id: number; created_at: string }[]>`
    select id, created_at from drizzle.__drizzle_migrations order by id`,
  );

const known = readKnownMigrations(findMigrationsFolder('postgres'));
const newestKnown = Math.max(...known.map((m) => m.folderMillis));

const suite = serverUrl ? describe : describe.skip;

suite(serverUrl ? 'postgres registry' : `postgres registry (skipped: ${SKIP_REASON})`, () => {
  const databases = new TestDatabases(serverUrl ?? '');
  let contractUrl = '';
  let contractAdmin: postgres.Sql | undefined;
  const truncate = async () => {
    if (!contractAdmin) throw new Error('the contract database is not ready');
    await contractAdmin`truncate resources, settings, secrets, tool_pins`;
  };

  beforeAll(async () => {
    contractUrl = await databases.create();
    // A session time zone far from UTC proves timestamps do not depend on it.
    await withConnection(contractUrl, (sql) =>
      sql.unsafe(`alter database ${new URL(contractUrl).pathname.slice(1)} set timezone to 'Asia/Kolkata'`),
    );
    contractAdmin = postgres(contractUrl, { ...quiet, max: 1 });
  });

  afterAll(async () => {
    await contractAdmin?.end({ timeout: 5 });
    await databases.dropAll();
  });

  runRegistryStoreContract('postgres', async (clock) => {
    const store = await PostgresRegistryStore.open(contractUrl, { clock });
    await truncate();
    return store;
  });

  // Two replicas sharing the database: first-seen pins and change reports race between them.
  runToolPinStoreContract('postgres', async () => {
    const url = await databases.create();
    const first = await PostgresRegistryStore.open(url);
    return [first, await PostgresRegistryStore.open(url)] as const;
  });

  // Two replicas sharing the database: LISTEN/NOTIFY from the revision trigger.
  runRegistryChangeFeedContract('postgres', async () => {
    const url = await databases.create();
    const first = await PostgresRegistryStore.open(url);
    return [first, await PostgresRegistryStore.open(url)] as const;
  });

  describe('migrations', () => {
    it('applies every migration on the first open and none on the next', async () => {
      const url = await databases.create();
      await (await PostgresRegistryStore.open(url)).close();
      const afterFirst = await appliedRows(url);
      expect(afterFirst.map((r) => Number(r.created_at))).toEqual(known.map((m) => m.folderMillis));

      await (await PostgresRegistryStore.open(url)).close();
      expect(await appliedRows(url)).toEqual(afterFirst);
    });

    it('lets several gateways open an empty database at once', async () => {
      const url = await databases.create();
      const stores = await Promise.all(Array.from({ length: 4 }, () => PostgresRegistryStore.open(url)));
      await Promise.all(stores.map((s) => s.ping()));
      await stores[0]?.create('adapter', 'shared', {}, 'alice');
      expect(await stores[3]?.get('adapter', 'shared')).toMatchObject({ version: 1 });
      await Promise.all(stores.map((s) => s.close()));
      expect(await appliedRows(url)).toHaveLength(known.length);
    });

    it('refuses a database migrated later than this build knows, and lets go of it', async () => {
      const url = await databases.create();
      await (await PostgresRegistryStore.open(url)).close();
      await withConnection(
        url,
        (sql) =>
          sql`insert into drizzle.__drizzle_migrations (hash, created_at) values ('fake', ${newestKnown + 60_000})`,
      );

      const error = await PostgresRegistryStore.open(url).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SchemaTooNewError);
      expect((error as Error).message).toMatch(/^this database was migrated by a newer MCP Gateway \(/);
      expect((error as Error).message).toMatch(
        /upgrade the gateway or point DATABASE_URL at another database$/,
      );
      expect(await appliedRows(url)).toHaveLength(known.length + 1);
      // The refused open closed its pool (and so released the migration lock).
      const database = new URL(url).pathname.slice(1);
      await expect
        .poll(() =>
          withConnection(serverUrl ?? '', async (sql) => {
            const [row] = await sql<{ n: number }[]>`
              select count(*)::int as n from pg_stat_activity
              where datname = ${database} and application_name = 'mcp-gateway'`;
            return row?.n;
          }),
        )
        .toBe(0);
    });

    it('gives every resource stored before the uid column a random uid of its own', async () => {
      const url = await databases.create();
      const older = migrationsBefore('postgres', '0003_resource_uid');
      try {
        await withConnection(url, async (sql) => {
          await migrate(drizzle({ client: sql }), { migrationsFolder: older });
          for (const [kind, name] of [
            ['adapter', 'old-1'],
            ['adapter', 'old-2'],
            ['tool', 'old-1'],
          ]) {
            await sql`insert into resources (kind, name, spec, version, created_by, created_at, last_updated_at)
              values (${kind!}, ${name!}, '{}', 1, 'alice', now(), now())`;
          }
        });
      } finally {
        rmSync(older, { recursive: true, force: true });
      }

      const store = await PostgresRegistryStore.open(url);
      const uids = [
        ...(await store.list('adapter', { limit: 10 })),
        ...(await store.list('tool', { limit: 10 })),
      ].map((r) => r.uid);
      expect(uids).toHaveLength(3);
      for (const uid of uids)
        expect(uid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(new Set(uids).size).toBe(3);
      await store.close();
    });

    it('refuses a database with more applied migrations than this build knows', async () => {
      const url = await databases.create();
      await (await PostgresRegistryStore.open(url)).close();
      await withConnection(
        url,
        (sql) => sql`insert into drizzle.__drizzle_migrations (hash, created_at) values ('fake', 1)`,
      );
      await expect(PostgresRegistryStore.open(url)).rejects.toBeInstanceOf(SchemaTooNewError);
    });
  });

  it('openRegistryStore picks Postgres for postgres:// and postgresql:// URLs', async () => {
    for (const url of [contractUrl, contractUrl.replace(/^postgres:/, 'postgresql:')]) {
      const store = await openRegistryStore(url);
      expect(store.dialect).toBe('postgres');
      await store.ping();
      await store.close();
    }
  });
});
