/**
 * @module Tests of `/secrets`: the write-only store through the real app on a SQLite file — the value never in an
 * answer, a log line or the database file; who may call it; and every refusal in the control plane's error shape.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { OpenAPIHono } from '@hono/zod-openapi';
import postgres from 'postgres';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { secretGate } from '../auth/index.js';
import type { AppEnv } from '../http/index.js';
import { createAuditLog, createLogger } from '../observability/index.js';
import { PostgresRegistryStore } from '../registry/postgres/index.js';
import { SqliteRegistryStore } from '../registry/sqlite/index.js';
import { createSecretCipher, readSecretValue } from '../registry/index.js';
import { TestDatabases } from '../../test/postgres-databases.js';
import { TEST_GATEWAY_SECRET, createTestApp, headerPrincipal, json } from '../../test/test-app.js';

const VALUE = 'ghp_SuperSecretTokenValue_7f3a9c';
const ROTATED = 'ghp_RotatedTokenValue_b81d2e';
const ADMIN = { 'x-test-user': 'alice', 'x-test-roles': 'mcp.admin' };
const KEEPER = { 'x-test-user': 'kim', 'x-test-roles': 'team.secrets' };
const STRANGER = { 'x-test-user': 'mallory', 'x-test-roles': 'mcp.dev,team.other' };
const START = Date.UTC(2026, 0, 2, 3, 4, 5, 678);

let dir: string;
let dbPath: string;
let store: SqliteRegistryStore;
let app: OpenAPIHono<AppEnv>;
let now: number;
let logLines: string[];
/** Every answer the tests read: status line, headers and body, as text. */
let answers: string[];

/** Sends a request and records the whole answer for the leak checks. */
async function send(path: string, init: RequestInit = {}): Promise<Response> {
  const res = await app.request(path, init);
  const text = await res.clone().text();
  answers.push(`${res.status} ${JSON.stringify([...res.headers])} ${text}`);
  return res;
}

/** The raw bytes of the database file and everything SQLite keeps beside it (WAL, shared memory). */
function databaseBytes(): Buffer {
  const files = readdirSync(dir).filter((name) => name.startsWith('registry.db'));
  return Buffer.concat(files.map((name) => readFileSync(join(dir, name))));
}

