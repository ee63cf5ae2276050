/**
 * @module gateway-file: reads `gateway.yaml` (JSON works too: it is YAML) — top-level `adapters:`, `tools:` and
 * `toolsets:` lists of the objects the API takes — and checks it before anything is sent: syntax, known fields and their
 * types, names, duplicates, one runtime each. Every problem carries `file:line:column`; they are all reported
 * at once.
 */
import { Validator } from '@cfworker/json-schema';
import type { OutputUnit, Schema } from '@cfworker/json-schema';
import { LineCounter, isAlias, isCollection, isMap, isScalar, isSeq, parseDocument, stringify } from 'yaml';
import type { Document, Node as YamlNode } from 'yaml';
import type { FileKind } from './api-client.js';
import { UsageError } from './errors.js';
import { FIELDS, REQUIRED_FIELDS, fileForm } from './resource-fields.js';
import type { FieldType } from './resource-fields.js';

/** One adapter, tool or toolset of the file. */
export interface FileEntry {
  readonly kind: FileKind;
  readonly name: string;
  readonly data: Record<string, unknown>;
  /** Where the entry starts (1-based). */
  readonly line: number;
}

/** A checked file: its entries in file order, adapters first, then tools, then toolsets. */
export interface GatewayFile {
  readonly entries: readonly FileEntry[];
}

/** The kinds a file may list, in the order `apply` handles them. */
export const FILE_KINDS: readonly FileKind[] = ['adapters', 'tools', 'toolsets'];

/** A file that cannot be applied; `problems` are `file:line:column: message` lines. Exit 2. */
export class GatewayFileError extends UsageError {
  constructor(readonly problems: readonly string[]) {
    super(problems.join('\n'));
    this.name = 'GatewayFileError';
  }
}

type Json = Record<string, unknown>;

/** Parses and checks `text`; throws a {@link GatewayFileError} listing every problem. */
export function parseGatewayFile(text: string, fileName: string): GatewayFile {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const problems: string[] = [];
  const at = (offset: number | undefined, message: string) => {
    const { line, col } = lines.linePos(offset ?? 0);
    problems.push(`${fileName}:${line}:${col}: ${message}`);
  };
  for (const error of doc.errors) at(error.pos[0], error.message.split('\n')[0]!);
  if (problems.length > 0) throw new GatewayFileError(problems);

  const entries: FileEntry[] = [];
  const root = resolved(doc, doc.contents);
  if (root === null || (isScalar(root) && root.value === null)) return { entries };
  if (!isMap(root)) {
    at(root.range?.[0], 'the file must be a mapping with `adapters:`, `tools:` and/or `toolsets:` lists');
    throw new GatewayFileError(problems);
  }
  for (const pair of root.items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : undefined;
    const keyOffset = (pair.key as YamlNode | null)?.range?.[0];
    if (key !== 'adapters' && key !== 'tools' && key !== 'toolsets') {
      at(
        keyOffset,
        `unknown top-level key '${key ?? '?'}': a file has \`adapters:\`, \`tools:\` and \`toolsets:\` lists`,
      );
      continue;
    }
    const list = resolved(doc, pair.value as YamlNode | null);
    if (list === null || (isScalar(list) && list.value === null)) continue;
    if (!isSeq(list)) {
      at(list.range?.[0] ?? keyOffset, `${key}: must be a list`);
      continue;
    }
    const seen = new Map<string, number>();
    list.items.forEach((raw, index) => {
      const where = `${key}[${index}]`;
      const entry = checkEntry(doc, raw as YamlNode | null, key, where, list.range?.[0], at);
      if (!entry) return;
      const first = seen.get(entry.name);
      if (first !== undefined) {
        at(
          entry.nameOffset,
          `${where}.name: '${entry.name}' is listed twice in ${key} (first at ${key}[${first}])`,
        );
        return;
      }
      seen.set(entry.name, index);
      entries.push({
        kind: key,
        name: entry.name,
        data: entry.data,
        line: lines.linePos(entry.offset ?? 0).line,
      });
    });
  }
  if (problems.length > 0) throw new GatewayFileError(problems);
  return { entries: FILE_KINDS.flatMap((kind) => entries.filter((e) => e.kind === kind)) };
}

type Report = (offset: number | undefined, message: string) => void;

