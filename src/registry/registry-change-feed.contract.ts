/**
 * @module The RegistryChangeFeed contract: one suite every dialect that reports changes must pass. Like the store
 * contract it is not a test file itself; each dialect's test file calls {@link runRegistryChangeFeedContract}.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RegistryChangeFeed, RegistryStore } from './registry-store.js';

/** A store that also reports changes. */
export type FeedStore = RegistryStore & RegistryChangeFeed;

/**
 * Opens two stores on one fresh database (two gateway instances sharing it), each watching with a short poll
 * interval where the dialect polls.
 */
export type FeedStorePairFactory = () => Promise<readonly [FeedStore, FeedStore]>;

/** How long a change may take to reach a watcher in these tests (poll interval plus scheduling slack). */
const WAIT_MS = 5_000;

/** Resolves with the first revision `feed` reports that satisfies `accept`. */
function nextChange(
  feed: RegistryChangeFeed,
  accept: (revision: number) => boolean = () => true,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      stop();
      reject(new Error(`no change reported within ${WAIT_MS} ms`));
    }, WAIT_MS);
    const stop = feed.watchChanges((revision) => {
      if (!accept(revision)) return;
      clearTimeout(timer);
      stop();
      resolve(revision);
    });
  });
}

/** Lets a freshly subscribed feed read its baseline before the test writes. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 100));

/** Registers the change-feed contract suite under `name`. */
export function runRegistryChangeFeedContract(name: string, open: FeedStorePairFactory): void {
  describe(`${name} (RegistryChangeFeed contract)`, () => {
    let a: FeedStore;
    let b: FeedStore;

    beforeEach(async () => {
      [a, b] = await open();
    });
    afterEach(async () => {
      await a.close();
      await b.close();
    });

    it('the revision grows with every resource write and only then', async () => {
      const start = await a.revision();
      await a.create('tool', 't', { n: 1 }, 'alice');
      const created = await a.revision();
      expect(created).toBeGreaterThan(start);

      await a.get('tool', 't');
      await a.list('tool', { limit: 10 });
      await a.count('tool');
      await a.getOrCreateSetting('k', 'v');
      await a.update('tool', 't', { n: 2 }, { expectedVersion: 9 }).catch(() => undefined);
      await a.delete('tool', 'ghost').catch(() => undefined);
      await a.create('tool', 't', {}, 'bob').catch(() => undefined);
      expect(await a.revision()).toBe(created);

      await a.update('tool', 't', { n: 3 });
      const updated = await a.revision();
      expect(updated).toBeGreaterThan(created);
      await a.delete('adapter', 'x').catch(() => undefined);
      await a.create('adapter', 'x', {}, 'alice');
      await a.delete('adapter', 'x');
      expect(await a.revision()).toBeGreaterThan(updated);
    });

    it('a toolset write moves the revision, and another store hears of it', async () => {
      const start = await a.revision();
      const heard = nextChange(b, (revision) => revision >= start + 3);
      await settle();
      await a.create('toolset', 'team', { tools: [] }, 'alice');
      await a.update('toolset', 'team', { tools: ['x'] });
      await a.delete('toolset', 'team');
      const final = await a.revision();
      expect(final).toBeGreaterThanOrEqual(start + 3);
      expect(await heard).toBe(final);
    });

    it('another store on the same database reads the same revision', async () => {
      await a.create('adapter', 'shared', {}, 'alice');
      expect(await b.revision()).toBe(await a.revision());
    });

    it('a watcher hears of its own store’s write, and nothing after unsubscribing', async () => {
      const heard: number[] = [];
      const stop = a.watchChanges((revision) => heard.push(revision));
      await settle();
      const change = nextChange(a);
      await a.create('tool', 'w', {}, 'alice');
      expect(await change).toBe(await a.revision());
      stop();
      const before = heard.length;
      await a.update('tool', 'w', { again: true });
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(heard.length).toBe(before);
    });

    it('a watcher on another store hears of a write, with the final revision after a burst', async () => {
      // Subscribed before the writes: a watcher that subscribes after them may read the final revision as its
      // baseline and, rightly, report no change.
      const start = await a.revision();
      const heard = nextChange(b, (revision) => revision >= start + 6);
      await settle();
      await a.create('tool', 'burst', { i: 0 }, 'alice');
      for (let i = 1; i <= 5; i++) await a.update('tool', 'burst', { i });
      const final = await a.revision();
      expect(await heard).toBe(final);
    });

    it('unsubscribing twice and closing with watchers open are harmless', async () => {
      const stop = b.watchChanges(() => undefined);
      stop();
      stop();
      b.watchChanges(() => undefined);
      await b.close();
      // A closed store reports nothing and does not throw.
      expect(() => b.watchChanges(() => undefined)()).not.toThrow();
    });
  });
}
