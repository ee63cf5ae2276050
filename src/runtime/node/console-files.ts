/** @module console-files: the built web console `/ui/` serves, read from `dist/ui/` of the installed package. */
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ConsoleAssets } from '../console-routes.js';

/**
 * `dist/ui/` of the package: this module sits three folders below the package root both as source
 * (`src/runtime/node/`) and compiled (`dist/runtime/node/`), so the gateway run by tsx in tests finds the same
 * build as `node dist/main.js`.
 */
export const CONSOLE_BUILD_FOLDER = join(fileURLToPath(new URL('../../../', import.meta.url)), 'dist', 'ui');

/** The console's files in `folder`; a file that is not there (the console not built yet) reads as undefined. */
export function consoleFiles(folder: string = CONSOLE_BUILD_FOLDER): ConsoleAssets {
  const root = resolve(folder);
  return {
    async read(path) {
      const file = resolve(root, path);
      // The routes pass only names they checked; this keeps any other caller inside the folder too.
      if (!file.startsWith(`${root}/`)) return undefined;
      try {
        return await readFile(file);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw err;
      }
    },
  };
}
