/**
 * @module kustomize: renders a kustomization directory the way `kubectl kustomize` (kustomize v5) does, for the
 * subset of kustomize that `k8s/` uses, so tests can validate what `kubectl apply -k` would send without a
 * cluster or the kustomize binary. Supported: `resources` (files and directories), `namespace`,
 * `configMapGenerator` (env files, files and literals; create and merge; hash-suffixed names and the references to
 * them), `patches` (strategic merge files aimed by their own kind and name), `replicas` and `images`. Any other
 * field or directive throws, so the helper can never silently render something kustomize would not.
 */
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';

/** A Kubernetes object as plain JSON. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    [key: string]: unknown;
  };
  [key: string]: unknown;
}

/** A JSON value. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
/** A JSON object, as YAML documents and patches are handled. */
export type JsonObject = { [key: string]: Json };

/** One rendered object and, for a generated ConfigMap, the name it was generated under (before its hash). */
interface Entry {
  object: KubeObject;
  generated?: string;
}

const SUPPORTED_FIELDS = new Set([
  'apiVersion',
  'kind',
  'namespace',
  'resources',
  'configMapGenerator',
  'patches',
  'replicas',
  'images',
]);

/** Kinds that live outside namespaces (the ones a manifest of ours could contain). */
const CLUSTER_SCOPED = new Set([
  'Namespace',
  'ClusterRole',
  'ClusterRoleBinding',
  'PersistentVolume',
  'StorageClass',
  'CustomResourceDefinition',
  'PriorityClass',
]);

/** Kinds whose `spec.replicas` the `replicas` field sets and whose pod template `images` rewrites. */
const WORKLOAD_KINDS = new Set(['Deployment', 'StatefulSet', 'ReplicaSet', 'DaemonSet', 'Job']);

/**
 * Merge keys of the associative lists a strategic merge patch of a pod template can touch (from the Kubernetes
 * API's `x-kubernetes-patch-merge-key`). A list not named here is replaced whole, as for an atomic list.
 */
const MERGE_KEYS: Readonly<Record<string, string>> = {
  containers: 'name',
  initContainers: 'name',
  env: 'name',
  volumes: 'name',
  volumeMounts: 'mountPath',
  ports: 'containerPort',
  imagePullSecrets: 'name',
  topologySpreadConstraints: 'topologyKey',
};

/** Renders the kustomization in `dir` into the objects `kubectl kustomize dir` prints (in no particular order). */
export function kustomizeBuild(dir: string): KubeObject[] {
  const entries = buildLayer(resolve(dir));
  const renames = new Map<string, string>();
  for (const entry of entries) {
    if (entry.generated === undefined) continue;
    const hashed = `${entry.generated}-${configMapHash(entry.object)}`;
    renames.set(entry.generated, hashed);
    entry.object.metadata.name = hashed;
  }
  const objects = entries.map((e) => e.object);
  for (const object of objects) renameConfigMapReferences(object, renames);
  return objects;
}

/**
 * The suffix kustomize v5 appends to a generated ConfigMap's name: the SHA-256 of a JSON document of its kind
 * and data, first 10 hex digits, with 0, 1, 3, a, e swapped for letters so the suffix never reads as a number
 * or a word. kustomize's encoder means to include the name but looks it up under a key that never exists, so
 * the name field is always empty; reproducing that keeps our suffixes equal to kubectl's.
 */
export function configMapHash(configMap: KubeObject): string {
  const encoded = canonicalJson({ data: (configMap['data'] ?? {}) as Json, kind: 'ConfigMap', name: '' });
  const hex = createHash('sha256').update(encoded).digest('hex').slice(0, 10);
  const swap: Record<string, string> = { '0': 'g', '1': 'h', '3': 'k', a: 'm', e: 't' };
  return hex.replace(/[013ae]/g, (c) => swap[c] ?? c);
}

/** JSON as Go's encoding/json writes a map: keys sorted, and <, >, & (and U+2028/9) escaped. */
function canonicalJson(value: Json): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${goString(k)}:${canonicalJson(value[k] as Json)}`).join(',')}}`;
  }
  return typeof value === 'string' ? goString(value) : JSON.stringify(value);
}

