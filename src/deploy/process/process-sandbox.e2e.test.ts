/**
 * @module End to end with a real bubblewrap: what a sandboxed child of the process deployer can and cannot see
 * — the gateway's environment (through `/proc`), the registry's files, other processes, other replicas' HOME
 * and `/tmp` — which uid it runs as, what a command outside its view fails with, and `network: "none"`. Runs
 * where bubblewrap works (the self-test the deployer itself runs decides); the start-up checks of the sandbox
 * settings run everywhere.
 */
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../config/index.js';
import { eventually } from '../../../test/polling.js';
import {
  FIXTURE_READ_PATHS,
  FIXTURE_SANDBOX,
  HTTP_SERVER,
  REPO_ROOT,
  SANDBOX_WORKS,
  fastDeployer,
  killAllMarked,
  marker,
  processResource,
} from '../../../test/process-fixtures.js';
import type { Deployer } from '../deployer.js';
import { refOf } from '../resource-change.js';
import type { ProcessDeployerOptions } from './process-deployer.js';
import { startProcessSandbox } from './process-sandbox.js';
import { SANDBOX_HOME } from './sandbox-argv.js';

afterAll(() => killAllMarked());

const isRoot = process.getuid?.() === 0;
const scratch = mkdtempSync(join(tmpdir(), 'mcp-gateway-sandbox-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A fresh directory under the scratch folder, traversable by the sandbox's unprivileged uid. */
function directory(name: string): string {
  const dir = mkdtempSync(join(scratch, `${name}-`));
  chmodSync(dir, 0o755);
  return dir;
}

interface Inspection {
  uid: number;
  gid: number;
  pid: number;
  ppid: number;
  home: string;
  tmp: string;
  cwd: string;
  proc: string[];
  reads: Record<string, { ok: true; value: string } | { ok: false; code: string }>;
  written: { ok: boolean; code?: string }[];
  homeEntries: { ok: true; value: string[] } | { ok: false; code: string };
  tmpEntries: { ok: true; value: string[] } | { ok: false; code: string };
}

async function inspect(url: string, query: Record<string, string | string[]>): Promise<Inspection> {
  const target = new URL('/inspect', url);
  for (const [key, value] of Object.entries(query)) {
    for (const v of Array.isArray(value) ? value : [value]) target.searchParams.append(key, v);
  }
  const res = await fetch(target);
  expect(res.status).toBe(200);
  return (await res.json()) as Inspection;
}

const open: Deployer[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((d) => d.close()));
});
function deployerWith(options: ProcessDeployerOptions = {}) {
  const deployer = fastDeployer(options);
  open.push(deployer);
  return deployer;
}

