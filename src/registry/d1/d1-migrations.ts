/**
 * @module Migrations of the D1 registry. D1 is SQLite, so it runs the SQLite migrations (`migrations/sqlite`),
 * recorded in drizzle's `__drizzle_migrations` table exactly as the SQLite dialect records them. A worker has
 * no file system, so the entry point hands the journal and the SQL over as text (bundled by wrangler); drizzle's
 * own D1 migrator reads files with `node:fs` and cannot be used there.
 */
import { sql } from 'drizzle-orm';
import type { DrizzleD1Database } from 'drizzle-orm/d1';
import { SchemaTooNewError } from '../registry-store.js';

/** The part of drizzle-kit's `meta/_journal.json` read here. */
export interface MigrationJournal {
  readonly entries: readonly { readonly tag: string; readonly when: number }[];
}

/** One migration of this build, ready to apply. */
export interface D1Migration {
  /** The journal's tag, e.g. `0000_init` (the SQL file's name without `.sql`). */
  readonly tag: string;
  /** The journal's `when`: what is recorded as `created_at` once the migration is applied. */
  readonly folderMillis: number;
  /** SHA-256 (hex) of the SQL file, recorded as `hash` like drizzle's migrator does. */
  readonly hash: string;
  /** The file's statements, split at drizzle-kit's `--> statement-breakpoint` markers. */
  readonly statements: readonly string[];
}

/** What the migrations table says was applied. */
interface AppliedMigrations {
  readonly count: number;
  readonly latestMillis: number | undefined;
}

/** drizzle's table and DDL, verbatim in effect, so a D1 export opens as a SQLite registry and vice versa. */
const MIGRATIONS_TABLE = '__drizzle_migrations';
const CREATE_MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS ${MIGRATIONS_TABLE} (id SERIAL PRIMARY KEY, hash text NOT NULL, created_at numeric)`;
const BREAKPOINT = '--> statement-breakpoint';

async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * Builds the migration list from a drizzle-kit journal and the text of each `<tag>.sql` file. Throws when the
 * journal names a file `sqlByTag` lacks: a migration left out of the bundle must stop the worker, not be skipped.
 */
export async function d1Migrations(
  journal: MigrationJournal,
  sqlByTag: Readonly<Record<string, string>>,
): Promise<D1Migration[]> {
  return Promise.all(
    journal.entries.map(async ({ tag, when }) => {
      const text = sqlByTag[tag];
      if (text === undefined) {
        throw new Error(
          `migration ${tag} is in migrations/sqlite/meta/_journal.json but its SQL was not bundled; ` +
            `import migrations/sqlite/${tag}.sql in src/worker.ts`,
        );
      }
      const statements = text
        .split(BREAKPOINT)
        .map((s) => s.trim())
        .filter((s) => s !== '');
      return { tag, folderMillis: when, hash: await sha256Hex(text), statements };
    }),
  );
}

async function readApplied(db: DrizzleD1Database): Promise<AppliedMigrations> {
  const table = await db.get<{ n: number }>(
    sql`select count(*) as n from sqlite_master where type = 'table' and name = ${MIGRATIONS_TABLE}`,
  );
  if (!table?.n) return { count: 0, latestMillis: undefined };
  const row = await db.get<{ n: number; latest: number | string | null }>(
    sql`select count(*) as n, max(created_at) as latest from ${sql.identifier(MIGRATIONS_TABLE)}`,
  );
  const latest = row?.latest ?? null;
  return { count: row?.n ?? 0, latestMillis: latest === null ? undefined : Number(latest) };
}

function newestOf(known: readonly D1Migration[]): number {
  return Math.max(0, ...known.map((m) => m.folderMillis));
}

function describeMillis(millis: number | undefined): string {
  if (millis === undefined || !Number.isFinite(millis)) return 'never';
  const date = new Date(millis);
  return Number.isNaN(date.getTime()) ? String(millis) : date.toISOString();
}

// The same rule and message as `assertSchemaNotTooNew` in ../migrations.ts, which cannot be imported here:
// that module reads files (node:fs) and must not be bundled into the worker.
function assertNotTooNew(known: readonly D1Migration[], applied: AppliedMigrations): void {
  const newestKnown = newestOf(known);
  const tooMany = applied.count > known.length;
  const tooLate = applied.latestMillis !== undefined && applied.latestMillis > newestKnown;
  if (!tooMany && !tooLate) return;
  throw new SchemaTooNewError(
    `this database was migrated by a newer MCP Gateway (${applied.count} migrations applied, ` +
      `the latest from ${describeMillis(applied.latestMillis)}; this build knows ${known.length}, ` +
      `the latest from ${describeMillis(newestKnown)}); ` +
      'upgrade the gateway or point the DB binding at another D1 database',
  );
}

function isFullyMigrated(known: readonly D1Migration[], applied: AppliedMigrations): boolean {
  return applied.count >= known.length && (applied.latestMillis ?? 0) >= newestOf(known);
}

/**
 * Applies the migrations `db` lacks in one D1 batch (one transaction: all or nothing). An up-to-date database
 * costs two reads and no write. Rejects with `SchemaTooNewError`, applying nothing, when a newer gateway has
 * migrated the database.
 */
export async function applyD1Migrations(db: DrizzleD1Database, known: readonly D1Migration[]): Promise<void> {
  const applied = await readApplied(db);
  assertNotTooNew(known, applied);
  if (isFullyMigrated(known, applied)) return;
  // Like drizzle's migrator: apply every migration newer than the latest recorded one.
  const pending = known.filter(
    (m) => applied.latestMillis === undefined || m.folderMillis > applied.latestMillis,
  );
  const batch = [
    db.run(sql.raw(CREATE_MIGRATIONS_TABLE)),
    ...pending.flatMap((m) => [
      ...m.statements.map((statement) => db.run(sql.raw(statement))),
      // Inline values: drizzle's D1 batch cannot bind parameters of raw statements. Both are ours and safe:
      // a hex digest and an integer.
      db.run(
        sql.raw(
          `insert into ${MIGRATIONS_TABLE} (hash, created_at) values ('${m.hash}', ${Math.trunc(m.folderMillis)})`,
        ),
      ),
    ]),
  ] as const;
  try {
    await db.batch(batch);
  } catch (error) {
    // Isolates starting together all find the database empty; the batches run one after another and the
    // later ones fail on CREATE TABLE. If another isolate has applied everything by now, that is success.
    if (isFullyMigrated(known, await readApplied(db))) return;
    throw error;
  }
}
