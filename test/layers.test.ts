/**
 * The layer rules of `docs/architecture.md`, checked on every run: no import cycle anywhere in `src/`, and every
 * import between folders points down — entries → features → infrastructure → core. A new folder must be given a
 * layer here before it can be imported.
 */
import { describe, expect, it } from 'vitest';
import { cyclesOf, importGraph, sourceFiles } from './import-graph.js';

/**
 * Lower layers never import higher ones; features (4) may import each other as long as no cycle forms; the
 * runtime (the composition root the entries share) sits between the features and the entries.
 */
const LAYER: Readonly<Record<string, number>> = {
  core: 0,
  config: 1,
  registry: 1,
  observability: 2,
  http: 3,
  auth: 4,
  routing: 4,
  control: 4,
  dataplane: 4,
  deploy: 4,
  toolrouter: 4,
  security: 4,
  runtime: 4.5,
  // The API client commands: beside the runtime, never importing it (see the test below).
  cli: 4.5,
  '': 5,
};
const FEATURE = 4;

/** The product's modules: tests and contract suites may import anything. */
const product = sourceFiles('src').filter((f) => !/\.(test|contract)\.ts$/.test(f));
const folderOf = (file: string) => {
  const parts = file.split('/');
  return parts.length > 2 ? parts[1]! : '';
};

/** Why `from` may not import `to`, or undefined when it may. */
function violation(from: string, to: string): string | undefined {
  const a = folderOf(from);
  const b = folderOf(to);
  if (a === b) return undefined;
  const ra = LAYER[a];
  const rb = LAYER[b];
  if (ra === undefined) return `src/${a} has no layer in test/layers.test.ts`;
  if (rb === undefined) return `src/${b} has no layer in test/layers.test.ts`;
  if (rb < ra || (ra === FEATURE && rb === FEATURE)) return undefined;
  return `${from} imports ${to}: ${a || 'the entry files'} (layer ${ra}) may not import ${b || 'an entry'} (layer ${rb})`;
}

describe('the layers of src/', () => {
  const graph = importGraph(product);

  it('has no import cycle, type-only imports included', () => {
    expect(cyclesOf(graph)).toEqual([]);
  });

  it('imports only downwards between folders (features may import features)', () => {
    const problems = [...graph].flatMap(([from, targets]) =>
      targets.flatMap((to) => violation(from, to) ?? []),
    );
    expect(problems).toEqual([]);
  });

  it('keeps core a leaf: it imports nothing of the project outside core/', () => {
    const outside = [...graph]
      .filter(([from]) => folderOf(from) === 'core')
      .flatMap(([from, targets]) =>
        targets.filter((t) => folderOf(t) !== 'core').map((t) => `${from} → ${t}`),
      );
    expect(outside).toEqual([]);
  });

  it('keeps the CLI client a client: src/cli imports nothing of src/ outside it (it speaks HTTP only)', () => {
    const outside = [...graph]
      .filter(([from]) => folderOf(from) === 'cli')
      .flatMap(([from, targets]) =>
        targets.filter((t) => folderOf(t) !== 'cli').map((t) => `${from} → ${t}`),
      );
    expect(outside).toEqual([]);
  });

  it('catches what it is for: an upward import and a cycle are reported', () => {
    expect(violation('src/http/x.ts', 'src/dataplane/y.ts')).toMatch(
      /http \(layer 3\) may not import dataplane/,
    );
    expect(violation('src/core/x.ts', 'src/config/y.ts')).toMatch(/core \(layer 0\) may not import config/);
    expect(violation('src/config/x.ts', 'src/registry/y.ts')).toMatch(/may not import registry/);
    expect(violation('src/dataplane/x.ts', 'src/auth/y.ts')).toBeUndefined();
    expect(violation('src/nowhere/x.ts', 'src/core/y.ts')).toMatch(/src\/nowhere has no layer/);
    const cyclic = new Map([
      ['a', ['b']],
      ['b', ['c']],
      ['c', ['a']],
      ['d', ['a']],
    ]);
    expect(cyclesOf(cyclic)).toEqual([['a', 'b', 'c']]);
  });
});
