/**
 * @module config-file-apply: `MCP_GATEWAY_CONFIG` — the configuration file applied declaratively when the gateway
 * starts. Every adapter, tool and toolset the file lists is created or replaced until it matches the file (the file wins for
 * what it lists), and what an earlier start created from the file and the file no longer lists is deleted; nothing
 * else is touched, in particular nothing a user created through the API.
 *
 * What the file manages is recorded in the registry's settings (one key, a JSON map of kind → name → the
 * resource's `uid`, the incarnation id every ETag carries): a plain settings row works in every dialect (SQLite,
 * Postgres, D1) without a schema change, and the uid tells the file's resource apart from one a user created
 * under the same name after deleting it. The record changes only by compare-and-set, so several replicas starting
 * at once with the same file converge: a lost race (a create answered 409, a replace answered 412) is read again,
 * and a resource that already matches is left alone.
 *
 * The writes go through the gateway's own control plane (an {@link ApiClient}, in the gateway over an in-process
 * Fetch handler), so an entry is checked exactly as a request body is; the start first runs the whole apply
 * against a dry-run control plane, so an entry the gateway refuses stops the start before anything is written.
 */
import type { ApiClient, FileKind } from './api-client.js';
import { ApiError } from './errors.js';
import { FILE_KINDS, GatewayFileError, checkAgainstSchema, parseGatewayFile } from './gateway-file.js';
import type { FileEntry, GatewayFile } from './gateway-file.js';
import { differences } from './resource-fields.js';

type Json = Record<string, unknown>;

/** Names the file manages, per kind, each with the uid of the resource the file created. */
export type ManagedNames = Record<FileKind, Record<string, string>>;

/** Where {@link ManagedNames} are kept between starts. */
export interface ManagedRecord {
  read(): Promise<ManagedNames>;
  /** Applies `change` to what is stored, atomically (compare-and-set, read again when another writer won). */
  update(change: (current: ManagedNames) => ManagedNames): Promise<void>;
}

/** The settings a {@link settingsManagedRecord} keeps its record in (a `RegistryStore` is one). */
export interface SettingsStore {
  getOrCreateSetting(key: string, candidate: string): Promise<string>;
  replaceSetting(key: string, expected: string, value: string): Promise<boolean>;
}

/** The registry settings key of the record. */
export const MANAGED_SETTING_KEY = 'config-file-managed';

const empty = (): ManagedNames => ({ adapters: {}, tools: {}, toolsets: {} });

function parseManaged(text: string): ManagedNames {
  const parsed = JSON.parse(text) as Partial<ManagedNames>;
  // A record written before toolsets were in the file has no `toolsets` key.
  return { adapters: { ...parsed.adapters }, tools: { ...parsed.tools }, toolsets: { ...parsed.toolsets } };
}

/** A {@link ManagedRecord} in one registry setting. */
export function settingsManagedRecord(store: SettingsStore, key = MANAGED_SETTING_KEY): ManagedRecord {
  const initial = JSON.stringify(empty());
  return {
    async read() {
      return parseManaged(await store.getOrCreateSetting(key, initial));
    },
    async update(change) {
      // Each attempt loses only to a replica that wrote in between; that replica is done with the record then.
      for (let attempt = 0; attempt < 50; attempt++) {
        const current = await store.getOrCreateSetting(key, initial);
        const next = JSON.stringify(change(parseManaged(current)));
        if (next === current || (await store.replaceSetting(key, current, next))) return;
      }
      throw new Error(`the registry setting '${key}' kept changing; start again`);
    },
  };
}

/** A record that keeps nothing: for a dry run. */
export const NO_MANAGED_RECORD: ManagedRecord = Object.freeze({
  read: async () => empty(),
  update: async () => undefined,
});

/** What happened to one resource. */
export interface ConfigChange {
  readonly action: 'created' | 'updated' | 'unchanged' | 'deleted';
  readonly kind: FileKind;
  readonly name: string;
}

/** Options of {@link applyConfig}. */
export interface ApplyConfigOptions {
  readonly client: ApiClient;
  readonly file: GatewayFile;
  /** The file's name, for messages (`FILE:LINE: …`). */
  readonly fileName: string;
  readonly managed: ManagedRecord;
  /** The `createdBy` of what the file creates: a resource of this creator the file lists is the file's. */
  readonly principal: string;
}

/** A file entry (or a managed resource) the gateway refused; the message names the file and line. Exit 2. */
export class ConfigApplyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigApplyError';
  }
}

/** Lost races (409, 412, 404) are read again this often before an entry gives up. */
const RACE_ATTEMPTS = 8;

/** The uid inside one of the gateway's ETags (`"version.uid"`). */
export function uidOfEtag(etag: string | undefined): string | undefined {
  const match = /^"\d+\.(.+)"$/.exec(etag ?? '');
  return match?.[1];
}

const isStatus = (err: unknown, ...statuses: number[]) =>
  err instanceof ApiError && statuses.includes(err.status);

async function getOrUndefined(client: ApiClient, kind: FileKind, name: string) {
  try {
    return await client.get(kind, name);
  } catch (err) {
    if (isStatus(err, 404)) return undefined;
    throw err;
  }
}

