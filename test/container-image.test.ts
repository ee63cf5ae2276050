/**
 * @module The container image's recipe, checked without a Docker engine: the Dockerfile's stages, base images,
 * build steps, user, environment, ports and entrypoint are read from the file and held against what they must
 * match — the TypeScript compiler's own output path for src/main.ts, the registry's search for migrations/,
 * the configuration parser, the real app's health route (the HEALTHCHECK command is run), and .dockerignore.
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/index.js';
import { findMigrationsFolder } from '../src/registry/migrations.js';
import { execForm, instructions, isIgnored, parseDockerfile, stageEnv } from './dockerfile.js';
import type { DockerStage } from './dockerfile.js';
import { serveApp } from './serve-app.js';
import type { ServedApp } from './serve-app.js';
import { createTestApp } from './test-app.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const dockerfile = parseDockerfile(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'));
const dockerignore = readFileSync(join(ROOT, '.dockerignore'), 'utf8');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  scripts: Record<string, string>;
  engines: { node: string };
};

const runtime = dockerfile.stages.at(-1) as DockerStage;
const build = dockerfile.stages.find((s) => s.name === 'build') as DockerStage;

/** The last WORKDIR of a stage (absolute, as every WORKDIR here is). */
function workdir(stage: DockerStage): string {
  const dir = instructions(stage, 'WORKDIR').at(-1)?.args;
  if (!dir?.startsWith('/')) throw new Error(`stage ${stage.name ?? stage.image} needs an absolute WORKDIR`);
  return dir;
}

/** COPY instructions of a stage as { from (stage name or undefined for the context), sources, dest }. */
function copies(stage: DockerStage) {
  return instructions(stage, 'COPY').map((copy) => {
    const parts = copy.args.split(/\s+/);
    const dest = parts.at(-1) as string;
    return {
      from: copy.flags['from'],
      sources: parts.slice(0, -1),
      dest: posix.resolve(workdir(stage), dest),
      line: copy.line,
    };
  });
}

/** Index of the first instruction of `stage` satisfying `test`, or -1. */
function indexOf(stage: DockerStage, test: (keyword: string, args: string) => boolean): number {
  return stage.instructions.findIndex((i) => test(i.keyword, i.args));
}

/** The files tsc compiles for `npm run build` (root files and everything they import, inside the repo). */
function buildProgram() {
  const script = pkg.scripts['build'];
  const project = /^tsc -p (\S+)(?: && vite build)?$/.exec(script ?? '')?.[1];
  if (!project) throw new Error(`unexpected build script ${JSON.stringify(script)}`);
  const parsed = ts.getParsedCommandLineOfConfigFile(resolve(ROOT, project), undefined, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    },
  });
  if (!parsed) throw new Error(`cannot read ${project}`);
  return { project, parsed };
}

