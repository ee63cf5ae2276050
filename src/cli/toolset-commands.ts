/**
 * @module toolset-commands: `mcp-gateway toolsets list|get|create|update|delete`. A toolset is a name, a
 * description, members and `requiredRoles`; `create` and `update` take it from `-f FILE` (JSON or YAML, the
 * object the API takes) or from flags, and `update` sends `If-Match` with the ETag of the GET it starts from.
 */
import { parse as parseYaml } from 'yaml';
import type { Command, Context } from './context.js';
import { nameArgument, noArguments, readInputFile } from './context.js';
import { UsageError } from './errors.js';
import { cell, fieldRows, print } from './output.js';

type Json = Record<string, unknown>;

const FIELD_HELP = `  -f, --file FILE          the whole toolset as JSON or YAML (the object the API takes);
                           the flags below cannot be combined with it
  --tool MEMBER            a member (repeat): a tool name, {adapter}__{tool} or {adapter}__*; on update
                           the flags replace the members
  --description TEXT
  --role ROLE              a role that may use it (requiredRoles; repeat)
  --search                 discovery "search": the endpoint lists search_tools and call_tool
  --list                   discovery "list" (the default)`;

const fieldOptions = {
  file: { type: 'string', short: 'f' },
  tool: { type: 'string', multiple: true },
  description: { type: 'string' },
  role: { type: 'string', multiple: true },
  search: { type: 'boolean' },
  list: { type: 'boolean' },
} as const;
const FLAGS = ['tool', 'description', 'role', 'search', 'list'];

/** The object of `-f FILE`: one toolset, as JSON or YAML. */
async function fileBody(path: string, ctx: Context): Promise<Json> {
  const text = await readInputFile(path);
  let parsed: unknown;
  try {
    parsed = parseYaml(text);
  } catch (error) {
    throw new UsageError(`${path}: ${(error as Error).message}`, ctx.help);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new UsageError(`${path}: must hold one toolset object`, ctx.help);
  }
  return parsed as Json;
}

/** The fields of a stored toolset that a PUT takes (the rest is the gateway's own). */
function writable(stored: Json): Json {
  const { name, description, tools, requiredRoles, discovery } = stored;
  return { name, description, tools, requiredRoles, discovery };
}

/** `base` with the flags applied. */
function applyFlags(ctx: Context, base: Json): Json {
  const v = ctx.values;
  if (v.search === true && v.list === true)
    throw new UsageError('--search and --list exclude each other', ctx.help);
  const out: Json = { ...base };
  if (v.tool) out.tools = v.tool;
  if (v.description !== undefined) out.description = v.description;
  if (v.role) out.requiredRoles = v.role;
  if (v.search === true) out.discovery = 'search';
  if (v.list === true) out.discovery = 'list';
  return out;
}

async function bodyOf(ctx: Context, stored: Json | undefined): Promise<Json> {
  const file = ctx.values.file as string | undefined;
  if (file !== undefined) {
    const used = FLAGS.filter((flag) => ctx.values[flag] !== undefined);
    if (used.length) throw new UsageError(`-f cannot be combined with --${used.join(', --')}`, ctx.help);
    const body = await fileBody(file, ctx);
    const name = ctx.positionals[0];
    if (name !== undefined && body.name !== undefined && body.name !== name) {
      throw new UsageError(`NAME '${name}' differs from the file's name '${String(body.name)}'`, ctx.help);
    }
    return { ...body, ...(name !== undefined && { name }) };
  }
  const name = nameArgument(ctx);
  return applyFlags(ctx, stored ? writable(stored) : { name, tools: [] });
}

const memberName = (member: unknown) =>
  typeof member === 'string'
    ? member
    : `${String((member as Json).name)}${(member as Json).rename ? `→${String((member as Json).rename)}` : ''}`;

