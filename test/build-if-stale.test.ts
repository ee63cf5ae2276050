/**
 * `npm start` compiles only when `dist/` is missing or older than its inputs (scripts/build-if-stale.mjs),
 * checked on a small project of its own: the real script, the repository's TypeScript.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const project = mkdtempSync(join(tmpdir(), 'mcp-gateway-build-if-stale-'));
afterAll(() => rmSync(project, { recursive: true, force: true }));

const write = (path: string, text: string) => writeFileSync(join(project, path), text);
const read = (path: string) => readFileSync(join(project, path), 'utf8');

mkdirSync(join(project, 'scripts'));
mkdirSync(join(project, 'src'));
copyFileSync(join(REPO, 'scripts', 'build-if-stale.mjs'), join(project, 'scripts', 'build-if-stale.mjs'));
symlinkSync(join(REPO, 'node_modules'), join(project, 'node_modules'));
write('package.json', '{ "type": "module" }\n');
write(
  'tsconfig.json',
  '{ "compilerOptions": { "target": "ES2023", "module": "NodeNext", "strict": true, "types": [] } }\n',
);
write(
  'tsconfig.build.json',
  '{ "extends": "./tsconfig.json", "compilerOptions": { "rootDir": "src", "outDir": "dist" }, "include": ["src"], "exclude": ["src/**/*.test.ts"] }\n',
);
write('src/main.ts', 'export const answer: number = 1;\n');

// Each compile loads TypeScript afresh (seconds on a busy machine), as `npm start` does.

/** Runs the script as `npm start` does; `built` says whether it compiled (it says why on stderr when it does). */
function start() {
  const run = spawnSync(process.execPath, ['scripts/build-if-stale.mjs'], { cwd: project, encoding: 'utf8' });
  return { code: run.status, stderr: run.stderr, built: run.stderr.startsWith('Building dist/') };
}

describe('npm start on an up-to-date dist/', () => {
  it('builds a fresh clone, then only when an input changes', () => {
    const fresh = start();
    expect(fresh).toMatchObject({ code: 0, built: true });
    expect(fresh.stderr).toContain('dist/ has not been built yet');
    expect(read('dist/main.js')).toContain('answer = 1');

    // Nothing changed: dist/ is left exactly as it is (this marker would be overwritten by a compile).
    write('dist/main.js', '// not compiled again\n');
    expect(start()).toEqual({ code: 0, stderr: '', built: false });
    expect(read('dist/main.js')).toBe('// not compiled again\n');

    write('src/main.ts', 'export const answer: number = 2;\n');
    const edited = start();
    expect(edited).toMatchObject({ code: 0, built: true });
    expect(edited.stderr).toContain('src/main.ts changed');
    expect(read('dist/main.js')).toContain('answer = 2');
    expect(start().built).toBe(false);

    // Tests are not compiled into dist/ (tsconfig.build.json leaves them out).
    write('src/main.test.ts', 'export {};\n');
    expect(start().built).toBe(false);

    write('src/extra.ts', 'export const extra = true;\n');
    const added = start();
    expect(added).toMatchObject({ code: 0, built: true });
    expect(added.stderr).toContain('src/extra.ts is new');
    expect(read('dist/extra.js')).toContain('extra = true');
    rmSync(join(project, 'src/extra.ts'));
    expect(start().stderr).toContain('src/extra.ts was removed');

    // A compiler setting changes the output as much as a source does; a date in the past is a change too (a file
    // put back from a backup), and one in the future does not hide later edits.
    const earlier = new Date(Date.now() - 3_600_000);
    utimesSync(join(project, 'tsconfig.build.json'), earlier, earlier);
    expect(start().stderr).toContain('tsconfig.build.json changed');
    const later = new Date(Date.now() + 3_600_000);
    utimesSync(join(project, 'src/main.ts'), later, later);
    expect(start().built).toBe(true);
    write('src/main.ts', 'export const answer: number = 2;\n');
    expect(start().built).toBe(true);

    rmSync(join(project, 'dist/main.js'));
    expect(start().built).toBe(true);
    expect(read('dist/main.js')).toContain('answer = 2');
  }, 300_000);

  it('a failed compile fails the start and is tried again at the next one', () => {
    write('src/main.ts', 'export const answer: number = "two";\n');
    const broken = start();
    expect(broken.built).toBe(true);
    expect(broken.code).not.toBe(0);
    expect(start()).toMatchObject({ built: true, code: broken.code });
    write('src/main.ts', 'export const answer: number = 3;\n');
    expect(start()).toMatchObject({ code: 0, built: true });
    expect(read('dist/main.js')).toContain('answer = 3');
    expect(start().built).toBe(false);
  }, 120_000);
});

describe('npm start with the web console (vite.config.ts present)', () => {
  it('builds dist/ui/ when it is missing or its inputs changed, each output on its own inputs', () => {
    mkdirSync(join(project, 'src', 'ui'));
    write(
      'vite.config.ts',
      "export default { root: 'src/ui', base: '/ui/', logLevel: 'silent', build: { outDir: '../../dist/ui', emptyOutDir: true } };\n",
    );
    write('src/ui/index.html', '<!doctype html><script type="module" src="./main.js"></script>\n');
    write('src/ui/main.js', "document.title = 'one';\n");
    const first = start();
    expect(first.code).toBe(0);
    // The server is current: only the console is built (vite.config.ts is an input of the console, not of tsc).
    expect(first.stderr).toBe('Building dist/ui/ (dist/ui/ has not been built yet): vite build\n');
    const asset = () => {
      const html = read('dist/ui/index.html');
      const src = /src="\/ui\/(assets\/[^"]+\.js)"/.exec(html)?.[1];
      expect(src, html).toBeDefined();
      return read(`dist/ui/${src}`);
    };
    expect(asset()).toContain('one');
    expect(start()).toEqual({ code: 0, stderr: '', built: false });

    write('src/ui/main.js', "document.title = 'two';\n");
    expect(start().stderr).toBe('Building dist/ui/ (src/ui/main.js changed): vite build\n');
    expect(asset()).toContain('two');

    // A server source change compiles the server only; `--ui` looks at the console only.
    write('src/main.ts', 'export const answer: number = 4;\n');
    expect(spawnSync(process.execPath, ['scripts/build-if-stale.mjs', '--ui'], { cwd: project }).status).toBe(
      0,
    );
    expect(read('dist/main.js')).toContain('answer = 3');
    expect(start().stderr).toMatch(/^Building dist\/ \(src\/main\.ts changed\)[^\n]*\n$/);
    expect(read('dist/main.js')).toContain('answer = 4');

    rmSync(join(project, 'dist', 'ui', 'index.html'));
    expect(start().stderr).toContain('Building dist/ui/ (dist/ui/ has not been built yet)');
  }, 300_000);
});
