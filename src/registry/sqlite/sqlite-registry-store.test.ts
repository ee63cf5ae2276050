/** @module Tests of SqliteRegistryStore: the shared contract in memory and on a file, plus file behaviour. */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { afterAll, describe, expect, it } from 'vitest';
import { migrationsBefore } from '../../../test/older-migrations.js';
import { findMigrationsFolder, readKnownMigrations } from '../migrations.js';
import { openRegistryStore } from '../open-registry-store.js';
import { SchemaTooNewError } from '../registry-store.js';
import type { FilePermissionsNotice } from '../registry-store.js';
import { runRegistryChangeFeedContract } from '../registry-change-feed.contract.js';
import { runRegistryStoreContract } from '../registry-store.contract.js';
import { runToolPinStoreContract } from '../tool-pin-store.contract.js';
import { SQLITE_MEMORY, SqliteRegistryStore } from './sqlite-registry-store.js';

const root = mkdtempSync(join(tmpdir(), 'mcpgw-sqlite-'));
let fileCounter = 0;
/** A path in a folder that does not exist yet, so opening must create it. */
const freshPath = () => join(root, `case-${++fileCounter}`, 'nested', 'registry.db');

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

runRegistryStoreContract('sqlite in memory', (clock) => SqliteRegistryStore.open(SQLITE_MEMORY, { clock }));
runRegistryStoreContract('sqlite file', (clock) => SqliteRegistryStore.open(freshPath(), { clock }));
// Two processes sharing a file: first-seen pins and change reports are single conditional statements.
runToolPinStoreContract('sqlite file', async () => {
  const path = freshPath();
  const first = await SqliteRegistryStore.open(path);
  return [first, await SqliteRegistryStore.open(path)] as const;
});
// Two processes sharing a file: each polls the trigger-kept counter.
runRegistryChangeFeedContract('sqlite file', async () => {
  const path = freshPath();
  const first = await SqliteRegistryStore.open(path, { changePollMs: 20 });
  return [first, await SqliteRegistryStore.open(path, { changePollMs: 20 })] as const;
});

const known = readKnownMigrations(findMigrationsFolder('sqlite'));

function appliedRows(path: string): { id: number; created_at: number }[] {
  const raw = new Database(path, { readonly: true });
  try {
    return raw.prepare('select id, created_at from __drizzle_migrations order by id').all() as {
      id: number;
      created_at: number;
    }[];
  } finally {
    raw.close();
  }
}

function insertFakeMigration(path: string, createdAt: number): void {
  const raw = new Database(path);
  try {
    raw.prepare('insert into __drizzle_migrations (hash, created_at) values (?, ?)').run('fake', createdAt);
  } finally {
    raw.close();
  }
}

