/**
 * The real `main.ts` and its secrets at rest: the generated gateway secret moves out of an older registry into
 * its own file without breaking live sessions; the identity-JWT signing key is sealed in the registry (an older
 * plaintext one is sealed in place); Postgres needs a secret given to it. Postgres cases run when
 * TEST_DATABASE_URL names a server.
 */
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { isSealedSetting, openRegistryStore } from './registry/index.js';
import { runGatewayToExit, startGatewayProcess } from '../test/gateway-process.js';
import type { GatewayProcess } from '../test/gateway-process.js';
import { legacyInitializeBody, mcpPostHeaders } from '../test/legacy-requests.js';
import { startLegacyMcpServer } from '../test/mcp-servers.js';
import type { RunningMcpServer } from '../test/mcp-servers.js';
import { TestDatabases } from '../test/postgres-databases.js';

const dir = mkdtempSync(join(tmpdir(), 'mcp-gateway-secrets-'));
const running: GatewayProcess[] = [];
const upstreams: RunningMcpServer[] = [];
const serverUrl = process.env.TEST_DATABASE_URL;
const databases = serverUrl ? new TestDatabases(serverUrl) : undefined;
afterEach(async () => {
  await Promise.all(running.splice(0).map((g) => (g.child.exitCode === null ? g.stop('SIGKILL') : null)));
  await Promise.all(upstreams.splice(0).map((u) => u.close()));
});
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await databases?.dropAll();
});

/** What an older gateway generated and kept in the registry, in plaintext. */
const OLD_SECRET = 'Zk9yX2FuX29sZGVyX2dhdGV3YXlfb25seV8wMTIzNDU2';
const SECRET = 'the-secret-every-replica-shares-0123456789';

async function start(env: Record<string, string>) {
  const gateway = await startGatewayProcess(env);
  running.push(gateway);
  return gateway;
}

let counter = 0;
const freshDir = () => {
  const path = join(dir, `case-${++counter}`);
  mkdirSync(path);
  return path;
};

const MCP_HEADERS = mcpPostHeaders({ 'mcp-protocol-version': '2025-11-25' });

/** Opens a legacy session through the gateway; resolves with the sealed session id the client holds. */
async function openSession(gateway: GatewayProcess, adapter: string): Promise<string> {
  const res = await fetch(`${gateway.url}/adapters/${adapter}/mcp`, {
    method: 'POST',
    headers: MCP_HEADERS,
    body: legacyInitializeBody({ clientName: 't' }),
  });
  expect(res.status).toBe(200);
  await res.body?.cancel();
  const sealed = res.headers.get('mcp-session-id');
  if (!sealed) throw new Error('no session id');
  return sealed;
}

/** A request inside the session `sealed`; resolves with the status. */
async function inSession(gateway: GatewayProcess, adapter: string, sealed: string): Promise<number> {
  const res = await fetch(`${gateway.url}/adapters/${adapter}/mcp`, {
    method: 'POST',
    headers: { ...MCP_HEADERS, 'mcp-session-id': sealed },
    body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }),
  });
  await res.body?.cancel();
  return res.status;
}

const message = (gateway: GatewayProcess, msg: string) => gateway.logs.find((l) => l.msg === msg);

