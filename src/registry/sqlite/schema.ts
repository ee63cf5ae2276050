/** @module Drizzle tables of the SQLite registry: the source drizzle-kit generates `migrations/sqlite` from. */
import { sql } from 'drizzle-orm';
import { check, integer, primaryKey, sqliteTable, text } from 'drizzle-orm/sqlite-core';
// Type-only imports: drizzle-kit loads this file on its own and must not follow runtime imports.
import type { JsonObject, StoredKind } from '../registry-store.js';

/**
 * Adapters, tools and toolsets, one row each; `(kind, name)` is the key, so each kind is its own name space.
 * SQLite's default BINARY collation orders `name` by UTF-8 bytes, which is the order `list` promises.
 */
export const resources = sqliteTable(
  'resources',
  {
    kind: text('kind').$type<StoredKind>().notNull(),
    name: text('name').notNull(),
    // Random, set at create and never changed: tells this resource from an earlier one of the same name. The ''
    // default exists only because SQLite cannot add a NOT NULL column without one; migration 0004 gives every row
    // that predates the column a random uid, and the store always sets one.
    uid: text('uid').notNull().default(''),
    spec: text('spec', { mode: 'json' }).$type<JsonObject>().notNull(),
    version: integer('version').notNull(),
    createdBy: text('created_by').notNull(),
    createdAt: integer('created_at', { mode: 'timestamp_ms' }).notNull(),
    lastUpdatedAt: integer('last_updated_at', { mode: 'timestamp_ms' }).notNull(),
  },
  (table) => [
    primaryKey({ columns: [table.kind, table.name] }),
    check('resources_kind_check', sql`${table.kind} in ('adapter', 'tool', 'toolset')`),
  ],
);

/** Gateway-wide values chosen once and then shared by every process using this database. */
export const settings = sqliteTable('settings', {
  key: text('key').primaryKey(),
  value: text('value').notNull(),
  createdAt: integer('created_at', { mode: 'timestamp_ms' }).notNull(),
});

/**
 * The registry's change counter (one row, id 1). Triggers on `resources` (migration 0002) bump it in the same
 * transaction as every insert, update and delete, so any process sharing the file sees a change by reading it.
 */
export const registryRevision = sqliteTable(
  'registry_revision',
  {
    id: integer('id').primaryKey(),
    value: integer('value').notNull(),
  },
  (table) => [check('registry_revision_single_row', sql`${table.id} = 1`)],
);

/**
 * Secrets, one row each, keyed by name (their own name space). Only the sealed value is stored: `key_id`, `iv` and
 * `ciphertext` as `secret-cipher.ts` makes them; the value itself never reaches the database. Writes here do not
 * touch `registry_revision`, which counts resource changes.
 */
export const secrets = sqliteTable('secrets', {
  name: text('name').primaryKey(),
  uid: text('uid').notNull(),
  keyId: text('key_id').notNull(),
  iv: text('iv').notNull(),
  ciphertext: text('ciphertext').notNull(),
  version: integer('version').notNull(),
  createdBy: text('created_by').notNull(),
  createdAt: integer('created_at', { mode: 'timestamp_ms' }).notNull(),
  lastUpdatedAt: integer('last_updated_at', { mode: 'timestamp_ms' }).notNull(),
});

/**
 * Callers' OAuth grants for adapters' upstreams (the token vault), one row per (caller, adapter). The tokens are
 * only in `ciphertext`, sealed like a secret's value; scopes and times are what `GET /connections` shows.
 */
export const oauthGrants = sqliteTable(
  'oauth_grants',
  {
    userId: text('user_id').notNull(),
    adapter: text('adapter').notNull(),
    adapterUid: text('adapter_uid').notNull(),
    scopes: text('scopes').notNull(),
    keyId: text('key_id').notNull(),
    iv: text('iv').notNull(),
    ciphertext: text('ciphertext').notNull(),
    createdAt: integer('created_at', { mode: 'timestamp_ms' }).notNull(),
    expiresAt: integer('expires_at', { mode: 'timestamp_ms' }),
    lastUpdatedAt: integer('last_updated_at', { mode: 'timestamp_ms' }).notNull(),
  },
  (table) => [primaryKey({ columns: [table.userId, table.adapter] })],
);

/**
 * Tool-definition pins of federated adapters (trust on first use): per `(adapter, tool)` the SHA-256 of the
 * tool's canonical definition as first seen or last approved, and that definition, for the diff an admin
 * reviews. `reported_hash` is the changed definition last reported (audited), so a change is reported once
 * across every gateway instance sharing the database. Writes here do not touch `registry_revision`.
 */
export const toolPins = sqliteTable(
  'tool_pins',
  {
    adapter: text('adapter').notNull(),
    tool: text('tool').notNull(),
    hash: text('hash').notNull(),
    definition: text('definition', { mode: 'json' }).$type<JsonObject>().notNull(),
    pinnedBy: text('pinned_by').notNull(),
    pinnedAt: integer('pinned_at', { mode: 'timestamp_ms' }).notNull(),
    reportedHash: text('reported_hash'),
  },
  (table) => [primaryKey({ columns: [table.adapter, table.tool] })],
);
