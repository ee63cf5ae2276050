/**
 * @module The ToolPinStore contract: one suite every dialect passes, on two stores sharing one database (two
 * gateway instances), so first-seen pins and change reports are shown race-safe across processes. Each dialect's
 * test file calls {@link runToolPinStoreContract}.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RegistryStore } from './registry-store.js';
import type { NewToolPin } from './tool-pin-store.js';

/** Two fresh stores on one empty database; the suite closes both. */
export type SharedStoresFactory = () => Promise<readonly [RegistryStore, RegistryStore]>;

const pin = (hash: string, extra: Partial<NewToolPin> = {}): NewToolPin => ({
  adapter: 'weather',
  tool: 'forecast',
  hash,
  definition: { name: 'forecast', description: `definition ${hash}`, inputSchema: { type: 'object' } },
  pinnedBy: 'first-use',
  ...extra,
});

/** Registers the contract suite under `name`. */
export function runToolPinStoreContract(name: string, make: SharedStoresFactory): void {
  describe(`${name} (ToolPinStore contract)`, () => {
    let a: RegistryStore;
    let b: RegistryStore;
    beforeEach(async () => {
      [a, b] = await make();
    });
    afterEach(async () => {
      await Promise.all([a?.close(), b?.close()]);
    });

    it('pins on first sight and keeps the first pin: a later definition does not replace it', async () => {
      const first = await a.pinToolIfAbsent(pin('h1'));
      expect(first).toMatchObject({
        adapter: 'weather',
        tool: 'forecast',
        hash: 'h1',
        pinnedBy: 'first-use',
      });
      expect(first.definition).toEqual(pin('h1').definition);
      expect(first.reportedHash).toBeUndefined();
      expect(first.pinnedAt).toBeInstanceOf(Date);
      expect((await b.pinToolIfAbsent(pin('h2'))).hash).toBe('h1');
      expect((await b.getToolPin('weather', 'forecast'))?.hash).toBe('h1');
      expect(await a.getToolPin('weather', 'nothing')).toBeUndefined();
    });

    it('first sight is race-safe across instances: concurrent pins all get the one stored', async () => {
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).pinToolIfAbsent(pin(`h${i}`))),
      );
      expect(new Set(results.map((r) => r.hash)).size).toBe(1);
      expect((await a.getToolPin('weather', 'forecast'))?.hash).toBe(results[0]!.hash);
    });

    it('pins a whole listing at once, keeping pins that exist, also across instances at once', async () => {
      await a.pinToolIfAbsent(pin('old', { tool: 'tool-07' }));
      const listing = Array.from({ length: 40 }, (_, i) =>
        pin(`h${i}`, { tool: `tool-${String(i).padStart(2, '0')}` }),
      );
      await Promise.all([
        a.pinToolsIfAbsent(listing),
        b.pinToolsIfAbsent(listing.map((p) => ({ ...p, hash: 'b' }))),
      ]);
      await a.pinToolsIfAbsent([]);
      const stored = await b.listToolPins('weather');
      expect(stored.map((p) => p.tool)).toEqual(listing.map((p) => p.tool));
      expect(stored.find((p) => p.tool === 'tool-07')?.hash).toBe('old');
      // Each tool has the one pin written first, whichever instance wrote it.
      for (const p of stored.filter((p) => p.tool !== 'tool-07')) {
        expect([`h${Number(p.tool.slice(5))}`, 'b']).toContain(p.hash);
      }
      expect(stored[0]?.definition).toEqual(listing[0]?.definition);
    });

    it("lists one adapter's pins by tool name, not another adapter's", async () => {
      await a.pinToolIfAbsent(pin('h', { tool: 'zeta' }));
      await a.pinToolIfAbsent(pin('h', { tool: 'Alpha' }));
      await a.pinToolIfAbsent(pin('h', { tool: 'alpha' }));
      await a.pinToolIfAbsent(pin('h', { adapter: 'other', tool: 'beta' }));
      expect((await b.listToolPins('weather')).map((p) => p.tool)).toEqual(['Alpha', 'alpha', 'zeta']);
      expect(await b.listToolPins('nobody')).toEqual([]);
    });

    it('reports a change once across instances, again for a further change, never against a stale pin', async () => {
      await a.pinToolIfAbsent(pin('h1'));
      const reports = await Promise.all([
        a.reportToolChange('weather', 'forecast', 'h1', 'h2'),
        b.reportToolChange('weather', 'forecast', 'h1', 'h2'),
        a.reportToolChange('weather', 'forecast', 'h1', 'h2'),
      ]);
      expect(reports.filter(Boolean)).toHaveLength(1);
      expect((await b.getToolPin('weather', 'forecast'))?.reportedHash).toBe('h2');
      expect(await b.reportToolChange('weather', 'forecast', 'h1', 'h3')).toBe(true);
      expect(await a.reportToolChange('weather', 'forecast', 'stale', 'h4')).toBe(false);
      expect(await a.reportToolChange('weather', 'missing', 'h1', 'h2')).toBe(false);
    });

    it('re-pins only from the expected hash (compare and set), clearing the reported change', async () => {
      await a.pinToolIfAbsent(pin('h1'));
      await a.reportToolChange('weather', 'forecast', 'h1', 'h2');
      const approved = pin('h2', { pinnedBy: 'admin' });
      const [x, y] = await Promise.all([a.repinTool(approved, 'h1'), b.repinTool(approved, 'h1')]);
      expect([x, y].filter(Boolean)).toHaveLength(1);
      const stored = await b.getToolPin('weather', 'forecast');
      expect(stored).toMatchObject({ hash: 'h2', pinnedBy: 'admin', reportedHash: undefined });
      expect(stored?.definition).toEqual(approved.definition);
      expect(await a.repinTool(pin('h3'), 'h1')).toBeUndefined();
      expect(await a.repinTool(pin('h3', { tool: 'missing' }), 'h1')).toBeUndefined();
      // A reported change of the new pin is reported afresh.
      expect(await a.reportToolChange('weather', 'forecast', 'h2', 'h1')).toBe(true);
    });
  });
}
