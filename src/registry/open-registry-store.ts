/**
 * @module Chooses the registry dialect from `DATABASE_URL`. Dialects are imported on demand, so a process
 * that uses Postgres never loads better-sqlite3 and vice versa.
 */
import type { RegistryChangeFeed, RegistryStore, RegistryStoreOptions } from './registry-store.js';

/** Where a database URL points: a Postgres server or a SQLite file (or `:memory:`). */
export type DatabaseTarget =
  | { readonly dialect: 'postgres'; readonly url: string }
  | { readonly dialect: 'sqlite'; readonly path: string };

/**
 * Reads `databaseUrl`: `postgres://` / `postgresql://` → Postgres; `file:` URL, `:memory:` or a plain path →
 * SQLite. `file:relative/path` and `file:///absolute/path` are both accepted; other URL schemes are refused
 * rather than mistaken for a file name.
 */
export function parseDatabaseUrl(databaseUrl: string): DatabaseTarget {
  const value = databaseUrl.trim();
  if (value === '')
    throw new Error('the database URL is empty; use a file path, file: URL or postgres:// URL');
  if (/^postgres(ql)?:\/\//i.test(value)) return { dialect: 'postgres', url: value };
  if (/^file:/i.test(value)) return { dialect: 'sqlite', path: filePath(value) };
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(value)?.[1];
  if (scheme !== undefined) {
    throw new Error(
      `unsupported database URL scheme '${scheme}:'; use postgres://, postgresql://, file: or a file path`,
    );
  }
  return { dialect: 'sqlite', path: value };
}

/**
 * Opens the registry `databaseUrl` names (see {@link parseDatabaseUrl}) and applies pending migrations.
 * Rejects with `SchemaTooNewError` when a newer gateway has migrated that database. Both dialects also report
 * changes made by other processes ({@link RegistryChangeFeed}).
 */
export async function openRegistryStore(
  databaseUrl: string,
  options: RegistryStoreOptions = {},
): Promise<RegistryStore & RegistryChangeFeed> {
  const target = parseDatabaseUrl(databaseUrl);
  if (target.dialect === 'postgres') {
    const { PostgresRegistryStore } = await import('./postgres/index.js');
    return PostgresRegistryStore.open(target.url, options);
  }
  const { SqliteRegistryStore } = await import('./sqlite/index.js');
  return SqliteRegistryStore.open(target.path, options);
}

function filePath(url: string): string {
  // better-sqlite3 takes plain paths, so query options would silently become part of the file name.
  if (url.includes('?')) throw new Error(`file: database URLs take no query options: '${url}'`);
  const rest = url.slice('file:'.length);
  if (rest === ':memory:') return ':memory:';
  if (!rest.startsWith('//')) return decodeURIComponent(rest);
  // A host other than localhost has no meaning for a local file.
  const parsed = new URL(url);
  if (parsed.host !== '' && parsed.host !== 'localhost') {
    throw new Error(`file: database URLs must name a local file, not host '${parsed.host}'`);
  }
  const path = decodeURIComponent(parsed.pathname);
  // file:///C:/data/x.db: the drive letter follows the slash that starts the URL path.
  return /^\/[a-z]:\//i.test(path) ? path.slice(1) : path;
}