describe('Dockerfile', () => {
  it('builds in a build stage and runs in a final stage, both on the same Node LTS image pinned to a major', () => {
    expect(dockerfile.stages.length).toBeGreaterThanOrEqual(2);
    expect(build).toBeDefined();
    expect(runtime).not.toBe(build);
    const engineMajor = Number(/(\d+)/.exec(pkg.engines.node)?.[1]);
    for (const stage of dockerfile.stages) {
      // node:<major>[.<minor>…]-<debian release>[-slim]: never `latest`/`lts`, never a floating distribution.
      const match = /^node:(\d+)(?:\.\d+)*-(bookworm|bullseye|trixie)(-slim)?$/.exec(stage.image);
      expect(match, `${stage.image} is pinned to a Node major and a Debian release`).not.toBeNull();
      expect(Number(match?.[1]), 'the major package.json engines allow').toBe(engineMajor);
      expect(Number(match?.[1]) % 2, 'an even (LTS) Node major').toBe(0);
    }
    // better-sqlite3 is compiled in the build stage: the runtime must have the same glibc and Node ABI.
    expect(runtime.image).toBe(build.image);
    expect(runtime.image).toMatch(/-slim$/);
  });

  it('compiles better-sqlite3 from source with the toolchain installed first, then npm ci, build and prune', () => {
    const tools = indexOf(build, (k, a) => k === 'RUN' && /apt-get install/.test(a));
    expect(tools).toBeGreaterThanOrEqual(0);
    const toolsArgs = build.instructions[tools]?.args.split(/\s+/) ?? [];
    for (const tool of ['python3', 'make', 'g++']) expect(toolsArgs).toContain(tool);
    const ci = indexOf(build, (k, a) => k === 'RUN' && /\bnpm ci\b/.test(a));
    // Built here rather than downloaded: only the npm registry and Debian's packages are needed.
    expect(build.instructions[ci]?.args).toMatch(/npm rebuild better-sqlite3 --build-from-source/);
    const buildRun = indexOf(build, (k, a) => k === 'RUN' && /\bnpm run build\b/.test(a));
    const prune = indexOf(build, (k, a) => k === 'RUN' && /\bnpm prune --omit=dev\b/.test(a));
    expect(tools).toBeLessThan(ci);
    expect(ci).toBeLessThan(buildRun);
    expect(buildRun).toBeLessThan(prune);
    // The lock file is in place before npm ci (which refuses to run without one).
    const lockCopy = indexOf(build, (k, a) => k === 'COPY' && a.split(/\s+/).includes('package-lock.json'));
    expect(lockCopy).toBeGreaterThanOrEqual(0);
    expect(lockCopy).toBeLessThan(ci);
  });

  it('copies every file tsc reads for `npm run build` into the build stage before running it', () => {
    const { project, parsed } = buildProgram();
    const program = ts.createProgram({ rootNames: parsed.fileNames, options: parsed.options });
    const extended = ts.readConfigFile(resolve(ROOT, project), ts.sys.readFile).config as {
      extends?: string;
    };
    const inputs = [
      project,
      ...(extended.extends ? [posix.normalize(extended.extends)] : []),
      'package.json', // "type": "module" decides how tsc emits
      ...program
        .getSourceFiles()
        .map((f) => relative(ROOT, f.fileName))
        .filter((f) => !f.startsWith('..') && !f.startsWith('node_modules')),
    ];
    expect(inputs.filter((f) => f.startsWith('src/')).length).toBeGreaterThan(10);
    const buildRun = indexOf(build, (k, a) => k === 'RUN' && /\bnpm run build\b/.test(a));
    const copiedBefore = copies(build)
      .filter(
        (c) => c.from === undefined && build.instructions.findIndex((i) => i.line === c.line) < buildRun,
      )
      .flatMap((c) => c.sources.map((s) => posix.normalize(s)));
    for (const input of inputs) {
      expect(
        copiedBefore.some((source) => input === source || input.startsWith(`${source}/`)),
        `${input} is copied before npm run build`,
      ).toBe(true);
      expect(isIgnored(dockerignore, input), `${input} is in the build context`).toBe(false);
    }
  });

  it('builds the web console in the same `npm run build`, from inputs copied before it, into the shipped dist/', () => {
    expect(pkg.scripts['build']).toMatch(/ && vite build$/);
    const buildRun = indexOf(build, (k, a) => k === 'RUN' && /\bnpm run build\b/.test(a));
    const copiedBefore = copies(build)
      .filter(
        (c) => c.from === undefined && build.instructions.findIndex((i) => i.line === c.line) < buildRun,
      )
      .flatMap((c) => c.sources.map((s) => posix.normalize(s)));
    // What `vite build` reads: its config at the root and the app's folder (vite.config.ts sets root: src/ui).
    expect(readFileSync(join(ROOT, 'vite.config.ts'), 'utf8')).toMatch(/src\/ui\//);
    const walk = (dir: string): string[] =>
      readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) =>
        e.isDirectory() ? walk(`${dir}/${e.name}`) : [`${dir}/${e.name}`],
      );
    const inputs = ['vite.config.ts', ...walk('src/ui').filter((f) => !/\.test\.tsx?$/.test(f))];
    expect(inputs).toContain('src/ui/index.html');
    for (const input of inputs) {
      expect(
        copiedBefore.some((source) => input === source || input.startsWith(`${source}/`)),
        `${input} is copied before npm run build`,
      ).toBe(true);
      expect(isIgnored(dockerignore, input), `${input} is in the build context`).toBe(false);
    }
    // dist/ui/ goes out with the rest of dist/, before the dev dependencies (vite, react) are pruned.
    const prune = indexOf(build, (k, a) => k === 'RUN' && /\bnpm prune --omit=dev\b/.test(a));
    expect(buildRun).toBeLessThan(prune);
    expect(
      copies(runtime).some((c) => c.from === 'build' && c.sources.includes(`${workdir(build)}/dist`)),
    ).toBe(true);
  });

  it("runs `node dist/main.js`, the file tsc emits for src/main.ts, from the build stage's output", () => {
    const { parsed } = buildProgram();
    const mainTs = resolve(ROOT, 'src/main.ts');
    expect(parsed.fileNames.map((f) => resolve(f))).toContain(mainTs);
    const emitted = ts
      .getOutputFileNames(parsed, mainTs, false)
      .map((f) => relative(ROOT, f))
      .find((f) => f.endsWith('.js'));
    expect(emitted).toBe('dist/main.js');

    const entrypoint = execForm(instructions(runtime, 'ENTRYPOINT').at(-1)?.args ?? '[]') ?? [];
    const cmd = execForm(instructions(runtime, 'CMD').at(-1)?.args ?? '');
    expect(cmd, 'CMD in exec form, so signals reach the process').toEqual(['node', 'dist/main.js']);
    // An init process in front of node may forward signals; nothing else may run in between.
    expect(entrypoint.length === 0 || (/\/tini$/.test(entrypoint[0] ?? '') && entrypoint[1] === '--')).toBe(
      true,
    );
    if (entrypoint.length > 0)
      expect(
        instructions(runtime, 'RUN')
          .map((r) => r.args)
          .join(' '),
      ).toMatch(/\btini\b/);

    // dist/main.js resolved against the runtime WORKDIR is what was copied from the build stage's outDir.
    const script = posix.resolve(workdir(runtime), 'dist/main.js');
    const outDir = posix.resolve(workdir(build), relative(ROOT, parsed.options.outDir ?? ''));
    const fromBuild = copies(runtime).find((c) => c.from === 'build' && c.sources.includes(outDir));
    expect(fromBuild?.dest).toBe(posix.dirname(script));
    // Only the build stage feeds the runtime stage.
    expect(new Set(copies(runtime).flatMap((c) => (c.from ? [c.from] : [])))).toEqual(new Set(['build']));
  });

  it('ships package.json, the pruned node_modules and migrations/ where the gateway looks for them', () => {
    const app = workdir(runtime);
    const placed = new Map(copies(runtime).flatMap((c) => c.sources.map((s) => [s, c] as const)));
    expect(placed.get(`${workdir(build)}/package.json`)?.dest).toBe(`${app}/package.json`);
    expect(placed.get(`${workdir(build)}/node_modules`)?.dest).toBe(`${app}/node_modules`);
    // main.ts reads the version from ../package.json relative to dist/main.js.
    expect(posix.resolve(app, 'dist', '..', 'package.json')).toBe(`${app}/package.json`);

    // Lay out the image's /app as the COPY instructions do and let the registry search it.
    const migrations = placed.get(`${workdir(build)}/migrations`);
    expect(copies(build).find((c) => c.sources.includes('migrations'))?.dest).toBe(
      `${workdir(build)}/migrations`,
    );
    const image = mkdtempSync(join(tmpdir(), 'mcp-gateway-image-'));
    try {
      const root = (p: string) => join(image, posix.relative('/', p));
      mkdirSync(root(`${app}/dist/registry`), { recursive: true });
      cpSync(join(ROOT, 'migrations'), root(migrations?.dest ?? '/nowhere'), { recursive: true });
      const from = pathToFileURL(root(`${app}/dist/registry/migrations.js`)).href;
      for (const dialect of ['sqlite', 'postgres'] as const) {
        expect(findMigrationsFolder(dialect, from)).toBe(root(`${app}/migrations/${dialect}`));
        expect(readdirSync(root(`${app}/migrations/${dialect}/meta`))).toContain('_journal.json');
      }
    } finally {
      rmSync(image, { recursive: true, force: true });
    }
  });

  it('runs as a numeric non-root user that owns /data, set before the command', () => {
    const users = instructions(runtime, 'USER');
    expect(users).toHaveLength(1);
    const user = users[0];
    const [uid, gid] = (user?.args ?? '').split(':');
    expect(uid).toMatch(/^\d+$/);
    expect(Number(uid)).toBeGreaterThan(0);
    if (gid !== undefined) expect(gid).toMatch(/^\d+$/);
    const userAt = runtime.instructions.indexOf(user as never);
    for (const keyword of ['CMD', 'ENTRYPOINT', 'HEALTHCHECK'])
      expect(runtime.instructions.findIndex((i) => i.keyword === keyword)).toBeGreaterThan(userAt);
    // Nothing runs as root after the switch, and the account and its data directory exist.
    expect(runtime.instructions.slice(userAt).some((i) => i.keyword === 'RUN')).toBe(false);
    const setup = instructions(runtime, 'RUN')
      .map((r) => r.args)
      .join(' ');
    expect(setup).toMatch(new RegExp(`useradd .*--uid ${uid}\\b`));
    expect(setup).toMatch(new RegExp(`chown ${uid}:${gid ?? uid} /data\\b`));
  });

  it('configures a container listen address, the exposed port and a database on /data', () => {
    const env = stageEnv(runtime);
    expect(env).toMatchObject({ NODE_ENV: 'production', MCP_GATEWAY_HOST: '0.0.0.0' });
    expect(env['PORT']).toMatch(/^\d+$/);
    expect(instructions(runtime, 'EXPOSE').map((e) => e.args)).toEqual([env['PORT']]);
    expect(env['DATABASE_URL']).toMatch(/^\/data\//);

    // The gateway refuses to start on 0.0.0.0 until an auth mode is chosen, and starts with one (README).
    expect(() => parseConfig(env)).toThrow(/MCP_GATEWAY_AUTH/);
    const config = parseConfig({ ...env, MCP_GATEWAY_AUTH: 'dev-insecure' });
    expect(config).toMatchObject({
      host: '0.0.0.0',
      port: Number(env['PORT']),
      databaseUrl: env['DATABASE_URL'],
    });
  });

  it('keeps local state, dependencies, build output and the git history out of the build context', () => {
    for (const path of [
      'node_modules/hono/package.json',
      '.git/HEAD',
      'data/mcp-gateway.db',
      '.tools/x',
      'dist/main.js',
      '.env',
      'src/runtime/app.test.ts',
      'test/test-app.ts',
    ])
      expect(isIgnored(dockerignore, path), path).toBe(true);
    for (const path of [
      'package.json',
      'package-lock.json',
      'src/main.ts',
      'migrations/sqlite/meta/_journal.json',
    ])
      expect(isIgnored(dockerignore, path), path).toBe(false);
    // Every source COPY'd from the context is in it.
    for (const stage of dockerfile.stages)
      for (const copy of copies(stage).filter((c) => c.from === undefined))
        for (const source of copy.sources) expect(isIgnored(dockerignore, source), source).toBe(false);
  });

  describe('HEALTHCHECK', () => {
    let served: ServedApp;
    let close: () => Promise<void>;
    beforeAll(async () => {
      const test = await createTestApp();
      close = test.close;
      served = await serveApp(test.app);
    });
    afterAll(async () => {
      await served?.close();
      await close?.();
    });

    const healthcheck = () => {
      const check = instructions(runtime, 'HEALTHCHECK');
      expect(check).toHaveLength(1);
      const args = check[0]?.args ?? '';
      expect(args.startsWith('CMD ')).toBe(true);
      const command = execForm(args.slice('CMD '.length).trim());
      // Slim images have no curl or wget: node makes the request.
      expect(command?.[0]).toBe('node');
      return command as string[];
    };
    const run = (command: string[], port: string) =>
      new Promise<number>((done) => {
        execFile(
          process.execPath,
          command.slice(1),
          { env: { ...process.env, PORT: port }, timeout: 10_000 },
          (err) => done(err ? Number((err as { code?: number }).code ?? 1) : 0),
        );
      });

    it('asks the running gateway for /healthz on PORT and passes', async () => {
      const command = healthcheck();
      expect(command.join(' ')).toContain('/healthz');
      expect(await run(command, new URL(served.url).port)).toBe(0);
    });

    it('fails when the gateway answers an error or nothing answers', async () => {
      const probe = await serveApp({ fetch: () => new Response('down', { status: 503 }) });
      const port = new URL(probe.url).port;
      try {
        expect(await run(healthcheck(), port)).toBe(1);
      } finally {
        await probe.close();
      }
      expect(await run(healthcheck(), port)).toBe(1);
    });
  });
});