async function errorOf(res: Response) {
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  return ((await res.json()) as { error: { code: string; message: string; details?: { path: string }[] } })
    .error;
}

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mcpgw-secrets-'));
  dbPath = join(dir, 'registry.db');
  now = START;
  store = await SqliteRegistryStore.open(dbPath, { clock: () => new Date(now) });
  logLines = [];
  answers = [];
  const logger = createLogger({
    level: 'debug',
    destination: { write: (line: string) => logLines.push(line) },
  });
  ({ app } = await createTestApp({
    store,
    logger,
    audit: createAuditLog(logger),
    authenticate: headerPrincipal(),
    authorizeSecrets: secretGate({ secretRoles: ['team.secrets'] }),
    bodyLimitBytes: 4096,
  }));
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the secret lifecycle', () => {
  it('creates, reads, lists, rotates and deletes, showing who wrote it when and never the value', async () => {
    const created = await send('/secrets', json('POST', { name: 'github-token', value: VALUE }, KEEPER));
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe('/secrets/github-token');
    const etag = created.headers.get('etag');
    expect(etag).toMatch(/^"1\.[0-9a-f-]{36}"$/);
    expect(await created.json()).toEqual({
      name: 'github-token',
      createdBy: 'kim',
      createdAt: new Date(START).toISOString(),
      lastUpdatedAt: new Date(START).toISOString(),
      usedBy: [],
    });

    const read = await send('/secrets/github-token', { headers: ADMIN });
    expect(read.status).toBe(200);
    expect(read.headers.get('etag')).toBe(etag);
    expect(Object.keys((await read.json()) as object)).toEqual([
      'name',
      'createdBy',
      'createdAt',
      'lastUpdatedAt',
      'usedBy',
    ]);
    const notModified = await send('/secrets/github-token', {
      headers: { ...ADMIN, 'if-none-match': etag! },
    });
    expect(notModified.status).toBe(304);

    now += 60_000;
    const rotated = await send(
      '/secrets/github-token',
      json('PUT', { value: ROTATED }, { ...ADMIN, 'if-match': etag! }),
    );
    expect(rotated.status).toBe(200);
    expect(rotated.headers.get('etag')).toMatch(/^"2\./);
    expect(await rotated.json()).toEqual({
      name: 'github-token',
      createdBy: 'kim',
      createdAt: new Date(START).toISOString(),
      lastUpdatedAt: new Date(START + 60_000).toISOString(),
      usedBy: [],
    });
    // What the data plane will read: the rotated value, decrypted with the gateway secret's key.
    const cipher = await createSecretCipher(TEST_GATEWAY_SECRET);
    expect(await readSecretValue(store, cipher, 'github-token')).toBe(ROTATED);

    const listed = await send('/secrets', { headers: KEEPER });
    expect(await listed.json()).toEqual([
      expect.objectContaining({
        name: 'github-token',
        lastUpdatedAt: new Date(START + 60_000).toISOString(),
      }),
    ]);

    expect((await send('/secrets/github-token', { method: 'DELETE', headers: KEEPER })).status).toBe(204);
    expect((await send('/secrets/github-token', { headers: KEEPER })).status).toBe(404);
    expect(await store.getSecret('github-token')).toBeUndefined();
  });

  it('never lets the value out: not in an answer, a log line (access and audit) or the database file', async () => {
    await send('/secrets', json('POST', { name: 'api-key', value: VALUE }, KEEPER));
    // While the store is open (the write is in the WAL), and again after the rotation and close below.
    expect(databaseBytes().includes(Buffer.from('api-key'))).toBe(true);
    expect(databaseBytes().includes(Buffer.from(VALUE))).toBe(false);
    // Refusals that see the value too: a duplicate, a bad name, a name mismatch, a stale If-Match.
    await send('/secrets', json('POST', { name: 'api-key', value: VALUE }, KEEPER));
    await send('/secrets', json('POST', { name: 'Bad_Name', value: VALUE }, KEEPER));
    await send('/secrets', json('POST', { name: 'x', value: VALUE, extra: VALUE }, KEEPER));
    await send('/secrets/api-key', json('PUT', { name: 'other', value: VALUE }, KEEPER));
    await send('/secrets/api-key', json('PUT', { value: VALUE }, { ...KEEPER, 'if-match': '"9.stale"' }));
    await send('/secrets', json('POST', { name: 'denied', value: VALUE }, STRANGER));
    await send('/secrets/api-key', json('PUT', { value: ROTATED }, KEEPER));
    await send('/secrets/api-key', { headers: KEEPER });
    await send('/secrets', { headers: KEEPER });
    await store.close();

    expect(answers.length).toBeGreaterThan(9);
    for (const answer of answers) {
      expect(answer).not.toContain(VALUE);
      expect(answer).not.toContain(ROTATED);
    }
    // The lines exist (so the check reads something): one access line per request, audit lines per write.
    expect(logLines.filter((line) => line.includes('"api-key"')).length).toBeGreaterThan(0);
    expect(logLines.some((line) => line.includes('"audit":true') && line.includes('"secret"'))).toBe(true);
    for (const line of logLines) {
      expect(line).not.toContain(VALUE);
      expect(line).not.toContain(ROTATED);
    }
    const bytes = databaseBytes();
    expect(bytes.includes(Buffer.from('api-key'))).toBe(true);
    expect(bytes.includes(Buffer.from(VALUE))).toBe(false);
    expect(bytes.includes(Buffer.from(ROTATED))).toBe(false);
    expect(bytes.includes(Buffer.from(ROTATED, 'utf16le'))).toBe(false);
  });
});

