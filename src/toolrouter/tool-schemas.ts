/**
 * @module tool-schemas: JSON Schema checks of the tool router — `tools/call` arguments against the tool's
 * `inputSchema` before anything goes upstream, and a result's `structuredContent` against its `outputSchema`.
 * Built on `@cfworker/json-schema`, an interpreter (no code generated with `new Function`, unlike AJV), so the
 * same checks run on Node and on the edge. The dialect is the schema's `$schema` (2020-12 when absent, as MCP
 * says; draft-07, and the drafts 2019-09, 06 and 04 the engine also knows).
 *
 * A schema is compiled once and found again by its definition object (per call) or, when the catalog rebuilt its
 * definitions, by its text: a changed schema is compiled anew, an unchanged one is not.
 *
 * A schema that is itself unusable (an unknown `$schema`, a `pattern` JavaScript cannot compile, an unknown
 * `type`, a `$ref` that resolves nowhere) is logged once and then not checked: the tool's own server still
 * validates its arguments, and refusing every call would take a working tool offline over a difference between
 * schema dialects or regex flavours that is no fault of the caller's.
 */
import { Validator } from '@cfworker/json-schema';
import type { OutputUnit, Schema, SchemaDraft } from '@cfworker/json-schema';
import type { CallToolResult } from '@modelcontextprotocol/server';
import type { Logger } from '../observability/index.js';

/** Why `value` breaks the schema (where, and which rule), or undefined when it conforms. */
export type SchemaCheck = (value: unknown) => string | undefined;

/** Compiled schema checks, cached per schema object. */
export interface ToolSchemas {
  /** The check of `schema`, or undefined when the schema is unusable (logged once, not checked). */
  checkOf(tool: string, schema: object): SchemaCheck | undefined;
}

const DRAFTS: ReadonlyMap<string, SchemaDraft> = new Map([
  ['https://json-schema.org/draft/2020-12/schema', '2020-12'],
  ['https://json-schema.org/draft/2019-09/schema', '2019-09'],
  ['http://json-schema.org/draft-07/schema', '7'],
  ['http://json-schema.org/draft-06/schema', '7'],
  ['http://json-schema.org/draft-04/schema', '4'],
]);

const INSTANCE_TYPES = new Set(['array', 'boolean', 'integer', 'null', 'number', 'object', 'string']);

/** Keywords whose value is one subschema, a list of them, or a map of them (the ones the walk descends into). */
const ONE = ['not', 'if', 'then', 'else', 'items', 'additionalItems', 'contains', 'propertyNames'];
const ONE_OR_MAP = ['additionalProperties', 'unevaluatedProperties', 'unevaluatedItems'];
const LIST = ['allOf', 'anyOf', 'oneOf', 'prefixItems', 'items'];
const MAP = ['properties', 'patternProperties', '$defs', 'definitions', 'dependentSchemas'];

class SchemaProblem extends Error {}