const listRows = (items: Json[]) => [
  ['NAME', 'TOOLS', 'UNRESOLVED', 'ROLES', 'DISCOVERY', 'CREATED BY'],
  ...items.map((t) => [
    cell(t.name),
    ((t.tools as unknown[]) ?? []).map(memberName).join(','),
    (((t.status as Json | undefined)?.unresolved as string[] | undefined) ?? []).join(','),
    ((t.requiredRoles as string[]) ?? []).join(','),
    cell(t.discovery),
    cell(t.createdBy),
  ]),
];

/** The subcommands of `toolsets`. */
export function toolsetCommands(): Record<string, Command> {
  const p = 'mcp-gateway toolsets';
  return {
    list: {
      summary: 'list the toolsets you may use',
      usage: `Usage: ${p} list [-o table|json|yaml]\n\nEvery toolset you may read, ordered by name (all pages).`,
      options: {},
      async run(ctx) {
        noArguments(ctx);
        const items = (await ctx.client.list('toolsets')) as Json[];
        print(ctx.io.stdout, ctx.format(), items, () => listRows(items));
      },
    },
    get: {
      summary: 'show one toolset, with the members that resolve to nothing you may use',
      usage: `Usage: ${p} get NAME [-o table|json|yaml]`,
      options: {},
      async run(ctx) {
        const { body, etag } = await ctx.client.get('toolsets', nameArgument(ctx));
        print(ctx.io.stdout, ctx.format(), body, () => fieldRows(body as Json, etag ? [['etag', etag]] : []));
      },
    },
    create: {
      summary: 'create a toolset (its endpoint: /toolsets/NAME/mcp)',
      usage: `Usage: ${p} create NAME --tool MEMBER... [flags]
       ${p} create -f FILE

Creates a toolset; 409 (exit 1) when the name is taken.

${FIELD_HELP}`,
      options: fieldOptions,
      async run(ctx) {
        const body = await bodyOf(ctx, undefined);
        const { body: created } = await ctx.client.create('toolsets', body as never);
        print(ctx.io.stdout, ctx.format(), created, () => fieldRows(created as Json));
      },
    },
    update: {
      summary: 'change a toolset',
      usage: `Usage: ${p} update NAME [flags] [--if-match ETAG]
       ${p} update [NAME] -f FILE [--if-match ETAG]

Replaces the toolset: with -f by the file's object, with flags by the stored toolset with those fields
changed. The request carries If-Match with the ETag of the GET it starts from (or --if-match), so a change
someone made in between is refused (412, exit 1).

${FIELD_HELP}
  --if-match ETAG          the ETag you read earlier instead of a fresh one`,
      options: { ...fieldOptions, 'if-match': { type: 'string' } },
      async run(ctx) {
        const file = ctx.values.file as string | undefined;
        const name =
          ctx.positionals[0] ?? (file === undefined ? undefined : (await fileBody(file, ctx)).name);
        if (typeof name !== 'string')
          throw new UsageError('NAME (or -f FILE with a name) is required', ctx.help);
        const current = await ctx.client.get('toolsets', name);
        const body = await bodyOf(
          file === undefined ? ctx : { ...ctx, positionals: [name] },
          current.body as Json,
        );
        const ifMatch = (ctx.values['if-match'] as string | undefined) ?? current.etag;
        const { body: updated } = await ctx.client.update('toolsets', name, body as never, ifMatch);
        print(ctx.io.stdout, ctx.format(), updated, () => fieldRows(updated as Json));
      },
    },
    delete: {
      summary: 'remove a toolset (and its endpoint)',
      usage: `Usage: ${p} delete NAME [--if-match ETAG]`,
      options: { 'if-match': { type: 'string' } },
      async run(ctx) {
        const name = nameArgument(ctx);
        await ctx.client.remove('toolsets', name, ctx.values['if-match'] as string | undefined);
        ctx.io.stderr.write(`deleted toolsets/${name}\n`);
      },
    },
  };
}