describe.runIf(SANDBOX_WORKS)('the process sandbox (bubblewrap)', () => {
  const saved = { ...process.env };
  let dataDir: string;
  let readDir: string;
  let temporaryRoot: string;
  beforeAll(() => {
    // What a gateway has and no child may see: its secrets in its environment, its registry on disk.
    process.env.MCP_GATEWAY_SECRET = 'the-gateway-secret-value';
    dataDir = directory('data');
    writeFileSync(join(dataDir, 'mcp-gateway.db'), 'registry content', { mode: 0o644 });
    // A read path the operator lists, with a file only root may read.
    readDir = directory('tools');
    writeFileSync(join(readDir, 'public.txt'), 'public content', { mode: 0o644 });
    writeFileSync(join(readDir, 'root-only.txt'), 'root-only content', { mode: 0o600 });
    temporaryRoot = directory('homes');
  });
  afterAll(() => {
    for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
    Object.assign(process.env, saved);
  });

  const sandbox = () => ({
    ...FIXTURE_SANDBOX,
    readPaths: [...FIXTURE_READ_PATHS, readDir],
    protectedPaths: [{ path: dataDir, what: "the registry's data directory" }],
    temporaryRoot,
  });

  it('hides the gateway: its environment, its registry file, its processes; the child is unprivileged', async () => {
    const deployer = deployerWith({ sandbox: sandbox() });
    const resource = processResource('sees-nothing', { marker: marker() });
    await deployer.apply(resource);
    await eventually(() => deployer.endpoints(refOf(resource)).length === 1, 'ready', 10_000);
    const url = deployer.endpoints(refOf(resource))[0]!.url;
    const first = await inspect(url, {});
    const seen = await inspect(url, {
      read: [
        `/proc/${first.ppid}/environ`,
        '/proc/1/environ',
        `/proc/${process.pid}/environ`,
        join(dataDir, 'mcp-gateway.db'),
        join(readDir, 'public.txt'),
        join(readDir, 'root-only.txt'),
        '/etc/hostname',
      ],
    });
    for (const path of [`/proc/${first.ppid}/environ`, '/proc/1/environ']) {
      const read = seen.reads[path]!;
      expect(read.ok && read.value.includes('the-gateway-secret-value')).toBe(false);
    }
    // The gateway (this test process) is not even a pid in the child's /proc.
    expect(seen.reads[`/proc/${process.pid}/environ`]).toEqual({ ok: false, code: 'ENOENT' });
    expect(seen.proc).not.toContain(String(process.pid));
    // Its own namespace: bubblewrap's init as pid 1, and the server's processes.
    expect(seen.proc).toContain('1');
    expect(seen.proc).toContain(String(seen.pid));
    expect(seen.proc.every((pid) => Number(pid) < 100)).toBe(true);
    // The registry's data directory is not mounted at all.
    expect(seen.reads[join(dataDir, 'mcp-gateway.db')]).toEqual({ ok: false, code: 'ENOENT' });
    // A read path is visible read-only; system directories are there.
    expect(seen.reads[join(readDir, 'public.txt')]).toEqual({ ok: true, value: 'public content' });
    expect(seen.reads['/etc/hostname']?.ok).toBe(true);
    if (isRoot) {
      expect(seen.uid).toBe(65534);
      expect(seen.gid).toBe(65534);
      expect(seen.reads[join(readDir, 'root-only.txt')]).toEqual({ ok: false, code: 'EACCES' });
    } else {
      expect(seen.uid).toBe(process.getuid?.());
    }
    expect(seen.cwd).toBe(SANDBOX_HOME);
  });

  it('gives each replica a private, writable HOME and /tmp, removed when the replica stops', async () => {
    // No read path under /tmp here: its mount point would show inside the private /tmp.
    const deployer = deployerWith({ sandbox: { ...FIXTURE_SANDBOX, temporaryRoot } });
    const resource = processResource('homes', { marker: marker(), replicaCount: 2 });
    await deployer.apply(resource);
    await eventually(() => deployer.endpoints(refOf(resource)).length === 2, 'two ready', 10_000);
    const [a, b] = deployer.endpoints(refOf(resource)).map((e) => e.url);
    const seenByA = await inspect(a!, { write: 'written-by-a' });
    const seenByB = await inspect(b!, { write: 'written-by-b' });
    expect(seenByA.written).toEqual([{ ok: true }, { ok: true }]);
    expect(seenByA).toMatchObject({ home: SANDBOX_HOME, tmp: '/tmp' });
    expect(seenByA.homeEntries).toEqual({ ok: true, value: ['written-by-a'] });
    expect(seenByA.tmpEntries).toEqual({ ok: true, value: ['written-by-a'] });
    expect(seenByB.homeEntries).toEqual({ ok: true, value: ['written-by-b'] });
    expect(seenByB.tmpEntries).toEqual({ ok: true, value: ['written-by-b'] });

    // On the host: one directory per replica, HOME and tmp 0700 and owned by the child's uid.
    const [root] = readdirSync(temporaryRoot).filter((n) => n.startsWith('mcp-gateway-sandbox-'));
    const replicas = readdirSync(join(temporaryRoot, root!)).filter((n) => n.startsWith('adapter-homes-'));
    expect(replicas).toHaveLength(2);
    for (const replica of replicas) {
      for (const dir of ['home', 'tmp']) {
        const stat = statSync(join(temporaryRoot, root!, replica, dir));
        expect(stat.mode & 0o777).toBe(0o700);
        expect(stat.uid).toBe(isRoot ? 65534 : process.getuid?.());
      }
    }
    await deployer.apply({ ...resource, spec: { ...resource.spec, replicaCount: 1 } });
    expect(
      readdirSync(join(temporaryRoot, root!)).filter((n) => n.startsWith('adapter-homes-')),
    ).toHaveLength(1);
    await deployer.close();
    expect(existsSync(join(temporaryRoot, root!))).toBe(false);
  });

  it("removes the private directories a killed gateway left behind, never a live one's", async () => {
    const root = directory('abandoned');
    const gone = spawn('true');
    await new Promise((resolve) => gone.once('exit', resolve));
    mkdirSync(join(root, `mcp-gateway-sandbox-${gone.pid}-AbCdEf`, 'adapter-x-0-123456', 'home'), {
      recursive: true,
    });
    mkdirSync(join(root, `mcp-gateway-sandbox-${process.pid}-GhIjKl`));
    mkdirSync(join(root, 'mcp-gateway-sandbox-test-unrelated'));
    const { sandbox: started } = await startProcessSandbox(
      { ...FIXTURE_SANDBOX, temporaryRoot: root },
      { cwd: REPO_ROOT },
    );
    const left = readdirSync(root).sort();
    await started.close();
    expect(left).toHaveLength(3);
    expect(left).not.toContain(`mcp-gateway-sandbox-${gone.pid}-AbCdEf`);
    expect(left).toContain(`mcp-gateway-sandbox-${process.pid}-GhIjKl`);
    expect(left).toContain('mcp-gateway-sandbox-test-unrelated');
  });

  it('a command outside the sandbox fails naming MCP_GATEWAY_PROCESS_READ_PATHS, and runs once listed', async () => {
    const toolDir = directory('bin');
    const script = join(toolDir, 'serve');
    writeFileSync(script, `#!/bin/sh\nexec node ${HTTP_SERVER}\n`, { mode: 0o755 });
    const hidden = deployerWith({ sandbox: sandbox() });
    const resource = processResource('outside', { command: script, args: [], marker: marker() });
    await hidden.apply(resource);
    let status = await hidden.status(resource);
    await eventually(
      async () => (status = await hidden.status(resource)).replicaStatus.startsWith('Failed'),
      'a failure',
      10_000,
    );
    expect(status.replicaStatus).toBe(
      `Failed: cannot run '${script}' inside the sandbox: No such file or directory (the sandbox sees only the system directories (/usr, /bin, /sbin, /lib*, /etc), its private HOME and /tmp, and the paths listed in MCP_GATEWAY_PROCESS_READ_PATHS)`,
    );
    await hidden.close();

    const listed = deployerWith({ sandbox: { ...sandbox(), readPaths: [...sandbox().readPaths, toolDir] } });
    await listed.apply(resource);
    await eventually(() => listed.endpoints(refOf(resource)).length === 1, 'ready once listed', 10_000);
  });

  it('network "none": a stdio server cannot reach even the host loopback; with the default it can', async () => {
    const listener = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    const { port } = listener.address() as AddressInfo;
    const clients: Client[] = [];
    try {
      const deployer = deployerWith({ sandbox: sandbox() });
      const connectFrom = async (network: 'host' | 'none') => {
        const resource = processResource(`net-${network}`, { transport: 'stdio', marker: marker() });
        const spec = { ...resource.spec, network } as typeof resource.spec;
        await deployer.apply({ ...resource, spec });
        await eventually(() => deployer.endpoints(refOf(resource)).length === 1, 'ready', 10_000);
        const client = new Client({ name: 'net', version: '1.0.0' });
        clients.push(client);
        await client.connect(
          new StreamableHTTPClientTransport(new URL(deployer.endpoints(refOf(resource))[0]!.url)),
        );
        const result = (await client.callTool({ name: 'connect', arguments: { port } })) as {
          content: { text: string }[];
        };
        return result.content[0]!.text;
      };
      expect(await connectFrom('host')).toBe('connected');
      expect(await connectFrom('none')).toBe('ECONNREFUSED');
    } finally {
      await Promise.allSettled(clients.map((c) => c.close()));
      await new Promise((resolve) => listener.close(resolve));
    }
  });
});

