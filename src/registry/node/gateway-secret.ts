/**
 * @module gateway-secret: where the Node gateway's secret comes from, and the one place it is kept at rest.
 *
 * The secret seals session ids and encrypts the registry's secret settings, so it must not sit in the database it
 * protects. In order:
 * 1. `MCP_GATEWAY_SECRET` (the environment) — used as given;
 * 2. the secret file, `MCP_GATEWAY_SECRET_FILE` or, for a SQLite file registry, `secret` beside the database:
 *    read if it exists; on SQLite created if not (0600, atomically: the name never holds a partial file) with the
 *    value an older gateway kept in the registry's `gateway-secret` setting, or a new random one;
 * 3. a SQLite `:memory:` registry with neither gets a random secret for this process (its sessions end with it).
 * Postgres needs 1 or 2 (the configuration refuses to start otherwise): replicas must share the secret, and a
 * file only one replica could write would not be shared.
 * Whichever wins, a `gateway-secret` setting left in the registry is deleted: it is a plaintext secret at rest.
 */
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fsyncSync,
  linkSync,
  openSync,
  readFileSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { DatabaseTarget } from '../open-registry-store.js';
import type { FilePermissionsNotice, RegistryStore } from '../registry-store.js';
import { PRIVATE_FILE_MODE, fsyncDirectory, preparePrivateDirectory, tightenFile } from './private-files.js';

/** Registry key under which gateways before the secret file kept the generated secret (in plaintext). */
export const LEGACY_SECRET_SETTING = 'gateway-secret';
/** Name of the secret file in the SQLite database's directory when `MCP_GATEWAY_SECRET_FILE` is unset. */
export const DEFAULT_SECRET_FILE_NAME = 'secret';
/** Shortest secret accepted, in characters (as for `MCP_GATEWAY_SECRET`). */
export const MIN_GATEWAY_SECRET_LENGTH = 32;

/** Where the secret came from, for the start-up log (never the value). */
export type GatewaySecretSource =
  | 'environment'
  | 'file'
  /** The file was created with the value an older gateway kept in the registry. */
  | 'migrated'
  /** The file was created with a new random value. */
  | 'generated'
  /** `:memory:` registry without a file: random, for this process only. */
  | 'ephemeral';

/** What {@link resolveGatewaySecret} reports besides the value, for the log. */
export type GatewaySecretNotice =
  | { readonly kind: 'permissions'; readonly notice: FilePermissionsNotice }
  /** The registry's plaintext `gateway-secret` was deleted; `matched`: it equalled the secret in use. */
  | { readonly kind: 'registry-secret-deleted'; readonly matched: boolean };

/** Options for {@link resolveGatewaySecret}. */
export interface GatewaySecretOptions {
  /** `MCP_GATEWAY_SECRET`, when set. */
  readonly configured: string | undefined;
  /** `MCP_GATEWAY_SECRET_FILE`, when set. */
  readonly file: string | undefined;
  /** The registry `DATABASE_URL` names. */
  readonly database: DatabaseTarget;
  /** The opened registry, to migrate and delete an older gateway's `gateway-secret` setting. */
  readonly store: Pick<RegistryStore, 'getSetting' | 'deleteSetting'>;
  readonly onNotice?: (notice: GatewaySecretNotice) => void;
  /** A new random secret; default 32 random bytes as base64url (43 characters). */
  readonly generate?: () => string;
}

/** The secret in use and where it came from. */
export interface GatewaySecret {
  readonly value: string;
  readonly source: GatewaySecretSource;
  /** The secret file read or created, if any. */
  readonly file?: string;
}

/** A configuration problem with the secret: the gateway exits 2 with this message (which never holds the value). */
export class GatewaySecretError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GatewaySecretError';
  }
}

/** The secret file a SQLite file registry uses by default: `secret` in the database's directory. */
export function defaultSecretFile(database: DatabaseTarget): string | undefined {
  if (database.dialect !== 'sqlite' || database.path === ':memory:') return undefined;
  return join(dirname(database.path), DEFAULT_SECRET_FILE_NAME);
}

/**
 * The entries `secretFile` puts into the SQLite database's directory (the file, and a temporary one while it is
 * written), so the SQLite store still counts that directory as the gateway's own; undefined when the secret file
 * lives elsewhere (or there is no database file).
 */
export function secretFileEntries(
  database: DatabaseTarget,
  secretFile: string | undefined,
): ((name: string) => boolean) | undefined {
  if (secretFile === undefined || database.dialect !== 'sqlite' || database.path === ':memory:')
    return undefined;
  if (resolve(dirname(secretFile)) !== resolve(dirname(database.path))) return undefined;
  const base = basename(secretFile);
  return (name) => name === base || (name.startsWith(`.${base}.`) && name.endsWith('.tmp'));
}

