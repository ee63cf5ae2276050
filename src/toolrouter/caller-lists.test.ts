/**
 * Callers' private lists (SEP-2549 `cacheScope: "private"`): kept per caller for the upstream's `ttlMs`, dropped
 * on its `list_changed`, and a caller whose list cannot be had sees none of that adapter's tools.
 */
import { describe, expect, it } from 'vitest';
import type { Tool } from '@modelcontextprotocol/server';
import type { Principal } from '../auth/index.js';
import { createSilentLogger } from '../observability/index.js';
import type { Registered } from '../registry/index.js';
import type { CatalogEntry } from './catalog.js';
import { createCallerLists } from './caller-lists.js';
import type { UpstreamListing } from './federated-lists.js';
import type { UpstreamToolList } from './federation.js';

const adapter = { name: 'crm', version: 1 } as unknown as Registered<'adapter'>;
const tool = (name: string): Tool => ({ name, inputSchema: { type: 'object' } });
const entry = (name: string): CatalogEntry =>
  ({
    name: `crm__${name}`,
    tool: tool(`crm__${name}`),
    owner: adapter,
    target: { kind: 'federated', adapter, upstream: tool(name) },
    digest: 0n,
  }) as CatalogEntry;
const ENTRIES = [entry('deals'), entry('leads'), entry('admin')];
const principal = (userId: string): Principal => ({ userId, roles: [] });

function setup(scope: UpstreamListing['cacheScope'], ttlMs = 1_000) {
  let now = 0;
  const asked: string[] = [];
  const answers = new Map<string, () => Promise<UpstreamToolList>>();
  const listeners = new Set<(adapter: string) => void>();
  const lists = createCallerLists({
    federation: {
      listToolsFor: (_adapter, who) => {
        asked.push(who.userId);
        return (answers.get(who.userId) ?? (async () => ({ tools: [] })))();
      },
      onListChanged: (listener) => {
        listeners.add(listener);
        return () => void listeners.delete(listener);
      },
    },
    catalog: {
      upstreamListing: () => ({ cacheScope: scope, ttlMs }),
      anyPrivateListing: () => scope === 'private',
    },
    refreshMs: 60_000,
    logger: createSilentLogger(),
    now: () => now,
  });
  return {
    lists,
    asked,
    answers,
    announce: () => listeners.forEach((l) => l('crm')),
    advance: (ms: number) => (now += ms),
  };
}

const names = (entries: readonly CatalogEntry[]) => entries.map((e) => e.name);

describe('caller lists', () => {
  it('leaves a public upstream’s tools as they are, asking nobody', async () => {
    const { lists, asked } = setup('public');
    expect(await lists.narrow(ENTRIES, principal('ann'))).toBe(ENTRIES);
    expect(await lists.allows(ENTRIES[2]!, principal('ann'))).toBe(true);
    expect(asked).toEqual([]);
  });

  it('narrows to what the upstream lists to each caller, once per caller within its ttlMs', async () => {
    const { lists, asked, answers, advance } = setup('private');
    answers.set('ann', async () => ({ tools: [tool('deals')], cacheScope: 'private', ttlMs: 1_000 }));
    answers.set('ben', async () => ({ tools: [tool('leads')], cacheScope: 'private', ttlMs: 1_000 }));
    expect(names(await lists.narrow(ENTRIES, principal('ann')))).toEqual(['crm__deals']);
    expect(names(await lists.narrow(ENTRIES, principal('ben')))).toEqual(['crm__leads']);
    expect(await lists.allows(ENTRIES[0]!, principal('ben'))).toBe(false);
    expect(await lists.allows(ENTRIES[2]!, principal('ann'))).toBe(false);
    advance(999);
    await lists.narrow(ENTRIES, principal('ann'));
    expect(asked).toEqual(['ann', 'ben']);
    advance(1);
    await lists.narrow(ENTRIES, principal('ann'));
    expect(asked).toEqual(['ann', 'ben', 'ann']);
  });

  it('asks again after the upstream announces a change', async () => {
    const { lists, asked, answers, announce } = setup('private');
    answers.set('ann', async () => ({ tools: [tool('deals')], ttlMs: 600_000 }));
    await lists.narrow(ENTRIES, principal('ann'));
    announce();
    answers.set('ann', async () => ({ tools: [tool('deals'), tool('leads')], ttlMs: 600_000 }));
    expect(names(await lists.narrow(ENTRIES, principal('ann')))).toEqual(['crm__deals', 'crm__leads']);
    expect(asked).toEqual(['ann', 'ann']);
  });

  it('gives a caller whose list fails none of the adapter’s tools, and asks again next time', async () => {
    const { lists, asked, answers } = setup('private');
    answers.set('ann', async () => {
      throw new Error('upstream down');
    });
    expect(await lists.narrow(ENTRIES, principal('ann'))).toEqual([]);
    expect(await lists.allows(ENTRIES[0]!, principal('ann'))).toBe(false);
    answers.set('ann', async () => ({ tools: [tool('deals')] }));
    expect(names(await lists.narrow(ENTRIES, principal('ann')))).toEqual(['crm__deals']);
    expect(asked).toEqual(['ann', 'ann', 'ann']);
  });
});
