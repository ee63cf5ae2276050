/**
 * The `mcp-gateway` client commands against a real gateway process (`src/main.ts`): the CLI runs in-process
 * (`runCli` with captured streams) for speed, and the bin itself (`src/cli.ts`) is spawned where its exit code
 * and streams are the point. Covers list/get/create/update/delete, If-Match conflicts, secrets (the value never
 * printed), apply → export → apply (the second apply changes nothing), --prune, --dry-run, file errors with
 * line numbers, an unreachable gateway, logs --follow and --help everywhere.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { startGatewayProcess } from '../../test/gateway-process.js';
import type { GatewayProcess } from '../../test/gateway-process.js';
import { STDIO_SERVER } from '../../test/process-fixtures.js';
import { MARKER_VARIABLE, killMarked, newMarker } from '../../test/process-tree.js';
import { startTokenIssuer } from '../../test/token-issuer.js';
import { runCli } from './run-cli.js';

const CLI = fileURLToPath(new URL('../cli.ts', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'mcp-gateway-cli-'));
const marker = newMarker();
let gateway: GatewayProcess;

beforeAll(async () => {
  gateway = await startGatewayProcess({ DATABASE_URL: ':memory:' });
}, 60_000);
afterAll(async () => {
  await gateway?.stop();
  killMarked(marker);
  rmSync(dir, { recursive: true, force: true });
});

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Output captured while the command still runs (for `--follow`). */
interface Live {
  stdout: string;
  stderr: string;
}

function cli(
  args: string[],
  options: {
    stdin?: string;
    fetch?: typeof fetch;
    signal?: AbortSignal;
    live?: Live;
    env?: Record<string, string>;
  } = {},
): Promise<Run> {
  const live = options.live ?? { stdout: '', stderr: '' };
  return runCli(args, {
    stdout: { write: (text: string) => (live.stdout += text) },
    stderr: { write: (text: string) => (live.stderr += text) },
    stdin: Readable.from(options.stdin === undefined ? [] : [Buffer.from(options.stdin)]),
    env: options.env ?? { MCP_GATEWAY_URL: gateway.url },
    ...(options.fetch && { fetch: options.fetch }),
    ...(options.signal && { signal: options.signal }),
  }).then((code) => ({ code, stdout: live.stdout, stderr: live.stderr }));
}

/** Runs the real bin. */
function bin(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], {
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

const api = (path: string, init?: RequestInit) => fetch(`${gateway.url}${path}`, init);

/** ETag and lastUpdatedAt of every adapter and tool: what changes when anything is written. */
async function fingerprint(): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const kind of ['adapters', 'tools']) {
    for (const r of (await (await api(`/${kind}`)).json()) as { name: string; lastUpdatedAt: string }[]) {
      const etag = (await api(`/${kind}/${r.name}`)).headers.get('etag');
      out[`${kind}/${r.name}`] = `${etag} ${r.lastUpdatedAt}`;
    }
  }
  return out;
}

async function deleteEverything() {
  for (const kind of ['toolsets', 'tools', 'adapters']) {
    for (const r of (await (await api(`/${kind}`)).json()) as { name: string }[])
      expect((await api(`/${kind}/${r.name}`, { method: 'DELETE' })).status).toBe(204);
  }
}

const SCORE_TOOL = `
    toolDefinition:
      tool:
        name: score
        description: Scores a text
        inputSchema: { type: object, properties: { text: { type: string } } }`;

/** A hand-written file that leaves every default out (so apply must know them to be idempotent). */
const GATEWAY_YAML = `# the registry, as code
adapters:
  - name: weather
    endpoints: [http://127.0.0.1:8000/mcp]
    description: Forecasts
  - name: images
    imageName: example/images
    imageVersion: "1.0.0"
    environmentVariables: { LOG_LEVEL: info }
tools:
  - name: score
    endpoints: [http://127.0.0.1:9000/score]${SCORE_TOOL}
`;