/** Resolves the gateway secret (see the module header). Throws {@link GatewaySecretError} on a bad setup. */
export async function resolveGatewaySecret(options: GatewaySecretOptions): Promise<GatewaySecret> {
  const notify = options.onNotice ?? (() => undefined);
  const generate = options.generate ?? (() => randomBytes(32).toString('base64url'));
  const result = await pickSecret(options, notify, generate);
  const legacy = await options.store.getSetting(LEGACY_SECRET_SETTING);
  if (legacy !== undefined && (await options.store.deleteSetting(LEGACY_SECRET_SETTING, legacy))) {
    notify({ kind: 'registry-secret-deleted', matched: legacy === result.value });
  }
  return result;
}

async function pickSecret(
  options: GatewaySecretOptions,
  notify: (notice: GatewaySecretNotice) => void,
  generate: () => string,
): Promise<GatewaySecret> {
  if (options.configured !== undefined) return { value: options.configured, source: 'environment' };
  const explicit = options.file !== undefined;
  const file = options.file ?? defaultSecretFile(options.database);
  if (file === undefined) {
    if (options.database.dialect === 'postgres') {
      // The configuration refuses this already; kept so no caller can end up sharing nothing between replicas.
      throw new GatewaySecretError(
        'MCP_GATEWAY_SECRET or MCP_GATEWAY_SECRET_FILE must be set when DATABASE_URL is Postgres',
      );
    }
    return { value: generate(), source: 'ephemeral' };
  }
  const permissions = (notice: FilePermissionsNotice) => notify({ kind: 'permissions', notice });
  const existing = readSecretFile(file, explicit, permissions);
  if (existing !== undefined) return { value: existing, source: 'file', file };
  if (options.database.dialect === 'postgres') {
    throw new GatewaySecretError(
      `MCP_GATEWAY_SECRET_FILE names ${file}, which does not exist; on Postgres the file must be provided ` +
        '(every replica must read the same secret), e.g. from a mounted Kubernetes Secret',
    );
  }
  // The default file's directory is the database's, which the SQLite store has made private if it could (and
  // left alone if it is shared); it is only created here when missing. An operator's path is used as given.
  if (!explicit && !existsSync(dirname(file))) {
    preparePrivateDirectory(dirname(file), { ownEntries: () => false, listener: permissions });
  }
  const legacy = await options.store.getSetting(LEGACY_SECRET_SETTING);
  const candidate = legacy !== undefined && legacy.length >= MIN_GATEWAY_SECRET_LENGTH ? legacy : generate();
  let created: boolean;
  try {
    created = writeSecretFileExclusive(file, candidate);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new GatewaySecretError(`cannot create the secret file ${file} (${code ?? String(error)})`);
  }
  if (created) {
    return { value: candidate, source: legacy === candidate ? 'migrated' : 'generated', file };
  }
  // Another process created it first: use what it wrote.
  const written = readSecretFile(file, explicit, permissions);
  if (written === undefined)
    throw new GatewaySecretError(`the secret file ${file} vanished while it was created`);
  return { value: written, source: 'file', file };
}

/** Reads a secret file (a trailing newline is not part of the secret); undefined when it does not exist. */
function readSecretFile(
  file: string,
  explicit: boolean,
  permissions: (notice: FilePermissionsNotice) => void,
): string | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    throw new GatewaySecretError(`cannot read the secret file ${file} (${code ?? String(error)})`);
  }
  tightenFile(file, permissions);
  const value = text.replace(/[\r\n]+$/, '');
  if (value.length < MIN_GATEWAY_SECRET_LENGTH) {
    const variable = explicit ? 'MCP_GATEWAY_SECRET_FILE' : 'the secret file';
    throw new GatewaySecretError(
      `${variable} ${file} holds ${value.length} characters; a secret needs at least ` +
        `${MIN_GATEWAY_SECRET_LENGTH} (e.g. \`openssl rand -base64 32 > ${file}\`)`,
    );
  }
  return value;
}

/**
 * Creates `file` holding `value`, mode 0600, unless it exists; returns false when it did. The value is written
 * and synced under a temporary name first and then hard-linked into place, which fails if the name is taken:
 * a crash leaves either no file or the whole secret, and two processes racing end with one secret. Where hard
 * links are not supported, the file is created with O_EXCL and written in one call.
 */
function writeSecretFileExclusive(file: string, value: string): boolean {
  const dir = dirname(file);
  const temporary = join(dir, `.${basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  writeSynced(temporary, value);
  try {
    linkSync(temporary, file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS') throw error;
    try {
      writeSynced(file, value);
    } catch (fallback) {
      if ((fallback as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw fallback;
    }
  } finally {
    rmSync(temporary, { force: true });
  }
  fsyncDirectory(dir);
  return true;
}

/** Writes a new file with O_EXCL and mode 0600, then syncs it. */
function writeSynced(path: string, value: string): void {
  const fd = openSync(path, 'wx', PRIVATE_FILE_MODE);
  try {
    writeSync(fd, value);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
