/**
 * The README's shell blocks run as written, in order, against a real gateway — so the walk-through stays true.
 *
 * Which blocks: every ```sh / ```bash block of the sections a new user follows top to bottom against a local
 * gateway (`RUN_SECTIONS`: Quick start, Walk-through, Running MCP servers on a laptop, Tool router, Command line
 * with The registry as a file). The other sections are reference material (placeholders such as `eyJ…`, `"1.…"`, hosts at example.com, answers that are
 * meant to be errors) and are not run. A block preceded by `<!-- readme-test: skip … -->` is not run either: one
 * that would start a second gateway (`npm start`), run the whole suite, stream until Ctrl-C, or needs a program a
 * fresh clone does not have (Claude Code); the marker says why.
 *
 * How: the test starts the gateway (`src/main.ts`, as `npm start` does) on a free loopback port with a registry of
 * its own, puts that URL where the README says `http://127.0.0.1:3000` (and in `MCP_GATEWAY_URL`, which the CLI
 * reads; `GITHUB_TOKEN`, which a block pipes into `secrets create`, is a made-up value), and runs each block with
 * `bash -e -o pipefail` from the repository root, one after another (`npm run build` as the stale check of
 * `npm start`, so dist/ is not rewritten under other test files). `curl` is given `--fail-with-body`, so a
 * block whose request the gateway refuses (a 409 because an earlier block took the name) fails, as a reader
 * would notice. A block exits 0 or the test fails with its output. Background jobs (`&`) live on until the end;
 * every block runs in a process group of its own, killed afterwards. Files a block writes into the repository root
 * (`gateway.yaml`, `exported.yaml`) are removed afterwards; build output (`dist/`) is kept.
 *
 * Offline: `npx -y @modelcontextprotocol/server-everything` would download the package. The gateway is given a
 * `npx` first on its PATH (seen inside the process sandbox) that runs npx against the repository's own
 * `node_modules` (a dev dependency) with `npm_config_offline`, so the block runs as written without the network.
 */
import { spawn } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGatewayProcess } from './gateway-process.js';
import type { GatewayProcess } from './gateway-process.js';
import { FIXTURE_READ_PATHS, REPO_ROOT } from './process-fixtures.js';

/** The sections meant to run in order against a local gateway (level-2 headings). */
const RUN_SECTIONS = [
  'Quick start',
  'Walk-through',
  'Running MCP servers on a laptop',
  'Tool router',
  'Command line',
];
const SKIP_MARKER = /^<!--\s*readme-test:\s*skip\b.*-->$/;
const README_URL = 'http://127.0.0.1:3000';

/** One shell block of the README. */
interface ShellBlock {
  readonly section: string;
  /** 1-based line of the opening fence. */
  readonly line: number;
  readonly code: string;
  readonly skipped: boolean;
}