describe('adapters and tools', () => {
  it('create (flags), list, get, update, delete round-trip', async () => {
    const created = await cli([
      'adapters',
      'create',
      'flags',
      '--endpoint',
      'http://127.0.0.1:8000/mcp',
      '--description',
      'By flags',
      '--env',
      'A=1',
      '-o',
      'json',
    ]);
    expect(created).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(created.stdout)).toMatchObject({
      name: 'flags',
      endpoints: ['http://127.0.0.1:8000/mcp'],
      description: 'By flags',
      environmentVariables: { A: '1' },
    });

    const list = await cli(['adapters', 'list']);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^NAME\s+RUNTIME\s+REPLICAS/);
    expect(list.stdout).toMatch(/\nflags\s+endpoints\s+1\s+dev\s+\S+\s+By flags\n/);

    const got = await cli(['adapters', 'get', 'flags', '-o', 'yaml']);
    expect(parse(got.stdout)).toMatchObject({ name: 'flags', description: 'By flags' });
    expect((await cli(['adapters', 'get', 'flags'])).stdout).toMatch(/\netag\s+"\S+"\n/);

    const updated = await cli(['adapters', 'update', 'flags', '--description', 'Changed', '--env', 'B=2']);
    expect(updated.code).toBe(0);
    const stored = (await (await api('/adapters/flags')).json()) as Record<string, unknown>;
    // Flags change only what they name; the rest of the stored adapter stays.
    expect(stored).toMatchObject({
      description: 'Changed',
      environmentVariables: { A: '1', B: '2' },
      endpoints: ['http://127.0.0.1:8000/mcp'],
    });

    expect(await cli(['adapters', 'delete', 'flags'])).toMatchObject({
      code: 0,
      stderr: 'deleted adapters/flags\n',
    });
    const gone = await cli(['adapters', 'get', 'flags']);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toMatch(/^mcp-gateway: 404 \w+: .*flags/);
    expect(gone.stdout).toBe('');
  });

  it('create and update a tool from a YAML file (-f), and refuse a taken name with exit 1', async () => {
    const toolFile = (port: number) => `name: score-f
endpoints: [http://127.0.0.1:${port}/score]
toolDefinition:
  tool: { name: score-f, inputSchema: { type: object } }
`;
    const path = file('score.yaml', toolFile(9000));
    expect((await cli(['tools', 'create', '-f', path])).code).toBe(0);
    const again = await cli(['tools', 'create', '-f', path]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/409/);

    const changed = file('score2.yaml', toolFile(9001));
    expect((await cli(['tools', 'update', '-f', changed])).code).toBe(0);
    const stored = (await (await api('/tools/score-f')).json()) as { endpoints: string[] };
    expect(stored.endpoints).toEqual(['http://127.0.0.1:9001/score']);
    expect((await cli(['tools', 'delete', 'score-f'])).code).toBe(0);
  });

  it('update refuses (412, exit 1) when the resource changed after the GET it started from', async () => {
    await cli(['adapters', 'create', 'race', '--endpoint', 'http://127.0.0.1:8000/mcp']);
    // Someone else's update lands between the CLI's GET and its PUT.
    const interfering: typeof fetch = async (input, init) => {
      if (init?.method === 'PUT') {
        const other = await api('/adapters/race', {
          method: 'PUT',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            name: 'race',
            endpoints: ['http://127.0.0.1:8000/mcp'],
            description: 'Theirs',
          }),
        });
        expect(other.status).toBe(200);
      }
      return fetch(input, init);
    };
    const run = await cli(['adapters', 'update', 'race', '--description', 'Mine'], { fetch: interfering });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^mcp-gateway: 412 /);
    expect(((await (await api('/adapters/race')).json()) as { description: string }).description).toBe(
      'Theirs',
    );

    // An ETag read earlier and passed with --if-match is checked the same way.
    const stale = (await api('/adapters/race')).headers.get('etag')!;
    await cli(['adapters', 'update', 'race', '--description', 'Second']);
    const late = await cli(['adapters', 'update', 'race', '--description', 'Third', '--if-match', stale]);
    expect(late.code).toBe(1);
    expect(late.stderr).toMatch(/412/);
    expect((await cli(['adapters', 'delete', 'race', '--if-match', stale])).code).toBe(1);
    expect((await cli(['adapters', 'delete', 'race'])).code).toBe(0);
  });

  it('status and logs of a command adapter; logs --follow streams until interrupted (exit 130)', async () => {
    const created = await cli([
      'adapters',
      'create',
      'echo',
      '--command',
      process.execPath,
      '--arg',
      STDIO_SERVER,
      '--env',
      `${MARKER_VARIABLE}=${marker}`,
    ]);
    expect(created.code).toBe(0);
    let status: Run;
    for (;;) {
      status = await cli(['adapters', 'status', 'echo', '-o', 'json']);
      expect(status.code).toBe(0);
      if ((JSON.parse(status.stdout) as { readyReplicas: number }).readyReplicas === 1) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const table = await cli(['adapters', 'status', 'echo']);
    expect(table.stdout).toMatch(/^Healthy.*\(command\)\nINSTANCE\s+READY\s+STATE/);
    expect(table.stdout).toMatch(/\n0\s+yes\s+/);

    const logs = await cli(['adapters', 'logs', 'echo', '--tail', '50']);
    expect(logs.code).toBe(0);
    expect(logs.stdout).toContain('stdio-echo-server started pid');

    const live: Live = { stdout: '', stderr: '' };
    const interrupt = new AbortController();
    const following = cli(['adapters', 'logs', 'echo', '--follow'], { signal: interrupt.signal, live });
    while (!live.stdout.includes('stdio-echo-server started pid'))
      await new Promise((r) => setTimeout(r, 50));
    interrupt.abort();
    expect((await following).code).toBe(130);
    expect((await cli(['adapters', 'delete', 'echo'])).code).toBe(0);
  });
});

