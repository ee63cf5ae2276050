/**
 * @module server-side-apply: the part of Kubernetes server-side apply the gateway relies on. Field ownership
 * is tracked per (manager, operation) as sets of field paths, stored in `metadata.managedFields` as FieldsV1.
 * An apply replaces the manager's applied fields: fields it applied before and omits now are removed unless
 * another manager owns them; fields another manager owns with a different value conflict unless forced.
 *
 * Simplified from the real structured-merge-diff: a list is associative (merged item by item) when every item
 * has a `name`, or is a container/service port (keyed by port and protocol); every other list is atomic.
 */
import type { JsonObject, KubeObject } from './object-store.js';
import { cloneJson } from './object-store.js';

type Path = readonly string[];

interface FieldNode {
  readonly path: Path;
  readonly leaf: boolean;
  readonly value?: unknown;
}

/** One manager's claim on fields, as read from `managedFields`. */
interface ManagerEntry {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  time: string;
  paths: Set<string>;
}

/** A field another manager owns with a different value. */
export interface ApplyConflict {
  readonly manager: string;
  /** The field in the API's dotted notation, e.g. `.spec.replicas`. */
  readonly field: string;
}

/** The outcome of an apply: the merged object, or the conflicts that stopped it. */
export type ApplyOutcome = { readonly object: KubeObject } | { readonly conflicts: readonly ApplyConflict[] };

const UNTRACKED_TOP = new Set(['apiVersion', 'kind', 'status']);
const UNTRACKED_METADATA = new Set([
  'name',
  'namespace',
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
  'managedFields',
  'selfLink',
]);

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function listKeys(items: readonly unknown[]): readonly string[] | undefined {
  if (items.length === 0 || !items.every(isObject)) return undefined;
  const objects = items as JsonObject[];
  if (objects.every((i) => typeof i['name'] === 'string')) return ['name'];
  if (objects.every((i) => typeof i['containerPort'] === 'number')) return ['containerPort', 'protocol'];
  if (objects.every((i) => typeof i['port'] === 'number')) return ['port', 'protocol'];
  return undefined;
}

function itemKey(item: JsonObject, keys: readonly string[]): string {
  const key: JsonObject = {};
  for (const k of keys) key[k] = item[k] ?? (k === 'protocol' ? 'TCP' : null);
  return `k:${JSON.stringify(key)}`;
}

function encode(path: Path): string {
  return JSON.stringify(path);
}

function collect(value: JsonObject, path: Path, out: Map<string, FieldNode>, depth: number): void {
  for (const [key, child] of Object.entries(value)) {
    if (depth === 0 && UNTRACKED_TOP.has(key)) continue;
    if (depth === 1 && path[0] === 'f:metadata' && UNTRACKED_METADATA.has(key)) continue;
    if (child === undefined) continue;
    const childPath = [...path, `f:${key}`];
    const keys = Array.isArray(child) ? listKeys(child) : undefined;
    if (isObject(child) && Object.keys(child).length > 0) {
      out.set(encode(childPath), { path: childPath, leaf: false });
      collect(child, childPath, out, depth + 1);
    } else if (Array.isArray(child) && keys) {
      out.set(encode(childPath), { path: childPath, leaf: false });
      for (const item of child as JsonObject[]) {
        const itemPath = [...childPath, itemKey(item, keys)];
        out.set(encode(itemPath), { path: itemPath, leaf: false });
        collect(item, itemPath, out, depth + 2);
      }
    } else {
      out.set(encode(childPath), { path: childPath, leaf: true, value: child });
    }
  }
}

/** Every field path an object sets, intermediate nodes included. */
function fieldsOf(object: JsonObject): Map<string, FieldNode> {
  const out = new Map<string, FieldNode>();
  collect(object, [], out, 0);
  return out;
}