describe('who may manage secrets', () => {
  const routes: [string, () => RequestInit][] = [
    ['/secrets', () => json('POST', { name: 'new-one', value: VALUE }, STRANGER)],
    ['/secrets', () => ({ headers: STRANGER })],
    ['/secrets/kept', () => ({ headers: STRANGER })],
    ['/secrets/kept', () => json('PUT', { value: ROTATED }, STRANGER)],
    ['/secrets/kept', () => ({ method: 'DELETE', headers: STRANGER })],
    // A missing secret is refused the same way: existence is not revealed.
    ['/secrets/missing', () => ({ headers: STRANGER })],
  ];

  it('refuses a caller without a secret role on every route with 403 insufficient_scope, changing nothing', async () => {
    const kept = await store.createSecret(
      'kept',
      await (await createSecretCipher(TEST_GATEWAY_SECRET)).seal('kept', VALUE),
      'alice',
    );
    for (const [path, init] of routes) {
      const res = await send(path, init());
      expect(res.status, `${init().method ?? 'GET'} ${path}`).toBe(403);
      expect(res.headers.get('www-authenticate')).toMatch(
        /^Bearer error="insufficient_scope", error_description="/,
      );
      const error = await errorOf(res);
      expect(error).toEqual({
        code: 'forbidden',
        message:
          'Managing secrets requires one of the roles in MCP_GATEWAY_SECRET_ROLES: mcp.admin, team.secrets.',
      });
    }
    expect(await store.getSecret('kept')).toEqual(kept);
    expect(await store.getSecret('new-one')).toBeUndefined();
  });

  it('lets mcp.admin and holders of a listed role in (roles compare case-insensitively)', async () => {
    expect((await send('/secrets', json('POST', { name: 'a', value: VALUE }, ADMIN))).status).toBe(201);
    expect((await send('/secrets', json('POST', { name: 'b', value: VALUE }, KEEPER))).status).toBe(201);
    const shouting = { 'x-test-user': 'sam', 'x-test-roles': 'TEAM.SECRETS' };
    expect((await send('/secrets', { headers: shouting })).status).toBe(200);
  });

  it('refuses a write from a foreign page even with the role (the Host/Origin guard covers /secrets)', async () => {
    const res = await send(
      '/secrets',
      json('POST', { name: 'planted', value: VALUE }, { ...ADMIN, origin: 'https://evil.example' }),
    );
    expect(res.status).toBe(403);
    expect((await errorOf(res)).code).toBe('origin_not_allowed');
    expect(await store.getSecret('planted')).toBeUndefined();
  });

  it('admits only mcp.admin when no role is configured', async () => {
    ({ app } = await createTestApp({ store, authenticate: headerPrincipal() }));
    expect((await send('/secrets', { headers: KEEPER })).status).toBe(403);
    expect((await send('/secrets', { headers: ADMIN })).status).toBe(200);
  });
});

describe('refusals', () => {
  it.each([
    ['no value', { name: 'a' }, 'value', 'is required'],
    ['an empty value', { name: 'a', value: '' }, 'value', 'must not be empty'],
    ['a value that is not a string', { name: 'a', value: 42 }, 'value', 'must be a string'],
    ['a NUL in the value', { name: 'a', value: 'x\u0000y' }, 'value', 'must not contain NUL bytes'],
    ['an unknown field', { name: 'a', value: 'v', usedBy: [] }, 'usedBy', 'is not a known field'],
    ['no name', { value: 'v' }, 'name', 'is required'],
    [
      'a name that is not a DNS label',
      { name: 'GitHub_Token', value: 'v' },
      'name',
      'must be a DNS-1123 label',
    ],
    ['a reserved name', { name: 'gateway', value: 'v' }, 'name', 'is reserved by the gateway'],
  ])('POST with %s is a 400 naming the field', async (_, body, path, message) => {
    const res = await send('/secrets', json('POST', body, KEEPER));
    expect(res.status).toBe(400);
    const error = await errorOf(res);
    expect(error.code).toBe('invalid_request');
    expect(error.details).toEqual([
      expect.objectContaining({ path, message: expect.stringContaining(message) }),
    ]);
    expect(await store.listSecrets({ limit: 10 })).toEqual([]);
  });

  it('refuses a value longer than 32768 characters', async () => {
    ({ app } = await createTestApp({ store, authenticate: headerPrincipal() }));
    const res = await send('/secrets', json('POST', { name: 'a', value: 'x'.repeat(32_769) }, ADMIN));
    expect(res.status).toBe(400);
    expect((await errorOf(res)).message).toBe('value: must be at most 32768 characters');
  });

  it('answers 409 to a duplicate name and keeps the first value', async () => {
    await send('/secrets', json('POST', { name: 'dup', value: VALUE }, KEEPER));
    const res = await send('/secrets', json('POST', { name: 'dup', value: ROTATED }, ADMIN));
    expect(res.status).toBe(409);
    expect(await errorOf(res)).toMatchObject({
      code: 'conflict',
      message: expect.stringContaining("Secret 'dup' already exists"),
    });
    const cipher = await createSecretCipher(TEST_GATEWAY_SECRET);
    expect(await readSecretValue(store, cipher, 'dup')).toBe(VALUE);
  });

  it('answers 404 to GET, PUT and DELETE of an unknown secret', async () => {
    for (const init of [
      { headers: KEEPER },
      json('PUT', { value: 'v' }, KEEPER),
      { method: 'DELETE', headers: KEEPER },
    ]) {
      const res = await send('/secrets/ghost', init);
      expect(res.status).toBe(404);
      expect(await errorOf(res)).toEqual({ code: 'not_found', message: "Secret 'ghost' does not exist." });
    }
  });

  it('PUT: a name in the body must match the URL; a stale If-Match is a 412 and changes nothing', async () => {
    const created = await send('/secrets', json('POST', { name: 'kept', value: VALUE }, KEEPER));
    const etag = created.headers.get('etag')!;
    const mismatch = await send('/secrets/kept', json('PUT', { name: 'other', value: ROTATED }, KEEPER));
    expect(mismatch.status).toBe(400);
    expect((await errorOf(mismatch)).details).toEqual([
      { path: 'name', message: 'must match the name in the URL' },
    ]);
    expect((await send('/secrets/kept', json('PUT', { name: 'kept', value: ROTATED }, KEEPER))).status).toBe(
      200,
    );
    const stale = await send('/secrets/kept', json('PUT', { value: VALUE }, { ...KEEPER, 'if-match': etag }));
    expect(stale.status).toBe(412);
    expect(
      (await send('/secrets/kept', { method: 'DELETE', headers: { ...KEEPER, 'if-match': etag } })).status,
    ).toBe(412);
    const cipher = await createSecretCipher(TEST_GATEWAY_SECRET);
    expect(await readSecretValue(store, cipher, 'kept')).toBe(ROTATED);
    const current = (await send('/secrets/kept', { headers: KEEPER })).headers.get('etag')!;
    expect(
      (await send('/secrets/kept', { method: 'DELETE', headers: { ...KEEPER, 'if-match': current } })).status,
    ).toBe(204);
  });

  it('applies the control plane body limit (413) and wants JSON (415)', async () => {
    const big = await send('/secrets', json('POST', { name: 'big', value: 'x'.repeat(5000) }, KEEPER));
    expect(big.status).toBe(413);
    const text = await send('/secrets', {
      method: 'POST',
      headers: { ...KEEPER, 'content-type': 'text/plain' },
      body: 'x',
    });
    expect(text.status).toBe(415);
    const malformed = await send('/secrets', {
      method: 'POST',
      headers: { ...KEEPER, 'content-type': 'application/json' },
      body: '{"name":',
    });
    expect(malformed.status).toBe(400);
  });
});