describe('the gateway secret at rest (SQLite)', () => {
  it("moves an older registry's secret into its own file; sessions sealed under it keep working", async () => {
    const data = freshDir();
    const databaseUrl = join(data, 'mcp-gateway.db');
    const upstream = await startLegacyMcpServer({ name: 'kept' });
    upstreams.push(upstream);

    // An older gateway: its secret (here given as the variable) sealed a live session.
    const older = await start({ DATABASE_URL: databaseUrl, MCP_GATEWAY_SECRET: OLD_SECRET });
    const created = await fetch(`${older.url}/adapters`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'kept', endpoints: [upstream.url] }),
    });
    expect(created.status).toBe(201);
    const sealed = await openSession(older, 'kept');
    expect(await older.stop()).toBe(0);
    // ... and kept that secret in the registry, in plaintext, as gateways before the secret file did.
    const store = await openRegistryStore(databaseUrl);
    await store.getOrCreateSetting('gateway-secret', OLD_SECRET);
    await store.close();

    const upgraded = await start({ DATABASE_URL: databaseUrl });
    const secretFile = join(data, 'secret');
    expect(readFileSync(secretFile, 'utf8')).toBe(OLD_SECRET);
    expect(statSync(secretFile).mode & 0o777).toBe(0o600);
    expect(message(upgraded, 'gateway secret')).toMatchObject({ source: 'migrated', file: secretFile });
    expect(
      message(upgraded, 'deleted the gateway secret from the registry: it is kept in its file now'),
    ).toBeDefined();
    // The session the older gateway sealed still reaches the replica that holds it.
    expect(await inSession(upgraded, 'kept', sealed)).toBe(200);
    expect(upstream.sessionCount()).toBe(1);
    expect(await upgraded.stop()).toBe(0);

    const after = await openRegistryStore(databaseUrl);
    expect(await after.getSetting('gateway-secret')).toBeUndefined();
    await after.close();
    expect(JSON.stringify(upgraded.logs)).not.toContain(OLD_SECRET);
  });

  it('tightens the files an older gateway left readable by others, and says so once', async () => {
    const data = freshDir();
    const databaseUrl = join(data, 'mcp-gateway.db');
    const first = await start({ DATABASE_URL: databaseUrl });
    expect(await first.stop()).toBe(0);
    chmodSync(data, 0o755);
    chmodSync(databaseUrl, 0o644);
    chmodSync(join(data, 'secret'), 0o644);

    const second = await start({ DATABASE_URL: databaseUrl });
    const tightened = second.logs.filter((l) => l.msg === 'was readable by others: permissions tightened');
    expect(tightened.map((l) => l.path).sort()).toEqual([data, databaseUrl, join(data, 'secret')].sort());
    expect(statSync(data).mode & 0o777).toBe(0o700);
    expect(statSync(databaseUrl).mode & 0o777).toBe(0o600);
    expect(statSync(join(data, 'secret')).mode & 0o777).toBe(0o600);
    expect(await second.stop()).toBe(0);
    const third = await start({ DATABASE_URL: databaseUrl });
    expect(third.logs.filter((l) => l.msg === 'was readable by others: permissions tightened')).toEqual([]);
    expect(await third.stop()).toBe(0);
  });

  it('reads MCP_GATEWAY_SECRET_FILE and refuses one too short to be a secret (exit 2)', async () => {
    const data = freshDir();
    const file = join(data, 'given-secret');
    writeFileSync(file, 'short\n', { mode: 0o600 });
    const refused = await runGatewayToExit({
      DATABASE_URL: join(data, 'mcp-gateway.db'),
      MCP_GATEWAY_SECRET_FILE: file,
    });
    expect(refused.code).toBe(2);
    expect(refused.stdout).toMatch(/MCP_GATEWAY_SECRET_FILE .*given-secret holds 5 characters/);
    expect(refused.stdout).not.toContain('short\\n');

    writeFileSync(file, `${SECRET}\n`);
    const gateway = await start({
      DATABASE_URL: join(data, 'mcp-gateway.db'),
      MCP_GATEWAY_SECRET_FILE: file,
    });
    expect(message(gateway, 'gateway secret')).toMatchObject({ source: 'file', file });
    expect(existsSync(join(data, 'secret'))).toBe(false);
    expect(await gateway.stop()).toBe(0);
  });
});

/** The kid of the one key `/.well-known/jwks.json` serves. */
async function servedKid(gateway: GatewayProcess): Promise<string | undefined> {
  const res = await fetch(`${gateway.url}/.well-known/jwks.json`);
  expect(res.status).toBe(200);
  const { keys } = (await res.json()) as { keys: { kid?: string; d?: string }[] };
  expect(keys).toHaveLength(1);
  expect(keys[0]?.d).toBeUndefined();
  return keys[0]?.kid;
}

