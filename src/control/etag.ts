/** @module etag: entity tags of stored resources and the `If-Match` rules (RFC 9110 §13.1.1). */
import type { StoredResource } from '../registry/index.js';

/**
 * A strong tag from the version and the creation time, so a resource deleted and created again under the
 * same name never matches a tag of its predecessor.
 */
export function etagOf(row: Pick<StoredResource, 'version' | 'createdAt'>): string {
  return `"${row.version}.${row.createdAt.getTime().toString(36)}"`;
}

/** What an `If-Match` header asks for. */
export type IfMatch = { readonly any: true } | { readonly any: false; readonly tags: readonly string[] };

/** Parses `If-Match`; undefined when absent. Weak tags are kept but can never match (strong comparison). */
export function parseIfMatch(header: string | undefined): IfMatch | undefined {
  if (header === undefined) return undefined;
  const trimmed = header.trim();
  if (trimmed === '*') return { any: true };
  const tags = trimmed.match(/(?:W\/)?"[^"]*"/g) ?? [];
  return { any: false, tags };
}

/** True when `If-Match` admits the current row. */
export function ifMatchAdmits(ifMatch: IfMatch, row: Pick<StoredResource, 'version' | 'createdAt'>): boolean {
  return ifMatch.any || ifMatch.tags.includes(etagOf(row));
}

/** True when `If-None-Match` lists the current tag (a conditional GET answered with 304). */
export function ifNoneMatchHits(
  header: string | undefined,
  row: Pick<StoredResource, 'version' | 'createdAt'>,
): boolean {
  if (header === undefined) return false;
  if (header.trim() === '*') return true;
  const current = etagOf(row);
  return (header.match(/(?:W\/)?"[^"]*"/g) ?? []).some((tag) => tag.replace(/^W\//, '') === current);
}