/** Every ```sh / ```bash / ```shell block, with its level-2 section and whether a skip marker precedes it. */
function shellBlocks(markdown: string): ShellBlock[] {
  const lines = markdown.split('\n');
  const blocks: ShellBlock[] = [];
  let section = '';
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const heading = /^## (.+)$/.exec(line);
    if (heading) section = heading[1]!.trim();
    const fence = /^(`{3,})(\S*)/.exec(line);
    if (!fence) continue;
    const end = lines.findIndex((l, j) => j > i && l.startsWith(fence[1]!) && l.trim() === fence[1]);
    if (end < 0) throw new Error(`README.md:${i + 1}: unclosed code block`);
    if (['sh', 'bash', 'shell'].includes(fence[2]!)) {
      let previous = i - 1;
      while (previous >= 0 && lines[previous]!.trim() === '') previous--;
      blocks.push({
        section,
        line: i + 1,
        code: lines.slice(i + 1, end).join('\n'),
        skipped: previous >= 0 && SKIP_MARKER.test(lines[previous]!.trim()),
      });
    }
    i = end;
  }
  return blocks;
}

interface Ran {
  readonly code: number | null;
  readonly output: string;
}

const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
const blocks = shellBlocks(readme);
const toRun = blocks.filter((b) => RUN_SECTIONS.includes(b.section) && !b.skipped);

describe('shellBlocks', () => {
  it('finds fenced shell blocks, their sections and skip markers', () => {
    const found = shellBlocks(
      '## A\n\n```sh\necho 1\n```\n\n<!-- readme-test: skip (why) -->\n\n```bash\nexit 1\n```\n## B\n```json\n{}\n```\n```sh\necho 2\n```\n',
    );
    expect(found).toEqual([
      { section: 'A', line: 3, code: 'echo 1', skipped: false },
      { section: 'A', line: 9, code: 'exit 1', skipped: true },
      { section: 'B', line: 16, code: 'echo 2', skipped: false },
    ]);
  });

  it('finds every section it runs, each with blocks to run', () => {
    for (const section of RUN_SECTIONS)
      expect(
        toRun.some((b) => b.section === section) || section === 'Quick start',
        `README section "${section}"`,
      ).toBe(true);
    expect(blocks.some((b) => b.section === 'Quick start')).toBe(true);
  });
});

describe('README shell blocks, in order, against a real gateway', () => {
  const directory = mkdtempSync(join(tmpdir(), 'mcp-gateway-readme-'));
  const groups: number[] = [];
  const rootFiles = new Set(readdirSync(REPO_ROOT));
  let gateway: GatewayProcess | undefined;

  beforeAll(async () => {
    // `npx` for the gateway's children: the repository's node_modules, never the network.
    // Beside the registry's directory, not inside it: the sandbox refuses to show children the registry.
    const shims = join(directory, 'bin');
    const npx = join(shims, 'npx');
    const realNpx = (process.env.PATH ?? '')
      .split(':')
      .map((dir) => join(dir, 'npx'))
      .find((path) => existsSync(path));
    if (!realNpx) throw new Error('npx is not on PATH');
    mkdirSync(shims);
    mkdirSync(join(directory, 'data'));
    writeFileSync(
      npx,
      `#!/bin/sh\n# readme.e2e.test.ts: npx from the repository's node_modules, offline\n` +
        `PATH='${join(REPO_ROOT, 'node_modules', '.bin')}':"$PATH" npm_config_offline=true ` +
        `npm_config_update_notifier=false exec '${realNpx}' --prefix '${REPO_ROOT}' "$@"\n`,
    );
    chmodSync(npx, 0o755);
    gateway = await startGatewayProcess({
      PATH: `${shims}:${process.env.PATH ?? '/usr/bin:/bin'}`,
      DATABASE_URL: join(directory, 'data', 'registry.db'),
      MCP_GATEWAY_PROCESS_READ_PATHS: [...FIXTURE_READ_PATHS, shims].join(','),
    });
  });

  afterAll(async () => {
    for (const group of groups) {
      try {
        process.kill(-group, 'SIGTERM');
      } catch {
        // Already gone.
      }
    }
    await gateway?.stop();
    rmSync(directory, { recursive: true, force: true });
    for (const entry of readdirSync(REPO_ROOT, { withFileTypes: true }))
      if (entry.isFile() && !rootFiles.has(entry.name)) rmSync(join(REPO_ROOT, entry.name));
  });

  function runBlock(block: ShellBlock): Promise<Ran> {
    const url = gateway!.url;
    // `npm run build` becomes the stale check `npm start` runs: other test files read dist/ at the same time, and a
    // full rebuild would rewrite it under them; the check builds only what is out of date, with the same result.
    const shims =
      'curl() { command curl --fail-with-body "$@"; }\n' +
      'npm() { if [ "$*" = "run build" ]; then node scripts/build-if-stale.mjs; else command npm "$@"; fi; }\n';
    const script = `${shims}${block.code.replaceAll(README_URL, url)}\n`;
    const child = spawn('bash', ['-e', '-o', 'pipefail', '-c', script], {
      cwd: REPO_ROOT,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        npm_config_update_notifier: 'false',
        MCP_GATEWAY_URL: url,
        GITHUB_TOKEN: 'ghp_readmeTestNotARealToken',
      },
    });
    if (child.pid !== undefined) groups.push(child.pid);
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    // Resolved when bash exits, not when its pipes close: a background job (`&`) keeps them open.
    return new Promise((resolve) => child.once('exit', (code) => resolve({ code, output })));
  }

  it.each(toRun.map((b) => [`${b.section}, README.md:${b.line}`, b] as const))(
    '%s exits 0',
    async (_name, block) => {
      const { code, output } = await runBlock(block);
      expect(code, `README.md:${block.line}\n${block.code}\n--- output ---\n${output}`).toBe(0);
    },
    300_000,
  );
});