describe('sqlite file', () => {
  it('creates the parent folder and uses WAL', async () => {
    const path = freshPath();
    const store = await SqliteRegistryStore.open(path);
    await store.close();
    expect(existsSync(path)).toBe(true);
    const raw = new Database(path, { readonly: true });
    expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    raw.close();
  });

  it('keeps its data across close and reopen', async () => {
    const path = freshPath();
    const clock = () => new Date(Date.UTC(2025, 5, 6, 7, 8, 9, 123));
    const first = await SqliteRegistryStore.open(path, { clock });
    const adapter = await first.create('adapter', 'kept', { image: 'x', list: [1, 'ü'] }, 'alice');
    const tool = await first.create('tool', 'kept', { nested: { a: [] } }, 'bob');
    const secret = await first.getOrCreateSetting('secret', 'one');
    await first.close();

    const second = await SqliteRegistryStore.open(path);
    expect(await second.get('adapter', 'kept')).toEqual(adapter);
    expect(await second.get('tool', 'kept')).toEqual(tool);
    expect(await second.getOrCreateSetting('secret', 'two')).toBe(secret);
    await second.close();
  });

  it('applies every migration on the first open and none on the next', async () => {
    const path = freshPath();
    await (await SqliteRegistryStore.open(path)).close();
    const afterFirst = appliedRows(path);
    expect(afterFirst.map((r) => Number(r.created_at))).toEqual(known.map((m) => m.folderMillis));

    await (await SqliteRegistryStore.open(path)).close();
    expect(appliedRows(path)).toEqual(afterFirst);
  });

  it('refuses a database migrated later than this build knows', async () => {
    const path = freshPath();
    await (await SqliteRegistryStore.open(path)).close();
    const newest = Math.max(...known.map((m) => m.folderMillis));
    insertFakeMigration(path, newest + 60_000);

    const error = await SqliteRegistryStore.open(path).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SchemaTooNewError);
    expect((error as Error).message).toMatch(/^this database was migrated by a newer MCP Gateway \(/);
    expect((error as Error).message).toMatch(
      /upgrade the gateway or point DATABASE_URL at another database$/,
    );
    // Nothing was applied on top of the unknown schema.
    expect(appliedRows(path)).toHaveLength(known.length + 1);
  });

  it('gives every resource stored before the uid column a random uid of its own', async () => {
    const path = join(root, `older-${++fileCounter}.db`);
    const older = migrationsBefore('sqlite', '0003_resource_uid');
    try {
      const raw = new Database(path);
      migrate(drizzle({ client: raw }), { migrationsFolder: older });
      const insert = raw.prepare(
        `insert into resources (kind, name, spec, version, created_by, created_at, last_updated_at)
         values (?, ?, '{}', 1, 'alice', 0, 0)`,
      );
      for (const [kind, name] of [
        ['adapter', 'old-1'],
        ['adapter', 'old-2'],
        ['tool', 'old-1'],
      ])
        insert.run(kind, name);
      raw.close();
    } finally {
      rmSync(older, { recursive: true, force: true });
    }

    const store = await SqliteRegistryStore.open(path);
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

  it('adds the secrets table to a database an older gateway left, keeping its resources', async () => {
    const path = join(root, `older-${++fileCounter}.db`);
    const older = migrationsBefore('sqlite', '0005_secrets');
    try {
      const raw = new Database(path);
      migrate(drizzle({ client: raw }), { migrationsFolder: older });
      raw
        .prepare(
          `insert into resources (kind, name, uid, spec, version, created_by, created_at, last_updated_at)
           values ('adapter', 'kept', 'u-1', '{}', 1, 'alice', 0, 0)`,
        )
        .run();
      raw.close();
    } finally {
      rmSync(older, { recursive: true, force: true });
    }
    const store = await SqliteRegistryStore.open(path);
    expect(await store.get('adapter', 'kept')).toMatchObject({ uid: 'u-1', createdBy: 'alice' });
    expect(await store.listSecrets({ limit: 10 })).toEqual([]);
    await store.createSecret('new', { keyId: 'k', iv: 'i', ciphertext: 'c' }, 'bob');
    expect((await store.getSecret('new'))?.createdBy).toBe('bob');
    await store.close();
  });

  it('refuses a database with more applied migrations than this build knows', async () => {
    const path = freshPath();
    await (await SqliteRegistryStore.open(path)).close();
    insertFakeMigration(path, 1);
    await expect(SqliteRegistryStore.open(path)).rejects.toBeInstanceOf(SchemaTooNewError);
  });
});

describe('openRegistryStore with SQLite URLs', () => {
  it('opens :memory:, file: URLs and plain paths', async () => {
    for (const url of [
      ':memory:',
      'file::memory:',
      freshPath(),
      `file:${freshPath()}`,
      `file://${freshPath()}`,
    ]) {
      const store = await openRegistryStore(url);
      expect(store.dialect).toBe('sqlite');
      await store.ping();
      await store.close();
    }
  });

  it('writes the file a file: URL names', async () => {
    const path = freshPath();
    const store = await openRegistryStore(`file://${path}`);
    await store.create('adapter', 'a', {}, 'alice');
    await store.close();
    expect(existsSync(path)).toBe(true);
  });
});

const modeOf = (path: string) => statSync(path).mode & 0o7777;

describe.skipIf(process.platform === 'win32')('sqlite files at rest', () => {
  /** Opens, writes (so the -wal and -shm exist) and closes, collecting what it reports. */
  async function openAndWrite(path: string, companionEntries?: (name: string) => boolean) {
    const notices: FilePermissionsNotice[] = [];
    const store = await SqliteRegistryStore.open(path, {
      onPermissions: (n) => notices.push(n),
      companionEntries,
    });
    await store.create('adapter', `a-${notices.length}-${Math.random()}`, {}, 'alice');
    return { store, notices };
  }

  it('creates a new folder 0700 and the database, its -wal and -shm 0600', async () => {
    const path = freshPath();
    const { store, notices } = await openAndWrite(path);
    expect(modeOf(dirname(path))).toBe(0o700);
    expect(modeOf(path)).toBe(0o600);
    expect(modeOf(`${path}-wal`)).toBe(0o600);
    expect(modeOf(`${path}-shm`)).toBe(0o600);
    await store.close();
    expect(notices).toEqual([]);
  });

  it('tightens an existing open folder and files of its own, reporting each once', async () => {
    const dir = join(root, `open-${++fileCounter}`);
    const path = join(dir, 'registry.db');
    await (await openAndWrite(path)).store.close();
    writeFileSync(join(dir, 'secret'), 'x');
    for (const file of [path, `${path}-wal`, `${path}-shm`].filter(existsSync)) chmodSync(file, 0o644);
    chmodSync(dir, 0o755);

    const first = await openAndWrite(path, (name) => name === 'secret');
    expect(modeOf(dir)).toBe(0o700);
    expect(modeOf(path)).toBe(0o600);
    expect(first.notices).toEqual(
      expect.arrayContaining([
        { path: dir, kind: 'directory', action: 'tightened', from: '0755', to: '0700' },
        { path, kind: 'file', action: 'tightened', from: '0644', to: '0600' },
      ]),
    );
    await first.store.close();
    // Once: the next start finds nothing to say.
    const second = await openAndWrite(path, (name) => name === 'secret');
    expect(second.notices).toEqual([]);
    await second.store.close();
  });

  it("leaves a folder that holds other files open, saying why, and still makes the database's files private", async () => {
    const dir = join(root, `shared-${++fileCounter}`);
    mkdirSync(dir, { mode: 0o755 });
    chmodSync(dir, 0o755);
    writeFileSync(join(dir, 'notes.txt'), 'not the gateway’s');
    const path = join(dir, 'registry.db');
    writeFileSync(path, '');
    chmodSync(path, 0o644);

    const { store, notices } = await openAndWrite(path);
    expect(modeOf(dir)).toBe(0o755);
    expect(modeOf(path)).toBe(0o600);
    expect(modeOf(`${path}-wal`)).toBe(0o600);
    expect(notices).toContainEqual({
      path: dir,
      kind: 'directory',
      action: 'left-open',
      from: '0755',
      reason: expect.stringMatching(/notes\.txt.*directory of its own/),
    });
    await store.close();
  });

  it('leaves a shared (sticky) folder such as /tmp alone', async () => {
    const dir = join(root, `sticky-${++fileCounter}`);
    mkdirSync(dir);
    chmodSync(dir, 0o1777);
    const { store, notices } = await openAndWrite(join(dir, 'registry.db'));
    expect(modeOf(dir)).toBe(0o1777);
    expect(modeOf(join(dir, 'registry.db'))).toBe(0o600);
    expect(notices).toContainEqual(
      expect.objectContaining({ path: dir, action: 'left-open', reason: expect.stringMatching(/sticky/) }),
    );
    await store.close();
  });

  it('touches no file for :memory:', async () => {
    const notices: FilePermissionsNotice[] = [];
    const store = await SqliteRegistryStore.open(SQLITE_MEMORY, { onPermissions: (n) => notices.push(n) });
    await store.create('adapter', 'in-memory', {}, 'alice');
    await store.close();
    expect(notices).toEqual([]);
    expect(existsSync(SQLITE_MEMORY)).toBe(false);
  });
});
