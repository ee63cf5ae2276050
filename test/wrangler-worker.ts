/**
 * @module wrangler-worker: the edge build in tests — wrangler's own local runtime (workerd, installed from npm)
 * started in-process, and wrangler's bundler run the way `wrangler deploy` runs it. Nothing reaches the network:
 * telemetry, the update check and the `Request.cf` download are switched off, and workers listen on 127.0.0.1.
 * Each run works in a staging folder (symlinks to `src/`, `migrations/`, `node_modules/`), so wrangler's
 * `.wrangler/` scratch folder never lands in the checkout.
 */
import { spawn } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository's root folder. */
export const REPO_ROOT = fileURLToPath(new URL('../', import.meta.url));

/** Keeps wrangler and miniflare off the network. */
const OFFLINE_ENV = {
  WRANGLER_SEND_METRICS: 'false',
  WRANGLER_SEND_ERROR_REPORTS: 'false',
  // The banner is where wrangler checks npm for a newer version.
  WRANGLER_HIDE_BANNER: 'true',
  CLOUDFLARE_CF_FETCH_ENABLED: 'false',
} as const;

/** Why wrangler cannot run under this Node, or undefined when it can. */
export function wranglerUnavailableReason(): string | undefined {
  const manifest = join(REPO_ROOT, 'node_modules', 'wrangler', 'package.json');
  if (!existsSync(manifest)) return 'wrangler is not installed (npm ci installs it as a dev dependency)';
  const { version, engines } = JSON.parse(readFileSync(manifest, 'utf8')) as {
    version: string;
    engines?: { node?: string };
  };
  const minimum = /^>=\s*(\d+)\.(\d+)\.(\d+)$/.exec(engines?.node?.trim() ?? '');
  if (!minimum) return undefined;
  const want = minimum.slice(1).map(Number);
  const have = process.versions.node.split('.').map(Number);
  for (let i = 0; i < 3; i++) {
    if (have[i]! > want[i]!) return undefined;
    if (have[i]! < want[i]!) {
      return `wrangler ${version} needs Node ${engines!.node}, this is Node ${process.versions.node}`;
    }
  }
  return undefined;
}

/** A staging folder holding wrangler configuration files, with the sources linked in. */
export interface StagedProject {
  readonly dir: string;
  /** Path of a file in the folder. */
  path(name: string): string;
  remove(): void;
}

/**
 * Makes a staging folder: `wrangler.toml` copied from the repository (so a test runs exactly what
 * `npx wrangler deploy` would), the `extraFiles` written, and `src/`, `migrations/`, `node_modules/` and
 * `package.json` linked.
 */
export function stageProject(extraFiles: Readonly<Record<string, string>> = {}): StagedProject {
  Object.assign(process.env, OFFLINE_ENV);
  const dir = mkdtempSync(join(tmpdir(), 'mcpgw-wrangler-'));
  for (const name of ['src', 'test', 'migrations', 'node_modules', 'package.json']) {
    symlinkSync(join(REPO_ROOT, name), join(dir, name));
  }
  copyFileSync(join(REPO_ROOT, 'wrangler.toml'), join(dir, 'wrangler.toml'));
  for (const [name, text] of Object.entries(extraFiles)) writeFileSync(join(dir, name), text);
  return {
    dir,
    path: (name) => join(dir, name),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** A worker running in wrangler's local runtime. */
export interface LocalWorker {
  /** Where it listens, without a trailing slash. */
  readonly url: string;
  dispose(): Promise<void>;
}

/** Options for {@link startLocalWorker}. */
export interface LocalWorkerOptions {
  /** The wrangler configuration file (in a staged project). */
  readonly config: string;
  /** Plain-text variables, overriding `[vars]`. */
  readonly vars?: Readonly<Record<string, string>>;
  /** Secrets (`wrangler secret put` in production). */
  readonly secrets?: Readonly<Record<string, string>>;
  /** Fixed port; an ephemeral one by default. */
  readonly port?: number;
}

/** Starts a worker with `unstable_startWorker`: local mode, no persistence (a fresh D1 each time), no watch. */
export async function startLocalWorker(options: LocalWorkerOptions): Promise<LocalWorker> {
  Object.assign(process.env, OFFLINE_ENV);
  const { unstable_startWorker } = await import('wrangler');
  const bindings: Record<string, { type: 'plain_text' | 'secret_text'; value: string }> = {};
  for (const [name, value] of Object.entries(options.vars ?? {}))
    bindings[name] = { type: 'plain_text', value };
  for (const [name, value] of Object.entries(options.secrets ?? {}))
    bindings[name] = { type: 'secret_text', value };
  const worker = await unstable_startWorker({
    config: options.config,
    bindings,
    sendMetrics: false,
    dev: {
      server: { hostname: '127.0.0.1', port: options.port ?? 0 },
      inspector: false,
      remote: false,
      persist: false,
      watch: false,
      logLevel: 'warn',
    },
  });
  try {
    await worker.ready;
    const url = (await worker.url).href.replace(/\/$/, '');
    return { url, dispose: () => worker.dispose() };
  } catch (err) {
    await worker.dispose().catch(() => undefined);
    throw err;
  }
}

/** What `wrangler deploy --dry-run` produced. */
export interface WorkerBundle {
  /** The output folder: `worker.js`, its source map, and one file per extra module (SQL, Wasm). */
  readonly outDir: string;
  /** esbuild's metafile: every input that went into the bundle. */
  readonly inputs: readonly string[];
  /** The text of `worker.js`. */
  readonly code: string;
}

/** Runs `wrangler deploy --dry-run` (bundles exactly as a deploy would, uploads nothing) in `project`. */
export async function buildWorkerBundle(project: StagedProject): Promise<WorkerBundle> {
  const outDir = project.path('out');
  const cli = join(REPO_ROOT, 'node_modules', 'wrangler', 'bin', 'wrangler.js');
  const args = [
    cli,
    'deploy',
    '--dry-run',
    '--outdir',
    outDir,
    '--metafile',
    '--config',
    project.path('wrangler.toml'),
  ];
  const output = await new Promise<string>((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      cwd: project.dir,
      env: { ...process.env, ...OFFLINE_ENV },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let text = '';
    child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (text += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0
        ? resolve(text)
        : reject(new Error(`wrangler deploy --dry-run exited with ${code}:\n${text}`)),
    );
  });
  const metafile = JSON.parse(readFileSync(join(outDir, 'bundle-meta.json'), 'utf8')) as {
    inputs: Record<string, unknown>;
  };
  if (!output.includes('--dry-run: exiting now')) throw new Error(`unexpected wrangler output:\n${output}`);
  return {
    outDir,
    inputs: Object.keys(metafile.inputs),
    code: readFileSync(join(outDir, 'worker.js'), 'utf8'),
  };
}
