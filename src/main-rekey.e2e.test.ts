/**
 * @module End to end with the real gateway process (`src/main.ts`, SQLite file, process deployer) and the real
 * CLI bin: the gateway secret changes from S1 to S2. With S1 in MCP_GATEWAY_PREVIOUS_SECRETS the adapter still
 * gets its stored secret and the sealed identity key still opens; `mcp-gateway secrets rekey` re-seals them; then
 * S2 alone works. S2 alone before the rekey refuses to start, naming the sealed value and its key id. The value
 * is never in the database file, a log line or an answer.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { runGatewayToExit, startGatewayProcess } from '../test/gateway-process.js';
import type { GatewayProcess } from '../test/gateway-process.js';
import { eventually, until } from '../test/polling.js';
import { HTTP_SERVER } from '../test/process-fixtures.js';
import { MARKER_VARIABLE, killMarked, newMarker } from '../test/process-tree.js';

const VALUE = 'ghp_RekeyProcessSecret_5c1e93ab';
const S1 = 'first-gateway-secret-0123456789abcdefghijklmn';
const S2 = 'second-gateway-secret-0123456789abcdefghijklm';
const CLI = fileURLToPath(new URL('./cli.ts', import.meta.url));

const dir = mkdtempSync(join(tmpdir(), 'mcp-gateway-rekey-'));
const running: GatewayProcess[] = [];
const markers: string[] = [];
const answers: string[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((g) => (g.child.exitCode === null ? g.stop('SIGKILL') : null)));
  for (const m of markers.splice(0)) killMarked(m);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const databaseUrl = join(dir, 'registry.db');
const gatewayEnv = (secret: string, previous?: string) => ({
  DATABASE_URL: databaseUrl,
  MCP_GATEWAY_SECRET: secret,
  MCP_GATEWAY_IDENTITY_JWT: 'on',
  ...(previous !== undefined && { MCP_GATEWAY_PREVIOUS_SECRETS: previous }),
});

async function start(secret: string, previous?: string): Promise<GatewayProcess> {
  const gateway = await startGatewayProcess(gatewayEnv(secret, previous));
  running.push(gateway);
  return gateway;
}

async function call(gateway: GatewayProcess, path: string, init: RequestInit = {}): Promise<Response> {
  const res = await fetch(`${gateway.url}${path}`, {
    ...init,
    headers: { 'content-type': 'application/json', ...init.headers },
  });
  answers.push(`${res.status} ${JSON.stringify([...res.headers])} ${await res.clone().text()}`);
  return res;
}

/** The environment of replica 0, read from the fixture server (`GET /env`), once it is ready. */
async function replicaEnvironment(gateway: GatewayProcess): Promise<Record<string, string> | undefined> {
  const status = (await (await call(gateway, '/adapters/gh/status')).json()) as {
    replicas: { endpoint?: string; ready: boolean }[];
  };
  const replica = status.replicas[0];
  if (!replica?.ready || !replica.endpoint) return undefined;
  const res = await fetch(new URL('/env', replica.endpoint)).catch(() => undefined);
  return res?.ok ? ((await res.json()) as Record<string, string>) : undefined;
}

/** `GITHUB_TOKEN` as replica 0 sees it, once there is a ready replica. */
async function secretOfReplica(gateway: GatewayProcess): Promise<string | undefined> {
  const env = await until(
    () => replicaEnvironment(gateway),
    (e) => e !== undefined,
    'a ready replica',
    30_000,
  );
  return env!.GITHUB_TOKEN;
}

