import { afterEach, describe, expect, it } from 'vitest';
import { openRegistryStore } from '../registry/index.js';
import type { RegistryStore } from '../registry/index.js';
import { createAdapterCache } from './adapter-cache.js';

const stores: RegistryStore[] = [];
afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
});

/** A store counting its `get` calls, and able to fail them. */
async function countingStore() {
  const store = await openRegistryStore(':memory:');
  stores.push(store);
  const counted = { reads: 0, fail: false };
  const get = store.get.bind(store);
  store.get = (kind, name) => {
    counted.reads++;
    return counted.fail ? Promise.reject(new Error('registry down')) : get(kind, name);
  };
  return { store, counted };
}

describe('adapter cache', () => {
  it('shares one registry read between concurrent misses, then answers synchronously until the TTL', async () => {
    const { store, counted } = await countingStore();
    await store.create('adapter', 'weather', { endpoints: ['http://127.0.0.1:9/mcp'] }, 'alice');
    let clock = 0;
    const cache = createAdapterCache({ store, ttlMs: 1000, now: () => clock });

    const [a, b] = await Promise.all([cache.get('weather'), cache.get('weather')]);
    expect(a?.name).toBe('weather');
    expect(b).toBe(a);
    expect(counted.reads).toBe(1);

    const settled = cache.get('weather');
    expect(settled instanceof Promise).toBe(false);
    expect(settled).toBe(a);

    clock = 1001;
    expect(cache.get('weather')).toBeInstanceOf(Promise);
    expect(counted.reads).toBe(2);
  });

  it('remembers an unknown name as unknown, and forgets on invalidate', async () => {
    const { store, counted } = await countingStore();
    const cache = createAdapterCache({ store, ttlMs: 60_000 });
    expect(await cache.get('nope')).toBeUndefined();
    expect(cache.get('nope')).toBeUndefined();
    await store.create('adapter', 'nope', { endpoints: ['http://127.0.0.1:9/mcp'] }, 'alice');
    cache.invalidate('nope');
    expect((await cache.get('nope'))?.name).toBe('nope');
    expect(counted.reads).toBe(2);
  });

  it('does not keep a failed read: the next request asks the registry again', async () => {
    const { store, counted } = await countingStore();
    const cache = createAdapterCache({ store, ttlMs: 60_000 });
    counted.fail = true;
    await expect(cache.get('weather')).rejects.toThrow('registry down');
    counted.fail = false;
    expect(await cache.get('weather')).toBeUndefined();
    expect(counted.reads).toBe(2);
  });
});
