/**
 * @module tool-search: the full-text index behind `search_tools` (`MCP_GATEWAY_TOOL_DISCOVERY=search`). One
 * MiniSearch index over every tool of the catalog — its name (split at separators and camelCase), title,
 * description, and the names and descriptions of its input properties — kept in step with the catalog's
 * snapshots: a change is applied as the difference (tools added, changed, gone), and the index is built afresh
 * only at first, after many changes at once, or once enough removed tools have piled up inside it. Nothing is
 * indexed per request.
 *
 * The index is shared by every caller; who may see what is decided at query time by the caller's visible list
 * (`catalog.visible`, the very list `tools/list` serves), so a search never shows a tool the list would not.
 */
import MiniSearch from 'minisearch';
import type { Query } from 'minisearch';
import type { CatalogEntry, CatalogSnapshot } from './catalog.js';

/** What the index holds of one tool. */
interface ToolDocument {
  readonly id: string;
  readonly name: string;
  readonly title: string;
  readonly description: string;
  readonly params: string;
}

/** How {@link ToolSearch} last brought itself up to date, for the benchmark and for tests. */
export interface ToolSearchStats {
  /** Tools in the index (not counting removed ones still inside it). */
  readonly documents: number;
  /** Full builds so far. */
  readonly builds: number;
  /** Updates applied as a difference so far. */
  readonly updates: number;
}

/** The search index of the tool router. */
export interface ToolSearch {
  /**
   * Brings the index in line with `snapshot`: nothing to do when it already is (same fingerprint), a difference
   * applied at once when little changed, or a full build in chunks that yield to the event loop in between
   * (10,000 tools take a few hundred milliseconds of CPU, which must not stall every other request). Resolves
   * when the index reflects `snapshot`. Snapshots must come in the order the catalog made them (an older one
   * after a newer one would take the index back to it until the next update).
   */
  update(snapshot: CatalogSnapshot): Promise<void>;
  /**
   * The best `limit` matches of `query` among `visible` (the caller's `tools/list`), best first. Call it once
   * {@link update} for the snapshot `visible` came from resolved; a match outside `visible` is never returned.
   */
  search(visible: readonly CatalogEntry[], query: string, limit: number): CatalogEntry[];
  readonly stats: ToolSearchStats;
}

/** Options for {@link createToolSearch}. */
export interface ToolSearchOptions {
  /**
   * Build afresh instead of applying a difference when more than this share of the tools changed, or when removed
   * tools still inside the index exceed this share of it (MiniSearch skips them, at a cost). Default 0.25.
   */
  readonly rebuildRatio?: number;
  /** Tools indexed between two yields of a full build. Default 500. */
  readonly chunkSize?: number;
}

/** Longest text indexed from one tool's input schema (a schema can be huge; its first properties say most). */
const MAX_PARAMS_TEXT = 4000;
/** Distinct words of a query that count; the rest are ignored. */
export const MAX_QUERY_TERMS = 12;
/** How deep nested `properties` are followed. */
const MAX_SCHEMA_DEPTH = 3;

/** Words too common in tool descriptions and queries to tell tools apart. */
const STOP_WORDS = new Set(
  (
    'a an and are as at be by can do does for from how i in into is it its me my of on or our so that the ' +
    'their them then there these this to up use used uses using via was we what when where which while ' +
    'who will with you your'
  ).split(' '),
);

const ASCII = /^[ -~\t\n\r]*$/;

/** Splits at anything that is not a letter or digit, and inside camelCase words ("getUserId": get, User, Id). */
function split(text: string): string[] {
  // Most tool text is ASCII, and the ASCII expressions are several times cheaper than the Unicode ones.
  const words = ASCII.test(text)
    ? text
        .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
        .replace(/([A-Z])([A-Z][a-z])/g, '$1 $2')
        .split(/[^A-Za-z0-9]+/)
    : text
        .replace(/([\p{Ll}\p{N}])(\p{Lu})/gu, '$1 $2')
        .replace(/(\p{Lu})(\p{Lu}\p{Ll})/gu, '$1 $2')
        .split(/[^\p{L}\p{N}]+/u);
  return words.filter((word) => word.length > 0);
}