function cli(args: string[], url: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], {
      env: { PATH: process.env.PATH ?? '', MCP_GATEWAY_URL: url },
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

describe('changing the gateway secret', () => {
  it('keeps stored secrets and the identity key readable through a rotation and a rekey', async () => {
    // S1: a stored secret, an adapter that gets it, and the sealed identity key (MCP_GATEWAY_IDENTITY_JWT).
    let gateway = await start(S1);
    const marker = newMarker();
    markers.push(marker);
    expect(
      (
        await call(gateway, '/secrets', {
          method: 'POST',
          body: JSON.stringify({ name: 'github-token', value: VALUE }),
        })
      ).status,
    ).toBe(201);
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
    expect(await secretOfReplica(gateway)).toBe(VALUE);
    const jwks = await (await call(gateway, '/.well-known/jwks.json')).text();
    expect(jwks).toContain('"keys"');
    expect(await gateway.stop()).toBe(0);
    killMarked(marker);

    // S2 alone, before any rekey: refused at start, naming what it cannot open and its key id — not a crash.
    const refused = await runGatewayToExit(gatewayEnv(S2));
    expect(refused.code).toBe(2);
    const refusal = refused.stdout + refused.stderr;
    expect(refusal).toContain("setting 'identity-signing-key' is sealed under key id");
    expect(refusal).toContain('MCP_GATEWAY_PREVIOUS_SECRETS');

    // Without identity JWTs it starts, and names what it cannot open: the deployer's error, and the rekey report.
    gateway = await startGatewayProcess({ ...gatewayEnv(S2), MCP_GATEWAY_IDENTITY_JWT: 'off' });
    running.push(gateway);
    const blind = await call(gateway, '/secrets/rekey', {
      method: 'POST',
      body: JSON.stringify({ dryRun: true }),
    });
    const unreadable = ((await blind.json()) as { unreadable: { kind: string; name: string }[] }).unreadable;
    expect(unreadable.map((u) => `${u.kind} ${u.name}`).sort()).toEqual([
      'secret github-token',
      'setting identity-signing-key',
    ]);
    await eventually(
      () => JSON.stringify(gateway.logs).includes("secret 'github-token' is sealed under key id"),
      'a log line naming the unreadable secret',
      30_000,
      50,
    );
    const blindLogs = JSON.stringify(gateway.logs);
    expect(await gateway.stop()).toBe(0);

    // S2 with S1 as previous: the adapter still gets its value, the identity key is the same one.
    gateway = await start(S2, S1);
    expect(await secretOfReplica(gateway)).toBe(VALUE);
    expect(await (await call(gateway, '/.well-known/jwks.json')).text()).toBe(jwks);
    const dry = await cli(['secrets', 'rekey', '--dry-run', '-o', 'json'], gateway.url);
    expect(dry.code).toBe(0);
    expect((JSON.parse(dry.stdout) as { remaining: unknown }).remaining).toEqual({
      secrets: 1,
      grants: 0,
      settings: 1,
    });
    const rekey = await cli(['secrets', 'rekey', '-o', 'json'], gateway.url);
    expect(rekey.code).toBe(0);
    const report = JSON.parse(rekey.stdout) as { resealed: unknown; remaining: unknown; unreadable: unknown };
    expect(report.resealed).toEqual({ secrets: 1, grants: 0, settings: 1 });
    expect(report.remaining).toEqual({ secrets: 0, grants: 0, settings: 0 });
    expect(report.unreadable).toEqual([]);
    expect(await gateway.stop()).toBe(0);
    killMarked(marker);

    // S2 alone after the rekey: everything opens.
    gateway = await start(S2);
    expect(await secretOfReplica(gateway)).toBe(VALUE);
    expect(await (await call(gateway, '/.well-known/jwks.json')).text()).toBe(jwks);
    expect(await gateway.stop()).toBe(0);

    const files = readdirSync(dir).filter((name) => name.startsWith('registry.db'));
    const database = Buffer.concat(files.map((name) => readFileSync(join(dir, name)))).toString('latin1');
    expect(database).toContain('github-token');
    expect(database).not.toContain(VALUE);
    for (const text of [
      JSON.stringify(gateway.logs),
      blindLogs,
      refusal,
      dry.stdout,
      rekey.stdout,
      ...answers,
    ]) {
      expect(text).not.toContain(VALUE);
      expect(text).not.toContain(S1);
      expect(text).not.toContain(S2);
    }
  }, 240_000);
});
