/**
 * @module tool-definition-hash: what of a federated tool is pinned, and its fingerprint — the fields that tell a
 * model what the tool does and takes (`name`, `title`, `description`, `inputSchema`, `outputSchema`,
 * `annotations`), as canonical JSON (object keys sorted at every depth, so an upstream that reorders keys is not
 * a change), hashed with SHA-256 through Web Crypto (the same on Node and the edge).
 */
import type { Tool } from '@modelcontextprotocol/server';
import type { JsonObject } from '../registry/index.js';

/** The fields of a tool definition that are pinned, in the order a diff lists them. */
export const PINNED_FIELDS = [
  'name',
  'title',
  'description',
  'inputSchema',
  'outputSchema',
  'annotations',
] as const;
export type PinnedField = (typeof PINNED_FIELDS)[number];

/** A tool's pinned fields and their hash. */
export interface ToolFingerprint {
  /** The pinned fields the tool has (absent ones are left out, not null). */
  readonly definition: JsonObject;
  /** SHA-256 of {@link canonicalJson} of the definition, lowercase hex. */
  readonly hash: string;
}

/** JSON with object keys sorted (by UTF-16 code units) at every depth; `undefined` members left out, as JSON does. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item ?? null)).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const object = value as Record<string, unknown>;
    const members = Object.keys(object)
      .filter((key) => object[key] !== undefined)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonicalJson(object[key])}`);
    return `{${members.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** The pinned fields of `tool`. */
export function pinnedDefinitionOf(tool: Tool): JsonObject {
  const definition: JsonObject = {};
  for (const field of PINNED_FIELDS) {
    const value = (tool as Record<string, unknown>)[field];
    if (value !== undefined) definition[field] = value;
  }
  return definition;
}

async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, '0')).join('');
}

/** Hashes by canonical text: a relisting brings new objects of the same definitions, hashed once. Bounded. */
const hashes = new Map<string, string>();
const MAX_CACHED_HASHES = 10_000;

/** The fingerprint of `tool`'s definition. */
export async function fingerprintOf(tool: Tool): Promise<ToolFingerprint> {
  const definition = pinnedDefinitionOf(tool);
  const text = canonicalJson(definition);
  let hash = hashes.get(text);
  if (hash === undefined) {
    hash = await sha256Hex(text);
    if (hashes.size >= MAX_CACHED_HASHES) hashes.clear();
    hashes.set(text, hash);
  }
  return { definition, hash };
}

/** One field that differs between a pinned definition and the current one; absent means the field is missing. */
export interface DefinitionFieldChange {
  readonly field: PinnedField;
  readonly pinned?: unknown;
  readonly current?: unknown;
}

/** The pinned fields whose canonical JSON differs, in {@link PINNED_FIELDS} order. */
export function definitionDiff(pinned: JsonObject, current: JsonObject): DefinitionFieldChange[] {
  const changes: DefinitionFieldChange[] = [];
  for (const field of PINNED_FIELDS) {
    const before = pinned[field];
    const after = current[field];
    // An absent field and a `null` one differ (they hash differently too).
    if (
      before === undefined
        ? after === undefined
        : after !== undefined && canonicalJson(before) === canonicalJson(after)
    )
      continue;
    changes.push({
      field,
      ...(before !== undefined && { pinned: before }),
      ...(after !== undefined && { current: after }),
    });
  }
  return changes;
}