function goString(text: string): string {
  return JSON.stringify(text).replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

function buildLayer(dir: string): Entry[] {
  const file = join(dir, 'kustomization.yaml');
  const kustomization = readYamlDocuments(file)[0] as JsonObject | undefined;
  if (!kustomization) throw new Error(`${file}: empty kustomization`);
  for (const field of Object.keys(kustomization)) {
    if (!SUPPORTED_FIELDS.has(field))
      throw new Error(`${file}: the test renderer does not support '${field}'`);
  }
  if (kustomization['kind'] !== undefined && kustomization['kind'] !== 'Kustomization')
    throw new Error(`${file}: kind must be Kustomization`);

  const entries: Entry[] = [];
  for (const resource of asArray<string>(kustomization['resources'], file, 'resources')) {
    const path = resolve(dir, resource);
    if (statSync(path).isDirectory()) entries.push(...buildLayer(path));
    else entries.push(...readYamlDocuments(path).map((doc) => ({ object: asObject(doc, path) })));
  }
  for (const generator of asArray<JsonObject>(
    kustomization['configMapGenerator'],
    file,
    'configMapGenerator',
  ))
    generateConfigMap(generator, dir, entries, file);
  assertUniqueIds(entries, file);

  for (const patch of asArray<JsonObject>(kustomization['patches'], file, 'patches')) {
    const keys = Object.keys(patch);
    if (keys.length !== 1 || typeof patch['path'] !== 'string')
      throw new Error(`${file}: only patches of the form '- path: file.yaml' are supported`);
    const path = resolve(dir, patch['path']);
    const docs = readYamlDocuments(path);
    if (docs.length !== 1)
      throw new Error(`${path}: a strategic merge patch file holds exactly one document`);
    const patchObject = asObject(docs[0], path);
    const target = findOne(entries, patchObject.kind, patchObject.metadata.name, path);
    target.object = strategicMerge(
      target.object as unknown as JsonObject,
      patchObject as unknown as JsonObject,
      [],
    ) as unknown as KubeObject;
  }

  const namespace = kustomization['namespace'];
  if (namespace !== undefined) {
    if (typeof namespace !== 'string') throw new Error(`${file}: namespace must be a string`);
    for (const { object } of entries) setNamespace(object, namespace, file);
  }

  for (const replica of asArray<JsonObject>(kustomization['replicas'], file, 'replicas')) {
    const { name, count } = replica;
    if (typeof name !== 'string' || typeof count !== 'number')
      throw new Error(`${file}: replicas entries need a name and a count`);
    const matches = entries.filter(
      (e) => WORKLOAD_KINDS.has(e.object.kind) && e.object.metadata.name === name,
    );
    if (matches.length === 0) throw new Error(`${file}: replicas names '${name}', which is not rendered`);
    for (const { object } of matches) (object['spec'] as JsonObject)['replicas'] = count;
  }

  for (const image of asArray<JsonObject>(kustomization['images'], file, 'images')) {
    for (const key of Object.keys(image)) {
      if (!['name', 'newName', 'newTag'].includes(key))
        throw new Error(`${file}: images.${key} is not supported by the test renderer`);
    }
    for (const { object } of entries) setImage(object, image);
  }
  return entries;
}

function generateConfigMap(generator: JsonObject, dir: string, entries: Entry[], file: string): void {
  for (const key of Object.keys(generator)) {
    if (!['name', 'behavior', 'envs', 'files', 'literals'].includes(key))
      throw new Error(`${file}: configMapGenerator.${key} is not supported by the test renderer`);
  }
  const name = generator['name'];
  if (typeof name !== 'string') throw new Error(`${file}: configMapGenerator entries need a name`);
  const data: Record<string, string> = {};
  for (const envFile of asArray<string>(generator['envs'], file, 'envs')) {
    Object.assign(data, parseEnvFile(resolve(dir, envFile)));
  }
  // `files`: each file's content under its base name, or under KEY for `KEY=path`.
  for (const entry of asArray<string>(generator['files'], file, 'files')) {
    const at = entry.indexOf('=');
    const path = at > 0 ? entry.slice(at + 1) : entry;
    const key = at > 0 ? entry.slice(0, at) : basename(path);
    if (!/^[-._a-zA-Z0-9]+$/.test(key)) throw new Error(`${file}: ${JSON.stringify(key)} is not a valid key`);
    data[key] = readFileSync(resolve(dir, path), 'utf8');
  }
  for (const literal of asArray<string>(generator['literals'], file, 'literals')) {
    const [key, value] = splitPair(literal, `${file}: literal ${JSON.stringify(literal)}`);
    if (/^["']/.test(value))
      throw new Error(`${file}: quoted literals are not supported by the test renderer`);
    data[key] = value;
  }
  const behavior = generator['behavior'] ?? 'create';
  if (behavior === 'create') {
    entries.push({
      object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data },
      generated: name,
    });
    return;
  }
  const existing = entries.find((e) => e.generated === name);
  if (!existing) throw new Error(`${file}: configMapGenerator '${name}' ${String(behavior)}s into nothing`);
  if (behavior === 'merge') existing.object['data'] = { ...(existing.object['data'] as object), ...data };
  else if (behavior === 'replace') existing.object['data'] = data;
  else throw new Error(`${file}: unknown configMapGenerator behavior ${JSON.stringify(behavior)}`);
}

/**
 * An env file as kustomize reads one: `KEY=VALUE` lines, blank lines and `#` comments skipped, values taken
 * verbatim. A bare `KEY` would copy the variable from the environment of whoever runs kustomize, so it is refused.
 */
export function parseEnvFile(path: string): Record<string, string> {
  const data: Record<string, string> = {};
  readFileSync(path, 'utf8')
    .split('\n')
    .forEach((raw, index) => {
      const line = raw.replace(/\r$/, '').trimStart();
      if (line === '' || line.startsWith('#')) return;
      const [key, value] = splitPair(line, `${path}:${index + 1}`);
      data[key] = value;
    });
  return data;
}

function splitPair(text: string, where: string): [string, string] {
  const at = text.indexOf('=');
  if (at <= 0) throw new Error(`${where}: expected KEY=VALUE`);
  const key = text.slice(0, at);
  if (!/^[-._a-zA-Z0-9]+$/.test(key)) throw new Error(`${where}: ${JSON.stringify(key)} is not a valid key`);
  return [key, text.slice(at + 1)];
}

/**
 * Applies a strategic merge patch: maps merge key by key, `null` deletes, associative lists (see
 * {@link MERGE_KEYS}) merge item by item — patch items first, in patch order, then the original items the patch
 * does not name, as kustomize orders them — and every other list or scalar is replaced.
 */
export function strategicMerge(original: JsonObject, patch: JsonObject, path: readonly string[]): JsonObject {
  const result: JsonObject = { ...original };
  for (const [key, value] of Object.entries(patch)) {
    if (key.startsWith('$'))
      throw new Error(`patch directive ${key} at ${path.join('.')} is not supported by the test renderer`);
    if (value === null) {
      delete result[key];
      continue;
    }
    const current = result[key];
    if (Array.isArray(value) && Array.isArray(current)) {
      result[key] = mergeList(key, current, value, [...path, key]);
    } else if (isObject(value) && isObject(current)) {
      result[key] = strategicMerge(current, value, [...path, key]);
    } else {
      result[key] = value;
    }
  }
  return result;
}

function mergeList(field: string, original: Json[], patch: Json[], path: readonly string[]): Json[] {
  const mergeKey = MERGE_KEYS[field];
  if (mergeKey === undefined) return patch;
  const keyOf = (item: Json): Json => {
    if (!isObject(item) || item[mergeKey] === undefined)
      throw new Error(`${path.join('.')}: every item needs its merge key '${mergeKey}'`);
    return item[mergeKey];
  };
  const patchKeys = new Set(patch.map(keyOf));
  const merged = patch.map((item) => {
    const match = original.find((o) => keyOf(o) === keyOf(item));
    return match === undefined ? item : strategicMerge(match as JsonObject, item as JsonObject, path);
  });
  return [...merged, ...original.filter((o) => !patchKeys.has(keyOf(o)))];
}

function setNamespace(object: KubeObject, namespace: string, file: string): void {
  if (CLUSTER_SCOPED.has(object.kind)) return;
  object.metadata = { ...object.metadata, namespace };
  if (object.kind === 'RoleBinding' || object.kind === 'ClusterRoleBinding') {
    // kustomize rewrites some ServiceAccount subjects' namespaces by rules of its own; ours must already agree.
    for (const subject of (object['subjects'] ?? []) as JsonObject[]) {
      if (subject['kind'] === 'ServiceAccount' && subject['namespace'] !== namespace)
        throw new Error(
          `${file}: ${object.kind} ${object.metadata.name} binds a ServiceAccount in ${String(subject['namespace'])}, not ${namespace}`,
        );
    }
  }
}

function setImage(object: KubeObject, image: JsonObject): void {
  if (!WORKLOAD_KINDS.has(object.kind)) return;
  const podSpec = ((object['spec'] as JsonObject)?.['template'] as JsonObject)?.['spec'] as JsonObject;
  for (const list of ['containers', 'initContainers']) {
    for (const container of (podSpec?.[list] ?? []) as JsonObject[]) {
      const current = String(container['image'] ?? '');
      const match = /^([^@:]+(?::\d+\/[^@:]+)?)(?::([^@]+))?(@.+)?$/.exec(current);
      if (!match || match[1] !== image['name']) continue;
      if (match[3] !== undefined) throw new Error(`images: digest references are not supported (${current})`);
      const newName = typeof image['newName'] === 'string' ? image['newName'] : (match[1] as string);
      const newTag = typeof image['newTag'] === 'string' ? image['newTag'] : match[2];
      container['image'] = newTag === undefined ? newName : `${newName}:${newTag}`;
    }
  }
}

/** Points pod templates' ConfigMap references at the generated (hash-suffixed) names. */
function renameConfigMapReferences(object: KubeObject, renames: ReadonlyMap<string, string>): void {
  if (!WORKLOAD_KINDS.has(object.kind) || renames.size === 0) return;
  const rename = (ref: JsonObject | undefined) => {
    const name = ref?.['name'];
    if (ref && typeof name === 'string' && renames.has(name)) ref['name'] = renames.get(name) as string;
  };
  const podSpec = ((object['spec'] as JsonObject)['template'] as JsonObject)['spec'] as JsonObject;
  for (const list of ['containers', 'initContainers']) {
    for (const container of (podSpec[list] ?? []) as JsonObject[]) {
      for (const source of (container['envFrom'] ?? []) as JsonObject[])
        rename(source['configMapRef'] as JsonObject | undefined);
      for (const variable of (container['env'] ?? []) as JsonObject[])
        rename(
          (variable['valueFrom'] as JsonObject | undefined)?.['configMapKeyRef'] as JsonObject | undefined,
        );
    }
  }
  for (const volume of (podSpec['volumes'] ?? []) as JsonObject[]) {
    rename(volume['configMap'] as JsonObject | undefined);
    for (const source of ((volume['projected'] as JsonObject | undefined)?.['sources'] ?? []) as JsonObject[])
      rename(source['configMap'] as JsonObject | undefined);
  }
}

function findOne(entries: Entry[], kind: string, name: string, where: string): Entry {
  const matches = entries.filter((e) => e.object.kind === kind && e.object.metadata.name === name);
  if (matches.length !== 1)
    throw new Error(`${where}: expected one ${kind} named ${name} to patch, found ${matches.length}`);
  return matches[0] as Entry;
}

function assertUniqueIds(entries: readonly Entry[], file: string): void {
  const seen = new Set<string>();
  for (const { object } of entries) {
    const id = `${object.apiVersion}/${object.kind}/${object.metadata.namespace ?? ''}/${object.metadata.name}`;
    if (seen.has(id)) throw new Error(`${file}: ${id} is rendered twice`);
    seen.add(id);
  }
}

/** Every YAML document of a file, as JSON (empty documents dropped). */
export function readYamlDocuments(path: string): Json[] {
  return parseAllDocuments(readFileSync(path, 'utf8')).flatMap((doc) => {
    if (doc.errors.length > 0) throw new Error(`${path}: ${doc.errors.map((e) => e.message).join('; ')}`);
    const value = doc.toJSON() as Json;
    return value === null || value === undefined ? [] : [value];
  });
}

function asObject(doc: Json | undefined, where: string): KubeObject {
  if (!isObject(doc) || typeof doc['kind'] !== 'string' || typeof doc['apiVersion'] !== 'string')
    throw new Error(`${where}: every document must be a Kubernetes object with apiVersion and kind`);
  const metadata = doc['metadata'];
  if (!isObject(metadata) || typeof metadata['name'] !== 'string')
    throw new Error(`${where}: ${doc['kind']} without metadata.name`);
  return structuredClone(doc) as unknown as KubeObject;
}

function asArray<T>(value: Json | undefined, file: string, field: string): T[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new Error(`${file}: ${field} must be a list`);
  return value as T[];
}

function isObject(value: Json | undefined): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