describe('secrets', () => {
  const VALUE = 'sk-live-0123456789-never-shown';

  it('creates from stdin and --from-file, rotates, lists and deletes without ever printing the value', async () => {
    const runs: Run[] = [];
    const keep = async (p: Promise<Run>) => {
      const r = await p;
      runs.push(r);
      return r;
    };
    expect((await keep(cli(['secrets', 'create', 'gh', '-o', 'json'], { stdin: `${VALUE}\n` }))).code).toBe(
      0,
    );
    const valueFile = file('value.txt', `${VALUE}-2\n`);
    expect((await keep(cli(['secrets', 'create', 'gh2', '--from-file', valueFile]))).code).toBe(0);
    expect((await keep(cli(['secrets', 'update', 'gh'], { stdin: `${VALUE}-3` }))).code).toBe(0);
    for (const format of ['table', 'json', 'yaml']) {
      expect((await keep(cli(['secrets', 'list', '-o', format]))).stdout).toContain('gh2');
      expect((await keep(cli(['secrets', 'get', 'gh', '-o', format]))).stdout).toContain('gh');
    }
    for (const r of runs) expect(`${r.stdout}${r.stderr}`).not.toContain(VALUE);
    expect((await cli(['secrets', 'delete', 'gh'])).code).toBe(0);
    expect((await cli(['secrets', 'delete', 'gh2'])).code).toBe(0);
  });

  it('refuses a value on the command line (exit 2, nothing stored) and says why', async () => {
    const run = await cli(['secrets', 'create', 'argv', VALUE]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/never taken from the command line.*ps/);
    expect(run.stderr).not.toContain(VALUE);
    expect((await api('/secrets/argv')).status).toBe(404);
    expect((await cli(['secrets', 'create', '--help'])).stdout).toMatch(/ps, \/proc\/PID\/cmdline/);
  });
});

