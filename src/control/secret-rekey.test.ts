/**
 * The key ring and `POST /secrets/rekey` on SQLite and (with TEST_DATABASE_URL) Postgres: values sealed under a
 * previous gateway secret open, new writes use the current key, a rekey re-seals secrets, grants and sealed
 * settings, loses no write made meanwhile, and a value under an unknown key is reported, not a crash.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { TestDatabases } from '../../test/postgres-databases.js';
import { grantSealName } from '../auth/index.js';
import {
  SecretDecryptionError,
  SealedSettingError,
  createSecretCipher,
  createSettingsCipher,
  openRegistryStore,
  sealedSettingKeyId,
} from '../registry/index.js';
import type { RegistryStore } from '../registry/index.js';
import { createTestApp, headerPrincipal, json } from '../../test/test-app.js';
import { secretGate } from '../auth/index.js';
import { rekeyRegistry } from './secret-rekey.js';

const S1 = 'old-gateway-secret-0123456789abcdefghijklmnop';
const S2 = 'new-gateway-secret-0123456789abcdefghijklmnop';
const S0 = 'lost-gateway-secret-0123456789abcdefghijklmno';

describe('key ring', () => {
  it('opens a value sealed under a previous secret by its key id, and seals new ones with the current key', async () => {
    const old = await createSecretCipher(S1);
    const ring = await createSecretCipher(S2, [S1]);
    const sealed = await old.seal('github', 'ghp_value');
    expect(sealed.keyId).toBe(old.keyId);
    expect(await ring.open('github', sealed)).toBe('ghp_value');
    const fresh = await ring.seal('github', 'ghp_value');
    expect(fresh.keyId).toBe(ring.keyId);
    expect(fresh.keyId).not.toBe(old.keyId);
    expect(ring.previousKeyIds).toEqual([old.keyId]);
    // The old secret alone cannot open what the new one sealed.
    await expect(old.open('github', fresh)).rejects.toBeInstanceOf(SecretDecryptionError);
  });

  it('refuses a value under an unknown key id with an error naming the key id, not the value', async () => {
    const lost = await (await createSecretCipher(S0)).seal('github', 'ghp_value');
    const ring = await createSecretCipher(S2, [S1]);
    const error = await ring.open('github', lost).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(SecretDecryptionError);
    expect((error as Error).message).toContain(lost.keyId);
    expect((error as Error).message).toContain('MCP_GATEWAY_PREVIOUS_SECRETS');
    expect((error as Error).message).not.toContain('ghp_value');
  });

  it('opens a sealed setting under a previous secret, and refuses one under an unknown key', async () => {
    const sealed = await (await createSettingsCipher(S1)).seal('identity-signing-key', '{"k":1}');
    const ring = await createSettingsCipher(S2, [S1]);
    expect(await ring.open('identity-signing-key', sealed)).toBe('{"k":1}');
    expect(sealedSettingKeyId(await ring.seal('identity-signing-key', 'x'))).toBe(ring.keyId);
    await expect(
      (await createSettingsCipher(S2)).open('identity-signing-key', sealed),
    ).rejects.toBeInstanceOf(SealedSettingError);
  });
});

const dialects: Array<[string, () => Promise<RegistryStore>]> = [
  ['sqlite', () => openRegistryStore(':memory:')],
];
const postgresUrl = process.env.TEST_DATABASE_URL;
// A database of its own: a rekey reads every row, and another test file's rows are not this one's business.
const databases = new TestDatabases(postgresUrl ?? '');
afterAll(() => databases.dropAll());
if (postgresUrl) dialects.push(['postgres', async () => openRegistryStore(await databases.create())]);

describe.each(dialects)('rekey on %s', (_dialect, open) => {
  let store: RegistryStore | undefined;
  const names: string[] = [];
  afterEach(async () => {
    if (!store) return;
    for (const name of names.splice(0)) await store.deleteSecret(name).catch(() => undefined);
    for (const key of ['rekey-test-setting']) {
      const value = await store.getSetting(key);
      if (value !== undefined) await store.deleteSetting(key, value);
    }
    await store.deleteGrant('rekey-user', 'rekey-adapter');
    await store.close();
    store = undefined;
  });

  async function seedUnderS1(s: RegistryStore) {
    const old = await createSecretCipher(S1);
    const oldSettings = await createSettingsCipher(S1);
    const suffix = crypto.randomUUID().slice(0, 8);
    const a = `rekey-a-${suffix}`;
    const b = `rekey-b-${suffix}`;
    names.push(a, b);
    await s.createSecret(a, await old.seal(a, 'value-a'), 'test');
    await s.createSecret(b, await old.seal(b, 'value-b'), 'test');
    const now = new Date();
    await s.saveGrant({
      userId: 'rekey-user',
      adapter: 'rekey-adapter',
      adapterUid: 'uid-1',
      scopes: '',
      createdAt: now,
      expiresAt: undefined,
      lastUpdatedAt: now,
      ...(await old.seal(grantSealName('rekey-user', 'rekey-adapter'), '{"access_token":"tok"}')),
    });
    await s.getOrCreateSetting(
      'rekey-test-setting',
      await oldSettings.seal('rekey-test-setting', 'setting-v'),
    );
    return { a, b };
  }

  it('re-seals secrets, grants and settings under the current key; values unchanged; a second run is a no-op', async () => {
    store = await open();
    const { a, b } = await seedUnderS1(store);
    const secrets = await createSecretCipher(S2, [S1]);
    const settings = await createSettingsCipher(S2, [S1]);
    const before = await store.getSecret(a);

    const dry = await rekeyRegistry(store, { secrets, settings }, { dryRun: true });
    expect(dry.resealed).toEqual({ secrets: 0, grants: 0, settings: 0 });
    expect(dry.remaining.secrets).toBeGreaterThanOrEqual(2);

    const report = await rekeyRegistry(store, { secrets, settings });
    expect(report.resealed.secrets).toBeGreaterThanOrEqual(2);
    expect(report.resealed.grants).toBe(1);
    expect(report.resealed.settings).toBeGreaterThanOrEqual(1);
    expect(report.remaining).toEqual({ secrets: 0, grants: 0, settings: 0 });
    expect(report.unreadable).toEqual([]);

    // Now the new secret alone opens everything, and the values are the same.
    const only = await createSecretCipher(S2);
    const onlySettings = await createSettingsCipher(S2);
    const rowA = await store.getSecret(a);
    expect(await only.open(a, rowA!)).toBe('value-a');
    expect(await only.open(b, (await store.getSecret(b))!)).toBe('value-b');
    const grant = await store.getGrant('rekey-user', 'rekey-adapter');
    expect(await only.open(grantSealName('rekey-user', 'rekey-adapter'), grant!)).toBe(
      '{"access_token":"tok"}',
    );
    expect(grant!.adapterUid).toBe('uid-1');
    expect(
      await onlySettings.open('rekey-test-setting', (await store.getSetting('rekey-test-setting'))!),
    ).toBe('setting-v');
    // A re-seal is not a rotation: the version (and so the ETag) stays.
    expect(rowA!.version).toBe(before!.version);

    const again = await rekeyRegistry(store, { secrets, settings });
    expect(again.resealed).toEqual({ secrets: 0, grants: 0, settings: 0 });
  });

  it('does not lose a rotation written between its read and its write', async () => {
    store = await open();
    const { a } = await seedUnderS1(store);
    const secrets = await createSecretCipher(S2, [S1]);
    const settings = await createSettingsCipher(S2, [S1]);
    const real = store;
    let rotated = false;
    // The rotation lands after the rekey has read secret `a` and before its compare and set.
    const racing = new Proxy(real, {
      get(target, prop, receiver) {
        if (prop === 'resealSecret') {
          return async (...args: Parameters<RegistryStore['resealSecret']>) => {
            if (args[0] === a && !rotated) {
              rotated = true;
              await target.updateSecret(a, await secrets.seal(a, 'rotated-meanwhile'));
            }
            return target.resealSecret(...args);
          };
        }
        const value = Reflect.get(target, prop, receiver) as unknown;
        return typeof value === 'function' ? (value as (...x: unknown[]) => unknown).bind(target) : value;
      },
    });
    const report = await rekeyRegistry(racing, { secrets, settings });
    expect(rotated).toBe(true);
    expect(report.remaining.secrets).toBe(0);
    expect(await (await createSecretCipher(S2)).open(a, (await real.getSecret(a))!)).toBe(
      'rotated-meanwhile',
    );
  });

  it('reports a value under a key no secret of the ring gives, by name and key id, and re-seals the rest', async () => {
    store = await open();
    const lostCipher = await createSecretCipher(S0);
    const lost = `rekey-lost-${crypto.randomUUID().slice(0, 8)}`;
    names.push(lost);
    await store.createSecret(lost, await lostCipher.seal(lost, 'lost-value'), 'test');
    const { a } = await seedUnderS1(store);
    const report = await rekeyRegistry(store, {
      secrets: await createSecretCipher(S2, [S1]),
      settings: await createSettingsCipher(S2, [S1]),
    });
    expect(report.unreadable).toContainEqual({ kind: 'secret', name: lost, keyId: lostCipher.keyId });
    expect(report.remaining.secrets).toBeGreaterThanOrEqual(1);
    expect((await store.getSecret(a))!.keyId).toBe((await createSecretCipher(S2)).keyId);
    expect(JSON.stringify(report)).not.toContain('lost-value');
  });
});

describe('POST /secrets/rekey', () => {
  it('re-seals through the API for a secret role, counts in a dry run, refuses others and bad bodies', async () => {
    const store = await openRegistryStore(':memory:');
    try {
      const old = await createSecretCipher(S1);
      await store.createSecret('github', await old.seal('github', 'ghp_api_value'), 'test');
      const { app } = await createTestApp({
        store,
        gatewaySecret: S2,
        previousSecrets: [S1],
        authenticate: headerPrincipal(),
        authorizeSecrets: secretGate({ secretRoles: ['team.secrets'] }),
      });
      const admin = { 'x-test-user': 'ops', 'x-test-roles': 'team.secrets' };

      const denied = await app.request(
        '/secrets/rekey',
        json('POST', {}, { 'x-test-user': 'dev', 'x-test-roles': 'dev' }),
      );
      expect(denied.status).toBe(403);

      const bad = await app.request('/secrets/rekey', json('POST', { dryRun: 'yes' }, admin));
      expect(bad.status).toBe(400);
      expect(((await bad.json()) as { error: { code: string } }).error.code).toBeDefined();

      const dry = await app.request('/secrets/rekey', json('POST', { dryRun: true }, admin));
      expect(dry.status).toBe(200);
      expect(((await dry.json()) as { remaining: { secrets: number } }).remaining.secrets).toBe(1);

      const res = await app.request('/secrets/rekey', json('POST', {}, admin));
      expect(res.status).toBe(200);
      const text = await res.text();
      expect(text).not.toContain('ghp_api_value');
      const report = JSON.parse(text) as { keyId: string; resealed: { secrets: number }; remaining: object };
      expect(report.resealed.secrets).toBe(1);
      expect(report.remaining).toEqual({ secrets: 0, grants: 0, settings: 0 });
      expect(report.keyId).toBe((await createSecretCipher(S2)).keyId);
      expect((await store.getSecret('github'))!.keyId).toBe(report.keyId);
      // `GET /secrets/rekey` still reads the secret called "rekey" (none here), not the report.
      expect((await app.request('/secrets/rekey', { headers: admin })).status).toBe(404);
    } finally {
      await store.close();
    }
  });
});