function toFieldsV1(paths: Iterable<string>): JsonObject {
  const root: JsonObject = {};
  const all = [...paths].map((p) => JSON.parse(p) as string[]);
  const owned = new Set(all.map((p) => encode(p)));
  for (const path of all) {
    let node = root;
    for (const segment of path) {
      node[segment] ??= {};
      node = node[segment] as JsonObject;
    }
  }
  // A node that is owned itself and also has owned children carries the "." marker, as in real FieldsV1.
  const mark = (node: JsonObject, path: string[]): void => {
    const children = Object.keys(node).filter((k) => k !== '.');
    if (children.length > 0 && path.length > 0 && owned.has(encode(path))) node['.'] = {};
    for (const child of children) mark(node[child] as JsonObject, [...path, child]);
  };
  mark(root, []);
  return root;
}

function fromFieldsV1(fields: unknown): Set<string> {
  const out = new Set<string>();
  const walk = (node: unknown, path: string[]): void => {
    if (!isObject(node)) return;
    for (const [segment, child] of Object.entries(node)) {
      if (segment === '.') continue;
      const next = [...path, segment];
      out.add(encode(next));
      walk(child, next);
    }
  };
  walk(fields, []);
  return out;
}

function readEntries(object: KubeObject): ManagerEntry[] {
  return (object.metadata.managedFields ?? []).map((raw) => ({
    manager: String(raw['manager'] ?? ''),
    operation: raw['operation'] === 'Apply' ? 'Apply' : 'Update',
    apiVersion: String(raw['apiVersion'] ?? object.apiVersion),
    time: String(raw['time'] ?? ''),
    paths: fromFieldsV1(raw['fieldsV1']),
  }));
}

function writeEntries(object: KubeObject, entries: readonly ManagerEntry[]): void {
  object.metadata.managedFields = entries
    .filter((e) => e.paths.size > 0)
    .map((e) => ({
      manager: e.manager,
      operation: e.operation,
      apiVersion: e.apiVersion,
      time: e.time,
      fieldsType: 'FieldsV1',
      fieldsV1: toFieldsV1(e.paths),
    }));
}

function locate(root: unknown, path: Path): { parent: unknown; last: string } | undefined {
  let node: unknown = root;
  for (let i = 0; i < path.length - 1; i += 1) {
    node = step(node, path[i] ?? '');
    if (node === undefined) return undefined;
  }
  return { parent: node, last: path[path.length - 1] ?? '' };
}

function matchesKey(item: unknown, segment: string): boolean {
  if (!isObject(item)) return false;
  const key = JSON.parse(segment.slice(2)) as JsonObject;
  return Object.entries(key).every(([k, v]) => (item[k] ?? (k === 'protocol' ? 'TCP' : null)) === v);
}

function step(node: unknown, segment: string): unknown {
  if (segment.startsWith('f:') && isObject(node)) return node[segment.slice(2)];
  if (segment.startsWith('k:') && Array.isArray(node)) return node.find((item) => matchesKey(item, segment));
  return undefined;
}

function valueAt(root: unknown, path: Path): unknown {
  let node = root;
  for (const segment of path) node = step(node, segment);
  return node;
}

function deleteAt(root: unknown, path: Path): void {
  const found = locate(root, path);
  if (!found) return;
  const { parent, last } = found;
  if (last.startsWith('f:') && isObject(parent)) delete parent[last.slice(2)];
  if (last.startsWith('k:') && Array.isArray(parent)) {
    const index = parent.findIndex((item) => matchesKey(item, last));
    if (index >= 0) parent.splice(index, 1);
  }
}

function merge(live: unknown, applied: unknown): unknown {
  if (isObject(live) && isObject(applied)) {
    const out: JsonObject = { ...live };
    for (const [key, value] of Object.entries(applied)) {
      if (value === undefined) continue;
      out[key] = key in live ? merge(live[key], value) : cloneJson(value);
    }
    return out;
  }
  if (Array.isArray(live) && Array.isArray(applied)) {
    const keys = listKeys(applied);
    if (keys && (live.length === 0 || listKeys(live))) {
      const appliedItems = (applied as JsonObject[]).map((item) => {
        const segment = itemKey(item, keys);
        const existing = live.find((l) => matchesKey(l, segment));
        return existing === undefined ? cloneJson(item) : merge(existing, item);
      });
      const kept = live.filter(
        (l) => !(applied as JsonObject[]).some((a) => matchesKey(l, itemKey(a, keys))),
      );
      return [...appliedItems, ...kept];
    }
  }
  return cloneJson(applied);
}