describe('toolsets', () => {
  it('create (flags), list, get with unresolved members, update (flags and -f), stale If-Match, delete', async () => {
    const created = await cli([
      'toolsets',
      'create',
      'team',
      '--tool',
      'score',
      '--tool',
      'github__*',
      '--role',
      'team',
      '-o',
      'json',
    ]);
    expect(created.code).toBe(0);
    expect(JSON.parse(created.stdout)).toMatchObject({
      name: 'team',
      tools: ['score', 'github__*'],
      requiredRoles: ['team'],
      discovery: 'list',
      endpoint: '/toolsets/team/mcp',
    });
    const listed = await cli(['toolsets', 'list']);
    expect(listed.stdout).toMatch(/team\s+score,github__\*/);
    const got = JSON.parse((await cli(['toolsets', 'get', 'team', '-o', 'json'])).stdout) as {
      status: { unresolved: string[] };
    };
    expect(got.status.unresolved).toEqual(['score', 'github__*']);
    const etag = (await api('/toolsets/team')).headers.get('etag')!;

    const updated = await cli(['toolsets', 'update', 'team', '--tool', 'score', '--search', '-o', 'json']);
    expect(updated.code).toBe(0);
    expect(JSON.parse(updated.stdout)).toMatchObject({
      tools: ['score'],
      discovery: 'search',
      requiredRoles: ['team'],
    });
    const stale = await cli(['toolsets', 'update', 'team', '--description', 'x', '--if-match', etag]);
    expect(stale.code).toBe(1);
    expect(stale.stderr).toMatch(/412|has changed/);

    const yaml = file(
      'toolset.yaml',
      'name: team\ntools:\n  - score\n  - { name: github__create_issue, rename: file_bug }\nrequiredRoles: [team]\n',
    );
    const fromFile = await cli(['toolsets', 'update', '-f', yaml, '-o', 'json']);
    expect(fromFile.code).toBe(0);
    expect(JSON.parse(fromFile.stdout)).toMatchObject({
      tools: ['score', { name: 'github__create_issue', rename: 'file_bug' }],
      discovery: 'list',
    });
    const bad = await cli(['toolsets', 'create', 'dup', '--tool', 'a', '--tool', 'a']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("tools.1: 'a' is already tools.0");
    expect((await cli(['toolsets', 'delete', 'team'])).code).toBe(0);
    expect((await api('/toolsets/team')).status).toBe(404);
  });
});

describe('apply and export', () => {
  it('applies a file to an empty gateway; export; applying either again changes nothing', async () => {
    await deleteEverything();
    const path = file('gateway.yaml', GATEWAY_YAML);
    const first = await cli(['apply', '-f', path]);
    expect(first.code).toBe(0);
    expect(first.stdout).toBe(
      '+ adapters/weather\n+ adapters/images\n+ tools/score\n3 created, 0 updated, 0 deleted, 0 unchanged\n',
    );
    const before = await fingerprint();
    expect(Object.keys(before).sort()).toEqual(['adapters/images', 'adapters/weather', 'tools/score']);

    const second = await cli(['apply', '-f', path]);
    expect(second).toMatchObject({ code: 0, stdout: '0 created, 0 updated, 0 deleted, 3 unchanged\n' });
    expect(await fingerprint()).toEqual(before);

    const exported = await cli(['export']);
    expect(exported.code).toBe(0);
    const exportedFile = parse(exported.stdout) as { adapters: Record<string, unknown>[] };
    // The file form: no read-only fields, no defaults.
    expect(exportedFile.adapters.find((a) => a.name === 'weather')).toEqual({
      name: 'weather',
      description: 'Forecasts',
      endpoints: ['http://127.0.0.1:8000/mcp'],
    });
    const exportPath = file('exported.yaml', exported.stdout);
    expect((await cli(['apply', '-f', exportPath])).stdout).toBe(
      '0 created, 0 updated, 0 deleted, 3 unchanged\n',
    );
    expect(await fingerprint()).toEqual(before);

    // Round trip: the export recreates the same registry on an empty gateway, and exports the same again.
    await deleteEverything();
    expect((await cli(['apply', '-f', exportPath])).code).toBe(0);
    expect((await cli(['export'])).stdout).toBe(exported.stdout);
    expect((await cli(['export', '-o', 'json'])).stdout).toBe(
      `${JSON.stringify(parse(exported.stdout), null, 2)}\n`,
    );
  });

  it('applies, exports and prunes toolsets beside adapters and tools, idempotently', async () => {
    await deleteEverything();
    const withToolset = `${GATEWAY_YAML}toolsets:
  - name: team
    tools: [score, { name: weather__forecast, rename: forecast }]
    requiredRoles: [team]
`;
    const path = file('with-toolset.yaml', withToolset);
    const first = await cli(['apply', '-f', path]);
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('+ toolsets/team\n4 created');
    expect((await cli(['apply', '-f', path])).stdout).toBe('0 created, 0 updated, 0 deleted, 4 unchanged\n');

    const exported = parse((await cli(['export'])).stdout) as { toolsets: unknown[] };
    // No read-only fields (endpoint, status, createdBy, …) and no defaults (description, discovery).
    expect(exported.toolsets).toEqual([
      {
        name: 'team',
        tools: ['score', { name: 'weather__forecast', rename: 'forecast' }],
        requiredRoles: ['team'],
      },
    ]);

    const changed = file(
      'changed-toolset.yaml',
      withToolset.replace('requiredRoles: [team]', 'discovery: search'),
    );
    const dry = await cli(['apply', '-f', changed, '--dry-run']);
    expect(dry.stdout).toContain(
      '~ toolsets/team\n    requiredRoles: ["team"] → []\n    discovery: "list" → "search"',
    );
    expect((await cli(['apply', '-f', changed])).code).toBe(0);
    expect(await (await api('/toolsets/team')).json()).toMatchObject({
      discovery: 'search',
      requiredRoles: [],
    });

    // A field the file's checks know is refused before anything is sent (exit 2); a rule only the gateway
    // knows (a member listed twice) stops apply at that entry (exit 1).
    const bad = await cli([
      'apply',
      '-f',
      file('bad-toolset.yaml', 'toolsets:\n  - name: t\n    tools: []\n    discovery: magic\n'),
    ]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('toolsets[0].discovery: must be one of list, search');
    const twice = await cli([
      'apply',
      '-f',
      file('twice.yaml', 'toolsets:\n  - name: t\n    tools: [a, a]\n'),
    ]);
    expect(twice.code).toBe(1);
    expect(twice.stderr).toContain("tools.1: 'a' is already tools.0");
    expect((await api('/toolsets/t')).status).toBe(404);
    const pruned = await cli(['apply', '-f', file('plain.yaml', GATEWAY_YAML), '--prune']);
    expect(pruned.stdout).toContain('- toolsets/team');
    expect((await api('/toolsets/team')).status).toBe(404);
  });

  it('--dry-run prints the diff and changes nothing; then apply updates with If-Match and --prune deletes', async () => {
    await deleteEverything();
    expect((await cli(['apply', '-f', file('base.yaml', GATEWAY_YAML)])).code).toBe(0);
    const changed = file(
      'changed.yaml',
      GATEWAY_YAML.replace('description: Forecasts', 'description: Forecasts, hourly').replace(
        / {2}- name: images[\s\S]*?(?=tools:)/,
        '  - name: added\n    endpoints: [http://127.0.0.1:8001/mcp]\n',
      ),
    );
    const before = await fingerprint();

    const dry = await cli(['apply', '-f', changed, '--dry-run', '--prune']);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toBe(
      [
        '~ adapters/weather',
        '    description: "Forecasts" → "Forecasts, hourly"',
        '+ adapters/added',
        '- adapters/images',
        'dry run: 1 to create, 1 to update, 1 to delete, 1 unchanged',
        '',
      ].join('\n'),
    );
    expect(await fingerprint()).toEqual(before);
    expect((await cli(['apply', '-f', changed, '--dry-run', '--exit-code'])).code).toBe(4);
    const plan = await cli(['apply', '-f', changed, '--dry-run', '--prune', '-o', 'json']);
    expect(JSON.parse(plan.stdout)).toContainEqual({ action: 'delete', kind: 'adapters', name: 'images' });
    expect(await fingerprint()).toEqual(before);

    // Without --prune what the file no longer lists stays.
    const kept = await cli(['apply', '-f', changed]);
    expect(kept.stdout).toMatch(
      /1 created, 1 updated, 0 deleted, 1 unchanged, 1 not in the file \(kept; --prune deletes them\)\n$/,
    );
    expect((await api('/adapters/images')).status).toBe(200);
    expect(((await (await api('/adapters/weather')).json()) as { description: string }).description).toBe(
      'Forecasts, hourly',
    );

    const pruned = await cli(['apply', '-f', changed, '--prune']);
    expect(pruned.stdout).toBe('- adapters/images\n0 created, 0 updated, 1 deleted, 3 unchanged\n');
    expect((await api('/adapters/images')).status).toBe(404);
    expect((await cli(['apply', '-f', changed, '--dry-run', '--exit-code', '--prune'])).code).toBe(0);
  });

  it('apply updates with If-Match: a change made after apply read the resource stops it with exit 1', async () => {
    await deleteEverything();
    const path = file('race.yaml', GATEWAY_YAML);
    expect((await cli(['apply', '-f', path])).code).toBe(0);
    const interfering: typeof fetch = async (input, init) => {
      if (init?.method === 'PUT') {
        const other = await api('/adapters/weather', {
          method: 'PUT',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            name: 'weather',
            endpoints: ['http://127.0.0.1:8000/mcp'],
            description: 'Theirs',
          }),
        });
        expect(other.status).toBe(200);
      }
      return fetch(input, init);
    };
    const changed = file('race2.yaml', GATEWAY_YAML.replace('description: Forecasts', 'description: Mine'));
    const run = await cli(['apply', '-f', changed], { fetch: interfering });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /apply stopped at update adapters\/weather: .*\(it changed since apply read it/,
    );
    expect(((await (await api('/adapters/weather')).json()) as { description: string }).description).toBe(
      'Theirs',
    );
  });

  it('a file refers to secrets by name (secretEnvironmentVariables), never holds a value, and round-trips', async () => {
    await deleteEverything();
    const value = 'sk-in-file-test-0123456789';
    expect((await cli(['secrets', 'create', 'api-key'], { stdin: value })).code).toBe(0);
    const path = file(
      'secret-ref.yaml',
      `adapters:
  - name: withsecret
    imageName: example/withsecret
    imageVersion: "1"
    secretEnvironmentVariables: { API_KEY: api-key }
`,
    );
    expect((await cli(['apply', '-f', path])).stdout).toBe(
      '+ adapters/withsecret\n1 created, 0 updated, 0 deleted, 0 unchanged\n',
    );
    expect((await cli(['apply', '-f', path])).stdout).toBe('0 created, 0 updated, 0 deleted, 1 unchanged\n');
    const exported = await cli(['export']);
    expect(parse(exported.stdout)).toEqual({
      adapters: [
        {
          name: 'withsecret',
          imageName: 'example/withsecret',
          imageVersion: '1',
          secretEnvironmentVariables: { API_KEY: 'api-key' },
        },
      ],
      tools: [],
    });
    expect(exported.stdout).not.toContain(value);

    expect((await cli(['secrets', 'list'])).stdout).toMatch(/\napi-key\s.*\sadapters\/withsecret\n/);
    const inUse = await cli(['secrets', 'delete', 'api-key']);
    expect(inUse.code).toBe(1);
    expect(inUse.stderr).toMatch(/^mcp-gateway: 409 /);
    expect((await cli(['secrets', 'delete', 'api-key', '--force'])).code).toBe(0);
    expect((await cli(['adapters', 'delete', 'withsecret'])).code).toBe(0);
  });

  it('a bad file is reported with line numbers, exit 2, and nothing is changed', async () => {
    await deleteEverything();
    const bad = file(
      'bad.yaml',
      `adapters:
  - name: fine
    endpoints: [http://127.0.0.1:8000/mcp]
  - name: broken
    endpoints: [http://127.0.0.1:8000/mcp]
    replicaCount: many
`,
    );
    const run = await cli(['apply', '-f', bad]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`${bad}:6:19: adapters[1].replicaCount: must be an integer`);
    expect(run.stdout).toBe('');
    expect((await api('/adapters/fine')).status).toBe(404);

    // The gateway's own rules, from /schemas/gateway.json: patterns the CLI's own checks do not know.
    const ruled = file(
      'ruled.yaml',
      `adapters:
  - name: fine
    endpoints: [http://127.0.0.1:8000/mcp]
  - name: image
    imageName: Not An Image
    imageVersion: "1"
  - name: version
    imageName: example/version
    imageVersion: -bad
`,
    );
    const schemaRun = await cli(['apply', '-f', ruled]);
    expect(schemaRun.code).toBe(2);
    expect(schemaRun.stderr).toMatch(new RegExp(`${ruled}:5:16: adapters\\[1\\]\\.imageName: .*pattern`));
    expect(schemaRun.stderr).toMatch(new RegExp(`${ruled}:9:19: adapters\\[2\\]\\.imageVersion: .*pattern`));
    expect((await api('/adapters/fine')).status).toBe(404);

    const syntax = await cli(['apply', '-f', file('syntax.yaml', 'adapters:\n  - name: x\n   bad: [\n')]);
    expect(syntax.code).toBe(2);
    expect(syntax.stderr).toMatch(/syntax\.yaml:3:\d+: /);
  });
});

