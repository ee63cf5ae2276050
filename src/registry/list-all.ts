/**
 * @module list-all: every resource of one kind, typed, read page by page through {@link RegistryStore.list}
 * (keyset pagination by name), so readers that need the whole registry do not each re-implement the paging.
 * A helper over the port rather than a port method: every store gets it without implementing anything.
 */
import type { RegistryStore, ResourceKind } from './registry-store.js';
import { registeredOf } from './resource-spec.js';
import type { Registered } from './resource-spec.js';

/** Rows per page when the caller does not choose. */
export const DEFAULT_LIST_ALL_PAGE_SIZE = 500;

/** Options for {@link listAll}. */
export interface ListAllOptions {
  /** Rows read per `list` call (a positive integer); default {@link DEFAULT_LIST_ALL_PAGE_SIZE}. */
  readonly pageSize?: number;
  /** Start after this name (exclusive), e.g. where an earlier scan stopped; default the first name. */
  readonly after?: string;
}

/**
 * Yields every resource of `kind` in name order (byte order), one page read at a time. Pages are separate reads,
 * not one snapshot: a resource written meanwhile may or may not be seen, and none is yielded twice.
 */
export async function* listAll<K extends ResourceKind>(
  store: Pick<RegistryStore, 'list'>,
  kind: K,
  options: ListAllOptions = {},
): AsyncGenerator<Registered<K>, void, undefined> {
  const limit = options.pageSize ?? DEFAULT_LIST_ALL_PAGE_SIZE;
  if (!Number.isInteger(limit) || limit < 1) {
    throw new RangeError(`listAll: pageSize must be a positive integer, got ${limit}`);
  }
  let after = options.after;
  for (;;) {
    const page = await store.list(kind, after === undefined ? { limit } : { limit, after });
    for (const row of page) yield registeredOf(kind, row);
    const last = page.at(-1);
    if (page.length < limit || last === undefined) return;
    after = last.name;
  }
}

/** Every resource of `kind`, as one array (see {@link listAll}). */
export async function readAll<K extends ResourceKind>(
  store: Pick<RegistryStore, 'list'>,
  kind: K,
  options: ListAllOptions = {},
): Promise<Registered<K>[]> {
  const all: Registered<K>[] = [];
  for await (const resource of listAll(store, kind, options)) all.push(resource);
  return all;
}
