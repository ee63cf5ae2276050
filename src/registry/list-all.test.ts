/** @module Tests of listAll: every resource of a kind, once each and in order, read in pages of the size asked. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listAll, readAll } from './list-all.js';
import { openRegistryStore } from './open-registry-store.js';
import type { ListOptions, RegistryStore, ResourceKind } from './registry-store.js';

describe('listAll', () => {
  let store: RegistryStore;
  let reads: ListOptions[];
  /** The store's `list`, recording each page asked for. */
  let counted: Pick<RegistryStore, 'list'>;

  beforeEach(async () => {
    store = await openRegistryStore(':memory:');
    reads = [];
    counted = {
      list: (kind: ResourceKind, options: ListOptions) => {
        reads.push(options);
        return store.list(kind, options);
      },
    };
  });
  afterEach(() => store.close());

  const create = async (kind: ResourceKind, names: string[]) => {
    for (const name of names) await store.create(kind, name, { n: name }, 'alice');
  };

  it('yields every resource of the kind in name order, page by page', async () => {
    await create('tool', ['e', 'c', 'a', 'd', 'b']);
    await create('adapter', ['other']);
    const names: string[] = [];
    for await (const tool of listAll(counted, 'tool', { pageSize: 2 })) {
      expect(tool.kind).toBe('tool');
      names.push(tool.name);
    }
    expect(names).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(reads).toEqual([{ limit: 2 }, { limit: 2, after: 'b' }, { limit: 2, after: 'd' }]);
  });

  it('a last full page costs one more (empty) read; an empty kind one read', async () => {
    await create('adapter', ['a', 'b']);
    expect((await readAll(counted, 'adapter', { pageSize: 2 })).map((a) => a.name)).toEqual(['a', 'b']);
    expect(reads).toEqual([{ limit: 2 }, { limit: 2, after: 'b' }]);
    reads = [];
    expect(await readAll(counted, 'tool')).toEqual([]);
    expect(reads).toEqual([{ limit: 500 }]);
  });

  it('refuses a page size that is not a positive integer', async () => {
    for (const pageSize of [0, -1, 1.5, Number.NaN]) {
      await expect(readAll(counted, 'tool', { pageSize })).rejects.toBeInstanceOf(RangeError);
    }
    expect(reads).toEqual([]);
  });

  it('refuses a store that answers rows of another kind', async () => {
    await create('adapter', ['a']);
    const confused: Pick<RegistryStore, 'list'> = {
      list: (_kind, options) => store.list('adapter', options),
    };
    await expect(readAll(confused, 'tool')).rejects.toThrow(
      'registry: a read of tool resources returned a adapter row',
    );
  });

  it('starts after a given name, as a scan resumed from a cursor does', async () => {
    await create('tool', ['a', 'b', 'c', 'd']);
    expect((await readAll(counted, 'tool', { pageSize: 2, after: 'b' })).map((t) => t.name)).toEqual([
      'c',
      'd',
    ]);
    expect(reads).toEqual([
      { limit: 2, after: 'b' },
      { limit: 2, after: 'd' },
    ]);
  });
});