describe('the process sandbox at start', () => {
  it('auto without bubblewrap: children run unsandboxed, with one warning saying what is not isolated', async () => {
    const { sandbox, warning } = await startProcessSandbox(
      { mode: 'auto' },
      { cwd: REPO_ROOT, searchPath: '/nonexistent' },
    );
    expect(sandbox.kind).toBe('off');
    expect(warning).toMatch(/^process sandbox off: bwrap is not on PATH\. Children of command adapters/);
    expect(warning).toMatch(/read every file it can \(the registry's data directory/);
    expect(warning).toMatch(/read their environment through \/proc/);
    expect(sandbox.networkNoneUnavailable).toMatch(/sandbox is off/);
  });

  it('bwrap asked for and unavailable: a ConfigError naming the variable', async () => {
    const failure = await startProcessSandbox(
      { mode: 'bwrap' },
      { cwd: REPO_ROOT, searchPath: '/nonexistent' },
    ).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(ConfigError);
    expect((failure as ConfigError).problems).toEqual([
      'MCP_GATEWAY_PROCESS_SANDBOX=bwrap, but bubblewrap cannot sandbox children here: bwrap is not on PATH',
    ]);
  });

  it.runIf(SANDBOX_WORKS)(
    'refuses read paths that are missing, cover its mounts, or reach a protected path through a symlink',
    async () => {
      const dataDir = directory('data');
      const link = join(directory('links'), 'to-data');
      symlinkSync(dataDir, link);
      const home = directory('homes');
      mkdirSync(join(home, 'x'));
      const problemsOf = async (readPaths: string[]) => {
        const failure = await startProcessSandbox(
          {
            mode: 'auto',
            readPaths,
            protectedPaths: [{ path: dataDir, what: "the registry's data directory" }],
            workingDirectory: REPO_ROOT,
            temporaryRoot: home,
          },
          { cwd: REPO_ROOT },
        ).then(
          async ({ sandbox }) => {
            await sandbox.close();
            return [];
          },
          (err: unknown) => (err as ConfigError).problems,
        );
        return failure;
      };
      expect(await problemsOf([join(scratch, 'missing')])).toEqual([
        `MCP_GATEWAY_PROCESS_READ_PATHS: ${join(scratch, 'missing')} does not exist`,
      ]);
      expect((await problemsOf([link])).join('\n')).toContain(
        `MCP_GATEWAY_PROCESS_READ_PATHS: ${link} (a link to ${dataDir}) would let children see the registry's data directory (${dataDir})`,
      );
      expect((await problemsOf(['/tmp'])).join('\n')).toContain("would cover the sandbox's private /tmp");
      expect((await problemsOf([home])).join('\n')).toContain("other replicas' private directories");
      expect((await problemsOf(['/proc/self'])).join('\n')).toContain('which the sandbox provides itself');
      expect(await problemsOf([join(REPO_ROOT, 'node_modules')])).toEqual([]);

      // A registry kept under /etc would be readable by every child: the sandbox refuses to start so.
      const inEtc = await startProcessSandbox(
        {
          mode: 'auto',
          protectedPaths: [{ path: '/etc/mcp-gateway', what: "the registry's data directory" }],
          workingDirectory: REPO_ROOT,
        },
        { cwd: REPO_ROOT },
      ).catch((err: unknown) => err);
      expect((inEtc as ConfigError).problems).toEqual([
        "the registry's data directory (/etc/mcp-gateway) lies inside /etc, which every sandboxed child sees read-only; move it out",
      ]);
    },
  );
});
