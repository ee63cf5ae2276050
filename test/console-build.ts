/**
 * @module console-build: makes sure `dist/ui/` holds a build of the current `src/ui/` before a browser drives it,
 * with the same staleness check `npm start` uses (scripts/build-if-stale.mjs --ui): a no-op when it is current.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Builds the console when it is missing or out of date; throws with the build's output when it fails. */
export function buildConsoleIfStale(): void {
  const run = spawnSync(process.execPath, ['scripts/build-if-stale.mjs', '--ui'], {
    cwd: ROOT,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (run.status !== 0) throw new Error(`building the console failed:\n${run.stdout}\n${run.stderr}`);
}
