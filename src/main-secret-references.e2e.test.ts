/**
 * @module End to end with the real gateway process (`src/main.ts`, SQLite file, process deployer in its sandbox):
 * an adapter's `secretEnvironmentVariables` reach its child process, a rotation through `PUT /secrets/{name}`
 * restarts it with the new value, and neither value is in any answer, any gateway log line or the database file.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { startGatewayProcess } from '../test/gateway-process.js';
import type { GatewayProcess } from '../test/gateway-process.js';
import { until } from '../test/polling.js';
import { HTTP_SERVER } from '../test/process-fixtures.js';
import { MARKER_VARIABLE, killMarked, newMarker } from '../test/process-tree.js';

const VALUE = 'ghp_MainProcessSecret_e61f20c7';
const ROTATED = 'ghp_MainProcessRotated_0b7d5a93';

const dir = mkdtempSync(join(tmpdir(), 'mcp-gateway-secret-refs-'));
const running: GatewayProcess[] = [];
const markers: string[] = [];
const answers: string[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((g) => (g.child.exitCode === null ? g.stop('SIGKILL') : null)));
  for (const m of markers.splice(0)) killMarked(m);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function call(gateway: GatewayProcess, path: string, init: RequestInit = {}): Promise<Response> {
  const res = await fetch(`${gateway.url}${path}`, {
    ...init,
    headers: { 'content-type': 'application/json', ...init.headers },
  });
  answers.push(`${res.status} ${JSON.stringify([...res.headers])} ${await res.clone().text()}`);
  return res;
}

/** The environment of replica 0, read from the fixture server at its endpoint's origin (`GET /env`). */
async function replicaEnvironment(gateway: GatewayProcess): Promise<Record<string, string> | undefined> {
  const status = (await (await call(gateway, '/adapters/gh/status')).json()) as {
    replicas: { endpoint?: string; ready: boolean }[];
  };
  const replica = status.replicas[0];
  if (!replica?.ready || !replica.endpoint) return undefined;
  const res = await fetch(new URL('/env', replica.endpoint)).catch(() => undefined);
  return res?.ok ? ((await res.json()) as Record<string, string>) : undefined;
}

describe('secretEnvironmentVariables through the real gateway', () => {
  it('reach the child, follow a rotation, and stay out of answers, logs and the database file', async () => {
    const databaseUrl = join(dir, 'registry.db');
    const gateway = await startGatewayProcess({ DATABASE_URL: databaseUrl });
    running.push(gateway);
    const marker = newMarker();
    markers.push(marker);

    const secret = await call(gateway, '/secrets', {
      method: 'POST',
      body: JSON.stringify({ name: 'github-token', value: VALUE }),
    });
    expect(secret.status).toBe(201);
    const created = await call(gateway, '/adapters', {
      method: 'POST',
      body: JSON.stringify({
        name: 'gh',
        command: process.execPath,
        args: [HTTP_SERVER],
        transport: 'streamable-http',
        environmentVariables: { [MARKER_VARIABLE]: marker },
        secretEnvironmentVariables: { GITHUB_TOKEN: 'github-token' },
      }),
    });
    expect(created.status).toBe(201);
    const first = await until(
      () => replicaEnvironment(gateway),
      (env) => env !== undefined,
      'a ready replica',
      20_000,
    );
    expect(first?.GITHUB_TOKEN).toBe(VALUE);

    const rotated = await call(gateway, '/secrets/github-token', {
      method: 'PUT',
      body: JSON.stringify({ value: ROTATED }),
    });
    expect(rotated.status).toBe(200);
    await until(
      () => replicaEnvironment(gateway),
      (env) => env?.GITHUB_TOKEN === ROTATED,
      'the replica restarted with the rotated value',
      20_000,
    );
    const usedBy = (await (await call(gateway, '/secrets/github-token')).json()) as { usedBy: unknown };
    expect(usedBy.usedBy).toEqual([{ kind: 'adapter', name: 'gh' }]);
    expect((await call(gateway, '/adapters/gh/logs')).status).toBe(200);
    expect((await call(gateway, '/adapters/gh')).status).toBe(200);
    expect((await call(gateway, '/secrets/github-token', { method: 'DELETE' })).status).toBe(409);
    expect(await gateway.stop()).toBe(0);

    const files = readdirSync(dir).filter((name) => name.startsWith('registry.db'));
    const database = Buffer.concat(files.map((name) => readFileSync(join(dir, name)))).toString('latin1');
    expect(database).toContain('github-token');
    const logs = JSON.stringify(gateway.logs);
    expect(gateway.logs.length).toBeGreaterThan(0);
    for (const value of [VALUE, ROTATED]) {
      expect(database).not.toContain(value);
      expect(logs).not.toContain(value);
      for (const answer of answers) expect(answer).not.toContain(value);
    }
  });
});
