/** @module swagger-ui-files: the Swagger UI that `/docs` serves, read from the installed `swagger-ui-dist`. */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { SwaggerUiAssets } from '../docs-routes.js';

/** The package's files, as the version pinned in package.json installed them. */
export function swaggerUiFiles(): SwaggerUiAssets {
  const manifest = createRequire(import.meta.url).resolve('swagger-ui-dist/package.json');
  const folder = dirname(manifest);
  const { version } = JSON.parse(readFileSync(manifest, 'utf8')) as { version: string };
  return { version, read: (file) => readFile(join(folder, file), 'utf8') };
}
