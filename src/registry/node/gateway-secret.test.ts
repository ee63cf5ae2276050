/** @module Tests of the gateway secret's sources, its file at rest, and the migration out of the registry. */
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DatabaseTarget } from '../open-registry-store.js';
import type { RegistryStore } from '../registry-store.js';
import { SQLITE_MEMORY, SqliteRegistryStore } from '../sqlite/index.js';
import { GatewaySecretError, LEGACY_SECRET_SETTING, resolveGatewaySecret } from './gateway-secret.js';
import type { GatewaySecretNotice, GatewaySecretOptions } from './gateway-secret.js';

const root = mkdtempSync(join(tmpdir(), 'mcpgw-secret-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let counter = 0;

const OLD_SECRET = 'an-older-gateway-generated-this-secret-0123';
const ENV_SECRET = 'the-operator-set-this-secret-in-the-environment';
const modeOf = (path: string) => statSync(path).mode & 0o777;

describe('resolveGatewaySecret', () => {
  let store: RegistryStore;
  let dir: string;
  let database: DatabaseTarget;
  let notices: GatewaySecretNotice[];
  beforeEach(async () => {
    store = await SqliteRegistryStore.open(SQLITE_MEMORY);
    dir = join(root, `case-${++counter}`, 'data');
    database = { dialect: 'sqlite', path: join(dir, 'mcp-gateway.db') };
    notices = [];
  });
  afterEach(() => store.close());

  const resolve = (options: Partial<GatewaySecretOptions> = {}) =>
    resolveGatewaySecret({
      configured: undefined,
      file: undefined,
      database,
      store,
      onNotice: (n) => notices.push(n),
      ...options,
    });

  it('creates ./data/secret beside a SQLite database: 0600, 43 random characters, in a 0700 folder', async () => {
    const secret = await resolve();
    const file = join(dir, 'secret');
    expect(secret).toEqual({
      value: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      source: 'generated',
      file,
    });
    expect(readFileSync(file, 'utf8')).toBe(secret.value);
    expect(modeOf(file)).toBe(0o600);
    expect(modeOf(dir)).toBe(0o700);
    // No temporary file is left behind, and the registry holds no secret.
    expect(readdirSync(dir)).toEqual(['secret']);
    expect(await store.getSetting(LEGACY_SECRET_SETTING)).toBeUndefined();
    // The next start reads the same secret.
    expect(await resolve()).toEqual({ value: secret.value, source: 'file', file });
  });

  it('leaves a shared folder holding the database as it is (the store decides about it)', async () => {
    mkdirSync(dir, { recursive: true });
    chmodSync(dir, 0o755);
    writeFileSync(join(dir, 'someone-elses-file'), 'x');
    const secret = await resolve();
    expect(modeOf(dir)).toBe(0o755);
    expect(modeOf(secret.file!)).toBe(0o600);
    expect(notices).toEqual([]);
  });

  it("moves an older gateway's registry secret into the file and deletes it from the registry", async () => {
    await store.getOrCreateSetting(LEGACY_SECRET_SETTING, OLD_SECRET);
    const secret = await resolve();
    expect(secret).toMatchObject({ value: OLD_SECRET, source: 'migrated' });
    expect(readFileSync(join(dir, 'secret'), 'utf8')).toBe(OLD_SECRET);
    expect(await store.getSetting(LEGACY_SECRET_SETTING)).toBeUndefined();
    expect(notices).toContainEqual({ kind: 'registry-secret-deleted', matched: true });
  });

  it('finishes a migration a crash interrupted: the file is there, the registry copy still too', async () => {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'secret'), OLD_SECRET, { mode: 0o600 });
    await store.getOrCreateSetting(LEGACY_SECRET_SETTING, OLD_SECRET);
    expect(await resolve()).toMatchObject({ value: OLD_SECRET, source: 'file' });
    expect(await store.getSetting(LEGACY_SECRET_SETTING)).toBeUndefined();
  });

  it('uses MCP_GATEWAY_SECRET as given, writes no file, and deletes a registry secret it overrides', async () => {
    await store.getOrCreateSetting(LEGACY_SECRET_SETTING, OLD_SECRET);
    expect(await resolve({ configured: ENV_SECRET })).toEqual({ value: ENV_SECRET, source: 'environment' });
    expect(existsSync(join(dir, 'secret'))).toBe(false);
    expect(await store.getSetting(LEGACY_SECRET_SETTING)).toBeUndefined();
    expect(notices).toEqual([{ kind: 'registry-secret-deleted', matched: false }]);
  });

  it('reads MCP_GATEWAY_SECRET_FILE without its trailing newline', async () => {
    const file = join(root, `given-${++counter}`);
    writeFileSync(file, `${ENV_SECRET}\n`, { mode: 0o600 });
    expect(await resolve({ file })).toEqual({ value: ENV_SECRET, source: 'file', file });
  });

  it('tightens a secret file others can read, and says so', async () => {
    const file = join(root, `open-${++counter}`);
    writeFileSync(file, ENV_SECRET);
    chmodSync(file, 0o644);
    await resolve({ file });
    expect(modeOf(file)).toBe(0o600);
    expect(notices).toContainEqual({
      kind: 'permissions',
      notice: { path: file, kind: 'file', action: 'tightened', from: '0644', to: '0600' },
    });
  });

  it('refuses a secret file shorter than 32 characters, naming the variable and not the value', async () => {
    const file = join(root, `short-${++counter}`);
    writeFileSync(file, 'too-short-secret\n', { mode: 0o600 });
    const error = await resolve({ file }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GatewaySecretError);
    expect((error as Error).message).toMatch(
      /^MCP_GATEWAY_SECRET_FILE .* holds 16 characters; a secret needs at least 32/,
    );
    expect((error as Error).message).not.toContain('too-short-secret');
  });

  it('on Postgres reads a given file and refuses a missing one, creating nothing', async () => {
    const postgres: DatabaseTarget = { dialect: 'postgres', url: 'postgres://db/x' };
    const file = join(root, `pg-${++counter}`);
    const error = await resolve({ database: postgres, file }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GatewaySecretError);
    expect((error as Error).message).toMatch(/does not exist; on Postgres the file must be provided/);
    expect(existsSync(file)).toBe(false);
    await expect(resolve({ database: postgres })).rejects.toThrow(
      /MCP_GATEWAY_SECRET or MCP_GATEWAY_SECRET_FILE/,
    );

    writeFileSync(file, ENV_SECRET, { mode: 0o400 });
    expect(await resolve({ database: postgres, file })).toMatchObject({ value: ENV_SECRET, source: 'file' });
  });

  it('gives a :memory: registry a random secret of its own and writes nothing', async () => {
    const secret = await resolve({ database: { dialect: 'sqlite', path: SQLITE_MEMORY } });
    expect(secret).toEqual({ value: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/), source: 'ephemeral' });
    expect(existsSync(SQLITE_MEMORY)).toBe(false);
  });

  it('two processes creating the file at once end with one secret', async () => {
    let n = 0;
    const generate = () => `candidate-${++n}-${'x'.repeat(40)}`;
    const [a, b] = await Promise.all([resolve({ generate }), resolve({ generate })]);
    expect(n).toBe(2);
    expect(a!.value).toBe(b!.value);
    expect(readFileSync(join(dir, 'secret'), 'utf8')).toBe(a!.value);
    expect(readdirSync(dir)).toEqual(['secret']);
  });
});
