/** @module Dialect-independent rules every registry implementation applies the same way. */
import { ResourceNotFoundError, VersionMismatchError } from './registry-store.js';
import type { ResourceKind } from './registry-store.js';

/**
 * Refuses a `list` limit that is not a positive integer: SQLite reads `LIMIT -1` as "no limit" while
 * Postgres rejects it, so the store checks first to behave the same on both.
 */
export function assertListLimit(limit: number): void {
  if (!Number.isInteger(limit) || limit < 1) {
    throw new RangeError(`list limit must be a positive integer, got ${limit}`);
  }
}

/**
 * Explains why a conditional `UPDATE`/`DELETE` matched no row, given the version read right after it
 * (`undefined` when the row is gone). Returns `undefined` when the row is back at the expected version —
 * deleted and re-created in between — so the caller should simply try the write again.
 */
export function explainMissedWrite(
  kind: ResourceKind,
  name: string,
  expectedVersion: number | undefined,
  actualVersion: number | undefined,
): Error | undefined {
  if (actualVersion === undefined || expectedVersion === undefined) {
    return new ResourceNotFoundError(kind, name);
  }
  if (actualVersion === expectedVersion) return undefined;
  return new VersionMismatchError(kind, name, expectedVersion, actualVersion);
}

/**
 * Whether `error` or one of its causes carries `code`. Drizzle wraps driver errors in a
 * `DrizzleQueryError` whose `cause` is the driver's error, so the code is usually one level down.
 */
export function hasErrorCode(error: unknown, code: string): boolean {
  for (let current = error, depth = 0; current instanceof Error && depth < 5; depth++) {
    if ((current as { code?: unknown }).code === code) return true;
    current = current.cause;
  }
  return false;
}
