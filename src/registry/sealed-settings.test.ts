/** @module Tests of sealed settings: the format (checked by an independent decryption), binding, and migration. */
import { createDecipheriv, hkdfSync } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RegistryStore } from './registry-store.js';
import {
  SealedSettingError,
  createSettingsCipher,
  getOrCreateSealedSetting,
  isSealedSetting,
} from './sealed-settings.js';
import { SQLITE_MEMORY, SqliteRegistryStore } from './sqlite/index.js';

const SECRET = 'test-secret-0123456789-abcdefghijklmnopqrstuvwxyz';
const OTHER_SECRET = 'another-secret-0123456789-abcdefghijklmnopqrstuvw';
const KEY = 'identity-signing-key';
const PLAINTEXT = JSON.stringify({ kty: 'EC', crv: 'P-256', d: 'private-part-of-the-key', kid: 'k1' });

describe('settings cipher', () => {
  it('seals to a compact direct JWE that hides the value, and opens it again', async () => {
    const cipher = await createSettingsCipher(SECRET);
    const sealed = await cipher.seal(KEY, PLAINTEXT);
    expect(isSealedSetting(sealed)).toBe(true);
    expect(isSealedSetting(PLAINTEXT)).toBe(false);
    expect(sealed).not.toContain('private-part-of-the-key');
    expect(Buffer.from(sealed.replace(/\./g, ''), 'base64url').toString('latin1')).not.toContain(
      'private-part',
    );
    expect(await cipher.open(KEY, sealed)).toBe(PLAINTEXT);
    // A random IV: sealing twice gives two values.
    expect(await cipher.seal(KEY, PLAINTEXT)).not.toBe(sealed);
  });

  it('follows the documented format (decrypted here with node:crypto alone)', async () => {
    const cipher = await createSettingsCipher(SECRET);
    const sealed = await cipher.seal(KEY, PLAINTEXT);
    const [header, encryptedKey, iv, ciphertext, tag] = sealed.split('.') as [
      string,
      string,
      string,
      string,
      string,
    ];
    expect(encryptedKey).toBe('');
    const keyId = Buffer.from(hkdfSync('sha256', SECRET, '', 'mcp-gateway settings key-id v1', 9)).toString(
      'base64url',
    );
    expect(JSON.parse(Buffer.from(header, 'base64url').toString())).toEqual({
      alg: 'dir',
      enc: 'A256GCM',
      kid: keyId,
      'mcp-setting': KEY,
    });
    expect(cipher.keyId).toBe(keyId);
    const key = Buffer.from(hkdfSync('sha256', SECRET, '', 'mcp-gateway settings v1', 32));
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from(header, 'ascii'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    const plain = Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]);
    expect(plain.toString()).toBe(PLAINTEXT);
  });

  it('refuses a value sealed under another secret, naming both key ids', async () => {
    const sealed = await (await createSettingsCipher(OTHER_SECRET)).seal(KEY, PLAINTEXT);
    const cipher = await createSettingsCipher(SECRET);
    const error = await cipher.open(KEY, sealed).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SealedSettingError);
    expect((error as Error).message).toMatch(
      /sealed under key id "[\w-]{12}", which neither this gateway's secret \(key id [\w-]{12}\)/,
    );
  });

  it('refuses an altered value, and one sealed for another setting', async () => {
    const cipher = await createSettingsCipher(SECRET);
    const sealed = await cipher.seal(KEY, PLAINTEXT);
    const parts = sealed.split('.');
    parts[3] = `${parts[3]!.slice(0, -2)}${parts[3]!.endsWith('AA') ? 'BA' : 'AA'}`;
    await expect(cipher.open(KEY, parts.join('.'))).rejects.toThrow(/does not decrypt: it was altered/);
    await expect(cipher.open('gateway-other', sealed)).rejects.toThrow(/sealed for another setting/);
    await expect(cipher.open(KEY, PLAINTEXT)).rejects.toBeInstanceOf(SealedSettingError);
  });
});

describe('getOrCreateSealedSetting', () => {
  let store: RegistryStore;
  beforeEach(async () => {
    store = await SqliteRegistryStore.open(SQLITE_MEMORY);
  });
  afterEach(() => store.close());

  it('creates the value sealed, and reads it back on the next start without creating another', async () => {
    const cipher = await createSettingsCipher(SECRET);
    let created = 0;
    const create = async () => `${PLAINTEXT}-${++created}`;
    const first = await getOrCreateSealedSetting(store, cipher, KEY, create);
    expect(first).toBe(`${PLAINTEXT}-1`);
    const stored = await store.getSetting(KEY);
    expect(isSealedSetting(stored!)).toBe(true);
    expect(stored).not.toContain('private-part');
    expect(await getOrCreateSealedSetting(store, await createSettingsCipher(SECRET), KEY, create)).toBe(
      first,
    );
    expect(created).toBe(1);
  });

  it("seals an older gateway's plaintext value in place, keeping what it holds", async () => {
    await store.getOrCreateSetting(KEY, PLAINTEXT);
    const cipher = await createSettingsCipher(SECRET);
    const create = async () => 'must not be called';
    expect(await getOrCreateSealedSetting(store, cipher, KEY, create)).toBe(PLAINTEXT);
    const stored = await store.getSetting(KEY);
    expect(isSealedSetting(stored!)).toBe(true);
    expect(await cipher.open(KEY, stored!)).toBe(PLAINTEXT);
    // Two replicas migrating at once agree on the value.
    await store.replaceSetting(KEY, stored!, PLAINTEXT);
    const both = await Promise.all([
      getOrCreateSealedSetting(store, cipher, KEY, create),
      getOrCreateSealedSetting(store, cipher, KEY, create),
    ]);
    expect(both).toEqual([PLAINTEXT, PLAINTEXT]);
    expect(await cipher.open(KEY, (await store.getSetting(KEY))!)).toBe(PLAINTEXT);
  });

  it('refuses to start on a value sealed under another secret rather than replace it', async () => {
    await getOrCreateSealedSetting(
      store,
      await createSettingsCipher(OTHER_SECRET),
      KEY,
      async () => PLAINTEXT,
    );
    const before = await store.getSetting(KEY);
    await expect(
      getOrCreateSealedSetting(store, await createSettingsCipher(SECRET), KEY, async () => 'new'),
    ).rejects.toBeInstanceOf(SealedSettingError);
    expect(await store.getSetting(KEY)).toBe(before);
  });
});
