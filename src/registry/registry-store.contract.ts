/**
 * @module The RegistryStore contract: one suite every dialect must pass. Not a `*.test.ts` file itself
 * (vitest would fail a test file that registers no tests); each dialect's test file calls
 * {@link runRegistryStoreContract}.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ResourceExistsError, ResourceNotFoundError, VersionMismatchError } from './registry-store.js';
import type {
  Clock,
  JsonObject,
  RegistryStore,
  SealedSecretValue,
  StoredResource,
  StoredGrant,
  StoredSecret,
} from './registry-store.js';

/** Builds a fresh, empty store whose timestamps come from `clock`. */
export type RegistryStoreFactory = (clock: Clock) => Promise<RegistryStore>;

const START = Date.UTC(2025, 0, 2, 3, 4, 5, 678);
/** What the default uid generator makes: a random (version 4) UUID. */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** A spec exercising what JSON can hold; key order is part of what must survive. */
const RICH_SPEC: JsonObject = {
  zeta: 'declared first, must stay first',
  image: 'ghcr.io/example/server:1.2.3',
  env: [
    { name: 'B', value: '2' },
    { name: 'A', value: '' },
  ],
  nested: { deeper: { deepest: [1, [2, [3, { four: 4 }]]], empty: {}, none: [] } },
  unicode: 'héllo wörld — 日本語 — עברית — 👩‍💻 — e\u0301',
  controls: 'tab\tnewline\nquote" backslash\\ nul\u0000 lone\ud800',
  numbers: [0, -1, 1.5, -0.25, 1e21, Number.MAX_SAFE_INTEGER],
  flags: [true, false, null],
  '': 'empty key',
  'key with spaces & ünïcode': 1,
};

/** A sealed value as the store sees it: three opaque strings (the store neither makes nor opens them). */
const sealed = (n: number): SealedSecretValue => ({
  keyId: 'kid-1',
  iv: `iv-${n}`,
  ciphertext: `ciphertext-${n}-${'x'.repeat(n)}`,
});

/**
 * Registers the contract suite under `name`. Each test gets a fresh store from `make` and closes it after.
 */
