/**
 * `MCP_GATEWAY_CONFIG` end to end: the real gateway process seeds an empty registry from the file before it
 * listens, a restart with an edited file changes and removes only what the file manages (an adapter created
 * through the API stays), and a file that does not check stops the start with exit 2 and its line on stderr.
 * With TEST_DATABASE_URL: two gateways starting at once with the same file on one Postgres registry both start.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runGatewayToExit, startGatewayProcess } from '../test/gateway-process.js';
import type { GatewayProcess } from '../test/gateway-process.js';
import { TestDatabases } from '../test/postgres-databases.js';

const FIRST = `# yaml-language-server: $schema=http://127.0.0.1:3000/schemas/gateway.json
adapters:
  - name: weather
    endpoints: [http://127.0.0.1:8000/mcp]
    description: Forecasts
  - name: news
    endpoints: [http://127.0.0.1:8001/mcp]
tools:
  - name: score
    endpoints: [http://127.0.0.1:8100/score]
    toolDefinition:
      tool: { name: score, description: Scores a text, inputSchema: { type: object } }
`;

const EDITED = `adapters:
  - name: weather
    endpoints: [http://127.0.0.1:8000/mcp]
    description: Forecasts, hourly
  - name: maps
    endpoints: [http://127.0.0.1:8002/mcp]
`;

const directory = mkdtempSync(join(tmpdir(), 'mcp-gateway-config-file-'));
const serverUrl = process.env.TEST_DATABASE_URL;
const databases = serverUrl ? new TestDatabases(serverUrl) : undefined;
afterAll(async () => {
  rmSync(directory, { recursive: true, force: true });
  await databases?.dropAll();
});
const configFile = join(directory, 'gateway.yaml');
const env = { DATABASE_URL: join(directory, 'registry.db'), MCP_GATEWAY_CONFIG: configFile };

// The file's resources belong to the system principal: an administrator reads them (or a role they list).
const asAdmin = { headers: { 'x-dev-roles': 'mcp.admin' } };
const read = async (gateway: GatewayProcess, path: string) =>
  (await (await fetch(`${gateway.url}${path}`, asAdmin)).json()) as unknown;
const names = async (gateway: GatewayProcess, kind: 'adapters' | 'tools') =>
  ((await read(gateway, `/${kind}`)) as { name: string }[]).map((r) => r.name);

describe('MCP_GATEWAY_CONFIG: the configuration file applied at start', () => {
  it('seeds a fresh gateway, and a restart with an edited file changes only what the file manages', async () => {
    writeFileSync(configFile, FIRST);
    let gateway = await startGatewayProcess(env);
    try {
      // Listening means applied: the gateway answers only once the registry matches the file.
      expect((await fetch(`${gateway.url}/readyz`)).status).toBe(200);
      expect(await names(gateway, 'adapters')).toEqual(['news', 'weather']);
      expect(await names(gateway, 'tools')).toEqual(['score']);
      const weather = (await read(gateway, '/adapters/weather')) as Record<string, unknown>;
      expect(weather).toMatchObject({ createdBy: 'system:config-file', description: 'Forecasts' });
      expect(gateway.logs.find((l) => l.msg === 'configuration file applied')).toMatchObject({
        created: 3,
        file: configFile,
      });
      const mine = await fetch(`${gateway.url}/adapters`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'mine', endpoints: ['http://127.0.0.1:8009/mcp'] }),
      });
      expect(mine.status).toBe(201);
    } finally {
      expect(await gateway.stop()).toBe(0);
    }

    writeFileSync(configFile, EDITED);
    gateway = await startGatewayProcess(env);
    try {
      expect(await names(gateway, 'adapters')).toEqual(['maps', 'mine', 'weather']);
      expect(await names(gateway, 'tools')).toEqual([]);
      const weather = (await read(gateway, '/adapters/weather')) as Record<string, unknown>;
      expect(weather.description).toBe('Forecasts, hourly');
    } finally {
      expect(await gateway.stop()).toBe(0);
    }
  });

  it('stops the start with exit 2 and the file’s line on stderr when the file does not check', async () => {
    const bad = join(directory, 'bad.yaml');
    writeFileSync(bad, EDITED.replace('description: Forecasts, hourly', 'replicaCount: two'));
    const exited = await runGatewayToExit({ ...env, MCP_GATEWAY_CONFIG: bad });
    expect(exited.code).toBe(2);
    expect(exited.stderr.trim()).toBe(
      `MCP_GATEWAY_CONFIG: ${bad}:4:19: adapters[0].replicaCount: must be an integer, not string "two"`,
    );
  });

  it('stops the start with exit 2 naming the file when it cannot be read', async () => {
    const absent = join(directory, 'absent.yaml');
    const exited = await runGatewayToExit({ ...env, MCP_GATEWAY_CONFIG: absent });
    expect(exited.code).toBe(2);
    expect(exited.stderr.trim()).toBe(`MCP_GATEWAY_CONFIG: cannot read ${absent}: ENOENT`);
  });

  it('stops the start with exit 2 when an entry refers to a secret that does not exist', async () => {
    const missing = join(directory, 'missing-secret.yaml');
    writeFileSync(
      missing,
      `adapters:
  - name: github
    imageName: team/github
    imageVersion: '1.0'
    secretEnvironmentVariables: { GITHUB_TOKEN: github-token }
`,
    );
    const exited = await runGatewayToExit({ ...env, MCP_GATEWAY_CONFIG: missing });
    expect(exited.code).toBe(2);
    expect(exited.stderr).toMatch(
      new RegExp(
        `^MCP_GATEWAY_CONFIG: ${missing}:2: adapters/github: the gateway refused it: .*github-token`,
      ),
    );
  });

  it.skipIf(!databases)(
    'starts two replicas at once with the same file on one Postgres registry, without errors',
    async () => {
      const shared = join(directory, 'shared.yaml');
      writeFileSync(shared, FIRST);
      const replicaEnv = {
        DATABASE_URL: await databases!.create(),
        MCP_GATEWAY_SECRET: 'config-file-e2e-secret-0123456789abcdefghij',
        MCP_GATEWAY_CONFIG: shared,
      };
      const replicas = await Promise.all([startGatewayProcess(replicaEnv), startGatewayProcess(replicaEnv)]);
      try {
        for (const replica of replicas) {
          expect(await names(replica, 'adapters')).toEqual(['news', 'weather']);
          expect(await names(replica, 'tools')).toEqual(['score']);
        }
        const applied = replicas.map((r) => r.logs.find((l) => l.msg === 'configuration file applied'));
        // Three creates in all, whichever replica won each race; the loser found it matching.
        expect(applied.reduce((n, l) => n + Number(l?.created) + Number(l?.unchanged), 0)).toBe(6);
        expect(applied.reduce((n, l) => n + Number(l?.created), 0)).toBe(3);
      } finally {
        for (const replica of replicas) expect(await replica.stop()).toBe(0);
      }
    },
  );
});
