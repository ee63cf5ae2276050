/**
 * @module Locating the drizzle-kit migrations shipped with the gateway and refusing databases migrated by a
 * newer build. Node-only (reads files); imported only by the Node registry dialects.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readMigrationFiles } from 'drizzle-orm/migrator';
import { SchemaTooNewError } from './registry-store.js';

/** The dialect folders under `migrations/`. */
export type MigrationsDialect = 'sqlite' | 'postgres';

/** What a database's migrations table says was applied. */
export interface AppliedMigrations {
  /** Rows in the migrations table (0 when it does not exist yet). */
  readonly count: number;
  /** The largest `created_at` (the journal `when` of the migration), or undefined when none. */
  readonly latestMillis: number | undefined;
}

/** One migration of this build, as drizzle's migrator reads it. */
export interface KnownMigration {
  /** The journal's `when`: what drizzle records as `created_at` once the migration is applied. */
  readonly folderMillis: number;
}

/**
 * Finds `migrations/<dialect>` by walking up from this module, so the same code works from `src/registry`
 * (tests, tsx) and from `dist/registry` (the built server): both sit below the folder holding `migrations/`.
 */
export function findMigrationsFolder(dialect: MigrationsDialect, from: string = import.meta.url): string {
  const start = dirname(fileURLToPath(from));
  for (let dir = start; ; dir = dirname(dir)) {
    const candidate = join(dir, 'migrations', dialect);
    if (existsSync(join(candidate, 'meta', '_journal.json'))) return candidate;
    if (dirname(dir) === dir) {
      throw new Error(
        `cannot find migrations/${dialect}/meta/_journal.json in ${start} or any folder above it; ` +
          'the gateway must be installed with its migrations/ folder',
      );
    }
  }
}

/** The migrations this build ships for `folder`, in journal order. */
export function readKnownMigrations(folder: string): KnownMigration[] {
  return readMigrationFiles({ migrationsFolder: folder }).map((m) => ({ folderMillis: m.folderMillis }));
}

/**
 * Throws {@link SchemaTooNewError} when the database holds migrations this build does not know: more
 * applied rows than journal entries, or one applied later than the newest entry. Drizzle's migrator would
 * otherwise start silently against a schema it does not understand.
 */
export function assertSchemaNotTooNew(known: readonly KnownMigration[], applied: AppliedMigrations): void {
  const newestKnown = Math.max(0, ...known.map((m) => m.folderMillis));
  const tooMany = applied.count > known.length;
  const tooLate = applied.latestMillis !== undefined && applied.latestMillis > newestKnown;
  if (!tooMany && !tooLate) return;
  throw new SchemaTooNewError(
    `this database was migrated by a newer MCP Gateway (${applied.count} migrations applied, ` +
      `the latest from ${describeMillis(applied.latestMillis)}; this build knows ${known.length}, ` +
      `the latest from ${describeMillis(newestKnown)}); ` +
      'upgrade the gateway or point DATABASE_URL at another database',
  );
}

/** Whether every migration this build knows is recorded as applied (e.g. by a concurrent process). */
export function isFullyMigrated(known: readonly KnownMigration[], applied: AppliedMigrations): boolean {
  const newestKnown = Math.max(0, ...known.map((m) => m.folderMillis));
  return applied.count >= known.length && (applied.latestMillis ?? 0) >= newestKnown;
}

function describeMillis(millis: number | undefined): string {
  if (millis === undefined || !Number.isFinite(millis)) return 'never';
  const date = new Date(millis);
  return Number.isNaN(date.getTime()) ? String(millis) : date.toISOString();
}
