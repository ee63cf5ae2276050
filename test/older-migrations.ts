/**
 * @module older-migrations: a copy of a dialect's migrations folder cut before one migration, to build a database
 * as an older gateway left it and check what the newer migrations do to its rows.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findMigrationsFolder } from '../src/registry/migrations.js';
import type { MigrationsDialect } from '../src/registry/migrations.js';

interface Journal {
  readonly entries: readonly { readonly tag: string }[];
  readonly [field: string]: unknown;
}

/**
 * A new temporary folder holding the migrations of `dialect` that come before `tag` (drizzle's migrator reads the
 * journal, so the later SQL files need not be removed; they are not copied either). The caller removes the folder.
 */
export function migrationsBefore(dialect: MigrationsDialect, tag: string): string {
  const source = findMigrationsFolder(dialect);
  const journal = JSON.parse(readFileSync(join(source, 'meta', '_journal.json'), 'utf8')) as Journal;
  const cut = journal.entries.findIndex((entry) => entry.tag === tag);
  if (cut < 0) throw new Error(`migrations/${dialect} has no migration ${tag}`);
  const target = mkdtempSync(join(tmpdir(), `mcpgw-migrations-${dialect}-`));
  mkdirSync(join(target, 'meta'));
  const entries = journal.entries.slice(0, cut);
  for (const entry of entries)
    copyFileSync(join(source, `${entry.tag}.sql`), join(target, `${entry.tag}.sql`));
  writeFileSync(join(target, 'meta', '_journal.json'), JSON.stringify({ ...journal, entries }));
  return target;
}