/** Checks one adapter or tool; its data when it has no problem (each one reported through `at`). */
function checkEntry(
  doc: Document,
  raw: YamlNode | null,
  kind: FileKind,
  where: string,
  fallbackOffset: number | undefined,
  at: Report,
): { name: string; data: Json; offset: number | undefined; nameOffset: number | undefined } | undefined {
  const item = resolved(doc, raw);
  const offset = item?.range?.[0] ?? fallbackOffset;
  if (!item || !isMap(item)) {
    at(
      offset,
      `${where}: must be a mapping (${{ adapters: 'an adapter', tools: 'a tool', toolsets: 'a toolset' }[kind]})`,
    );
    return undefined;
  }
  const data = item.toJS(doc, { maxAliasCount: 100 }) as Json;
  const fieldAt = (path: string[], atKey?: boolean) => offsetOf(doc, item, path, atKey) ?? offset;
  let ok = true;
  const problem: Report = (o, message) => {
    ok = false;
    at(o, message);
  };
  const dot = where ? '.' : '';
  checkObject(data, FIELDS[kind], [], (path, message, atKey) =>
    problem(fieldAt(path, atKey), `${where}${path.length ? dot : ''}${path.join('.')}: ${message}`),
  );
  for (const field of REQUIRED_FIELDS[kind])
    if (data[field] === undefined || data[field] === null)
      problem(offset, `${where}${dot}${field}: is required`);
  const runtimes = ['imageName', 'command', 'endpoints'].filter(
    (f) => data[f] !== undefined && data[f] !== null,
  );
  // A toolset runs nothing: it has no runtime.
  if (kind !== 'toolsets' && runtimes.length !== 1)
    problem(
      offset,
      `${where || 'the resource'}: ${runtimes.length === 0 ? 'no runtime' : `${runtimes.join(' and ')} together`}: give exactly one of imageName (with imageVersion), command (with args) or endpoints`,
    );
  const name = typeof data.name === 'string' ? data.name : undefined;
  if (kind === 'tools' && name !== undefined) {
    const tool = (data.toolDefinition as Json | undefined)?.tool as Json | undefined;
    if (tool && tool.name !== name)
      problem(
        fieldAt(['toolDefinition', 'tool', 'name']),
        `${where}${dot}toolDefinition.tool.name: must equal name ('${name}')`,
      );
  }
  if (!ok || name === undefined) return undefined;
  return { name, data, offset, nameOffset: fieldAt(['name']) };
}

/** Parses and checks a file holding one adapter or tool (for `create -f` and `update -f`). */
export function parseResourceFile(
  text: string,
  fileName: string,
  kind: FileKind,
): { name: string; data: Json } {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const problems: string[] = [];
  const at: Report = (offset, message) => {
    const { line, col } = lines.linePos(offset ?? 0);
    problems.push(`${fileName}:${line}:${col}: ${message}`);
  };
  for (const error of doc.errors) at(error.pos[0], error.message.split('\n')[0]!);
  if (problems.length > 0) throw new GatewayFileError(problems);
  const entry = checkEntry(doc, doc.contents, kind, '', 0, at);
  if (!entry) throw new GatewayFileError(problems);
  return entry;
}

function resolved(doc: Document, node: YamlNode | null | undefined): YamlNode | null {
  if (!node) return null;
  return isAlias(node) ? (node.resolve(doc) ?? null) : node;
}

/** Where the value at `path` inside `map` starts, if the path exists. */
function offsetOf(doc: Document, map: YamlNode, path: readonly string[], atKey = false): number | undefined {
  let node: YamlNode | null = map;
  let offset: number | undefined;
  for (const key of path) {
    if (!node || !isMap(node)) return offset;
    const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === key);
    // A missing field is reported where the mapping that lacks it starts.
    if (!pair) return node.range?.[0] ?? offset;
    offset = (pair.key as YamlNode).range?.[0];
    node = resolved(doc, pair.value as YamlNode | null);
  }
  return atKey ? offset : (node?.range?.[0] ?? offset);
}

const describe = (value: unknown) =>
  value === null
    ? 'null'
    : Array.isArray(value)
      ? 'a list'
      : `${typeof value === 'object' ? 'a mapping' : `${typeof value} ${JSON.stringify(value)}`}`;

/** Checks `data` against `fields`, reporting each problem with its path. `null` is "left out", as in the API. */
function checkObject(
  data: Json,
  fields: Readonly<Record<string, FieldType>>,
  path: string[],
  report: (path: string[], message: string, atKey?: boolean) => void,
  open = false,
): void {
  for (const [key, value] of Object.entries(data)) {
    const spec = fields[key];
    const here = [...path, key];
    if (!spec) {
      if (!open)
        report(
          here,
          `unknown field (known: ${Object.keys(fields)
            .filter((f) => fields[f]!.type !== 'ignored')
            .join(', ')})`,
          true,
        );
      continue;
    }
    if (value === null) continue;
    const problem = checkValue(value, spec, here, report);
    if (problem) report(here, `${problem}, not ${describe(value)}`);
  }
}