describe('a gateway that requires a token', () => {
  it('sends MCP_GATEWAY_TOKEN or --token as a bearer token, and prints neither', async () => {
    const AUDIENCE = 'https://gateway.test';
    const issuer = await startTokenIssuer({ audience: AUDIENCE });
    const secured = await startGatewayProcess({
      DATABASE_URL: ':memory:',
      MCP_GATEWAY_AUTH: 'jwt',
      MCP_GATEWAY_JWKS_URL: issuer.jwksUri,
      MCP_GATEWAY_JWT_ISSUER: issuer.issuer,
      MCP_GATEWAY_AUDIENCE: AUDIENCE,
    });
    try {
      const token = await issuer.mint({ sub: 'alice', roles: ['mcp.admin'] });
      const env = { MCP_GATEWAY_URL: secured.url };
      const anonymous = await cli(['adapters', 'list'], { env });
      expect(anonymous.code).toBe(1);
      expect(anonymous.stderr).toMatch(/^mcp-gateway: 401 /);

      const created = await cli(
        ['adapters', 'create', 'mine', '--endpoint', 'http://127.0.0.1:8000/mcp', '-o', 'json'],
        { env: { ...env, MCP_GATEWAY_TOKEN: token } },
      );
      expect(created.code).toBe(0);
      expect(JSON.parse(created.stdout)).toMatchObject({ name: 'mine', createdBy: 'alice' });
      const listed = await cli(['adapters', 'list', '--token', token], { env });
      expect(listed.stdout).toMatch(/\nmine\s+endpoints\s+1\s+alice\s/);

      const refused = await cli(['adapters', 'get', 'absent', '--token', token], { env });
      expect(refused.code).toBe(1);
      for (const run of [created, listed, refused]) expect(run.stdout + run.stderr).not.toContain(token);
    } finally {
      await secured.stop();
      await issuer.close();
    }
  }, 90_000);
});

