/**
 * @module End-to-end test of `secretEnvironmentVariables` on the process runtime: the real app on a SQLite file,
 * the reconciler and a real (sandboxed where bubblewrap works) child process. The child sees the secret's value
 * in its environment; the value is in no answer (resource, status, logs, `/secrets`), no gateway log line and
 * not in the database file; a rotation restarts the replica with the new value; a force-deleted secret leaves
 * the running replica alone and the status names what is missing.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { OpenAPIHono } from '@hono/zod-openapi';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AppEnv } from '../../http/index.js';
import { createLogger } from '../../observability/index.js';
import { createSecretCipher } from '../../registry/index.js';
import { SqliteRegistryStore } from '../../registry/sqlite/index.js';
import { eventually } from '../../../test/polling.js';
import { HTTP_SERVER, fastDeployer, killAllMarked, marker, running } from '../../../test/process-fixtures.js';
import { TEST_GATEWAY_SECRET, createTestApp, headerPrincipal, json } from '../../../test/test-app.js';
import { createDeployerInspector } from '../deployer-inspector.js';
import { createReconciler } from '../reconciler.js';
import type { Reconciler } from '../reconciler.js';
import { createRuntimeInspector } from '../runtime-inspector-by-kind.js';
import { storedSecretSource } from '../secret-environment.js';
import type { ProcessDeployer } from './process-deployer.js';

const VALUE = 'ghp_ChildOnlySecret_5d1e77a0';
const ROTATED = 'ghp_RotatedChildSecret_c02b9f41';
const ADMIN = { 'x-test-user': 'alice', 'x-test-roles': 'mcp.admin' };

afterAll(() => killAllMarked());

let dir: string;
let store: SqliteRegistryStore;
let deployer: ProcessDeployer;
let reconciler: Reconciler;
let app: OpenAPIHono<AppEnv>;
let logLines: string[];
let answers: string[];
let mark: string;

async function send(path: string, init: RequestInit = { headers: ADMIN }): Promise<Response> {
  const res = await app.request(path, init);
  answers.push(`${res.status} ${JSON.stringify([...res.headers])} ${await res.clone().text()}`);
  return res;
}

function databaseBytes(): string {
  const files = readdirSync(dir).filter((name) => name.startsWith('registry.db'));
  return Buffer.concat(files.map((name) => readFileSync(join(dir, name)))).toString('latin1');
}

/** The environment the replica's process sees (the fixture answers `GET /env` with it). */
async function childEnvironment(): Promise<Record<string, string>> {
  const endpoint = deployer.endpoints({ kind: 'adapter', name: 'gh' })[0];
  if (!endpoint) throw new Error('no ready replica');
  return (await (await fetch(new URL('/env', endpoint.url))).json()) as Record<string, string>;
}

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mcpgw-secret-env-'));
  store = await SqliteRegistryStore.open(join(dir, 'registry.db'));
  logLines = [];
  answers = [];
  mark = marker();
  const logger = createLogger({
    level: 'debug',
    destination: { write: (line: string) => logLines.push(line) },
  });
  deployer = fastDeployer({
    logger,
    secrets: storedSecretSource(store, await createSecretCipher(TEST_GATEWAY_SECRET)),
  });
  // No periodic pass within a test: only the control plane's notifications drive it.
  reconciler = createReconciler({ store, deployers: [deployer], intervalMs: 3_600_000, logger });
  ({ app } = await createTestApp({
    store,
    logger,
    authenticate: headerPrincipal(),
    inspector: createDeployerInspector({
      deployers: [deployer],
      reconciler,
      fallback: createRuntimeInspector({ probeTimeoutMs: 1000 }),
    }),
    onResourceChange: (ref) => reconciler.notify(ref),
  }));
  expect((await send('/secrets', json('POST', { name: 'github-token', value: VALUE }, ADMIN))).status).toBe(
    201,
  );
  const adapter = {
    name: 'gh',
    command: process.execPath,
    args: [HTTP_SERVER],
    transport: 'streamable-http',
    environmentVariables: { MCPGW_TEST_MARKER: mark },
    secretEnvironmentVariables: { GITHUB_TOKEN: 'github-token' },
  };
  expect((await send('/adapters', json('POST', adapter, ADMIN))).status).toBe(201);
  await reconciler.settled();
  await eventually(() => deployer.endpoints({ kind: 'adapter', name: 'gh' }).length === 1, 'ready', 15_000);
});

afterEach(async () => {
  await reconciler.stop();
  await deployer.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('secretEnvironmentVariables on the process runtime', () => {
  it('gives the child the value, and lets it into no answer, log line or database file', async () => {
    expect((await childEnvironment()).GITHUB_TOKEN).toBe(VALUE);

    for (const path of [
      '/adapters/gh',
      '/adapters',
      '/adapters/gh/status',
      '/adapters/gh/logs',
      '/secrets',
      '/secrets/github-token',
    ]) {
      expect((await send(path)).status, path).toBe(200);
    }
    const status = (await (await send('/adapters/gh/status')).json()) as { replicaStatus: string };
    expect(status.replicaStatus).toBe('Healthy');
    expect(answers.length).toBeGreaterThan(6);
    for (const answer of answers) expect(answer).not.toContain(VALUE);
    for (const line of logLines) expect(line).not.toContain(VALUE);
    expect(logLines.length).toBeGreaterThan(0);
    expect(databaseBytes()).not.toContain(VALUE);
    expect(databaseBytes()).toContain('github-token');
  });

  it('restarts the replica with the new value when the secret rotates', async () => {
    const before = deployer.endpoints({ kind: 'adapter', name: 'gh' })[0]!.id;
    const rotated = await send('/secrets/github-token', json('PUT', { value: ROTATED }, ADMIN));
    expect(rotated.status).toBe(200);
    await reconciler.settled();
    await eventually(
      () => {
        const [endpoint] = deployer.endpoints({ kind: 'adapter', name: 'gh' });
        return endpoint !== undefined && endpoint.id !== before;
      },
      'a new replica',
      15_000,
    );
    expect((await childEnvironment()).GITHUB_TOKEN).toBe(ROTATED);
    const logs = await (await send('/adapters/gh/logs')).text();
    expect(logs).toContain('configuration changed: replacing this replica');
    for (const text of [...answers, ...logLines, databaseBytes()]) {
      expect(text).not.toContain(VALUE);
      expect(text).not.toContain(ROTATED);
    }
  });

  it('after a forced delete keeps the running replica and says in the status which secret is missing', async () => {
    const refused = await send('/secrets/github-token', { method: 'DELETE', headers: ADMIN });
    expect(refused.status).toBe(409);
    const forced = await send('/secrets/github-token?force=true', { method: 'DELETE', headers: ADMIN });
    expect(forced.status).toBe(204);
    await reconciler.settled();
    expect(reconciler.lastResult({ kind: 'adapter', name: 'gh' })?.ok).toBe(false);
    const status = (await (await send('/adapters/gh/status')).json()) as { replicaStatus: string };
    expect(status.replicaStatus).toMatch(
      /^Failed: .*secretEnvironmentVariables\.GITHUB_TOKEN names secret 'github-token', which does not exist/,
    );
    expect(running(mark).length).toBeGreaterThan(0);
    expect((await childEnvironment()).GITHUB_TOKEN).toBe(VALUE);
  });
});
