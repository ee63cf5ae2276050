/**
 * Tests of the per-caller lists of `oauth-user` adapters with a scripted federation and credentials and an
 * injected clock: each caller's list is theirs, a lost grant drops it, and a changed grant, an upstream change
 * or age lists again in the background while the previous list is served.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Tool } from '@modelcontextprotocol/server';
import { ConnectionRequiredError } from '../auth/index.js';
import type { Principal, UpstreamCredentials } from '../auth/index.js';
import { createSilentLogger } from '../observability/index.js';
import type { Registered } from '../registry/index.js';
import { createXxh64Hash } from '../routing/index.js';
import type { Hash64 } from '../routing/index.js';
import type { Federation } from './federation.js';
import { PersonalLists } from './personal-lists.js';

const adapter = { kind: 'adapter', name: 'notes', version: 1 } as unknown as Registered<'adapter'>;
const alice: Principal = { userId: 'alice', roles: [] };
const bob: Principal = { userId: 'bob', roles: [] };
const tool = (name: string): Tool => ({ name, inputSchema: { type: 'object' } });

let hash: Hash64;
beforeAll(async () => {
  hash = await createXxh64Hash();
});

/** Grants by user (absent: not connected), what the upstream lists to each, and the listings made. */
function setup(options: { maxCallers?: number } = {}) {
  const grants = new Map<string, string>();
  const upstream = new Map<string, Tool[]>();
  const listed: string[] = [];
  const changed: string[] = [];
  let time = 0;
  const federation = {
    async listToolsFor(_adapter: Registered<'adapter'>, principal: Principal) {
      listed.push(principal.userId);
      return { tools: upstream.get(principal.userId) ?? [] };
    },
  } as unknown as Federation;
  const upstreamCredentials = {
    async resolve(_resource: unknown, caller?: { userId: string }) {
      const grant = grants.get(caller!.userId);
      if (grant === undefined) throw new ConnectionRequiredError('notes', '/connect/notes', 'not connected');
      return { header: 'authorization', value: `Bearer ${grant}` };
    },
  } as unknown as UpstreamCredentials;
  const lists = new PersonalLists({
    federation,
    upstreamCredentials,
    hash,
    logger: createSilentLogger(),
    refreshMs: 60_000,
    retryMs: 1000,
    now: () => time,
    onChange: (userId) => changed.push(userId),
    ...options,
  });
  const names = async (principal: Principal) =>
    ((await lists.toolsFor(principal, [adapter])).get('notes') ?? []).map((t) => t.name);
  /** Lets background listings finish. */
  const settle = () => new Promise((resolve) => setTimeout(resolve, 0));
  return {
    lists,
    grants,
    upstream,
    listed,
    changed,
    names,
    settle,
    advance: (ms: number) => (time += ms),
  };
}

describe('PersonalLists', () => {
  it('lists each caller with their own grant, and never serves one caller’s list to another', async () => {
    const t = setup();
    t.grants.set('alice', 'token-a');
    t.upstream.set('alice', [tool('mine_alice')]);
    t.upstream.set('bob', [tool('mine_bob')]);
    expect(await t.names(alice)).toEqual(['mine_alice']);
    expect(await t.names(bob)).toEqual([]);
    t.grants.set('bob', 'token-b');
    expect(await t.names(bob)).toEqual(['mine_bob']);
    expect(await t.names(alice)).toEqual(['mine_alice']);
    expect(t.listed).toEqual(['alice', 'bob']);
  });

  it('a caller whose grant went away gets nothing, and is told their list changed', async () => {
    const t = setup();
    t.grants.set('alice', 'token-a');
    t.upstream.set('alice', [tool('x')]);
    expect(await t.names(alice)).toEqual(['x']);
    const before = t.lists.fingerprint('alice');
    t.grants.delete('alice');
    expect(await t.names(alice)).toEqual([]);
    expect(t.changed).toEqual(['alice']);
    expect(t.lists.fingerprint('alice')).not.toBe(before);
  });

  it('a changed grant, an upstream change or age lists again in the background', async () => {
    const t = setup();
    t.grants.set('alice', 'token-a');
    t.upstream.set('alice', [tool('x')]);
    await t.names(alice);
    expect(await t.names(alice)).toEqual(['x']);
    expect(t.listed).toHaveLength(1);

    // A refreshed token: the previous list is served, the new one comes in the background.
    t.grants.set('alice', 'token-a2');
    t.upstream.set('alice', [tool('x'), tool('y')]);
    expect(await t.names(alice)).toEqual(['x']);
    await t.settle();
    expect(t.listed).toHaveLength(2);
    expect(await t.names(alice)).toEqual(['x', 'y']);
    expect(t.changed).toEqual(['alice']);

    t.lists.markStale('notes');
    await t.names(alice);
    await t.settle();
    expect(t.listed).toHaveLength(3);

    t.advance(59_000);
    await t.names(alice);
    expect(t.listed).toHaveLength(3);
    t.advance(2000);
    await t.names(alice);
    await t.settle();
    expect(t.listed).toHaveLength(4);
  });

  it('forgets a changed adapter’s lists, and at most maxCallers callers', async () => {
    const t = setup({ maxCallers: 1 });
    t.grants.set('alice', 'a');
    t.grants.set('bob', 'b');
    await t.names(alice);
    await t.names(bob);
    expect(t.lists.fingerprint('alice')).toBe('');
    expect(t.lists.fingerprint('bob')).not.toBe('');
    t.lists.forget('notes');
    expect(t.lists.fingerprint('bob')).toBe('');
  });
});
