/**
 * @module route-parts: what every named control-plane collection (`/adapters`, `/tools`, `/toolsets`,
 * `/secrets`) does the same way — the OpenAPI pieces of conditional requests and error bodies, the read-on
 * list page of a caller who may not see every row, and the `If-Match` rules of a replace or a delete — so the
 * collections differ only in what they store and who may touch it.
 */
import { z } from '@hono/zod-openapi';
import { notFound, preconditionFailed } from '../http/index.js';
import { ResourceNotFoundError, VersionMismatchError } from '../registry/index.js';
import { encodeCursor } from './cursor.js';
import { etagOf, ifMatchAdmits } from './etag.js';
import type { IfMatch, TaggedRow } from './etag.js';
import { ErrorBodySchema } from './schemas.js';

/** Registry pages one list request may scan to fill a page with rows the caller may read. */
export const MAX_LIST_READS = 10;
/** Unconditional writes retry this often when another writer slips in between read and write. */
export const UNCONDITIONAL_WRITE_ATTEMPTS = 5;

/** The `ETag` response header of a route. */
export const etagHeader = {
  ETag: { schema: { type: 'string' as const }, description: 'Entity tag for If-Match' },
};

/** The optional `If-Match` request header of a replace or delete. */
export const ifMatchHeader = z.object({
  'if-match': z
    .string()
    .optional()
    .openapi({ param: { name: 'if-match', in: 'header' }, description: 'ETag from a GET; 412 when stale' }),
});

/** A JSON request or response body of `schema`. */
export const jsonOf = <T>(schema: z.ZodType<T>) => ({ 'application/json': { schema } });

/** Builds the error responses of a route table: each status documented with the collection's own wording. */
export function errorResponsesOf(descriptions: Readonly<Record<number, string>>) {
  return (...statuses: number[]) =>
    Object.fromEntries(
      statuses.map((status) => [
        status,
        {
          description: descriptions[status] ?? 'Error',
          content: { 'application/json': { schema: ErrorBodySchema } },
        },
      ]),
    );
}

/** One page of a list for a caller who may read only some rows. */
export interface ReadablePage<T> {
  readonly rows: T[];
  /** The `Link: rel="next"` value when more rows may follow. */
  readonly next?: string;
}

/**
 * A full page of the rows `canRead` admits, read on past the hidden ones for at most {@link MAX_LIST_READS}
 * registry pages; after those, a short (even empty) page whose link resumes the scan where it stopped.
 */
export async function readablePage<T extends { readonly name: string }>(options: {
  /** The collection's path, e.g. `/adapters`, for the next link. */
  readonly collection: string;
  readonly pageSize: number;
  readonly after: string | undefined;
  /** Every row after `after`, in name order. */
  readonly rows: (after: string | undefined) => AsyncIterable<T>;
  readonly canRead: (row: T) => boolean;
}): Promise<ReadablePage<T>> {
  const { pageSize } = options;
  const budget = MAX_LIST_READS * pageSize;
  let after = options.after;
  let scanned = 0;
  let more = false;
  const rows: T[] = [];
  for await (const row of options.rows(after)) {
    // A row beyond a full page or the scan budget: the next page starts after the last one taken.
    if (rows.length === pageSize || scanned === budget) {
      more = true;
      break;
    }
    scanned += 1;
    after = row.name;
    if (options.canRead(row)) rows.push(row);
  }
  if (!more || after === undefined) return { rows };
  return {
    rows,
    next: `<${options.collection}?limit=${pageSize}&cursor=${encodeCursor(after)}>; rel="next"`,
  };
}

/**
 * A replace under the `If-Match` rules: `load` reads the current row (and throws 404), `check` refuses what the
 * caller may not do to it, `write` stores against the version read. A write that loses a race is the 412 the
 * client asked to detect when it sent `If-Match`; without one, it is retried from a fresh read, so
 * authorisation and validation always see the latest state.
 */
export async function replaceChecked<T extends TaggedRow, R>(options: {
  /** The resource in messages, e.g. `Adapter 'x'`. */
  readonly what: string;
  readonly ifMatch: IfMatch | undefined;
  readonly load: () => Promise<T>;
  readonly check?: (current: T) => void;
  readonly write: (expectedVersion: number) => Promise<R>;
}): Promise<R> {
  const { what, ifMatch } = options;
  for (let attempt = 1; ; attempt++) {
    const current = await options.load();
    options.check?.(current);
    if (ifMatch && !ifMatchAdmits(ifMatch, current)) {
      throw preconditionFailed(
        `${what} has changed: its ETag is now ${etagOf(current)}. Read it again and retry.`,
      );
    }
    try {
      return await options.write(current.version);
    } catch (err) {
      if (err instanceof ResourceNotFoundError) throw notFound(`${what} does not exist.`);
      if (!(err instanceof VersionMismatchError)) throw err;
      if (ifMatch || attempt >= UNCONDITIONAL_WRITE_ATTEMPTS) {
        throw preconditionFailed(`${what} was changed by another request. Read it again and retry.`);
      }
    }
  }
}

/**
 * A delete under the `If-Match` rules: with `If-Match`, the current row (from `load`) must match and the delete
 * is conditional on its version; without, it is unconditional and `load` is not called.
 */
export async function deleteChecked<T extends TaggedRow>(options: {
  readonly what: string;
  readonly ifMatch: IfMatch | undefined;
  readonly load: () => Promise<T>;
  readonly remove: (condition: { readonly expectedVersion?: number }) => Promise<void>;
}): Promise<void> {
  const { what, ifMatch } = options;
  let condition: { readonly expectedVersion?: number } = {};
  if (ifMatch) {
    const current = await options.load();
    if (!ifMatchAdmits(ifMatch, current)) {
      throw preconditionFailed(`${what} has changed: its ETag is now ${etagOf(current)}.`);
    }
    condition = { expectedVersion: current.version };
  }
  try {
    await options.remove(condition);
  } catch (err) {
    if (err instanceof ResourceNotFoundError) throw notFound(`${what} does not exist.`);
    if (err instanceof VersionMismatchError)
      throw preconditionFailed(`${what} was changed by another request.`);
    throw err;
  }
}
