/**
 * @module Tests of D1RegistryStore against D1 itself (wrangler's local runtime, workerd from npm): the shared
 * contracts, and migrations — the SQLite ones, recorded exactly as drizzle records them on SQLite.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { findMigrationsFolder, readKnownMigrations } from '../migrations.js';
import { SchemaTooNewError } from '../registry-store.js';
import { runRegistryChangeFeedContract } from '../registry-change-feed.contract.js';
import { runRegistryStoreContract } from '../registry-store.contract.js';
import { runToolPinStoreContract } from '../tool-pin-store.contract.js';
import { startLocalD1 } from '../../../test/local-d1.js';
import type { LocalD1 } from '../../../test/local-d1.js';
import { wranglerUnavailableReason } from '../../../test/wrangler-worker.js';
import { d1Migrations } from './d1-migrations.js';
import type { D1Migration, MigrationJournal } from './d1-migrations.js';
import { D1RegistryStore } from './d1-registry-store.js';

const folder = findMigrationsFolder('sqlite');
const journal = JSON.parse(readFileSync(join(folder, 'meta', '_journal.json'), 'utf8')) as MigrationJournal;
/** The SQL files by tag, as the worker bundles them. */
const sqlByTag = Object.fromEntries(
  journal.entries.map(({ tag }) => [tag, readFileSync(join(folder, `${tag}.sql`), 'utf8')]),
);

const unavailable = wranglerUnavailableReason();
if (unavailable) process.stderr.write(`d1 registry tests skipped: ${unavailable}\n`);
const suite = unavailable ? describe.skip : describe;