describe('listing', () => {
  it('pages by name with a Link to the next page, like /adapters', async () => {
    const cipher = await createSecretCipher(TEST_GATEWAY_SECRET);
    const names = ['e-key', 'a-key', 'd-key', 'b-key', 'c-key'];
    for (const name of names) await store.createSecret(name, await cipher.seal(name, VALUE), 'alice');
    const seen: string[] = [];
    let next: string | undefined = '/secrets?limit=2';
    let pages = 0;
    while (next) {
      const res = await send(next, { headers: KEEPER });
      expect(res.status).toBe(200);
      seen.push(...((await res.json()) as { name: string }[]).map((s) => s.name));
      next = /^<([^>]+)>; rel="next"$/.exec(res.headers.get('link') ?? '')?.[1];
      pages += 1;
    }
    expect(seen).toEqual([...names].sort());
    expect(pages).toBe(3);
    const bad = await send('/secrets?cursor=nonsense', { headers: KEEPER });
    expect(bad.status).toBe(400);
    expect((await send('/secrets?limit=0', { headers: KEEPER })).status).toBe(400);
  });
});

const serverUrl = process.env.TEST_DATABASE_URL;

describe.skipIf(!serverUrl)('on Postgres', () => {
  const databases = new TestDatabases(serverUrl ?? '');
  afterAll(() => databases.dropAll());

  it('keeps only ciphertext in the rows: no table holds the value, and it decrypts', async () => {
    const url = await databases.create();
    const pg = await PostgresRegistryStore.open(url);
    try {
      ({ app } = await createTestApp({ store: pg, authenticate: headerPrincipal() }));
      expect((await send('/secrets', json('POST', { name: 'api-key', value: VALUE }, ADMIN))).status).toBe(
        201,
      );
      expect((await send('/secrets/api-key', json('PUT', { value: ROTATED }, ADMIN))).status).toBe(200);
      const cipher = await createSecretCipher(TEST_GATEWAY_SECRET);
      expect(await readSecretValue(pg, cipher, 'api-key')).toBe(ROTATED);
    } finally {
      await pg.close();
    }
    const sql = postgres(url, { onnotice: () => {}, max: 1 });
    try {
      const rows = await sql<{ row: string }[]>`
        select row_to_json(t)::text as row from secrets t
        union all select row_to_json(t)::text from settings t
        union all select row_to_json(t)::text from resources t`;
      expect(rows.map((r) => r.row).join('\n')).toContain('"name":"api-key"');
      for (const { row } of rows) {
        expect(row).not.toContain(VALUE);
        expect(row).not.toContain(ROTATED);
      }
    } finally {
      await sql.end({ timeout: 5 });
    }
  });
});
