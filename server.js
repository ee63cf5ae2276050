#!/usr/bin/env node
// `node server.js`: the launch line the reference's listing gives (`npm start or node server.js`, and
// `claude mcp add --transport stdio … node server.js`). Compiles dist/ first when it is missing or stale, with the
// compiler's output on stderr (stdout may carry MCP messages to the client that spawned this), then runs
// dist/server.js: see src/server.ts.
import { spawnSync } from 'node:child_process';
import process from 'node:process';
import { URL, fileURLToPath } from 'node:url';

const build = spawnSync(
  process.execPath,
  [fileURLToPath(new URL('./scripts/build-if-stale.mjs', import.meta.url))],
  {
    stdio: ['ignore', 2, 2],
  },
);
if (build.error) process.stderr.write(`cannot build dist/: ${build.error.message}\n`);
if (build.status !== 0) process.exit(build.status ?? 1);
const { runServer } = await import('./dist/server.js');
await runServer();
