#!/usr/bin/env node
// `npm start`'s first step: compiles `src/` into `dist/` (tsc -p tsconfig.build.json) only when `dist/` is
// missing or out of date, so a start after a start skips a compile that takes seconds. Plain JavaScript on
// purpose: it runs before anything is compiled, without tsx.
//
// The inputs: every file under src/ but tests, the tsconfig*.json files and package.json at the root. The stamp
// in dist/ records each input's mtime as the last successful build saw it before it started; any difference (an
// edit, even one made during that build; a file added, removed or renamed; a file put back with an older date)
// builds again. Only the filesystem's own dates are compared, never this process's clock. `npm run build`
// always compiles and leaves the stamp alone, so the next start compiles once more.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import process from 'node:process';
import { URL, fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = join(root, 'dist');
const stampFile = join(dist, '.build-stamp.json');
/** What `npm start` runs; without it there is nothing to start, whatever the stamp says. */
const entry = join(dist, 'main.js');

/** What tsconfig.build.json excludes: editing a test does not change dist/. */
const COMPILED_OUT = /\.(test|contract)\.ts$/;

/** Every input, by its path from the root, with its mtime. */
function inputs() {
  const found = {};
  const add = (path) => {
    found[relative(root, path)] = statSync(path).mtimeMs;
  };
  const walk = (folder) => {
    for (const item of readdirSync(folder, { withFileTypes: true })) {
      const path = join(folder, item.name);
      if (item.isDirectory()) walk(path);
      else if (!COMPILED_OUT.test(item.name)) add(path);
    }
  };
  walk(join(root, 'src'));
  for (const name of readdirSync(root)) {
    if (name === 'package.json' || /^tsconfig.*\.json$/.test(name)) add(join(root, name));
  }
  return found;
}

function readStamp() {
  try {
    const stamp = JSON.parse(readFileSync(stampFile, 'utf8'));
    return typeof stamp.inputs === 'object' && stamp.inputs !== null ? stamp.inputs : undefined;
  } catch {
    return undefined;
  }
}

/** Why dist/ must be built, or undefined when it is up to date. */
function staleness(current) {
  const built = readStamp();
  if (!built || !existsSync(entry)) return 'dist/ has not been built yet';
  const changed = Object.keys(current).find((path) => built[path] !== current[path]);
  if (changed !== undefined) return `${changed} ${changed in built ? 'changed' : 'is new'}`;
  const removed = Object.keys(built).find((path) => !(path in current));
  return removed && `${removed} was removed`;
}

const current = inputs();
const reason = staleness(current);
if (reason === undefined) process.exit(0);

process.stderr.write(`Building dist/ (${reason}): tsc -p tsconfig.build.json\n`);
// An interrupted or failed build must not leave a stamp that says the output is current.
rmSync(stampFile, { force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const build = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], {
  cwd: root,
  stdio: 'inherit',
});
if (build.error) process.stderr.write(`cannot run tsc: ${build.error.message}\n`);
if (build.status !== 0) process.exit(build.status ?? 1);
writeFileSync(stampFile, `${JSON.stringify({ inputs: current })}\n`);