export function runRegistryStoreContract(name: string, make: RegistryStoreFactory): void {
  describe(`${name} (RegistryStore contract)`, () => {
    let now = START;
    const clock: Clock = () => new Date(now);
    const advance = (ms: number) => {
      now += ms;
      return new Date(now);
    };
    let store: RegistryStore;

    beforeEach(async () => {
      now = START;
      store = await make(clock);
    });
    afterEach(async () => {
      await store.close();
    });

    it('creates at version 1 with both timestamps from the clock, to the millisecond', async () => {
      const created = await store.create('adapter', 'alpha', { image: 'a' }, 'alice');
      const expected: StoredResource = {
        kind: 'adapter',
        name: 'alpha',
        uid: created.uid,
        spec: { image: 'a' },
        version: 1,
        createdBy: 'alice',
        createdAt: new Date(START),
        lastUpdatedAt: new Date(START),
      };
      expect(created).toEqual(expected);
      expect(created.uid).toMatch(UUID);
      expect(await store.get('adapter', 'alpha')).toEqual(expected);
      expect(await store.get('adapter', 'missing')).toBeUndefined();
    });

    it('gives every create its own uid, kept by updates and new when a name is created again', async () => {
      const first = await store.create('adapter', 'again', {}, 'alice');
      const tool = await store.create('tool', 'again', {}, 'alice');
      expect(tool.uid).not.toBe(first.uid);
      expect((await store.update('adapter', 'again', { n: 1 })).uid).toBe(first.uid);
      expect((await store.list('adapter', { limit: 1 }))[0]?.uid).toBe(first.uid);
      await store.delete('adapter', 'again');
      // Same clock instant, same name, same version: only the uid tells the two apart.
      const second = await store.create('adapter', 'again', {}, 'alice');
      expect(second).toMatchObject({ version: 1, createdAt: first.createdAt });
      expect(second.uid).toMatch(UUID);
      expect(second.uid).not.toBe(first.uid);
      expect((await store.get('adapter', 'again'))?.uid).toBe(second.uid);
    });

    it('round-trips a JSON spec exactly, key order included', async () => {
      await store.create('tool', 'rich', RICH_SPEC, 'alice');
      const read = await store.get('tool', 'rich');
      expect(read?.spec).toEqual(RICH_SPEC);
      expect(JSON.stringify(read?.spec)).toBe(JSON.stringify(RICH_SPEC));
      const [listed] = await store.list('tool', { limit: 10 });
      expect(JSON.stringify(listed?.spec)).toBe(JSON.stringify(RICH_SPEC));
    });

    it('update replaces the spec, bumps version and lastUpdatedAt, keeps createdBy and createdAt', async () => {
      const { uid } = await store.create('adapter', 'alpha', { image: 'a', replicas: 1 }, 'alice');
      const firstUpdate = advance(1_001);
      const updated = await store.update('adapter', 'alpha', { image: 'b' });
      expect(updated).toEqual({
        kind: 'adapter',
        name: 'alpha',
        uid,
        spec: { image: 'b' },
        version: 2,
        createdBy: 'alice',
        createdAt: new Date(START),
        lastUpdatedAt: firstUpdate,
      });
      const secondUpdate = advance(7);
      const again = await store.update('adapter', 'alpha', RICH_SPEC, { expectedVersion: 2 });
      expect(again.version).toBe(3);
      expect(again.lastUpdatedAt).toEqual(secondUpdate);
      expect(again.createdAt).toEqual(new Date(START));
      expect(await store.get('adapter', 'alpha')).toEqual(again);
    });

    it('a conditional update at the wrong version changes nothing', async () => {
      const created = await store.create('tool', 'alpha', { n: 1 }, 'alice');
      const error = await store.update('tool', 'alpha', { n: 2 }, { expectedVersion: 5 }).catch((e) => e);
      expect(error).toBeInstanceOf(VersionMismatchError);
      expect(error).toMatchObject({
        kind: 'tool',
        resourceName: 'alpha',
        expectedVersion: 5,
        actualVersion: 1,
      });
      expect(await store.get('tool', 'alpha')).toEqual(created);
    });

    it('update and delete of a missing resource throw ResourceNotFoundError', async () => {
      await expect(store.update('adapter', 'ghost', {})).rejects.toBeInstanceOf(ResourceNotFoundError);
      await expect(store.update('adapter', 'ghost', {}, { expectedVersion: 1 })).rejects.toBeInstanceOf(
        ResourceNotFoundError,
      );
      await expect(store.delete('adapter', 'ghost')).rejects.toBeInstanceOf(ResourceNotFoundError);
      await expect(store.delete('adapter', 'ghost', { expectedVersion: 1 })).rejects.toMatchObject({
        name: 'ResourceNotFoundError',
        kind: 'adapter',
        resourceName: 'ghost',
      });
    });

    it('delete removes the resource, honouring expectedVersion', async () => {
      await store.create('adapter', 'a', {}, 'alice');
      await store.create('adapter', 'b', {}, 'alice');
      await store.delete('adapter', 'a');
      expect(await store.get('adapter', 'a')).toBeUndefined();

      await expect(store.delete('adapter', 'b', { expectedVersion: 2 })).rejects.toMatchObject({
        name: 'VersionMismatchError',
        expectedVersion: 2,
        actualVersion: 1,
      });
      expect(await store.get('adapter', 'b')).toBeDefined();
      await store.delete('adapter', 'b', { expectedVersion: 1 });
      expect(await store.count('adapter')).toBe(0);
      // The name is free again and starts over at version 1.
      expect((await store.create('adapter', 'b', {}, 'bob')).version).toBe(1);
    });

    it('refuses a duplicate name with ResourceExistsError and keeps the original', async () => {
      const original = await store.create('tool', 'dup', { first: true }, 'alice');
      advance(5);
      const error = await store.create('tool', 'dup', { first: false }, 'mallory').catch((e) => e);
      expect(error).toBeInstanceOf(ResourceExistsError);
      expect(error).toMatchObject({ kind: 'tool', resourceName: 'dup' });
      expect(await store.get('tool', 'dup')).toEqual(original);
    });

    it('of two concurrent creates of one name, exactly one succeeds', async () => {
      const results = await Promise.allSettled([
        store.create('adapter', 'race', { by: 1 }, 'one'),
        store.create('adapter', 'race', { by: 2 }, 'two'),
      ]);
      const fulfilled = results.filter((r) => r.status === 'fulfilled');
      const rejected = results.filter((r) => r.status === 'rejected');
      expect(fulfilled).toHaveLength(1);
      expect(rejected).toHaveLength(1);
      expect(rejected[0]?.reason).toBeInstanceOf(ResourceExistsError);
      expect(await store.get('adapter', 'race')).toEqual(fulfilled[0]?.value);
    });

    it('of two concurrent updates at the same expectedVersion, exactly one wins', async () => {
      await store.create('tool', 'race', { n: 0 }, 'alice');
      const results = await Promise.allSettled([
        store.update('tool', 'race', { n: 1 }, { expectedVersion: 1 }),
        store.update('tool', 'race', { n: 2 }, { expectedVersion: 1 }),
      ]);
      const fulfilled = results.filter((r) => r.status === 'fulfilled');
      const rejected = results.filter((r) => r.status === 'rejected');
      expect(fulfilled).toHaveLength(1);
      expect(rejected).toHaveLength(1);
      expect(rejected[0]?.reason).toBeInstanceOf(VersionMismatchError);
      expect(rejected[0]?.reason).toMatchObject({ expectedVersion: 1, actualVersion: 2 });
      expect(await store.get('tool', 'race')).toEqual(fulfilled[0]?.value);
    });

    it('unconditional concurrent updates each bump the version once', async () => {
      await store.create('adapter', 'counter', {}, 'alice');
      await Promise.all(Array.from({ length: 10 }, (_, i) => store.update('adapter', 'counter', { i })));
      expect((await store.get('adapter', 'counter'))?.version).toBe(11);
    });

    it('keeps adapters and tools in separate name spaces', async () => {
      const adapter = await store.create('adapter', 'x', { kind: 'adapter' }, 'alice');
      const tool = await store.create('tool', 'x', { kind: 'tool' }, 'bob');
      expect(await store.get('adapter', 'x')).toEqual(adapter);
      expect(await store.get('tool', 'x')).toEqual(tool);
      expect(await store.count('adapter')).toBe(1);
      expect(await store.count('tool')).toBe(1);
      expect((await store.list('tool', { limit: 10 })).map((r) => r.spec)).toEqual([{ kind: 'tool' }]);

      await store.update('tool', 'x', { kind: 'tool', updated: true });
      await store.delete('adapter', 'x');
      expect(await store.get('adapter', 'x')).toBeUndefined();
      expect(await store.get('tool', 'x')).toMatchObject({ version: 2, createdBy: 'bob' });
    });

    it('keeps toolsets in a name space of their own, beside adapters and tools', async () => {
      const adapter = await store.create('adapter', 'team', { kind: 'adapter' }, 'alice');
      const toolset = await store.create('toolset', 'team', { tools: ['a', 'b__*'] }, 'bob');
      expect(toolset).toMatchObject({ kind: 'toolset', name: 'team', version: 1, createdBy: 'bob' });
      expect(await store.get('toolset', 'team')).toEqual(toolset);
      expect(await store.get('adapter', 'team')).toEqual(adapter);
      expect(await store.count('toolset')).toBe(1);
      expect((await store.list('toolset', { limit: 10 })).map((r) => r.spec)).toEqual([
        { tools: ['a', 'b__*'] },
      ]);
      await expect(store.create('toolset', 'team', {}, 'carol')).rejects.toBeInstanceOf(ResourceExistsError);
      const updated = await store.update('toolset', 'team', { tools: ['c'] }, { expectedVersion: 1 });
      expect(updated).toMatchObject({ version: 2, uid: toolset.uid, spec: { tools: ['c'] } });
      await expect(
        store.update('toolset', 'team', { tools: [] }, { expectedVersion: 1 }),
      ).rejects.toBeInstanceOf(VersionMismatchError);
      await store.delete('toolset', 'team', { expectedVersion: 2 });
      expect(await store.get('toolset', 'team')).toBeUndefined();
      expect(await store.get('adapter', 'team')).toEqual(adapter);
      await expect(store.delete('toolset', 'team')).rejects.toBeInstanceOf(ResourceNotFoundError);
    });

    it('lists by name in UTF-8 byte order, strictly after `after`', async () => {
      // U+FFFD sorts before an emoji by bytes (EF… < F0…) but after it by UTF-16 code units.
      const names = ['b', 'B', 'a-b', 'a_b', 'a', 'é', '\ufffd', '😀', 'Z', '0', 'ab'];
      for (const n of names) await store.create('adapter', n, {}, 'alice');
      const byteOrder = [...names].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
      expect(byteOrder.indexOf('\ufffd')).toBeLessThan(byteOrder.indexOf('😀'));

      expect((await store.list('adapter', { limit: 100 })).map((r) => r.name)).toEqual(byteOrder);
      expect((await store.list('adapter', { limit: 3, after: 'a' })).map((r) => r.name)).toEqual(
        byteOrder.slice(byteOrder.indexOf('a') + 1, byteOrder.indexOf('a') + 4),
      );
      // `after` need not exist.
      expect((await store.list('adapter', { limit: 100, after: 'aa' })).map((r) => r.name)).toEqual(
        byteOrder.filter((n) => Buffer.compare(Buffer.from(n), Buffer.from('aa')) > 0),
      );
      expect(await store.list('tool', { limit: 100 })).toEqual([]);
    });

    it('refuses a list limit below 1 or not an integer', async () => {
      await expect(store.list('adapter', { limit: 0 })).rejects.toBeInstanceOf(RangeError);
      await expect(store.list('adapter', { limit: -1 })).rejects.toBeInstanceOf(RangeError);
      await expect(store.list('adapter', { limit: 1.5 })).rejects.toBeInstanceOf(RangeError);
    });

    it('pages through 2,500 resources, each exactly once and in order', async () => {
      const total = 2_500;
      const names = Array.from({ length: total }, (_, i) => `tool-${((i * 7919) % total).toString(36)}`);
      for (let i = 0; i < total; i += 250) {
        await Promise.all(names.slice(i, i + 250).map((n) => store.create('tool', n, { n }, 'alice')));
      }
      expect(await store.count('tool')).toBe(total);

      const seen: string[] = [];
      let after: string | undefined;
      for (;;) {
        const page = await store.list('tool', { limit: 97, after });
        seen.push(...page.map((r) => r.name));
        const last = page.at(-1);
        if (page.length < 97 || !last) break;
        after = last.name;
      }
      expect(seen).toEqual([...names].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y))));
      expect(new Set(seen).size).toBe(total);
    });

    it('getOrCreateSetting keeps the first stored value, even under concurrency', async () => {
      const values = await Promise.all(
        Array.from({ length: 10 }, (_, i) => store.getOrCreateSetting('session-key', `candidate-${i}`)),
      );
      expect(new Set(values).size).toBe(1);
      expect(values[0]).toMatch(/^candidate-\d$/);
      expect(await store.getOrCreateSetting('session-key', 'late')).toBe(values[0]);
      expect(await store.getOrCreateSetting('other-key', 'other')).toBe('other');
    });

    it('getSetting reads what is stored, and nothing for an unknown key', async () => {
      expect(await store.getSetting('absent')).toBeUndefined();
      await store.getOrCreateSetting('present', 'value');
      expect(await store.getSetting('present')).toBe('value');
    });

    it('replaceSetting swaps the value only while it holds the expected one', async () => {
      await store.getOrCreateSetting('key', 'plain');
      expect(await store.replaceSetting('key', 'other', 'sealed')).toBe(false);
      expect(await store.getSetting('key')).toBe('plain');
      expect(await store.replaceSetting('key', 'plain', 'sealed')).toBe(true);
      expect(await store.getSetting('key')).toBe('sealed');
      expect(await store.replaceSetting('missing', 'plain', 'sealed')).toBe(false);
      expect(await store.getSetting('missing')).toBeUndefined();
    });

    it('of two concurrent replaceSetting calls from one value, exactly one wins', async () => {
      await store.getOrCreateSetting('key', 'plain');
      const results = await Promise.all([
        store.replaceSetting('key', 'plain', 'one'),
        store.replaceSetting('key', 'plain', 'two'),
      ]);
      expect(results.filter(Boolean)).toHaveLength(1);
      expect(await store.getSetting('key')).toBe(results[0] ? 'one' : 'two');
    });

    it('deleteSetting removes the value only while it holds the expected one', async () => {
      await store.getOrCreateSetting('key', 'value');
      expect(await store.deleteSetting('key', 'other')).toBe(false);
      expect(await store.getSetting('key')).toBe('value');
      expect(await store.deleteSetting('key', 'value')).toBe(true);
      expect(await store.getSetting('key')).toBeUndefined();
      expect(await store.deleteSetting('key', 'value')).toBe(false);
      // The key is free again.
      expect(await store.getOrCreateSetting('key', 'next')).toBe('next');
    });

    describe('secrets', () => {
      it('createSecret stores the sealed value at version 1 with both timestamps from the clock', async () => {
        const created = await store.createSecret('github-token', sealed(1), 'alice');
        const expected: StoredSecret = {
          name: 'github-token',
          uid: created.uid,
          ...sealed(1),
          version: 1,
          createdBy: 'alice',
          createdAt: new Date(START),
          lastUpdatedAt: new Date(START),
        };
        expect(created).toEqual(expected);
        expect(created.uid).toMatch(UUID);
        expect(await store.getSecret('github-token')).toEqual(expected);
        expect(await store.getSecret('missing')).toBeUndefined();
      });

      it('keeps only the three sealed strings of what it is given', async () => {
        const extra = { ...sealed(1), value: 'plaintext that must not be stored' };
        const created = await store.createSecret('s', extra, 'alice');
        expect(created).not.toHaveProperty('value');
        expect(JSON.stringify(await store.getSecret('s'))).not.toContain('plaintext');
      });

      it('is its own name space: a resource of the same name neither collides nor moves the listing', async () => {
        await store.create('adapter', 'shared', {}, 'alice');
        await store.create('tool', 'shared', {}, 'alice');
        await store.createSecret('shared', sealed(1), 'bob');
        expect(await store.count('adapter')).toBe(1);
        expect((await store.getSecret('shared'))?.createdBy).toBe('bob');
        await store.deleteSecret('shared');
        expect(await store.get('adapter', 'shared')).toBeDefined();
      });

      it('refuses a duplicate name with ResourceExistsError and keeps the original', async () => {
        const original = await store.createSecret('dup', sealed(1), 'alice');
        advance(5);
        const error = await store.createSecret('dup', sealed(2), 'mallory').catch((e) => e);
        expect(error).toBeInstanceOf(ResourceExistsError);
        expect(error).toMatchObject({ kind: 'secret', resourceName: 'dup' });
        expect(await store.getSecret('dup')).toEqual(original);
      });

      it('of two concurrent createSecret calls of one name, exactly one succeeds', async () => {
        const results = await Promise.allSettled([
          store.createSecret('race', sealed(1), 'one'),
          store.createSecret('race', sealed(2), 'two'),
        ]);
        const fulfilled = results.filter((r) => r.status === 'fulfilled');
        const rejected = results.filter((r) => r.status === 'rejected');
        expect(fulfilled).toHaveLength(1);
        expect(rejected[0]?.reason).toBeInstanceOf(ResourceExistsError);
        expect(await store.getSecret('race')).toEqual(fulfilled[0]?.value);
      });

      it('updateSecret rotates the value, bumps version and lastUpdatedAt, keeps uid, createdBy, createdAt', async () => {
        const { uid } = await store.createSecret('api-key', sealed(1), 'alice');
        const rotatedAt = advance(1_234);
        const rotated = await store.updateSecret('api-key', { ...sealed(2), keyId: 'kid-2' });
        expect(rotated).toEqual({
          name: 'api-key',
          uid,
          ...sealed(2),
          keyId: 'kid-2',
          version: 2,
          createdBy: 'alice',
          createdAt: new Date(START),
          lastUpdatedAt: rotatedAt,
        });
        expect(await store.getSecret('api-key')).toEqual(rotated);
        const again = await store.updateSecret('api-key', sealed(3), { expectedVersion: 2 });
        expect(again.version).toBe(3);
      });

      it('a conditional updateSecret or deleteSecret at the wrong version changes nothing', async () => {
        const created = await store.createSecret('api-key', sealed(1), 'alice');
        await expect(store.updateSecret('api-key', sealed(2), { expectedVersion: 7 })).rejects.toMatchObject({
          name: 'VersionMismatchError',
          kind: 'secret',
          resourceName: 'api-key',
          expectedVersion: 7,
          actualVersion: 1,
        });
        await expect(store.deleteSecret('api-key', { expectedVersion: 2 })).rejects.toBeInstanceOf(
          VersionMismatchError,
        );
        expect(await store.getSecret('api-key')).toEqual(created);
      });

      it('of two concurrent rotations at the same expectedVersion, exactly one wins', async () => {
        await store.createSecret('race', sealed(0), 'alice');
        const results = await Promise.allSettled([
          store.updateSecret('race', sealed(1), { expectedVersion: 1 }),
          store.updateSecret('race', sealed(2), { expectedVersion: 1 }),
        ]);
        const fulfilled = results.filter((r) => r.status === 'fulfilled');
        const rejected = results.filter((r) => r.status === 'rejected');
        expect(fulfilled).toHaveLength(1);
        expect(rejected[0]?.reason).toBeInstanceOf(VersionMismatchError);
        expect(await store.getSecret('race')).toEqual(fulfilled[0]?.value);
      });

      it('updateSecret and deleteSecret of a missing secret throw ResourceNotFoundError', async () => {
        await expect(store.updateSecret('ghost', sealed(1))).rejects.toMatchObject({
          name: 'ResourceNotFoundError',
          kind: 'secret',
          resourceName: 'ghost',
        });
        await expect(store.updateSecret('ghost', sealed(1), { expectedVersion: 1 })).rejects.toBeInstanceOf(
          ResourceNotFoundError,
        );
        await expect(store.deleteSecret('ghost')).rejects.toBeInstanceOf(ResourceNotFoundError);
      });

      it('deleteSecret removes it; the name starts over with a new uid', async () => {
        const first = await store.createSecret('gone', sealed(1), 'alice');
        await store.deleteSecret('gone', { expectedVersion: 1 });
        expect(await store.getSecret('gone')).toBeUndefined();
        const second = await store.createSecret('gone', sealed(2), 'bob');
        expect(second).toMatchObject({ version: 1, createdBy: 'bob' });
        expect(second.uid).not.toBe(first.uid);
      });

      it('listSecrets pages by name in UTF-8 byte order, strictly after `after`', async () => {
        const names = ['b', 'a-b', 'a', 'é', '\ufffd', '😀', 'Z', '0', 'ab'];
        for (const n of names) await store.createSecret(n, sealed(1), 'alice');
        await store.create('adapter', 'not-a-secret', {}, 'alice');
        const byteOrder = [...names].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
        expect((await store.listSecrets({ limit: 100 })).map((r) => r.name)).toEqual(byteOrder);
        expect((await store.listSecrets({ limit: 2, after: 'a' })).map((r) => r.name)).toEqual(
          byteOrder.slice(byteOrder.indexOf('a') + 1, byteOrder.indexOf('a') + 3),
        );
        expect(await store.listSecrets({ limit: 5, after: '😀' })).toEqual([]);
        expect((await store.listSecrets({ limit: 1 }))[0]).toEqual(await store.getSecret(byteOrder[0]!));
        await expect(store.listSecrets({ limit: 0 })).rejects.toBeInstanceOf(RangeError);
      });
    });

    describe('OAuth grants', () => {
      const grant = (userId: string, adapter: string, n: number, expiresAt?: Date): StoredGrant => ({
        userId,
        adapter,
        adapterUid: `uid-${adapter}`,
        scopes: 'read write',
        keyId: 'k1',
        iv: `iv-${n}`,
        ciphertext: `ct-${n}`,
        createdAt: new Date(START),
        expiresAt,
        lastUpdatedAt: new Date(START + n),
      });

      it('saveGrant stores a grant per (caller, adapter), to the millisecond, and replaces it', async () => {
        const first = grant('alice', 'notes', 1, new Date(START + 60_000));
        await store.saveGrant(first);
        expect(await store.getGrant('alice', 'notes')).toEqual(first);
        const rotated = grant('alice', 'notes', 2);
        await store.saveGrant(rotated);
        expect(await store.getGrant('alice', 'notes')).toEqual(rotated);
        expect(await store.listGrants('alice')).toHaveLength(1);
      });

      it("one caller's grants are never another's", async () => {
        await store.saveGrant(grant('alice', 'notes', 1));
        await store.saveGrant(grant('bob', 'notes', 2));
        await store.saveGrant(grant('alice', 'a-mail', 3));
        expect((await store.getGrant('bob', 'notes'))?.ciphertext).toBe('ct-2');
        expect(await store.getGrant('carol', 'notes')).toBeUndefined();
        expect((await store.listGrants('alice')).map((g) => g.adapter)).toEqual(['a-mail', 'notes']);
        expect(await store.deleteGrant('alice', 'notes')).toBe(true);
        expect(await store.deleteGrant('alice', 'notes')).toBe(false);
        expect((await store.getGrant('bob', 'notes'))?.ciphertext).toBe('ct-2');
      });
    });

    it('ping resolves', async () => {
      await expect(store.ping()).resolves.toBeUndefined();
    });
  });
}
