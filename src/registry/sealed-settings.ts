/**
 * @module sealed-settings: registry settings that are secrets themselves (the identity-JWT signing key) are stored
 * encrypted under a key derived from the gateway secret, so a copy of the database alone does not give them away
 * and every replica that shares the secret can still read them.
 *
 * Format: a JWE in compact serialization (RFC 7516) with `alg: "dir"`, `enc: "A256GCM"` — AES-256-GCM with a
 * random 96-bit IV, the protected header as additional data. The header also names:
 * - `kid`: the key id, HKDF-derived from the secret (so it reveals nothing of the key), which tells a later
 *   gateway with several secrets (a rotation) which one to use, and this one that it has the wrong secret;
 * - `mcp-setting`: the setting's key, so a value copied under another key does not decrypt as that key.
 * Key = HKDF-SHA256(ikm = UTF-8(secret), salt = empty, info = "mcp-gateway settings v1"), 256 bits; key id =
 * base64url of 9 bytes of HKDF-SHA256(same ikm, info = "mcp-gateway settings key-id v1").
 * Key ring: the current secret seals; previous secrets (`MCP_GATEWAY_PREVIOUS_SECRETS`) open values whose `kid` is
 * theirs, until `mcp-gateway secrets rekey` re-seals them under the current key.
 * WebCrypto and jose only, so the edge build shares it.
 */
import { CompactEncrypt, compactDecrypt, decodeProtectedHeader } from 'jose';
import { base64Url, hkdf } from './key-derivation.js';
import type { RegistryStore } from './registry-store.js';

const KEY_INFO = 'mcp-gateway settings v1';
const KEY_ID_INFO = 'mcp-gateway settings key-id v1';
const KEY_ID_BYTES = 9;
const SETTING_HEADER = 'mcp-setting';
/** JWE compact with direct encryption: header, empty encrypted key, IV, ciphertext, tag. */
const COMPACT_DIRECT_JWE = /^[A-Za-z0-9_-]+\.\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+$/;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A sealed setting could not be opened: sealed under another secret, altered, or not a sealed value at all. */
export class SealedSettingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SealedSettingError';
  }
}

/** Encrypts and decrypts setting values with the key derived from one gateway secret. */
export interface SettingsCipher {
  /** Which key this cipher seals with (the `kid` of every value it seals). */
  readonly keyId: string;
  /** The ids of the previous secrets' keys, which open but never seal. */
  readonly previousKeyIds: readonly string[];
  /** Seals `plaintext` as the value of setting `setting`. */
  seal(setting: string, plaintext: string): Promise<string>;
  /** Opens a value {@link seal} made for `setting`; throws {@link SealedSettingError} otherwise. */
  open(setting: string, sealed: string): Promise<string>;
}

/** Whether a stored value has the shape of a sealed setting (else it is a plaintext value of an older gateway). */
export function isSealedSetting(value: string): boolean {
  return COMPACT_DIRECT_JWE.test(value);
}

/** The `kid` a sealed setting names, or undefined when it has none (or is not sealed). */
export function sealedSettingKeyId(sealed: string): string | undefined {
  if (!isSealedSetting(sealed)) return undefined;
  try {
    const kid = decodeProtectedHeader(sealed).kid;
    return typeof kid === 'string' ? kid : undefined;
  } catch {
    return undefined;
  }
}

async function deriveSettingsKey(secret: string): Promise<{ id: string; key: CryptoKey }> {
  const key = await crypto.subtle.importKey('raw', await hkdf(secret, KEY_INFO, 32), 'AES-GCM', false, [
    'encrypt',
    'decrypt',
  ]);
  return { id: base64Url(await hkdf(secret, KEY_ID_INFO, KEY_ID_BYTES)), key };
}

/**
 * Derives the settings key and its id from the gateway secret, and the keys of `previousSecrets`, which open
 * values sealed under them and never seal.
 */
export async function createSettingsCipher(
  secret: string,
  previousSecrets: readonly string[] = [],
): Promise<SettingsCipher> {
  if (typeof secret !== 'string' || secret.length === 0) {
    throw new TypeError('createSettingsCipher: the gateway secret is required');
  }
  const current = await deriveSettingsKey(secret);
  const ring = new Map<string, CryptoKey>([[current.id, current.key]]);
  for (const previous of previousSecrets) {
    if (previous.length === 0) continue;
    const derived = await deriveSettingsKey(previous);
    if (!ring.has(derived.id)) ring.set(derived.id, derived.key);
  }
  const keyId = current.id;
  const key = current.key;

  return {
    keyId,
    previousKeyIds: [...ring.keys()].filter((id) => id !== keyId),
    async seal(setting, plaintext) {
      return new CompactEncrypt(encoder.encode(plaintext))
        .setProtectedHeader({ alg: 'dir', enc: 'A256GCM', kid: keyId, [SETTING_HEADER]: setting })
        .encrypt(key);
    },
    async open(setting, sealed) {
      if (!isSealedSetting(sealed)) throw new SealedSettingError(`setting '${setting}' is not sealed`);
      let header: Record<string, unknown>;
      try {
        header = decodeProtectedHeader(sealed);
      } catch {
        throw new SealedSettingError(`setting '${setting}' is not a readable sealed value`);
      }
      const opener = typeof header.kid === 'string' ? ring.get(header.kid) : undefined;
      if (!opener) {
        throw new SealedSettingError(
          `setting '${setting}' is sealed under key id ${JSON.stringify(header.kid)}, which neither this gateway's ` +
            `secret (key id ${keyId}) nor a previous secret in MCP_GATEWAY_PREVIOUS_SECRETS gives: start the ` +
            'gateway with the secret that sealed it as a previous secret',
        );
      }
      let opened: Awaited<ReturnType<typeof compactDecrypt>>;
      try {
        opened = await compactDecrypt(sealed, opener, {
          keyManagementAlgorithms: ['dir'],
          contentEncryptionAlgorithms: ['A256GCM'],
        });
      } catch {
        throw new SealedSettingError(`setting '${setting}' does not decrypt: it was altered`);
      }
      if (opened.protectedHeader[SETTING_HEADER] !== setting) {
        throw new SealedSettingError(
          `the value stored as setting '${setting}' was sealed for another setting`,
        );
      }
      return decoder.decode(opened.plaintext);
    },
  };
}

/**
 * The plaintext of the sealed setting `key`, creating it (sealed) from `create()` when there is none. A plaintext
 * value left by an older gateway is sealed in place (compare and set, so replicas starting together agree) and
 * returned. Throws {@link SealedSettingError} when the stored value cannot be opened with this cipher.
 */
export async function getOrCreateSealedSetting(
  store: Pick<RegistryStore, 'getSetting' | 'getOrCreateSetting' | 'replaceSetting'>,
  cipher: SettingsCipher,
  key: string,
  create: () => Promise<string>,
): Promise<string> {
  let stored = await store.getSetting(key);
  if (stored === undefined) {
    stored = await store.getOrCreateSetting(key, await cipher.seal(key, await create()));
  }
  if (isSealedSetting(stored)) return cipher.open(key, stored);
  // Written by an older gateway in the clear: seal it. If another replica did so first, its value seals this one.
  await store.replaceSetting(key, stored, await cipher.seal(key, stored));
  return stored;
}