/** The engine draft for `schema`'s `$schema` (http and https, with or without the trailing `#`). */
function draftOf(schema: object): SchemaDraft {
  const declared = (schema as { $schema?: unknown }).$schema;
  if (declared === undefined) return '2020-12';
  if (typeof declared !== 'string') throw new SchemaProblem('"$schema" is not a string');
  const uri = declared.replace(/#$/, '').replace(/^https?:/, '');
  for (const [known, draft] of DRAFTS) if (known.replace(/^https?:/, '') === uri) return draft;
  throw new SchemaProblem(`unsupported "$schema": ${declared.slice(0, 200)}`);
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * What the engine would only trip over at validation time, and only on some inputs: checked once, up front.
 * Not a metaschema check (unknown keywords are allowed, as JSON Schema says), just what makes a schema unusable.
 */
function checkStructure(schema: unknown, at: string, depth = 0): void {
  if (typeof schema === 'boolean') return;
  if (!isObject(schema)) throw new SchemaProblem(`${at} is not a schema (an object or a boolean)`);
  if (depth > 64) throw new SchemaProblem(`${at} nests deeper than 64 levels`);
  const { type, required, pattern } = schema;
  const types = Array.isArray(type) ? type : type === undefined ? [] : [type];
  for (const t of types) {
    if (typeof t !== 'string' || !INSTANCE_TYPES.has(t))
      throw new SchemaProblem(`${at}/type: unknown type ${JSON.stringify(t)}`);
  }
  if (required !== undefined && (!Array.isArray(required) || required.some((r) => typeof r !== 'string')))
    throw new SchemaProblem(`${at}/required is not a list of names`);
  const compile = (source: unknown, where: string) => {
    if (typeof source !== 'string') throw new SchemaProblem(`${where} is not a string`);
    try {
      new RegExp(source, 'u');
    } catch (error) {
      throw new SchemaProblem(`${where}: ${error instanceof Error ? error.message : String(error)}`);
    }
  };
  if (pattern !== undefined) compile(pattern, `${at}/pattern`);
  if (isObject(schema.patternProperties)) {
    for (const key of Object.keys(schema.patternProperties)) compile(key, `${at}/patternProperties key`);
  }
  for (const keyword of ONE) {
    const sub = schema[keyword];
    if (sub !== undefined && !Array.isArray(sub)) checkStructure(sub, `${at}/${keyword}`, depth + 1);
  }
  for (const keyword of ONE_OR_MAP) {
    const sub = schema[keyword];
    if (sub !== undefined) checkStructure(sub, `${at}/${keyword}`, depth + 1);
  }
  for (const keyword of LIST) {
    const subs = schema[keyword];
    if (subs === undefined || (keyword === 'items' && !Array.isArray(subs))) continue;
    if (!Array.isArray(subs)) throw new SchemaProblem(`${at}/${keyword} is not a list of schemas`);
    subs.forEach((sub, i) => checkStructure(sub, `${at}/${keyword}/${i}`, depth + 1));
  }
  for (const keyword of MAP) {
    const subs = schema[keyword];
    if (subs === undefined) continue;
    if (!isObject(subs)) throw new SchemaProblem(`${at}/${keyword} is not a map of schemas`);
    for (const [key, sub] of Object.entries(subs)) checkStructure(sub, `${at}/${keyword}/${key}`, depth + 1);
  }
}

/** Messages quote property names and enums, which a caller or a schema can make arbitrarily long. */
const MAX_PART = 300;
const clip = (text: string) => (text.length > MAX_PART ? `${text.slice(0, MAX_PART)}…` : text);

/** `#/tags/1` as `arguments/tags/1` (JSON Pointer unescaped, percent-decoding undone). */
function pathOf(root: string, instanceLocation: string): string {
  const pointer = instanceLocation.replace(/^#/, '');
  if (pointer === '') return root;
  let decoded = pointer;
  try {
    decoded = decodeURI(pointer);
  } catch {
    // Keep it encoded: still names the place.
  }
  return `${root}${decoded.replace(/~1/g, '/').replace(/~0/g, '~')}`;
}

/** The most specific failure: the engine lists a failing parent before the child that made it fail. */
function describeFailure(root: string, errors: readonly OutputUnit[]): string {
  const leaf = errors.at(-1);
  if (!leaf) return `${root}: does not match the schema`;
  // `additionalProperties: false` fails on a `false` schema, whose parent says which property it was.
  const parent = errors.at(-2);
  const rule = leaf.keyword === 'false' && parent ? parent : leaf;
  return `${clip(pathOf(root, leaf.instanceLocation))}: ${clip(rule.error)} (${rule.keyword})`;
}

/** Distinct schemas kept compiled by their text (the oldest goes first); a catalog holds one or two per tool. */
const MAX_CACHED_TEXTS = 20_000;

/** Builds the schema cache; `root` names the checked value in messages (`arguments`, `structuredContent`). */
export function createToolSchemas(logger: Logger, root: string): ToolSchemas {
  // By object: the per-call lookup. By text: a catalog rebuild makes new objects of unchanged definitions,
  // which must not be compiled (nor an unusable one logged) again.
  const byObject = new WeakMap<object, SchemaCheck | null>();
  const byText = new Map<string, SchemaCheck | null>();

  const unusable = (tool: string, error: unknown) =>
    logger.warn(
      { tool, err: error instanceof Error ? error.message : String(error) },
      `the ${root} schema of a tool cannot be used; its calls are not checked against it`,
    );

  function compile(tool: string, schema: object): SchemaCheck | null {
    try {
      const draft = draftOf(schema);
      checkStructure(schema, '#');
      // Short-circuit: the first failure is enough to name, and cheaper than collecting all.
      const validator = new Validator(schema as Schema, draft, true);
      let usable = true;
      return (value) => {
        if (!usable) return undefined;
        try {
          const result = validator.validate(value);
          return result.valid ? undefined : describeFailure(root, result.errors);
        } catch (error) {
          // Found only now (a `$ref` that resolves nowhere): from here on, as unusable as any other.
          usable = false;
          unusable(tool, error);
          return undefined;
        }
      };
    } catch (error) {
      unusable(tool, error);
      return null;
    }
  }

  return {
    checkOf(tool, schema) {
      let check = byObject.get(schema);
      if (check === undefined) {
        const text = JSON.stringify(schema);
        check = byText.get(text);
        if (check === undefined) {
          check = compile(tool, schema);
          if (byText.size >= MAX_CACHED_TEXTS) byText.delete(byText.keys().next().value!);
          byText.set(text, check);
        }
        byObject.set(schema, check);
      }
      return check ?? undefined;
    },
  };
}

const errorResult = (text: string): CallToolResult => ({ isError: true, content: [{ type: 'text', text }] });

/**
 * `result` when it keeps the promise of `outputSchema`, otherwise an `isError` result naming the problem:
 * MCP says a server with an output schema MUST return conforming structured content, and clients SHOULD check.
 * Errors pass as they are (a failing tool need not return structured content).
 */
export function checkedOutput(
  tool: string,
  outputSchema: object | undefined,
  schemas: ToolSchemas,
  result: CallToolResult,
): CallToolResult {
  if (!outputSchema || result.isError === true) return result;
  if (result.structuredContent === undefined) {
    return errorResult(`Tool '${tool}' declares an outputSchema but returned no structuredContent.`);
  }
  const problem = schemas.checkOf(tool, outputSchema)?.(result.structuredContent);
  return problem === undefined
    ? result
    : errorResult(`Tool '${tool}' returned a result that does not match its outputSchema: ${problem}`);
}