/** Makes the registry match the file; resolves with what it did, in order. */
export async function applyConfig(options: ApplyConfigOptions): Promise<ConfigChange[]> {
  const { client, file, fileName, principal } = options;
  const record = await options.managed.read();
  const changes: ConfigChange[] = [];
  // What the record must say afterwards about each name this run looked at: a uid, or gone (undefined).
  const outcome: { kind: FileKind; name: string; uid: string | undefined; seen: string | undefined }[] = [];

  const refused = (where: string, err: unknown): never => {
    if (err instanceof ApiError)
      throw new ConfigApplyError(`${where}: the gateway refused it: ${err.message}`);
    throw err;
  };

  async function reconcile(entry: FileEntry): Promise<void> {
    const { kind, name, data } = entry;
    const where = `${fileName}:${entry.line}: ${kind}/${name}`;
    const settle = (action: ConfigChange['action'], body: Json, etag: string | undefined) => {
      changes.push({ action, kind, name });
      // Only what the file itself created is the file's to delete later; a user's resource it lists stays theirs.
      const ours = body.createdBy === principal ? uidOfEtag(etag) : undefined;
      outcome.push({ kind, name, uid: ours, seen: record[kind][name] });
    };
    for (let attempt = 1; ; attempt++) {
      try {
        const current = await getOrUndefined(client, kind, name);
        if (!current) {
          const created = await client.create(kind, data as never);
          settle('created', created.body as Json, created.etag);
          // Recorded at once, not with the rest at the end: a start that fails later must not leave a resource
          // the file made and the next start could never prune.
          const uid = uidOfEtag(created.etag);
          if (uid !== undefined)
            await options.managed.update((stored) => ({
              ...stored,
              [kind]: { ...stored[kind], [name]: uid },
            }));
          return;
        }
        if (differences(kind, current.body as Json, data).length === 0)
          return settle('unchanged', current.body as Json, current.etag);
        const updated = await client.update(kind, name, data as never, current.etag);
        return settle('updated', updated.body as Json, updated.etag);
      } catch (err) {
        // Another replica created, changed or deleted it in between: read it again and compare.
        if (isStatus(err, 409, 412, 404) && attempt < RACE_ATTEMPTS) continue;
        refused(where, err);
      }
    }
  }

  async function prune(kind: FileKind, name: string, uid: string): Promise<void> {
    const where = `${fileName}: ${kind}/${name} (created by an earlier start from this file, no longer listed)`;
    for (let attempt = 1; ; attempt++) {
      try {
        const current = await getOrUndefined(client, kind, name);
        // Gone already, or deleted and created again by someone else: not the file's any more.
        if (current && uidOfEtag(current.etag) === uid) {
          await client.remove(kind, name, current.etag);
          changes.push({ action: 'deleted', kind, name });
        }
        outcome.push({ kind, name, uid: undefined, seen: uid });
        return;
      } catch (err) {
        if (isStatus(err, 404, 412) && attempt < RACE_ATTEMPTS) continue;
        refused(where, err);
      }
    }
  }

  for (const kind of FILE_KINDS)
    for (const entry of file.entries.filter((e) => e.kind === kind)) await reconcile(entry);
  // Toolsets, then tools, then adapters: the reverse of the order things are created in.
  for (const kind of [...FILE_KINDS].reverse()) {
    const listed = new Set(file.entries.filter((e) => e.kind === kind).map((e) => e.name));
    for (const [name, uid] of Object.entries(record[kind]))
      if (!listed.has(name)) await prune(kind, name, uid);
  }

  await options.managed.update((current) => {
    const next: ManagedNames = {
      adapters: { ...current.adapters },
      tools: { ...current.tools },
      toolsets: { ...current.toolsets },
    };
    for (const { kind, name, uid, seen } of outcome) {
      if (uid !== undefined) next[kind][name] = uid;
      // Forgotten only if nobody recorded a newer incarnation meanwhile (a replica that created it again).
      else if (next[kind][name] === seen) delete next[kind][name];
    }
    return next;
  });
  return changes;
}

/** Options of {@link applyConfigFile}. */
export interface ApplyConfigFileOptions {
  /** The file's text and its name (for messages). */
  readonly text: string;
  readonly fileName: string;
  /** The control plane that writes. */
  readonly client: ApiClient;
  /** The same control plane with writes that change nothing: the whole apply is tried on it first. */
  readonly dryRunClient: ApiClient;
  readonly managed: ManagedRecord;
  readonly principal: string;
}

/**
 * Checks the file (syntax, fields, then the gateway's JSON Schema of it), tries the whole apply on the dry-run
 * control plane, then applies it. Throws {@link GatewayFileError} or {@link ConfigApplyError} (both: exit 2).
 */
export async function applyConfigFile(options: ApplyConfigFileOptions): Promise<ConfigChange[]> {
  const { text, fileName, principal } = options;
  const file = parseGatewayFile(text, fileName);
  const schema = await options.client.fileSchema();
  if (schema) checkAgainstSchema(text, fileName, schema);
  const managed = await options.managed.read();
  // The dry run prunes what the record names, as the real run will, so a refusal there is found first too.
  const knownRecord: ManagedRecord = { read: async () => managed, update: async () => undefined };
  await applyConfig({ client: options.dryRunClient, file, fileName, managed: knownRecord, principal });
  return applyConfig({ client: options.client, file, fileName, managed: options.managed, principal });
}

export { GatewayFileError };