/**
 * The terms a field is indexed under: split, normalised, each once. Counting a term once per field costs the
 * ranking little (tool texts are short, so a term rarely recurs in one field) and halves the build.
 */
function indexTerms(text: string): string[] {
  const terms = new Set<string>();
  for (const word of split(text)) {
    const term = normalizeTerm(word);
    if (term !== null) terms.add(term);
  }
  return [...terms];
}

/**
 * Lower case, stop words dropped, and a light suffix folding so that "creates", "creating", "created" and
 * "create" meet (and "messages" and "message"): enough for tool descriptions, which are short and plain.
 */
export function normalizeTerm(term: string): string | null {
  let t = term.toLowerCase();
  if (STOP_WORDS.has(t)) return null;
  if (t.length > 4) {
    if (t.endsWith('ies')) t = `${t.slice(0, -3)}y`;
    else if (t.endsWith('ing') && t.length > 5) t = t.slice(0, -3);
    else if (t.endsWith('ed') && t.length > 4) t = t.slice(0, -2);
    else if (/(?:ss|x|z|ch|sh)es$/.test(t)) t = t.slice(0, -2);
    else if (t.endsWith('s') && !/(?:ss|us|is)$/.test(t)) t = t.slice(0, -1);
  }
  if (t.length > 4 && t.endsWith('e')) t = t.slice(0, -1);
  return t;
}

/**
 * Verbs that tool descriptions and the people (or models) searching for them use for the same action. A query
 * term of a group also looks for the others, at {@link SYNONYM_WEIGHT} of its own weight: "remove a channel"
 * finds "Delete a channel", while a tool using the query's own word still ranks first.
 */
const SYNONYM_GROUPS: readonly (readonly string[])[] = [
  ['delete', 'remove', 'erase', 'destroy', 'drop', 'purge'],
  ['create', 'add', 'new', 'make', 'start', 'register', 'insert', 'schedule'],
  ['get', 'fetch', 'retrieve', 'read', 'show', 'view', 'detail', 'describe', 'inspect'],
  ['list', 'enumerate', 'browse', 'all'],
  ['update', 'edit', 'modify', 'change', 'rename', 'patch'],
  ['search', 'find', 'query', 'lookup', 'look', 'locate'],
  ['send', 'post', 'deliver', 'publish', 'notify'],
  ['restore', 'undelete', 'recover', 'unarchive', 'reinstate'],
  ['export', 'download', 'dump', 'backup'],
  ['import', 'upload', 'load', 'ingest'],
  ['count', 'number', 'total', 'tally', 'many'],
  ['watch', 'subscribe', 'monitor', 'follow', 'listen'],
  ['assign', 'allocate', 'delegate', 'reassign'],
  ['comment', 'reply', 'note', 'annotate', 'respond'],
  ['clone', 'duplicate', 'copy'],
  ['move', 'transfer', 'relocate'],
  ['share', 'invite', 'grant'],
  ['cancel', 'stop', 'abort', 'terminate', 'halt'],
  ['archive', 'shelve'],
  ['email', 'mail'],
];

/** How much a synonym of a query term counts against the term itself. */
const SYNONYM_WEIGHT = 0.5;

const synonymsOf: ReadonlyMap<string, readonly string[]> = (() => {
  const map = new Map<string, string[]>();
  for (const group of SYNONYM_GROUPS) {
    const stems = [...new Set(group.map((word) => normalizeTerm(word)).filter((t): t is string => !!t))];
    for (const stem of stems) map.set(stem, [...(map.get(stem) ?? []), ...stems.filter((s) => s !== stem)]);
  }
  return map;
})();

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Property names and their descriptions, nested ones too (to a small depth), as one text. */
function paramsText(schema: unknown): string {
  const parts: string[] = [];
  let length = 0;
  const walk = (node: unknown, depth: number) => {
    if (!isObject(node) || depth > MAX_SCHEMA_DEPTH || length > MAX_PARAMS_TEXT) return;
    const properties = node.properties;
    if (isObject(properties)) {
      for (const [name, property] of Object.entries(properties)) {
        const description =
          isObject(property) && typeof property.description === 'string' ? property.description : '';
        const text = `${name} ${description}`;
        parts.push(text);
        length += text.length + 1;
        if (length > MAX_PARAMS_TEXT) return;
        walk(property, depth + 1);
        if (isObject(property)) walk(property.items, depth + 1);
      }
    }
  };
  walk(schema, 0);
  return parts.join(' ').slice(0, MAX_PARAMS_TEXT);
}

