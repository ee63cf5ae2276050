/**
 * @module resource-fields: the fields of adapters, tools and toolsets as the CLI knows them — their types, to check a file
 * before anything is sent; the read-only ones, to strip for `export`; and the defaults the gateway fills in, so
 * that a file that leaves a default out compares equal to what the gateway stored (what makes `apply`
 * idempotent). The field tables are checked against the generated API types: a field added to the API fails
 * the typecheck here until the CLI knows it.
 */
import type { FileKind, KindTypes, RuntimeKind } from './api-client.js';

/** What a field's value must be. `any` is checked by the gateway only; `ignored` is read-only or deprecated. */
export type FieldType =
  | { readonly type: 'string'; readonly pattern?: RegExp; readonly hint?: string }
  | { readonly type: 'integer'; readonly min: number; readonly max: number }
  | { readonly type: 'boolean' }
  | { readonly type: 'strings' }
  | { readonly type: 'string-map' }
  | { readonly type: 'enum'; readonly values: readonly string[] }
  | {
      readonly type: 'object';
      readonly fields: Readonly<Record<string, FieldType>>;
      readonly required?: readonly string[];
      readonly open?: boolean;
    }
  | { readonly type: 'any' }
  | { readonly type: 'ignored' };

/** What the gateway shows readers who may not write a resource in place of each value (`auth/mask.ts`). */
export const MASK = '***';