// Every statement is an HTTP round trip through wrangler's local runtime: on a loaded machine the 2,500-row case
// alone takes 15-30 s, so the suite gets room instead of the default 30 s per test.
suite(unavailable ? `d1 registry (skipped: ${unavailable})` : 'd1 registry', { timeout: 120_000 }, () => {
  let d1: LocalD1;
  let migrations: D1Migration[];

  beforeAll(async () => {
    migrations = await d1Migrations(journal, sqlByTag);
    d1 = await startLocalD1();
  });
  afterAll(async () => {
    await d1?.close();
  });

  /** An empty database, then a store on it (which migrates it). */
  const freshStore = async (options: { clock?: () => Date; changePollMs?: number } = {}) => {
    await d1.reset();
    return D1RegistryStore.open(d1.binding, { ...options, migrations });
  };

  runRegistryStoreContract('d1', (clock) => freshStore({ clock }));
  // Two isolates on one database.
  runToolPinStoreContract('d1', async () => {
    const first = await freshStore();
    return [first, await D1RegistryStore.open(d1.binding, { migrations })] as const;
  });
  // Two isolates sharing the database: each polls the trigger-kept counter. Not every 20 ms as on SQLite: D1
  // writes are real I/O, so a fast poll can see a burst's final revision before the contract's "burst" case
  // subscribes the listener that waits for it, which then never hears it. A poll slower than the burst avoids that.
  const POLL_MS = 1500;
  runRegistryChangeFeedContract('d1', async () => {
    const first = await freshStore({ changePollMs: POLL_MS });
    return [first, await D1RegistryStore.open(d1.binding, { migrations, changePollMs: POLL_MS })] as const;
  });

  describe('migrations', () => {
    const query = async <T>(sql: string, ...params: unknown[]): Promise<T[]> => {
      const statement = d1.binding.prepare(sql) as {
        bind(...values: unknown[]): { all(): Promise<{ results: T[] }> };
      };
      return (await statement.bind(...params).all()).results;
    };
    const applied = () =>
      query<{ hash: string; created_at: number }>(
        'select hash, created_at from __drizzle_migrations order by created_at',
      );

    beforeEach(async () => {
      await d1.reset();
    });

    it('applies every SQLite migration on the first open, recorded as drizzle records them, and none on the next', async () => {
      await D1RegistryStore.open(d1.binding, { migrations });
      const first = await applied();
      // The same rows drizzle's migrator writes into a SQLite file: a D1 export opens as a SQLite registry.
      const drizzleHashes = (await import('drizzle-orm/migrator'))
        .readMigrationFiles({ migrationsFolder: folder })
        .map((m) => ({ hash: m.hash, created_at: m.folderMillis }));
      expect(first.map((r) => ({ hash: r.hash, created_at: Number(r.created_at) }))).toEqual(drizzleHashes);
      expect(first.map((r) => Number(r.created_at))).toEqual(
        readKnownMigrations(folder).map((m) => m.folderMillis),
      );

      await D1RegistryStore.open(d1.binding, { migrations });
      expect(await applied()).toEqual(first);
      const tables = await query<{ name: string }>(
        "select name from sqlite_master where type = 'table' and name not like '\\_cf\\_%' escape '\\' order by name",
      );
      expect(tables.map((t) => t.name)).toEqual(
        expect.arrayContaining(['__drizzle_migrations', 'resources', 'settings']),
      );
    });

    it('applies only the migrations a database lacks', async () => {
      if (migrations.length < 2) return;
      await D1RegistryStore.open(d1.binding, { migrations: migrations.slice(0, 1) });
      expect(await applied()).toHaveLength(1);
      const store = await D1RegistryStore.open(d1.binding, { migrations });
      expect(await applied()).toHaveLength(migrations.length);
      await store.create('adapter', 'after-upgrade', {}, 'alice');
      expect(await store.count('adapter')).toBe(1);
    });

    it('gives every resource stored before the uid column a random uid of its own', async () => {
      const before = migrations.findIndex((m) => m.tag === '0003_resource_uid');
      expect(before).toBeGreaterThan(0);
      await D1RegistryStore.open(d1.binding, { migrations: migrations.slice(0, before) });
      for (const name of ['old-1', 'old-2']) {
        await query(
          `insert into resources (kind, name, spec, version, created_by, created_at, last_updated_at)
           values ('adapter', ?, '{}', 1, 'alice', 0, 0)`,
          name,
        );
      }
      const store = await D1RegistryStore.open(d1.binding, { migrations });
      const uids = (await store.list('adapter', { limit: 10 })).map((r) => r.uid);
      expect(uids).toHaveLength(2);
      for (const uid of uids)
        expect(uid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(new Set(uids).size).toBe(2);
    });

    it('isolates opening an empty database at once all succeed, and migrate it once', async () => {
      const stores = await Promise.all(
        Array.from({ length: 4 }, () => D1RegistryStore.open(d1.binding, { migrations })),
      );
      expect(await applied()).toHaveLength(migrations.length);
      await stores[0]!.create('tool', 'shared', {}, 'alice');
      expect(await stores[3]!.get('tool', 'shared')).toMatchObject({ version: 1 });
    });

    it('refuses a database migrated later than this build knows, applying nothing', async () => {
      await D1RegistryStore.open(d1.binding, { migrations });
      const newest = Math.max(...migrations.map((m) => m.folderMillis));
      await query(
        'insert into __drizzle_migrations (hash, created_at) values (?, ?)',
        'fake',
        newest + 60_000,
      );

      const error = await D1RegistryStore.open(d1.binding, { migrations }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SchemaTooNewError);
      expect((error as Error).message).toMatch(/^this database was migrated by a newer MCP Gateway \(/);
      expect((error as Error).message).toMatch(/point the DB binding at another D1 database$/);
      expect(await applied()).toHaveLength(migrations.length + 1);
    });

    it('refuses a database with more applied migrations than this build knows', async () => {
      await D1RegistryStore.open(d1.binding, { migrations });
      await query('insert into __drizzle_migrations (hash, created_at) values (?, ?)', 'fake', 1);
      await expect(D1RegistryStore.open(d1.binding, { migrations })).rejects.toBeInstanceOf(
        SchemaTooNewError,
      );
    });
  });
});

describe('d1Migrations', () => {
  it('splits each file at the statement breakpoints and hashes it as drizzle does', async () => {
    const built = await d1Migrations(journal, sqlByTag);
    const drizzle = (await import('drizzle-orm/migrator')).readMigrationFiles({ migrationsFolder: folder });
    expect(built.map((m) => m.tag)).toEqual(journal.entries.map((e) => e.tag));
    expect(built.map((m) => m.hash)).toEqual(drizzle.map((m) => m.hash));
    expect(built.map((m) => m.statements)).toEqual(drizzle.map((m) => m.sql.map((s) => s.trim())));
  });

  it('refuses a journal entry whose SQL was not bundled', async () => {
    const { [journal.entries[0]!.tag]: _left, ...rest } = sqlByTag;
    await expect(d1Migrations(journal, rest)).rejects.toThrow(
      new RegExp(`^migration ${journal.entries[0]!.tag} is in migrations/sqlite/meta/_journal\\.json`),
    );
  });
});