describe('the bin', () => {
  it('exits 3 when nothing listens at --url, 2 on a usage error, and never echoes the token', async () => {
    const closed = await new Promise<number>((resolve) => {
      const server = createServer();
      server.listen(0, '127.0.0.1', () => {
        const { port } = server.address() as AddressInfo;
        server.close(() => resolve(port));
      });
    });
    const token = 'tok-0123456789-secret';
    const down = await bin(['adapters', 'list', '--url', `http://127.0.0.1:${closed}`], {
      MCP_GATEWAY_TOKEN: token,
    });
    expect(down.code).toBe(3);
    expect(down.stderr).toMatch(/cannot reach the gateway at http:\/\/127\.0\.0\.1:\d+: ECONNREFUSED/);
    expect(down.stdout + down.stderr).not.toContain(token);

    const usage = await bin(['adapters', 'list', '--bogus', '--token', token]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/--bogus/);
    expect(usage.stdout + usage.stderr).not.toContain(token);
  }, 60_000);

  it('talks to the gateway from MCP_GATEWAY_URL and keeps the help of serve and stdio', async () => {
    const listed = await bin(['tools', 'list', '-o', 'json'], { MCP_GATEWAY_URL: gateway.url });
    expect(listed.code).toBe(0);
    expect(Array.isArray(JSON.parse(listed.stdout))).toBe(true);
    const help = await bin(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/mcp-gateway stdio/);
    expect(help.stdout).toMatch(/apply\s+make the registry match a file/);
    expect(help.stdout).toMatch(/3 cannot reach the gateway/);
  }, 60_000);

  it('has --help for every command and subcommand (exit 0), and exit 2 for an unknown one', async () => {
    for (const group of ['adapters', 'tools', 'secrets']) {
      const groupHelp = await cli([group, '--help']);
      expect(groupHelp.code).toBe(0);
      const subs = [...groupHelp.stdout.matchAll(/^ {2}(\w+) {2,}/gm)].map((m) => m[1]!);
      expect(subs.length).toBeGreaterThanOrEqual(5);
      for (const sub of subs) {
        const run = await cli([group, sub, '--help']);
        expect(run, `${group} ${sub} --help`).toMatchObject({ code: 0 });
        expect(run.stdout).toMatch(new RegExp(`^Usage: mcp-gateway ${group} ${sub}`));
      }
    }
    for (const top of ['apply', 'export']) expect((await cli([top, '-h'])).stdout).toMatch(/^Usage: /);
    expect((await cli(['adapters', 'frob'])).code).toBe(2);
    expect((await cli(['frob'])).code).toBe(2);
    expect((await cli(['adapters', 'list', '-o', 'xml'])).code).toBe(2);
  });
});