describe('the identity-JWT signing key at rest', () => {
  it('is sealed in the registry, and an older plaintext key is sealed in place and kept', async () => {
    const data = freshDir();
    const databaseUrl = join(data, 'mcp-gateway.db');
    // An older gateway's plaintext key (a fixed ES256 private JWK).
    const oldKey = {
      kty: 'EC',
      crv: 'P-256',
      x: 'WKn-ZIGevcwGIyyrzFoZNBdaq9_TsqzGl96oc0CWuis',
      y: 'y77t-RvAHRKTsSGdIYUfweuOvwrvDD-Q3Hv5J0fSKbE',
      d: 'Hndv7ZZjs_ke8o9zXYo3iq-Yr8SewI5vrqd0pAvEPqg',
      kid: 'older-plaintext-key',
      alg: 'ES256',
      use: 'sig',
    };
    const store = await openRegistryStore(databaseUrl);
    await store.getOrCreateSetting('identity-signing-key', JSON.stringify(oldKey));
    await store.close();

    const env = { DATABASE_URL: databaseUrl, MCP_GATEWAY_IDENTITY_JWT: 'true' };
    const first = await start(env);
    expect(await servedKid(first)).toBe('older-plaintext-key');
    expect(await first.stop()).toBe(0);
    const sealed = await openRegistryStore(databaseUrl);
    const stored = (await sealed.getSetting('identity-signing-key'))!;
    await sealed.close();
    expect(isSealedSetting(stored)).toBe(true);
    expect(stored).not.toContain(oldKey.d);

    // The next start opens the sealed key with the secret from the file: the same key is published.
    const second = await start(env);
    expect(await servedKid(second)).toBe('older-plaintext-key');
    expect(await second.stop()).toBe(0);
    expect(JSON.stringify([...first.logs, ...second.logs])).not.toContain(oldKey.d);
  });

  it('refuses to start (exit 2) with a secret that did not seal the key, replacing nothing', async () => {
    const data = freshDir();
    const databaseUrl = join(data, 'mcp-gateway.db');
    const env = { DATABASE_URL: databaseUrl, MCP_GATEWAY_IDENTITY_JWT: 'true' };
    const first = await start({ ...env, MCP_GATEWAY_SECRET: SECRET });
    const kid = await servedKid(first);
    expect(await first.stop()).toBe(0);

    const wrong = await runGatewayToExit({ ...env, MCP_GATEWAY_SECRET: `${SECRET}-other` });
    expect(wrong.code).toBe(2);
    expect(wrong.stdout).toMatch(
      /identity-signing-key.*sealed under key id .*start the gateway with the secret/,
    );

    const again = await start({ ...env, MCP_GATEWAY_SECRET: SECRET });
    expect(await servedKid(again)).toBe(kid);
    expect(await again.stop()).toBe(0);
  });
});

describe('the gateway secret on Postgres', () => {
  it('is required: without MCP_GATEWAY_SECRET or MCP_GATEWAY_SECRET_FILE the gateway exits 2', async () => {
    const result = await runGatewayToExit({ DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      'MCP_GATEWAY_SECRET must be set (or MCP_GATEWAY_SECRET_FILE) when DATABASE_URL is Postgres',
    );
  });

  it.skipIf(!databases)(
    'two replicas with the shared secret seal one identity key and share sessions (set TEST_DATABASE_URL)',
    async () => {
      const databaseUrl = await databases!.create();
      const upstream = await startLegacyMcpServer({ name: 'pg' });
      upstreams.push(upstream);
      const env = { DATABASE_URL: databaseUrl, MCP_GATEWAY_SECRET: SECRET, MCP_GATEWAY_IDENTITY_JWT: 'true' };
      const [a, b] = await Promise.all([start(env), start(env)]);
      expect(await servedKid(a!)).toBe(await servedKid(b!));
      const created = await fetch(`${a!.url}/adapters`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'pg', endpoints: [upstream.url] }),
      });
      expect(created.status).toBe(201);
      const sealed = await openSession(a!, 'pg');
      expect(await inSession(b!, 'pg', sealed)).toBe(200);

      const store = await openRegistryStore(databaseUrl);
      expect(isSealedSetting((await store.getSetting('identity-signing-key'))!)).toBe(true);
      expect(await store.getSetting('gateway-secret')).toBeUndefined();
      await store.close();
    },
  );
});
