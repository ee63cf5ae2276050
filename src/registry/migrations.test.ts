/** @module Tests of locating migrations and of refusing databases migrated by a newer build. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { assertSchemaNotTooNew, findMigrationsFolder, isFullyMigrated } from './migrations.js';
import { SchemaTooNewError } from './registry-store.js';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const moduleUrl = (...parts: string[]) => pathToFileURL(join(repoRoot, ...parts)).href;

describe('findMigrationsFolder', () => {
  it.each(['sqlite', 'postgres'] as const)('finds migrations/%s from src/ and from dist/', (dialect) => {
    const expected = join(repoRoot, 'migrations', dialect);
    expect(existsSync(join(expected, 'meta', '_journal.json'))).toBe(true);
    expect(findMigrationsFolder(dialect)).toBe(expected);
    expect(findMigrationsFolder(dialect, moduleUrl('src', 'registry', dialect, 'store.ts'))).toBe(expected);
    expect(findMigrationsFolder(dialect, moduleUrl('dist', 'registry', dialect, 'store.js'))).toBe(expected);
  });

  it('says what is missing when there is no migrations folder above', () => {
    expect(() => findMigrationsFolder('sqlite', 'file:///nonexistent-mcpgw/registry/x.js')).toThrow(
      /cannot find migrations\/sqlite\/meta\/_journal\.json/,
    );
  });
});

describe('assertSchemaNotTooNew', () => {
  const known = [{ folderMillis: 1_000 }, { folderMillis: 2_000 }];

  it.each([
    ['an empty database', { count: 0, latestMillis: undefined }],
    ['a partly migrated database', { count: 1, latestMillis: 1_000 }],
    ['a fully migrated database', { count: 2, latestMillis: 2_000 }],
  ])('accepts %s', (_, applied) => {
    expect(() => assertSchemaNotTooNew(known, applied)).not.toThrow();
  });

  it.each([
    ['more rows than the journal', { count: 3, latestMillis: 2_000 }],
    ['a migration newer than the journal', { count: 2, latestMillis: 2_001 }],
  ])('refuses %s', (_, applied) => {
    expect(() => assertSchemaNotTooNew(known, applied)).toThrow(SchemaTooNewError);
    expect(() => assertSchemaNotTooNew(known, applied)).toThrow(
      /^this database was migrated by a newer MCP Gateway \(.*\); upgrade the gateway or point DATABASE_URL at another database$/,
    );
  });

  it('isFullyMigrated tells a complete schema from a partial one', () => {
    expect(isFullyMigrated(known, { count: 2, latestMillis: 2_000 })).toBe(true);
    expect(isFullyMigrated(known, { count: 1, latestMillis: 1_000 })).toBe(false);
    expect(isFullyMigrated(known, { count: 0, latestMillis: undefined })).toBe(false);
  });
});
