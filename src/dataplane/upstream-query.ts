/**
 * @module upstream-query: the client's query string on its way upstream. `POST /adapters/x/mcp?tenant=a` reaches
 * the replica as `POST <replica path>?tenant=a`, byte for byte; when the replica's registered URL has a query of
 * its own, the client's parameters follow it, and any the registered URL already names are left out, so a caller
 * cannot override what the operator pinned (a tenant, a key).
 */

/** The query of an absolute request URL, without `?` (and without a fragment); '' when there is none. */
export function queryOf(url: string): string {
  const start = url.indexOf('?');
  if (start < 0) return '';
  const hash = url.indexOf('#', start);
  return url.slice(start + 1, hash < 0 ? undefined : hash);
}

/** The names a query sets, decoded as `URLSearchParams` decodes them (`+` is a space, `%xx` a byte). */
const nameOf = (pair: string): string => new URLSearchParams(pair).keys().next().value ?? '';

/**
 * What of the client's `query` goes to the replica at `upstreamUrl`: all of it when that URL has no query (the
 * common case, no work), else the pairs whose names it does not set, in their original spelling.
 */
export function clientQueryFor(upstreamUrl: string, query: string): string {
  if (query === '') return '';
  const start = upstreamUrl.indexOf('?');
  if (start < 0) return query;
  const pinned = new Set(new URL(upstreamUrl).searchParams.keys());
  if (pinned.size === 0) return query;
  return query
    .split('&')
    .filter((pair) => pair !== '' && !pinned.has(nameOf(pair)))
    .join('&');
}

/**
 * `target` (an absolute URL or a path) with `query` appended: after `?`, or after `&` when `target` has a query
 * already. A fragment of `target` is dropped: it never goes on the wire, and a query after it would be lost.
 */
export function withQuery(target: string, query: string): string {
  if (query === '') return target;
  const hash = target.indexOf('#');
  const base = hash < 0 ? target : target.slice(0, hash);
  const start = base.indexOf('?');
  if (start < 0) return `${base}?${query}`;
  return start === base.length - 1 || base.endsWith('&') ? `${base}${query}` : `${base}&${query}`;
}