function checkValue(
  value: unknown,
  spec: FieldType,
  path: string[],
  report: (path: string[], message: string, atKey?: boolean) => void,
): string | undefined {
  switch (spec.type) {
    case 'string':
      if (typeof value !== 'string') return 'must be a string';
      if (spec.pattern && !spec.pattern.test(value)) return `must be ${spec.hint ?? spec.pattern.source}`;
      return undefined;
    case 'integer':
      if (typeof value !== 'number' || !Number.isInteger(value)) return 'must be an integer';
      if (value < spec.min || value > spec.max) return `must be between ${spec.min} and ${spec.max}`;
      return undefined;
    case 'boolean':
      return typeof value === 'boolean' ? undefined : 'must be true or false';
    case 'strings':
      return Array.isArray(value) && value.every((v) => typeof v === 'string')
        ? undefined
        : 'must be a list of strings';
    case 'string-map':
      return typeof value === 'object' &&
        !Array.isArray(value) &&
        Object.values(value as Json).every((v) => typeof v === 'string')
        ? undefined
        : 'must be a mapping of names to strings (quote numbers and booleans)';
    case 'enum':
      return spec.values.includes(value as string) ? undefined : `must be one of ${spec.values.join(', ')}`;
    case 'object':
      if (typeof value !== 'object' || Array.isArray(value)) return 'must be a mapping';
      checkObject(value as Json, spec.fields, path, report, spec.open);
      for (const field of spec.required ?? [])
        if ((value as Json)[field] === undefined || (value as Json)[field] === null)
          report([...path, field], 'is required');
      return undefined;
    case 'any':
    case 'ignored':
      return undefined;
  }
}

/** The registry's adapters, tools and toolsets as a file `parseGatewayFile` reads back to the same objects. */
export function gatewayFileText(
  resources: Readonly<Partial<Record<FileKind, readonly Record<string, unknown>[]>>>,
  format: 'yaml' | 'json',
): string {
  const file = Object.fromEntries(
    FILE_KINDS.flatMap((kind) => {
      const items = resources[kind] ?? [];
      // `toolsets:` only when there are some, so a registry without any exports the file it always did.
      if (kind === 'toolsets' && items.length === 0) return [];
      return [[kind, items.map((r) => fileForm(kind, r))]];
    }),
  );
  return format === 'json' ? `${JSON.stringify(file, null, 2)}\n` : stringify(file, { lineWidth: 0 });
}

/** Keywords that only say a nested schema failed; the nested failure is reported itself. */
const AGGREGATE_KEYWORDS = new Set([
  'properties',
  'items',
  '$ref',
  'allOf',
  'anyOf',
  'oneOf',
  'if',
  'then',
  'else',
]);

/**
 * Checks the file against the gateway's JSON Schema (`/schemas/gateway.json`), which carries the API's own rules
 * (patterns, ranges, required fields); throws a {@link GatewayFileError} with positions. `null` fields count as
 * left out, as in the API.
 */
export function checkAgainstSchema(text: string, fileName: string, schema: Schema): void {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const data = (doc.toJS({ maxAliasCount: 100 }) ?? {}) as Json;
  for (const kind of FILE_KINDS) {
    const list = data[kind];
    if (Array.isArray(list))
      data[kind] = list.map((entry: Json) =>
        Object.fromEntries(Object.entries(entry).filter(([, v]) => v !== null)),
      );
  }
  const result = new Validator(schema, '2020-12', false).validate(data);
  if (result.valid) return;
  const problems = [
    ...new Set(
      result.errors
        .filter((e) => !AGGREGATE_KEYWORDS.has(e.keyword))
        .map((e) => schemaProblem(doc, lines, fileName, e)),
    ),
  ];
  throw new GatewayFileError(
    problems.length > 0 ? problems : [`${fileName}: does not match ${String(schema.$id)}`],
  );
}

function schemaProblem(doc: Document, lines: LineCounter, fileName: string, error: OutputUnit): string {
  const path = error.instanceLocation
    .replace(/^#\/?/, '')
    .split('/')
    .filter((p) => p !== '')
    .map((p) => decodeURIComponent(p.replace(/~1/g, '/').replace(/~0/g, '~')));
  // The deepest node that exists: a missing field is reported where its mapping starts.
  let offset = 0;
  for (let depth = path.length; depth >= 0; depth -= 1) {
    const keys = path.slice(0, depth).map((p) => (/^\d+$/.test(p) ? Number(p) : p));
    const node = (depth === 0 ? doc.contents : doc.getIn(keys, true)) as YamlNode | null | undefined;
    if (node && (isScalar(node) || isCollection(node)) && node.range) {
      offset = node.range[0];
      break;
    }
  }
  const { line, col } = lines.linePos(offset);
  const where = path.map((p, i) => (/^\d+$/.test(p) ? `[${p}]` : `${i === 0 ? '' : '.'}${p}`)).join('');
  return `${fileName}:${line}:${col}: ${where || '(file)'}: ${error.error}`;
}
