/**
 * @module secret-rekey: `mcp-gateway secrets rekey` — after a change of the gateway secret (the old one kept in
 * `MCP_GATEWAY_PREVIOUS_SECRETS`), re-seals under the current key every value still sealed under an old one:
 * stored secrets, the token vault's grants and the sealed settings (identity key, registered OAuth clients).
 *
 * Each row is opened with the key its key id names and written back with a compare and set on the old sealed
 * value, so a rotation or refresh written meanwhile (already under the current key) wins and is never lost, and a
 * crash leaves every row sealed under one key or the other, both readable: run it again and it carries on. A row
 * under a key no secret of the ring gives is reported by name and key id, never guessed at. No value or key
 * leaves this module.
 */
import { grantSealName } from '../auth/index.js';
import { isSealedSetting, sealedSettingKeyId } from '../registry/index.js';
import type { RegistryStore, SecretCipher, SettingsCipher } from '../registry/index.js';

/** The ciphers of the current gateway secret (with the previous ones in their rings). */
export interface RekeyCiphers {
  readonly secrets: SecretCipher;
  readonly settings: SettingsCipher;
}

/** How many values of each kind. */
export interface RekeyCounts {
  readonly secrets: number;
  readonly grants: number;
  readonly settings: number;
}

/** A value under a key id no secret of the ring gives: the operator needs the secret that sealed it. */
export interface UnreadableValue {
  readonly kind: 'secret' | 'grant' | 'setting';
  /** The secret's name, `<adapter> of <user>` for a grant, or the setting's key. */
  readonly name: string;
  readonly keyId: string;
}

/** What a rekey (or a dry run) reports. */
export interface RekeyReport {
  /** The key id every value is sealed under afterwards. */
  readonly keyId: string;
  readonly resealed: RekeyCounts;
  /** Values still under an old key afterwards (0 everywhere: the previous secrets can be dropped). */
  readonly remaining: RekeyCounts;
  readonly unreadable: readonly UnreadableValue[];
}

type RekeyStore = Pick<
  RegistryStore,
  | 'listSecretsSealedOtherThan'
  | 'resealSecret'
  | 'getSecret'
  | 'listGrantsSealedOtherThan'
  | 'resealGrant'
  | 'getGrant'
  | 'listSettings'
  | 'getSetting'
  | 'replaceSetting'
>;

/** A compare and set that lost is retried this often (each retry re-reads the row); then the row is left. */
const ATTEMPTS = 3;

async function oldSettings(store: RekeyStore, keyId: string) {
  return (await store.listSettings()).filter(
    (row) => isSealedSetting(row.value) && sealedSettingKeyId(row.value) !== keyId,
  );
}

/** How many values are still sealed under a key other than the current one. */
export async function countOldKeyValues(store: RekeyStore, ciphers: RekeyCiphers): Promise<RekeyCounts> {
  return {
    secrets: (await store.listSecretsSealedOtherThan(ciphers.secrets.keyId)).length,
    grants: (await store.listGrantsSealedOtherThan(ciphers.secrets.keyId)).length,
    settings: (await oldSettings(store, ciphers.settings.keyId)).length,
  };
}

/** Whether `keyId` is one the ring can open. */
const known = (cipher: { keyId: string; previousKeyIds: readonly string[] }, keyId: string | undefined) =>
  keyId !== undefined && (keyId === cipher.keyId || cipher.previousKeyIds.includes(keyId));

/** Re-seals every value still under an old key; see the module comment. With `dryRun`, only counts. */
export async function rekeyRegistry(
  store: RekeyStore,
  ciphers: RekeyCiphers,
  options: { readonly dryRun?: boolean } = {},
): Promise<RekeyReport> {
  const unreadable: UnreadableValue[] = [];
  const resealed = { secrets: 0, grants: 0, settings: 0 };
  const { secrets, settings } = ciphers;

  for (const listed of await store.listSecretsSealedOtherThan(secrets.keyId)) {
    if (!known(secrets, listed.keyId)) {
      unreadable.push({ kind: 'secret', name: listed.name, keyId: listed.keyId });
      continue;
    }
    if (options.dryRun) continue;
    let row: typeof listed | undefined = listed;
    for (let attempt = 0; row && row.keyId !== secrets.keyId && attempt < ATTEMPTS; attempt++) {
      const value = await secrets.open(row.name, row);
      if (await store.resealSecret(row.name, row, await secrets.seal(row.name, value))) {
        resealed.secrets++;
        break;
      }
      // Rotated or deleted meanwhile: look again (a rotation is already under the current key).
      row = await store.getSecret(listed.name);
    }
  }

  for (const listed of await store.listGrantsSealedOtherThan(secrets.keyId)) {
    const name = `${listed.adapter} of ${listed.userId}`;
    if (!known(secrets, listed.keyId)) {
      unreadable.push({ kind: 'grant', name, keyId: listed.keyId });
      continue;
    }
    if (options.dryRun) continue;
    let row: typeof listed | undefined = listed;
    for (let attempt = 0; row && row.keyId !== secrets.keyId && attempt < ATTEMPTS; attempt++) {
      const sealName = grantSealName(row.userId, row.adapter);
      const value = await secrets.open(sealName, row);
      if (await store.resealGrant(row.userId, row.adapter, row, await secrets.seal(sealName, value))) {
        resealed.grants++;
        break;
      }
      // Refreshed or revoked meanwhile: a refresh is already under the current key.
      row = await store.getGrant(listed.userId, listed.adapter);
    }
  }

  for (const listed of await oldSettings(store, settings.keyId)) {
    const keyId = sealedSettingKeyId(listed.value);
    if (!known(settings, keyId)) {
      unreadable.push({ kind: 'setting', name: listed.key, keyId: keyId ?? '' });
      continue;
    }
    if (options.dryRun) continue;
    let stored: string | undefined = listed.value;
    for (
      let attempt = 0;
      stored !== undefined && sealedSettingKeyId(stored) !== settings.keyId && attempt < ATTEMPTS;
      attempt++
    ) {
      const value = await settings.open(listed.key, stored);
      if (await store.replaceSetting(listed.key, stored, await settings.seal(listed.key, value))) {
        resealed.settings++;
        break;
      }
      stored = await store.getSetting(listed.key);
    }
  }

  return {
    keyId: secrets.keyId,
    resealed,
    remaining: await countOldKeyValues(store, ciphers),
    unreadable,
  };
}