function dotted(path: Path): string {
  return path
    .map((segment) => (segment.startsWith('f:') ? `.${segment.slice(2)}` : `[${segment.slice(2)}]`))
    .join('');
}

/** Applies `config` for `manager` onto `live` (absent: creates it). */
export function serverSideApply(
  live: KubeObject | undefined,
  config: KubeObject,
  manager: string,
  force: boolean,
  now: string,
): ApplyOutcome {
  const applied = fieldsOf(config);
  const entry: ManagerEntry = {
    manager,
    operation: 'Apply',
    apiVersion: config.apiVersion,
    time: now,
    paths: new Set(applied.keys()),
  };
  if (!live) {
    const created = cloneJson(config);
    writeEntries(created, [entry]);
    return { object: created };
  }
  const entries = readEntries(live);
  const others = entries.filter((e) => !(e.manager === manager && e.operation === 'Apply'));
  const previous = entries.find((e) => e.manager === manager && e.operation === 'Apply');

  const conflicts: ApplyConflict[] = [];
  for (const [key, node] of applied) {
    if (!node.leaf) continue;
    for (const other of others) {
      if (!other.paths.has(key)) continue;
      if (JSON.stringify(valueAt(live, node.path)) === JSON.stringify(node.value)) continue;
      conflicts.push({ manager: other.manager, field: dotted(node.path) });
      if (force) other.paths.delete(key);
    }
  }
  if (conflicts.length > 0 && !force) return { conflicts };

  const result = cloneJson(live);
  const removed = [...(previous?.paths ?? [])]
    .filter((key) => !applied.has(key) && !others.some((o) => o.paths.has(key)))
    .map((key) => JSON.parse(key) as string[])
    .sort((a, b) => b.length - a.length);
  for (const path of removed) deleteAt(result, path);

  const { metadata, ...rest } = config;
  const merged = merge(result, rest) as KubeObject;
  merged.metadata = merge(result.metadata, stripUntrackedMetadata(metadata)) as KubeObject['metadata'];
  writeEntries(merged, [...others, entry]);
  return { object: merged };
}

function stripUntrackedMetadata(metadata: KubeObject['metadata']): JsonObject {
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(metadata)) if (!UNTRACKED_METADATA.has(key)) out[key] = value;
  return out;
}

/**
 * Records a non-apply write (create, update, merge patch) by `manager`: it takes the fields it set or
 * changed, from whoever owned them, as the API server does for `Update` operations.
 */
export function recordUpdate(
  previous: KubeObject | undefined,
  next: KubeObject,
  manager: string,
  now: string,
): KubeObject {
  const result = cloneJson(next);
  const entries = previous ? readEntries(previous) : [];
  const nextFields = fieldsOf(result);
  const changed = new Set<string>();
  for (const [key, node] of nextFields) {
    if (!node.leaf) continue;
    const before = previous ? valueAt(previous, node.path) : undefined;
    if (JSON.stringify(before) !== JSON.stringify(node.value)) {
      changed.add(key);
      // Owning a leaf implies owning the path down to it.
      for (let i = 1; i < node.path.length; i += 1) changed.add(encode(node.path.slice(0, i)));
    }
  }
  for (const entry of entries) {
    for (const key of [...entry.paths]) {
      if (!nextFields.has(key)) entry.paths.delete(key);
      else if (changed.has(key) && nextFields.get(key)?.leaf) entry.paths.delete(key);
    }
  }
  let own = entries.find((e) => e.manager === manager && e.operation === 'Update');
  if (!own) {
    own = { manager, operation: 'Update', apiVersion: next.apiVersion, time: now, paths: new Set() };
    entries.push(own);
  }
  if (changed.size > 0) own.time = now;
  for (const key of changed) own.paths.add(key);
  writeEntries(result, entries);
  return result;
}
