/**
 * @module secret-cipher: how secrets (`/secrets`) are encrypted at rest, so a copy of the registry alone gives no
 * value away and every replica that shares the gateway secret can still read them.
 *
 * - Cipher: AES-256-GCM (WebCrypto), a random 96-bit IV per value, a 128-bit tag appended to the ciphertext.
 * - Key: HKDF-SHA256(ikm = UTF-8(gateway secret), salt = empty, info = "mcp-gateway secrets v1"), 256 bits — its
 *   own label, so it is not the key of the sealed settings (`sealed-settings.ts`) even though both come from one
 *   gateway secret.
 * - Key id: base64url of 9 bytes of HKDF-SHA256(same ikm, info = "mcp-gateway secrets key-id v1"), stored with
 *   each value; it reveals nothing of the key and tells a gateway holding several keys (a later rotation) which
 *   one sealed a value, and this one that it has the wrong gateway secret.
 * - Key ring: the current gateway secret seals every new value; the previous secrets
 *   (`MCP_GATEWAY_PREVIOUS_SECRETS`) only open values still sealed under them, picked by the stored key id (never by
 *   trying each key), until `mcp-gateway secrets rekey` re-seals those under the current key (`rekey.ts`).
 * - Additional data: UTF-8 of "mcp-gateway secret v1\0" + key id + "\0" + the secret's name, so a ciphertext copied
 *   under another name (or relabelled with another key id) fails to decrypt.
 * No Node API, so the edge build shares it.
 */
import { base64Url, fromBase64Url, hkdf } from './key-derivation.js';
import type { RegistryStore, SealedSecretValue } from './registry-store.js';

const KEY_INFO = 'mcp-gateway secrets v1';
const KEY_ID_INFO = 'mcp-gateway secrets key-id v1';
const KEY_ID_BYTES = 9;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const AAD_LABEL = 'mcp-gateway secret v1';

const encoder = new TextEncoder();

/** A stored secret could not be opened: sealed under another gateway secret, altered, or moved to another name. */
export class SecretDecryptionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SecretDecryptionError';
  }
}

/** Encrypts secret values with the key of the current gateway secret; opens them under it or a previous one. */
export interface SecretCipher {
  /** The id of the key this cipher seals with (stored with every value it seals). */
  readonly keyId: string;
  /** The ids of the previous secrets' keys, which open but never seal (empty without a rotation under way). */
  readonly previousKeyIds: readonly string[];
  /** Seals `value` as the value of the secret called `name`: a fresh IV each call. */
  seal(name: string, value: string): Promise<SealedSecretValue>;
  /** Opens what {@link seal} made for `name`; throws {@link SecretDecryptionError} otherwise. */
  open(name: string, sealed: SealedSecretValue): Promise<string>;
}

const additionalData = (keyId: string, name: string) => encoder.encode(`${AAD_LABEL}\0${keyId}\0${name}`);

interface SecretKey {
  readonly id: string;
  readonly key: CryptoKey;
}

async function deriveSecretKey(gatewaySecret: string): Promise<SecretKey> {
  const key = await crypto.subtle.importKey(
    'raw',
    await hkdf(gatewaySecret, KEY_INFO, 32),
    'AES-GCM',
    false,
    ['encrypt', 'decrypt'],
  );
  return { id: base64Url(await hkdf(gatewaySecret, KEY_ID_INFO, KEY_ID_BYTES)), key };
}

/**
 * Derives the secrets key and its id from the gateway secret, and the keys of `previousSecrets` (a rotation under
 * way), which open the values sealed under them and never seal.
 */
export async function createSecretCipher(
  gatewaySecret: string,
  previousSecrets: readonly string[] = [],
): Promise<SecretCipher> {
  if (typeof gatewaySecret !== 'string' || gatewaySecret.length === 0) {
    throw new TypeError('createSecretCipher: the gateway secret is required');
  }
  const current = await deriveSecretKey(gatewaySecret);
  const ring = new Map<string, CryptoKey>([[current.id, current.key]]);
  for (const previous of previousSecrets) {
    if (previous.length === 0) continue;
    const derived = await deriveSecretKey(previous);
    if (!ring.has(derived.id)) ring.set(derived.id, derived.key);
  }
  const keyId = current.id;

  return {
    keyId,
    previousKeyIds: [...ring.keys()].filter((id) => id !== keyId),
    async seal(name, value) {
      const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
      const ciphertext = await crypto.subtle.encrypt(
        { name: 'AES-GCM', iv, additionalData: additionalData(keyId, name), tagLength: TAG_BYTES * 8 },
        current.key,
        encoder.encode(value),
      );
      return { keyId, iv: base64Url(iv), ciphertext: base64Url(new Uint8Array(ciphertext)) };
    },
    async open(name, sealed) {
      const key = ring.get(sealed.keyId);
      if (!key) {
        throw new SecretDecryptionError(
          `secret '${name}' is sealed under key id ${JSON.stringify(sealed.keyId)}, which neither this gateway's ` +
            `secret (key id ${keyId}) nor a previous secret in MCP_GATEWAY_PREVIOUS_SECRETS gives: start the ` +
            'gateway with the secret that sealed it as a previous secret, then run `mcp-gateway secrets rekey`',
        );
      }
      const iv = fromBase64Url(sealed.iv);
      const ciphertext = fromBase64Url(sealed.ciphertext);
      if (iv?.length !== IV_BYTES || !ciphertext || ciphertext.length < TAG_BYTES) {
        throw new SecretDecryptionError(`secret '${name}' is not a readable sealed value`);
      }
      let plaintext: ArrayBuffer;
      try {
        plaintext = await crypto.subtle.decrypt(
          {
            name: 'AES-GCM',
            iv,
            additionalData: additionalData(sealed.keyId, name),
            tagLength: TAG_BYTES * 8,
          },
          key,
          ciphertext,
        );
      } catch {
        throw new SecretDecryptionError(
          `secret '${name}' does not decrypt: it was altered, or sealed for another name`,
        );
      }
      try {
        return new TextDecoder('utf-8', { fatal: true }).decode(plaintext);
      } catch {
        // Authenticated, so only a bug could get here; refuse rather than hand on a mangled value.
        throw new SecretDecryptionError(`secret '${name}' decrypts to text that is not UTF-8`);
      }
    },
  };
}

/**
 * The value of secret `name`, decrypted, or undefined when there is no such secret: what the data plane calls
 * to hand a stored credential to an upstream. Throws {@link SecretDecryptionError} when the stored value cannot
 * be opened with `cipher`.
 */
export async function readSecretValue(
  store: Pick<RegistryStore, 'getSecret'>,
  cipher: SecretCipher,
  name: string,
): Promise<string | undefined> {
  const stored = await store.getSecret(name);
  return stored && cipher.open(name, stored);
}