/** DNS-1123 label of at most 52 characters, as the gateway requires of names. */
export const NAME_PATTERN = /^(?=.{1,52}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

const string: FieldType = { type: 'string' };
const strings: FieldType = { type: 'strings' };
const integer = (min: number, max: number): FieldType => ({ type: 'integer', min, max });
const boolean: FieldType = { type: 'boolean' };
const ignored: FieldType = { type: 'ignored' };

/** Read-only fields: sent back they are ignored, so `export` leaves them out and comparisons skip them. */
export const READ_ONLY_FIELDS = [
  'id',
  'createdBy',
  'createdAt',
  'lastUpdatedAt',
  'protocol',
  'connectionType',
  // A toolset's: where its endpoint is, and how its members resolve for the reader.
  'endpoint',
  'status',
];

const common = {
  name: { type: 'string', pattern: NAME_PATTERN, hint: 'a DNS-1123 label of at most 52 characters' },
  imageName: string,
  imageVersion: string,
  environmentVariables: { type: 'string-map' },
  /** Variable name → the name of a stored secret (a reference, never a value). */
  secretEnvironmentVariables: { type: 'string-map' },
  /** One of several shapes (bearer, header, oauth-client-credentials, oauth-user, token-exchange): the gateway's schema checks which. */
  upstreamAuth: { type: 'any' },
  replicaCount: integer(0, 50),
  description: string,
  useWorkloadIdentity: boolean,
  requiredRoles: strings,
  endpoints: strings,
  command: string,
  args: strings,
  id: ignored,
  createdBy: ignored,
  createdAt: ignored,
  lastUpdatedAt: ignored,
  protocol: ignored,
  connectionType: ignored,
} as const satisfies Record<string, FieldType>;

type FieldsOf<T> = { readonly [K in keyof Required<T>]: FieldType };

const adapterFields: FieldsOf<KindTypes['adapters']['create']> = {
  ...common,
  transport: { type: 'enum', values: ['streamable-http', 'stdio', 'sse'] },
  network: { type: 'enum', values: ['host', 'none'] },
  port: integer(1, 65535),
  path: string,
  connectTimeoutMs: integer(100, 120_000),
  idleTimeoutMs: integer(1000, 86_400_000),
  affinity: {
    type: 'string',
    pattern: /^(none|principal|header:.+)$/,
    hint: 'none, principal or header:<name>',
  },
  maxSessionsPerReplica: integer(1, 100_000),
  sessionIdleTimeoutSeconds: integer(10, 604_800),
  warmSessions: integer(0, 16),
  minReplicas: integer(0, 50),
  idleSeconds: integer(1, 86_400),
  federate: boolean,
};

const toolFields: FieldsOf<KindTypes['tools']['create']> = {
  ...common,
  toolDefinition: {
    type: 'object',
    fields: {
      tool: {
        type: 'object',
        open: true,
        required: ['name', 'inputSchema'],
        fields: {
          name: string,
          title: string,
          description: string,
          inputSchema: { type: 'object', fields: {}, open: true },
        },
      },
      port: integer(1, 65535),
      path: string,
      timeoutMs: integer(100, 900_000),
    },
    required: ['tool'],
  },
};

const toolsetFields: FieldsOf<KindTypes['toolsets']['create']> = {
  name: common.name,
  description: string,
  // Names, wildcards or `{name, rename?, description?}` objects: the gateway's schema checks which.
  tools: { type: 'any' },
  requiredRoles: strings,
  discovery: { type: 'enum', values: ['list', 'search'] },
  // The tool-policy document: the gateway's schema checks its shape, and the gateway compiles its CEL.
  policy: { type: 'any' },
  id: ignored,
  createdBy: ignored,
  createdAt: ignored,
  lastUpdatedAt: ignored,
  endpoint: ignored,
  status: ignored,
};

/** The fields of each kind. */
export const FIELDS: Readonly<Record<FileKind, Readonly<Record<string, FieldType>>>> = {
  adapters: adapterFields,
  tools: toolFields,
  toolsets: toolsetFields,
};

/** Fields a body of this kind must have. */
export const REQUIRED_FIELDS: Readonly<Record<FileKind, readonly string[]>> = {
  adapters: ['name'],
  tools: ['name', 'toolDefinition'],
  toolsets: ['name', 'tools'],
};

/** The gateway's defaults (`control/resource-mapping.ts`), which it stores when a body leaves them out. */
const DEFAULT_PORT = 8000;
const DEFAULT_PATH: Readonly<Record<RuntimeKind, string>> = { adapters: '/mcp', tools: '/score' };
const DEFAULT_TRANSPORT = 'stdio';
/** The default path of an adapter with transport `sse`: where 2024-11-05 servers serve their SSE stream. */
const SSE_PATH = '/sse';

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `data` without read-only fields and without `null`s (which the gateway reads as "left out"). */
function withoutReadOnly(data: Json): Json {
  return Object.fromEntries(
    Object.entries(data).filter(([key, value]) => value !== null && !READ_ONLY_FIELDS.includes(key)),
  );
}

/**
 * What the gateway would store for `data` (a file entry or a stored resource), without read-only fields: the
 * form two sides are compared in. Mirrors the gateway's defaults; a default it changes makes `apply` send one
 * needless update, never a wrong one.
 */
export function storedForm(kind: FileKind, data: Json): Json {
  const out = withoutReadOnly(data);
  if (kind === 'toolsets') {
    out.description ??= '';
    out.requiredRoles ??= [];
    out.discovery ??= 'list';
    return out;
  }
  const endpoints = Array.isArray(out.endpoints) ? out.endpoints : undefined;
  out.environmentVariables ??= {};
  // Stored only when it names something.
  if (isObject(out.secretEnvironmentVariables) && Object.keys(out.secretEnvironmentVariables).length === 0)
    delete out.secretEnvironmentVariables;
  out.replicaCount ??= endpoints ? endpoints.length : 1;
  out.description ??= '';
  out.useWorkloadIdentity ??= false;
  out.requiredRoles ??= [];
  if (out.command !== undefined) out.args ??= [];
  if (kind === 'adapters') {
    // Header names are case-insensitive: the gateway stores `header:<name>` lower-cased.
    if (typeof out.affinity === 'string') out.affinity = out.affinity.toLowerCase();
    if (out.command !== undefined) out.transport ??= DEFAULT_TRANSPORT;
    if (!endpoints) {
      out.port ??= DEFAULT_PORT;
      out.path ??= out.transport === 'sse' ? SSE_PATH : DEFAULT_PATH.adapters;
    }
  } else if (isObject(out.toolDefinition)) {
    const definition = withoutReadOnly(out.toolDefinition);
    if (!endpoints) {
      definition.port ??= DEFAULT_PORT;
      definition.path ??= DEFAULT_PATH.tools;
    }
    out.toolDefinition = definition;
  }
  return out;
}

/**
 * The resource as a file entry: read-only fields and values equal to the defaults left out, so an exported
 * file reads like one written by hand (and compares equal to what it came from).
 */
export function fileForm(kind: FileKind, resource: Json): Json {
  const out = withoutReadOnly(resource);
  const isDefault = (key: string) => {
    const { [key]: value, ...rest } = out;
    return sameJson(storedForm(kind, rest)[key], value);
  };
  for (const key of Object.keys(out)) if (key !== 'toolDefinition' && isDefault(key)) delete out[key];
  if (isObject(out.toolDefinition)) {
    const definition = withoutReadOnly(out.toolDefinition);
    for (const key of ['port', 'path']) {
      const { [key]: value, ...rest } = definition;
      const filled = storedForm(kind, { ...out, toolDefinition: rest }).toolDefinition as Json;
      if (value !== undefined && sameJson(filled[key], value)) delete definition[key];
    }
    out.toolDefinition = definition;
  }
  return out;
}

/** Deep equality of JSON values; object key order does not matter, array order does. */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((item, i) => sameJson(item, b[i]));
  }
  if (!isObject(a) || !isObject(b)) return false;
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((key) => Object.hasOwn(b, key) && sameJson(a[key], b[key]));
}

/** The top-level fields whose stored forms differ, each with its old and new value. */
export function differences(
  kind: FileKind,
  current: Json,
  desired: Json,
): { field: string; from: unknown; to: unknown }[] {
  const from = storedForm(kind, current);
  const to = storedForm(kind, desired);
  const fields = [...new Set([...Object.keys(from), ...Object.keys(to)])];
  return fields
    .filter((field) => !sameJson(from[field], to[field]))
    .map((field) => ({ field, from: from[field], to: to[field] }));
}
