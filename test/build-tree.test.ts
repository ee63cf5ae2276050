/**
 * What `npm run build` compiles into `dist/`: the product only. No test, contract suite, fake or fixture, and no
 * module that none of the entry points (`main.ts`, `worker.ts`, `cli.ts`) reaches — such a module is test
 * scaffolding or dead code either way.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, importGraph } from './import-graph.js';

/** The Node entry, the edge entry, the CLI, and the stub wrangler.toml aliases Node-only modules to. */
const ENTRIES = ['src/main.ts', 'src/server.ts', 'src/worker.ts', 'src/cli.ts', 'src/worker-stub.ts'];

function buildFiles(): string[] {
  const config = ts.getParsedCommandLineOfConfigFile(
    join(REPO_ROOT, 'tsconfig.build.json'),
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) => {
        throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
      },
    },
  );
  if (!config) throw new Error('tsconfig.build.json could not be read');
  return config.fileNames.map((f) => relative(REPO_ROOT, f)).sort();
}

describe('the build', () => {
  const files = buildFiles();

  it('compiles no test support: nothing from test/ or generated/, no test or contract suite', () => {
    expect(files.length).toBeGreaterThan(100);
    expect(files.filter((f) => !f.startsWith('src/') || /\.(test|contract)\.ts$/.test(f))).toEqual([]);
  });

  it('compiles only modules an entry point reaches', () => {
    const graph = importGraph(files);
    const reached = new Set<string>();
    const queue = [...ENTRIES];
    while (queue.length > 0) {
      const file = queue.pop()!;
      if (reached.has(file)) continue;
      reached.add(file);
      queue.push(...(graph.get(file) ?? []));
    }
    expect(files.filter((f) => !reached.has(f) && !f.endsWith('.d.ts'))).toEqual([]);
  });

  it.runIf(existsSync(join(REPO_ROOT, 'dist')))('left no test module in dist/ (when it was built)', () => {
    const walk = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
        e.isDirectory() ? walk(join(dir, e.name)) : [relative(REPO_ROOT, join(dir, e.name))],
      );
    const testOnly = walk(join(REPO_ROOT, 'dist')).filter((f) =>
      /\.(test|contract)\.js$|\/(testing|test|fake-kube-api)\/|in-memory-deployer/.test(f),
    );
    expect(testOnly).toEqual([]);
  });
});
