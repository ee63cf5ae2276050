/** @module etag: entity tags of stored resources and the `If-Match` rules (RFC 9110 §13.1.1). */
import type { StoredResource } from '../registry/index.js';

/** What a tag is computed from: the version and the resource's incarnation. */
export type TaggedRow = Pick<StoredResource, 'version' | 'uid'>;

/**
 * A strong tag from the version and the registry `uid` (random, new on every create), so a resource deleted and
 * created again under the same name never matches a tag of its predecessor — even within one millisecond, which
 * a creation time could not tell apart.
 */
export function etagOf(row: TaggedRow): string {
  return `"${row.version}.${row.uid}"`;
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
export function ifMatchAdmits(ifMatch: IfMatch, row: TaggedRow): boolean {
  return ifMatch.any || ifMatch.tags.includes(etagOf(row));
}

/** True when `If-None-Match` lists the current tag (a conditional GET answered with 304). */
export function ifNoneMatchHits(header: string | undefined, row: TaggedRow): boolean {
  if (header === undefined) return false;
  if (header.trim() === '*') return true;
  const current = etagOf(row);
  return (header.match(/(?:W\/)?"[^"]*"/g) ?? []).some((tag) => tag.replace(/^W\//, '') === current);
}
