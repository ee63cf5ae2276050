#!/usr/bin/env node
// `npm start`'s first step: builds what is missing or out of date, and nothing else, so a start after a start
// skips a compile that takes seconds. Two outputs, each with its own inputs and stamp:
//   - the server: `src/` (but tests and the web console) compiled into `dist/` by tsc -p tsconfig.build.json;
//   - the web console (when vite.config.ts is present): `src/ui/` bundled into `dist/ui/` by `vite build`.
// Plain JavaScript on purpose: it runs before anything is compiled, without tsx. `--ui` builds the console only
// (the browser tests and the screenshot script use it).
//
// A stamp records each input's mtime as the last successful build saw it before it started; any difference (an
// edit, even one made during that build; a file added, removed or renamed; a file put back with an older date)
// builds again. Only the filesystem's own dates are compared, never this process's clock. `npm run build`
// always builds and leaves the stamps alone, so the next start builds once more.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import process from 'node:process';
import { URL, fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const require = createRequire(import.meta.url);

/** What tsconfig.build.json excludes: editing a test does not change dist/. */
const COMPILED_OUT = /\.(test|contract)\.ts$/;
/** The console's sources: bundled by Vite, not compiled by tsc (tsconfig.build.json leaves them out). */
const UI_SOURCES = join(root, 'src', 'ui');
const VITE_CONFIG = join(root, 'vite.config.ts');

/** Every file under `folder` but tests and the folders in `skip`, by its path from the root, with its mtime. */
function walk(folder, found, skip = []) {
  if (!existsSync(folder)) return found;
  for (const item of readdirSync(folder, { withFileTypes: true })) {
    const path = join(folder, item.name);
    if (item.isDirectory()) {
      if (!skip.includes(path)) walk(path, found, skip);
    } else if (!COMPILED_OUT.test(item.name)) found[relative(root, path)] = statSync(path).mtimeMs;
  }
  return found;
}

const rootFiles = (test) =>
  Object.fromEntries(
    readdirSync(root)
      .filter(test)
      .map((name) => [name, statSync(join(root, name)).mtimeMs]),
  );

const server = {
  output: 'dist/',
  stampFile: join(root, 'dist', '.build-stamp.json'),
  /** What `npm start` runs; without it there is nothing to start, whatever the stamp says. */
  entry: join(root, 'dist', 'main.js'),
  describe: 'tsc -p tsconfig.build.json',
  inputs: () => ({
    ...walk(join(root, 'src'), {}, [UI_SOURCES]),
    ...rootFiles((name) => name === 'package.json' || /^tsconfig.*\.json$/.test(name)),
  }),
  command: () => [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json'],
};

const ui = {
  output: 'dist/ui/',
  // Inside the output: `vite build` empties dist/ui/ first, so an interrupted build leaves no stamp behind.
  stampFile: join(root, 'dist', 'ui', '.build-stamp.json'),
  entry: join(root, 'dist', 'ui', 'index.html'),
  describe: 'vite build',
  inputs: () => ({
    ...walk(UI_SOURCES, {}),
    ...rootFiles((name) => name === 'package.json' || name === 'vite.config.ts'),
  }),
  command: () => [join(dirname(require.resolve('vite/package.json')), 'bin', 'vite.js'), 'build'],
  // An install without dev dependencies has no Vite: the gateway still starts, and `/ui/` says it is not built.
  optional: () => {
    try {
      require.resolve('vite/package.json');
      return undefined;
    } catch {
      return 'vite is not installed (an install without dev dependencies?): /ui/ stays unbuilt';
    }
  },
};

function readStamp(stampFile) {
  try {
    const stamp = JSON.parse(readFileSync(stampFile, 'utf8'));
    return typeof stamp.inputs === 'object' && stamp.inputs !== null ? stamp.inputs : undefined;
  } catch {
    return undefined;
  }
}

/** Why the output must be built, or undefined when it is up to date. */
function staleness(target, current) {
  const built = readStamp(target.stampFile);
  if (!built || !existsSync(target.entry)) return `${target.output} has not been built yet`;
  const changed = Object.keys(current).find((path) => built[path] !== current[path]);
  if (changed !== undefined) return `${changed} ${changed in built ? 'changed' : 'is new'}`;
  const removed = Object.keys(built).find((path) => !(path in current));
  return removed && `${removed} was removed`;
}

/** Builds `target` when it is stale; exits with the build's status when it fails. */
function buildIfStale(target) {
  const current = target.inputs();
  const reason = staleness(target, current);
  if (reason === undefined) return;
  const skipped = target.optional?.();
  if (skipped) {
    process.stderr.write(`Not building ${target.output} (${reason}): ${skipped}\n`);
    return;
  }
  process.stderr.write(`Building ${target.output} (${reason}): ${target.describe}\n`);
  // An interrupted or failed build must not leave a stamp that says the output is current.
  rmSync(target.stampFile, { force: true });
  // Its output goes to stderr: stdout may be an MCP client's stdio channel (server.js) or JSON logs.
  const build = spawnSync(process.execPath, target.command(), { cwd: root, stdio: [0, 2, 2] });
  if (build.error) process.stderr.write(`cannot run ${target.describe}: ${build.error.message}\n`);
  if (build.status !== 0) process.exit(build.status ?? 1);
  writeFileSync(target.stampFile, `${JSON.stringify({ inputs: current })}\n`);
}

const uiOnly = process.argv.includes('--ui');
if (!uiOnly) buildIfStale(server);
// A project without the console (the script's own tests) builds the server only.
if (existsSync(VITE_CONFIG)) buildIfStale(ui);
