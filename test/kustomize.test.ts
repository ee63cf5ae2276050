/**
 * @module The test renderer's kustomize semantics, pinned to what kustomize v5.5 (`kubectl kustomize`) printed
 * for the same inputs, so the manifest tests stay trustworthy on machines without kubectl.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { configMapHash, kustomizeBuild, strategicMerge } from './kustomize.js';
import type { JsonObject, KubeObject } from './kustomize.js';

describe('configMapHash', () => {
  it('is the suffix kustomize gives a generated ConfigMap, escaping HTML characters as Go does', () => {
    const configMap: KubeObject = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'sample' },
      data: { A: '1', B: 'two words', C: 'https://x.example/?a=b&c=<d>' },
    };
    expect(configMapHash(configMap)).toBe('4tm655dmfb');
  });
});

describe('strategicMerge', () => {
  it('merges associative lists by key, patch items first, deletes on null and replaces other lists', () => {
    const original: JsonObject = {
      containers: [
        {
          name: 'c',
          image: 'i',
          args: ['a'],
          env: [
            { name: 'A', value: '1' },
            { name: 'B', value: '2' },
            { name: 'C', value: '3' },
          ],
        },
      ],
      volumes: [
        { name: 'a', emptyDir: {} },
        { name: 'b', emptyDir: {} },
      ],
    };
    const patch: JsonObject = {
      containers: [
        {
          name: 'c',
          args: ['z'],
          env: [
            { name: 'B', value: 'x' },
            { name: 'D', value: '4' },
          ],
        },
      ],
      volumes: [
        { name: 'c', emptyDir: {} },
        { name: 'a', emptyDir: null, configMap: { name: 'q' } },
      ],
    };
    expect(strategicMerge(original, patch, [])).toEqual({
      containers: [
        {
          name: 'c',
          image: 'i',
          args: ['z'],
          env: [
            { name: 'B', value: 'x' },
            { name: 'D', value: '4' },
            { name: 'A', value: '1' },
            { name: 'C', value: '3' },
          ],
        },
      ],
      volumes: [
        { name: 'c', emptyDir: {} },
        { name: 'a', configMap: { name: 'q' } },
        { name: 'b', emptyDir: {} },
      ],
    });
  });

  it('refuses directives it does not implement', () => {
    expect(() => strategicMerge({ a: { b: 1 } }, { a: { $patch: 'delete' } }, [])).toThrow(/\$patch/);
  });
});

describe('kustomizeBuild', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'kustomize-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses kustomization fields it does not implement', () => {
    writeFileSync(join(dir, 'kustomization.yaml'), 'commonLabels:\n  a: b\n');
    expect(() => kustomizeBuild(dir)).toThrow(/does not support 'commonLabels'/);
  });

  it('refuses an env file line that would read the caller environment', () => {
    writeFileSync(join(dir, 'kustomization.yaml'), 'configMapGenerator:\n  - name: x\n    envs: [x.env]\n');
    writeFileSync(join(dir, 'x.env'), 'HOME\n');
    expect(() => kustomizeBuild(dir)).toThrow(/KEY=VALUE/);
  });
});
