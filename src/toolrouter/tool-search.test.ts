/** Tests of the tool-search index: ranking rules, the caller's filter, and updates from catalog snapshots. */
import { beforeAll, describe, expect, it } from 'vitest';
import type { CatalogEntry, CatalogSnapshot } from './catalog.js';
import { MAX_QUERY_TERMS, createToolSearch, normalizeTerm } from './tool-search.js';

let digests = 0n;
function entry(
  name: string,
  description: string,
  extra: { title?: string; inputSchema?: object; owner?: string } = {},
): CatalogEntry {
  const tool = {
    name,
    description,
    ...(extra.title !== undefined && { title: extra.title }),
    inputSchema: extra.inputSchema ?? { type: 'object' },
  };
  // The index reads the name, the definition and the digest; who owns an entry matters only to the caller's list.
  return {
    name,
    tool,
    owner: { createdBy: extra.owner ?? 'alice' },
    digest: ++digests,
  } as unknown as CatalogEntry;
}

let versions = 0;
function snapshotOf(entries: readonly CatalogEntry[]): CatalogSnapshot {
  const sorted = [...entries].sort((a, b) => (a.name < b.name ? -1 : 1));
  return { entries: sorted, byName: new Map(sorted.map((e) => [e.name, e])), fingerprint: `v${++versions}` };
}

const CATALOG = [
  entry('github__create_issue', 'Create a new issue in a GitHub repository.'),
  entry('github__delete_issue', 'Permanently delete an issue.'),
  entry('slack__send_message', 'Post a message to a Slack channel.', { title: 'Send Slack message' }),
  entry('calendar__create_event', 'Adds an event to a calendar.', {
    inputSchema: {
      type: 'object',
      properties: {
        attendees: { type: 'array', description: 'Email addresses of the invitees' },
        when: { type: 'object', properties: { timezone: { type: 'string' } } },
      },
    },
  }),
  entry('weatherForecast', 'Forecast for a city.'),
];

const names = (found: CatalogEntry[]) => found.map((e) => e.name);

describe('tool search', () => {
  const search = createToolSearch();
  const snapshot = snapshotOf(CATALOG);
  beforeAll(() => search.update(snapshot));
  const find = (query: string, limit = 5) => names(search.search(snapshot.entries, query, limit));

  it('folds word forms and drops stop words', () => {
    expect(normalizeTerm('Creating')).toBe(normalizeTerm('create'));
    expect(normalizeTerm('messages')).toBe(normalizeTerm('message'));
    expect(normalizeTerm('queries')).toBe('query');
    expect(normalizeTerm('tides')).toBe(normalizeTerm('tide'));
    expect(normalizeTerm('indexes')).toBe(normalizeTerm('index'));
    expect(normalizeTerm('statuses')).toBe(normalizeTerm('status'));
    expect(normalizeTerm('the')).toBeNull();
  });

  it('ranks by name, description, title and parameters, with synonyms, prefixes and typos', () => {
    expect(find('create github issue')[0]).toBe('github__create_issue');
    // A synonym of the description's verb.
    expect(find('remove an issue')[0]).toBe('github__delete_issue');
    expect(find('slack message')[0]).toBe('slack__send_message');
    // Parameter names and descriptions, nested ones too.
    expect(find('invitees')[0]).toBe('calendar__create_event');
    expect(find('timezone')[0]).toBe('calendar__create_event');
    // camelCase names are split; a prefix and a typo still match.
    expect(find('weather')[0]).toBe('weatherForecast');
    expect(find('calend')[0]).toBe('calendar__create_event');
    expect(find('forcast')[0]).toBe('weatherForecast');
    expect(find('create', 1)).toHaveLength(1);
    expect(find('the of a')).toEqual([]);
  });

  it('counts the first distinct words of a query only, which bounds what one search costs', () => {
    const filler = Array.from({ length: MAX_QUERY_TERMS }, (_, i) => `zz${i}x`).join(' ');
    expect(find(`${filler} forecast`)).toEqual([]);
    expect(find(`forecast ${filler}`)[0]).toBe('weatherForecast');
    // Repeated words count once.
    expect(find(`${'zz0x '.repeat(40)}forecast`)[0]).toBe('weatherForecast');
  });

  it('returns only what the caller’s list holds', async () => {
    const bobs = [entry('ledger', 'Create a new private ledger issue.', { owner: 'bob' })];
    const withBob = snapshotOf([...CATALOG, ...bobs]);
    await search.update(withBob);
    const alicesList = withBob.entries.filter((e) => e.name !== 'ledger');
    expect(names(search.search(alicesList, 'private ledger issue', 10))).not.toContain('ledger');
    expect(names(search.search(withBob.entries, 'private ledger issue', 10))[0]).toBe('ledger');
    expect(search.search([], 'ledger', 5)).toEqual([]);
  });

  it('applies a small change as a difference and finds exactly what a fresh index finds', async () => {
    const incremental = createToolSearch({ rebuildRatio: 1 });
    await incremental.update(snapshotOf(CATALOG));
    const changed = [
      ...CATALOG.filter((e) => e.name !== 'github__delete_issue' && e.name !== 'weatherForecast'),
      entry('weatherForecast', 'Tide tables for a harbour.'),
      entry('tides__predict', 'Predict ocean tides.'),
    ];
    const next = snapshotOf(changed);
    await incremental.update(next);
    expect(incremental.stats).toEqual({ documents: 5, builds: 1, updates: 1 });
    const fresh = createToolSearch();
    await fresh.update(next);
    for (const query of ['remove issue', 'weather forecast', 'tide harbour', 'ocean', 'create']) {
      expect(names(incremental.search(next.entries, query, 10))).toEqual(
        names(fresh.search(next.entries, query, 10)),
      );
    }
    expect(names(incremental.search(next.entries, 'delete', 10))).not.toContain('github__delete_issue');
    expect(names(incremental.search(next.entries, 'tide', 10))).toEqual([
      'tides__predict',
      'weatherForecast',
    ]);
    // The same fingerprint again: nothing to do.
    await incremental.update(next);
    expect(incremental.stats.updates).toBe(1);
  });

  it('builds afresh when many tools changed at once', async () => {
    const index = createToolSearch({ rebuildRatio: 0.25 });
    await index.update(snapshotOf(CATALOG));
    await index.update(snapshotOf([...CATALOG, entry('a__b', 'one'), entry('c__d', 'two')]));
    expect(index.stats).toEqual({ documents: 7, builds: 2, updates: 0 });
    expect(() => createToolSearch({ rebuildRatio: 0 })).toThrow(RangeError);
    expect(() => createToolSearch({ chunkSize: 0 })).toThrow(RangeError);
  });

  it('builds in chunks, and a change heard meanwhile is applied once the build is done', async () => {
    const index = createToolSearch({ chunkSize: 2 });
    const first = snapshotOf(CATALOG);
    const building = index.update(first);
    // Heard while the first build runs (it yields between chunks): waits for it, then applies the difference.
    const second = snapshotOf([...CATALOG, entry('tides__predict', 'Predict ocean tides.')]);
    const changed = index.update(second);
    // The same snapshot again: nothing more to do after the difference.
    const again = index.update(second);
    await Promise.all([building, changed, again]);
    expect(index.stats).toEqual({ documents: 6, builds: 1, updates: 1 });
    expect(names(index.search(second.entries, 'ocean tides', 5))).toEqual(['tides__predict']);
    expect(names(index.search(second.entries, 'remove an issue', 5))[0]).toBe('github__delete_issue');
  });
});
