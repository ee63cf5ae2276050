/** @module Drizzle tables of the Postgres registry: the source drizzle-kit generates `migrations/postgres` from. */
import { sql } from 'drizzle-orm';
import {
  bigint,
  check,
  customType,
  integer,
  json,
  pgTable,
  primaryKey,
  text,
  timestamp,
} from 'drizzle-orm/pg-core';
// Type-only imports: drizzle-kit loads this file on its own and must not follow runtime imports.
import type { JsonObject, StoredKind } from '../registry-store.js';

/**
 * Text compared byte by byte, so that `ORDER BY name` and `name > $after` agree with SQLite's BINARY
 * collation whatever the database's locale is.
 */
const byteOrderedText = customType<{ data: string; driverData: string }>({
  dataType: () => 'text COLLATE "C"',
});

/** Millisecond timestamps, like the integer milliseconds SQLite stores. */
const timestampMs = (name: string) => timestamp(name, { precision: 3, withTimezone: true, mode: 'date' });

/**
 * Adapters, tools and toolsets, one row each; `(kind, name)` is the key, so each kind is its own name space.
 * `spec` is `json`, not `jsonb`: jsonb would reorder object keys, drop duplicate keys and refuse `\u0000`,
 * so a spec would not read back as SQLite returns it.
 */
export const resources = pgTable(
  'resources',
  {
    kind: text('kind').$type<StoredKind>().notNull(),
    name: byteOrderedText('name').notNull(),
    // Random, set at create and never changed: tells this resource from an earlier one of the same name. The
    // default (evaluated per row) gives the rows that predate the column one; the store always sets it.
    uid: text('uid')
      .notNull()
      .default(sql`gen_random_uuid()::text`),
    spec: json('spec').$type<JsonObject>().notNull(),
    version: integer('version').notNull(),
    createdBy: text('created_by').notNull(),
    createdAt: timestampMs('created_at').notNull(),
    lastUpdatedAt: timestampMs('last_updated_at').notNull(),
  },
  (table) => [
    primaryKey({ columns: [table.kind, table.name] }),
    check('resources_kind_check', sql`${table.kind} in ('adapter', 'tool', 'toolset')`),
  ],
);

/** Gateway-wide values chosen once and then shared by every replica using this database. */
export const settings = pgTable('settings', {
  key: text('key').primaryKey(),
  value: text('value').notNull(),
  createdAt: timestampMs('created_at').notNull(),
});

/**
 * The registry's change counter (one row, id 1). A trigger on `resources` (migration 0002) bumps it in the same
 * transaction as every insert, update and delete and sends its new value with `NOTIFY mcp_gateway_registry`,
 * which every replica LISTENs to.
 */
export const registryRevision = pgTable(
  'registry_revision',
  {
    id: integer('id').primaryKey(),
    value: bigint('value', { mode: 'number' }).notNull(),
  },
  (table) => [check('registry_revision_single_row', sql`${table.id} = 1`)],
);

/**
 * Secrets, one row each, keyed by name (their own name space, byte-ordered like `resources.name`). Only the sealed
 * value is stored: `key_id`, `iv` and `ciphertext` as `secret-cipher.ts` makes them; the value itself never
 * reaches the database. Writes here do not touch `registry_revision`, which counts resource changes.
 */
export const secrets = pgTable('secrets', {
  name: byteOrderedText('name').primaryKey(),
  uid: text('uid').notNull(),
  keyId: text('key_id').notNull(),
  iv: text('iv').notNull(),
  ciphertext: text('ciphertext').notNull(),
  version: integer('version').notNull(),
  createdBy: text('created_by').notNull(),
  createdAt: timestampMs('created_at').notNull(),
  lastUpdatedAt: timestampMs('last_updated_at').notNull(),
});

/**
 * Callers' OAuth grants for adapters' upstreams (the token vault), one row per (caller, adapter). The tokens are
 * only in `ciphertext`, sealed like a secret's value; scopes and times are what `GET /connections` shows.
 */
export const oauthGrants = pgTable(
  'oauth_grants',
  {
    userId: text('user_id').notNull(),
    adapter: byteOrderedText('adapter').notNull(),
    adapterUid: text('adapter_uid').notNull(),
    scopes: text('scopes').notNull(),
    keyId: text('key_id').notNull(),
    iv: text('iv').notNull(),
    ciphertext: text('ciphertext').notNull(),
    createdAt: timestampMs('created_at').notNull(),
    expiresAt: timestampMs('expires_at'),
    lastUpdatedAt: timestampMs('last_updated_at').notNull(),
  },
  (table) => [primaryKey({ columns: [table.userId, table.adapter] })],
);

/**
 * Tool-definition pins of federated adapters (trust on first use): per `(adapter, tool)` the SHA-256 of the
 * tool's canonical definition as first seen or last approved, and that definition, for the diff an admin
 * reviews. `reported_hash` is the changed definition last reported (audited), so a change is reported once
 * across every replica sharing the database. Writes here do not touch `registry_revision`.
 */
export const toolPins = pgTable(
  'tool_pins',
  {
    adapter: byteOrderedText('adapter').notNull(),
    tool: byteOrderedText('tool').notNull(),
    hash: text('hash').notNull(),
    definition: json('definition').$type<JsonObject>().notNull(),
    pinnedBy: text('pinned_by').notNull(),
    pinnedAt: timestampMs('pinned_at').notNull(),
    reportedHash: text('reported_hash'),
  },
  (table) => [primaryKey({ columns: [table.adapter, table.tool] })],
);
