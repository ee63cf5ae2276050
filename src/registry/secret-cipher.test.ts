/**
 * @module Tests of the secret cipher: the documented format (checked by an independent decryption with
 * node:crypto), that tampering or moving a value makes it fail, and `readSecretValue` on a real registry.
 */
import { createDecipheriv, hkdfSync } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SealedSecretValue } from './registry-store.js';
import { createSettingsCipher } from './sealed-settings.js';
import { SecretDecryptionError, createSecretCipher, readSecretValue } from './secret-cipher.js';
import { SQLITE_MEMORY, SqliteRegistryStore } from './sqlite/index.js';

const SECRET = 'test-secret-0123456789-abcdefghijklmnopqrstuvwxyz';
const OTHER_SECRET = 'another-secret-0123456789-abcdefghijklmnopqrstuvw';
const VALUE = 'ghp_exampleTokenValue0123456789 — ünïcödé 👩‍💻';

/** Flips one bit of the base64url field at byte `index`. */
function flipped(field: string, index: number): string {
  const bytes = Buffer.from(field, 'base64url');
  bytes[index] = (bytes[index] ?? 0) ^ 0x01;
  return bytes.toString('base64url');
}

describe('secret cipher', () => {
  it('follows the documented format: HKDF key and key id, 96-bit IV, name-bound AAD (node:crypto decrypts it)', async () => {
    const cipher = await createSecretCipher(SECRET);
    const sealed = await cipher.seal('github-token', VALUE);
    const hkdf = (info: string, bytes: number) =>
      Buffer.from(hkdfSync('sha256', Buffer.from(SECRET, 'utf8'), Buffer.alloc(0), info, bytes));
    expect(sealed.keyId).toBe(hkdf('mcp-gateway secrets key-id v1', 9).toString('base64url'));
    expect(cipher.keyId).toBe(sealed.keyId);
    const iv = Buffer.from(sealed.iv, 'base64url');
    expect(iv).toHaveLength(12);
    const body = Buffer.from(sealed.ciphertext, 'base64url');
    const decipher = createDecipheriv('aes-256-gcm', hkdf('mcp-gateway secrets v1', 32), iv);
    decipher.setAAD(Buffer.from(`mcp-gateway secret v1\0${sealed.keyId}\0github-token`, 'utf8'));
    decipher.setAuthTag(body.subarray(body.length - 16));
    const plain = Buffer.concat([decipher.update(body.subarray(0, body.length - 16)), decipher.final()]);
    expect(plain.toString('utf8')).toBe(VALUE);
  });

  it('hides the value, opens it again, and uses a fresh IV for every seal', async () => {
    const cipher = await createSecretCipher(SECRET);
    const first = await cipher.seal('github-token', VALUE);
    expect(JSON.stringify(first)).not.toContain('ghp_example');
    expect(Buffer.from(first.ciphertext, 'base64url').toString('latin1')).not.toContain('ghp_example');
    expect(await cipher.open('github-token', first)).toBe(VALUE);
    const second = await cipher.seal('github-token', VALUE);
    expect(second.iv).not.toBe(first.iv);
    expect(second.ciphertext).not.toBe(first.ciphertext);
    expect(await cipher.open('github-token', second)).toBe(VALUE);
  });

  it('refuses a value moved to another name', async () => {
    const cipher = await createSecretCipher(SECRET);
    const sealed = await cipher.seal('github-token', VALUE);
    await expect(cipher.open('other-token', sealed)).rejects.toThrow(SecretDecryptionError);
    await expect(cipher.open('other-token', sealed)).rejects.toThrow(
      "secret 'other-token' does not decrypt: it was altered, or sealed for another name",
    );
  });

  it('refuses any altered bit of the ciphertext, the tag or the IV, and malformed fields', async () => {
    const cipher = await createSecretCipher(SECRET);
    const sealed = await cipher.seal('api-key', 'short value');
    const length = Buffer.from(sealed.ciphertext, 'base64url').length;
    const tampered: SealedSecretValue[] = [
      { ...sealed, ciphertext: flipped(sealed.ciphertext, 0) },
      // The last byte is part of the tag.
      { ...sealed, ciphertext: flipped(sealed.ciphertext, length - 1) },
      { ...sealed, iv: flipped(sealed.iv, 5) },
      { ...sealed, ciphertext: sealed.ciphertext.slice(0, -4) },
      { ...sealed, iv: 'not base64url!' },
      { ...sealed, iv: Buffer.alloc(16).toString('base64url') },
      { ...sealed, ciphertext: '' },
    ];
    for (const value of tampered) {
      await expect(cipher.open('api-key', value)).rejects.toBeInstanceOf(SecretDecryptionError);
    }
    expect(await cipher.open('api-key', sealed)).toBe('short value');
  });

  it('names the key id when the gateway secret differs, and a relabelled key id does not help', async () => {
    const sealed = await (await createSecretCipher(SECRET)).seal('api-key', VALUE);
    const other = await createSecretCipher(OTHER_SECRET);
    expect(other.keyId).not.toBe(sealed.keyId);
    await expect(other.open('api-key', sealed)).rejects.toThrow(
      `secret 'api-key' is sealed under key id "${sealed.keyId}", which neither this gateway's secret (key id ${other.keyId})`,
    );
    await expect(other.open('api-key', { ...sealed, keyId: other.keyId })).rejects.toThrow(
      /does not decrypt/,
    );
  });

  it('uses a key of its own: not the sealed settings key', async () => {
    const secrets = await createSecretCipher(SECRET);
    const settings = await createSettingsCipher(SECRET);
    expect(secrets.keyId).not.toBe(settings.keyId);
  });

  it('refuses an empty gateway secret', async () => {
    await expect(createSecretCipher('')).rejects.toThrow(TypeError);
  });
});

describe('readSecretValue', () => {
  let store: SqliteRegistryStore;
  beforeEach(async () => {
    store = await SqliteRegistryStore.open(SQLITE_MEMORY);
  });
  afterEach(() => store.close());

  it('decrypts a stored secret, and answers undefined for a missing one', async () => {
    const cipher = await createSecretCipher(SECRET);
    await store.createSecret('github-token', await cipher.seal('github-token', VALUE), 'alice');
    expect(await readSecretValue(store, cipher, 'github-token')).toBe(VALUE);
    expect(await readSecretValue(store, cipher, 'missing')).toBeUndefined();
    // Rotated: the new value.
    await store.updateSecret('github-token', await cipher.seal('github-token', 'rotated'));
    expect(await readSecretValue(store, cipher, 'github-token')).toBe('rotated');
  });

  it('fails when a stored ciphertext was copied onto another secret', async () => {
    const cipher = await createSecretCipher(SECRET);
    const sealed = await cipher.seal('github-token', VALUE);
    await store.createSecret('github-token', sealed, 'alice');
    await store.createSecret('innocent', await cipher.seal('innocent', 'x'), 'alice');
    await store.updateSecret('innocent', sealed);
    await expect(readSecretValue(store, cipher, 'innocent')).rejects.toBeInstanceOf(SecretDecryptionError);
  });
});