function documentOf(entry: CatalogEntry): ToolDocument {
  const { tool } = entry;
  return {
    id: entry.name,
    name: entry.name,
    title: tool.title ?? tool.annotations?.title ?? '',
    description: tool.description ?? '',
    params: paramsText(tool.inputSchema),
  };
}

/**
 * Ranking: BM25 over the fields, a match in the name counting most, then the title, the description and the
 * parameters. The caller's own terms of four letters or more also match as prefixes ("calend" finds "calendar"),
 * and of six or more with one typo (two from ten letters); synonyms match only exactly, which keeps a query
 * cheap however many synonyms its words have.
 */
const FIELDS = ['name', 'title', 'description', 'params'];
const BOOST = { name: 3, title: 2, description: 1.5, params: 0.6 };
const SYNONYM_BOOST = { name: BOOST.name * SYNONYM_WEIGHT, title: BOOST.title * SYNONYM_WEIGHT };
const MIN_PREFIX = 4;
const MIN_FUZZY = 6;

function newIndex(): MiniSearch<ToolDocument> {
  return new MiniSearch<ToolDocument>({
    fields: FIELDS,
    idField: 'id',
    tokenize: indexTerms,
    // `indexTerms` already normalised them; queries are normalised (and expanded) in `search`.
    processTerm: (term) => term,
    // Vacuuming runs on timers in the background; the index is rebuilt instead once enough dirt piled up.
    autoVacuum: false,
  });
}

/** The visible list of a caller, by name: computed once per list (the catalog caches lists per caller). */
const byNameOf = new WeakMap<readonly CatalogEntry[], Map<string, CatalogEntry>>();
function visibleByName(visible: readonly CatalogEntry[]): Map<string, CatalogEntry> {
  let map = byNameOf.get(visible);
  if (!map) {
    map = new Map(visible.map((entry) => [entry.name, entry]));
    byNameOf.set(visible, map);
  }
  return map;
}

class MiniSearchToolSearch implements ToolSearch {
  private index = newIndex();
  /** The digest of every indexed tool, by name: what a difference is computed against. */
  private indexed = new Map<string, bigint>();
  /** Removed (or replaced) tools still inside the index. */
  private dirt = 0;
  private fingerprint: string | undefined;
  private builds = 0;
  private updates = 0;
  /** The full build running now, which every update waits for. */
  private building: Promise<void> | undefined;

  constructor(
    private readonly rebuildRatio: number,
    private readonly chunkSize: number,
  ) {}

  get stats(): ToolSearchStats {
    return { documents: this.indexed.size, builds: this.builds, updates: this.updates };
  }

  update(snapshot: CatalogSnapshot): Promise<void> {
    // A full build is running: it is of an older snapshot, or of this one; either way, continue from its result.
    if (this.building) return this.building.then(() => this.update(snapshot));
    if (snapshot.fingerprint === this.fingerprint) return Promise.resolve();
    const added: CatalogEntry[] = [];
    const changed: CatalogEntry[] = [];
    for (const entry of snapshot.entries) {
      const digest = this.indexed.get(entry.name);
      if (digest === undefined) added.push(entry);
      else if (digest !== entry.digest) changed.push(entry);
    }
    const removed: string[] = [];
    if (this.indexed.size + added.length > snapshot.entries.length) {
      for (const name of this.indexed.keys()) if (!snapshot.byName.has(name)) removed.push(name);
    }
    const churn = added.length + changed.length + removed.length;
    const size = Math.max(snapshot.entries.length, 1);
    if (
      this.fingerprint === undefined ||
      churn > size * this.rebuildRatio ||
      this.dirt + changed.length + removed.length > size * this.rebuildRatio
    ) {
      const building = this.build(snapshot).finally(() => {
        if (this.building === building) this.building = undefined;
      });
      this.building = building;
      return building;
    }
    for (const name of removed) {
      this.index.discard(name);
      this.indexed.delete(name);
    }
    for (const entry of changed) {
      this.index.replace(documentOf(entry));
      this.indexed.set(entry.name, entry.digest);
    }
    for (const entry of added) {
      this.index.add(documentOf(entry));
      this.indexed.set(entry.name, entry.digest);
    }
    this.dirt += changed.length + removed.length;
    this.updates++;
    this.fingerprint = snapshot.fingerprint;
    return Promise.resolve();
  }

