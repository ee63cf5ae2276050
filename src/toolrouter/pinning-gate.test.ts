/**
 * Tests of the pinning gate and the definition fingerprint without a network: what counts as a change (and what
 * does not), that `enforce` fails closed when the pins cannot be read, and what an approval checks.
 */
import type { Tool } from '@modelcontextprotocol/server';
import { afterEach, describe, expect, it } from 'vitest';
import { LOCAL_PRINCIPAL } from '../auth/index.js';
import type { ToolPinningMode } from '../config/index.js';
import { createSilentLogger } from '../observability/index.js';
import { openRegistryStore } from '../registry/index.js';
import type { Registered, RegistryStore } from '../registry/index.js';
import { createPinningGate } from './pinning-gate.js';
import type { ToolDefinitionEvent } from './pinning-gate.js';
import { canonicalJson, definitionDiff, fingerprintOf } from './tool-definition-hash.js';

const tool = (description: string, extra: Partial<Tool> = {}): Tool => ({
  name: 'forecast',
  description,
  inputSchema: { type: 'object', properties: { city: { type: 'string' }, days: { type: 'integer' } } },
  ...extra,
});
const adapter = { name: 'weather' } as Registered<'adapter'>;

describe('tool definition fingerprint', () => {
  it('ignores key order at every depth and fields that are not pinned', async () => {
    const a = await fingerprintOf(tool('x'));
    const reordered = await fingerprintOf({
      inputSchema: { properties: { days: { type: 'integer' }, city: { type: 'string' } }, type: 'object' },
      description: 'x',
      name: 'forecast',
      _meta: { 'example/ignored': true },
      icons: [{ src: 'https://example.com/i.png' }],
    } as Tool);
    expect(reordered.hash).toBe(a.hash);
    expect(a.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(canonicalJson({ b: [1, { d: 1, c: 2 }], a: null })).toBe('{"a":null,"b":[1,{"c":2,"d":1}]}');
  });

  it.each([
    ['title', { title: 'Forecast' }],
    ['annotations', { annotations: { destructiveHint: true } }],
    ['outputSchema', { outputSchema: { type: 'object' } }],
    ['inputSchema', { inputSchema: { type: 'object', properties: { city: { type: 'number' } } } }],
  ] as const)('counts a changed %s as a change, and names it in the diff', async (field, extra) => {
    const before = await fingerprintOf(tool('x'));
    const after = await fingerprintOf(tool('x', extra as Partial<Tool>));
    expect(after.hash).not.toBe(before.hash);
    expect(definitionDiff(before.definition, after.definition).map((d) => d.field)).toEqual([field]);
  });

  it('tells an absent field from a null one', () => {
    expect(definitionDiff({ name: 'a' }, { name: 'a', title: null })).toEqual([
      { field: 'title', current: null },
    ]);
  });
});

describe('pinning gate', () => {
  const stores: RegistryStore[] = [];
  afterEach(async () => {
    await Promise.all(stores.splice(0).map((s) => s.close()));
  });
  async function gate(mode: ToolPinningMode, store?: RegistryStore) {
    const events: ToolDefinitionEvent[] = [];
    const used = store ?? (await openRegistryStore(':memory:'));
    stores.push(used);
    const g = createPinningGate({
      mode,
      store: used,
      logger: createSilentLogger(),
      listingPrincipal: 'router',
      onEvent: (event) => events.push(event),
    });
    return { gate: g, store: used, events };
  }

  it('enforce holds a changed tool and releases it on approval; warn only reports', async () => {
    for (const mode of ['enforce', 'warn'] as const) {
      const { gate: g, events } = await gate(mode);
      const honest = tool('honest');
      await g.review(adapter, [honest]);
      expect(g.heldReason('weather', honest)).toBeUndefined();
      const changed = tool('evil');
      await g.review(adapter, [changed]);
      await g.review(adapter, [tool('evil')]);
      expect(events.map((e) => e.kind)).toEqual(['changed']);
      expect(g.heldReason('weather', changed) !== undefined).toBe(mode === 'enforce');
      const approved = await g.approve('weather', 'forecast', LOCAL_PRINCIPAL);
      expect(approved).toMatchObject({ state: 'pinned', held: false });
      expect(g.heldReason('weather', changed)).toBeUndefined();
      expect(events.map((e) => e.kind)).toEqual(['changed', 'approved']);
      g.close();
    }
  });

  it('enforce fails closed when the pins cannot be read; warn serves and logs', async () => {
    const broken = await openRegistryStore(':memory:');
    const failing = new Proxy(broken, {
      get: (target, prop) =>
        prop === 'listToolPins'
          ? () => Promise.reject(new Error('database is down'))
          : (Reflect.get(target, prop) as unknown),
    });
    const enforce = await gate('enforce', failing);
    await expect(enforce.gate.review(adapter, [tool('x')])).rejects.toThrow(
      /pins could not be checked: database is down/,
    );
    const warn = await gate('warn', failing);
    await expect(warn.gate.review(adapter, [tool('x')])).resolves.toBeUndefined();
    expect(warn.gate.heldReason('weather', tool('x'))).toBeUndefined();
  });

  it('approves only a pending change of a listed tool, and only the definition named by its hash', async () => {
    const { gate: g } = await gate('enforce');
    expect(await g.approve('weather', 'forecast', LOCAL_PRINCIPAL)).toMatchObject({ refused: 'unknown' });
    await g.review(adapter, [tool('honest')]);
    expect(await g.approve('weather', 'forecast', LOCAL_PRINCIPAL)).toMatchObject({ refused: 'conflict' });
    const changed = tool('evil');
    await g.review(adapter, [changed]);
    expect(await g.approve('weather', 'forecast', LOCAL_PRINCIPAL, '0'.repeat(64))).toMatchObject({
      refused: 'conflict',
    });
    const { hash } = await fingerprintOf(changed);
    expect(await g.approve('weather', 'forecast', LOCAL_PRINCIPAL, hash)).toMatchObject({ state: 'pinned' });
    await g.review(adapter, []);
    expect(await g.approve('weather', 'forecast', LOCAL_PRINCIPAL)).toMatchObject({ refused: 'conflict' });
    g.close();
  });
});