  search(visible: readonly CatalogEntry[], query: string, limit: number): CatalogEntry[] {
    if (visible.length === 0) return [];
    const allowed = visibleByName(visible);
    const found: CatalogEntry[] = [];
    const own = new Set<string>();
    for (const word of split(query)) {
      const term = normalizeTerm(word);
      if (term !== null) own.add(term);
      // Each word costs a walk of its postings (and its prefixes, typos and synonyms): a bound on the work a
      // single request can ask for. A query is a few words.
      if (own.size === MAX_QUERY_TERMS) break;
    }
    if (own.size === 0) return [];
    const synonyms = new Set<string>();
    for (const term of own) for (const synonym of synonymsOf.get(term) ?? []) synonyms.add(synonym);
    for (const term of own) synonyms.delete(term);
    const queries: Query[] = [
      {
        queries: [[...own].join(' ')],
        fields: FIELDS,
        boost: BOOST,
        prefix: (term) => term.length >= MIN_PREFIX,
        fuzzy: (term) => (term.length >= MIN_FUZZY ? (term.length >= 10 ? 2 : 1) : false),
      },
    ];
    // Synonyms only in names and titles, exactly: a name says its action with one verb, while a common verb is in
    // thousands of descriptions, and scoring all of them would be most of the query's cost.
    if (synonyms.size > 0) {
      queries.push({
        queries: [[...synonyms].join(' ')],
        fields: ['name', 'title'],
        boost: SYNONYM_BOOST,
        prefix: false,
        fuzzy: false,
      });
    }
    const results = this.index.search(
      { combineWith: 'OR', queries },
      {
        // The caller's visibility, applied to every match before ranking picks the top ones.
        filter: (result) => allowed.has(result.id as string),
        // The terms are normalised already.
        tokenize: (text) => text.split(' '),
        processTerm: (term) => term,
      },
    );
    for (const result of results) {
      const entry = allowed.get(result.id as string);
      if (entry) found.push(entry);
      if (found.length >= limit) break;
    }
    return found;
  }

  /** A new index of `snapshot`, built in chunks; the current one keeps serving until it is swapped in. */
  private async build(snapshot: CatalogSnapshot): Promise<void> {
    const index = newIndex();
    const { entries } = snapshot;
    for (let start = 0; start < entries.length; start += this.chunkSize) {
      if (start > 0) await new Promise((resolve) => setTimeout(resolve, 0));
      index.addAll(entries.slice(start, start + this.chunkSize).map(documentOf));
    }
    this.index = index;
    this.indexed = new Map(entries.map((entry) => [entry.name, entry.digest]));
    this.dirt = 0;
    this.builds++;
    this.fingerprint = snapshot.fingerprint;
  }
}

/** Builds an empty index; the first {@link ToolSearch.update} fills it. */
export function createToolSearch(options: ToolSearchOptions = {}): ToolSearch {
  const ratio = options.rebuildRatio ?? 0.25;
  if (!(ratio > 0 && ratio <= 1)) throw new RangeError('createToolSearch: rebuildRatio must be in (0, 1]');
  const chunkSize = options.chunkSize ?? 500;
  if (!Number.isInteger(chunkSize) || chunkSize < 1) {
    throw new RangeError('createToolSearch: chunkSize must be a positive integer');
  }
  return new MiniSearchToolSearch(ratio, chunkSize);
}
