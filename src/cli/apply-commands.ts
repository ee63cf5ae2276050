/**
 * @module apply-commands: `mcp-gateway apply -f gateway.yaml` and `mcp-gateway export`. `apply` checks the whole
 * file first (nothing is sent while it has a problem), then compares each entry with what the gateway stores,
 * in the stored form (defaults filled in, read-only fields left out): what is missing is created, what differs
 * is replaced with `If-Match` (the ETag of the GET it was compared with), what is equal is left alone, and with
 * `--prune` what the file no longer lists is deleted. `export` writes the registry as such a file, so
 * apply → export → apply round-trips and the second apply changes nothing.
 */
import type { FileKind } from './api-client.js';
import type { Command, Context } from './context.js';
import { noArguments, readInputFile } from './context.js';
import { ApiError, EXIT, UsageError } from './errors.js';
import { FILE_KINDS, checkAgainstSchema, gatewayFileText, parseGatewayFile } from './gateway-file.js';
import type { GatewayFile } from './gateway-file.js';
import { MASK, differences } from './resource-fields.js';
import { print } from './output.js';

type Json = Record<string, unknown>;

/** One step of an apply. */
export interface Change {
  readonly action: 'create' | 'update' | 'delete' | 'unchanged' | 'kept';
  readonly kind: FileKind;
  readonly name: string;
  /** For `update`: the fields that differ. */
  readonly fields?: readonly { field: string; from: unknown; to: unknown }[];
  readonly data?: Json;
  readonly etag?: string | undefined;
}

/** What applying `file` would do to the registry `ctx.client` talks to. Reads only. */
export async function planApply(ctx: Context, file: GatewayFile, prune: boolean): Promise<Change[]> {
  const changes: Change[] = [];
  const deletions: Change[] = [];
  for (const kind of FILE_KINDS) {
    const stored = new Map(((await ctx.client.list(kind)) as Json[]).map((r) => [r.name as string, r]));
    const listed = new Set<string>();
    for (const entry of file.entries.filter((e) => e.kind === kind)) {
      listed.add(entry.name);
      const current = stored.get(entry.name);
      if (!current) {
        changes.push({ action: 'create', kind, name: entry.name, data: entry.data });
        continue;
      }
      if (differences(kind, current, entry.data).length === 0) {
        changes.push({ action: 'unchanged', kind, name: entry.name });
        continue;
      }
      // Compared again with the GET whose ETag guards the update, so the change shown is the change made.
      const { body, etag } = await ctx.client.get(kind, entry.name);
      const fields = differences(kind, body as Json, entry.data);
      changes.push(
        fields.length === 0
          ? { action: 'unchanged', kind, name: entry.name }
          : { action: 'update', kind, name: entry.name, fields, data: entry.data, etag },
      );
    }
    for (const name of stored.keys())
      if (!listed.has(name)) deletions.push({ action: prune ? 'delete' : 'kept', kind, name });
  }
  // Toolsets, then tools, then adapters when deleting: the reverse of the order things are created in.
  return [...changes, ...deletions.reverse()];
}

const SIGN = { create: '+', update: '~', delete: '-', unchanged: '=', kept: ' ' } as const;

const show = (value: unknown) => (value === undefined ? '(unset)' : JSON.stringify(value));

/** The plan as lines a person reads: one per resource that changes, the fields of each update. */
export function planText(changes: readonly Change[]): string {
  const lines: string[] = [];
  for (const c of changes) {
    if (c.action === 'unchanged' || c.action === 'kept') continue;
    lines.push(`${SIGN[c.action]} ${c.kind}/${c.name}`);
    for (const f of c.fields ?? []) lines.push(`    ${f.field}: ${show(f.from)} → ${show(f.to)}`);
  }
  return lines.length > 0 ? `${lines.join('\n')}\n` : '';
}

function summary(changes: readonly Change[], dryRun: boolean): string {
  const count = (action: Change['action']) => changes.filter((c) => c.action === action).length;
  const verbs = dryRun ? ['to create', 'to update', 'to delete'] : ['created', 'updated', 'deleted'];
  const kept = count('kept');
  return (
    `${dryRun ? 'dry run: ' : ''}${count('create')} ${verbs[0]}, ${count('update')} ${verbs[1]}, ` +
    `${count('delete')} ${verbs[2]}, ${count('unchanged')} unchanged` +
    (kept > 0 ? `, ${kept} not in the file (kept; --prune deletes them)` : '') +
    '\n'
  );
}

/** Carries out `changes` in order, printing each as it is done; stops at the first refusal. */
async function execute(ctx: Context, changes: readonly Change[]): Promise<void> {
  for (const c of changes) {
    try {
      if (c.action === 'create') await ctx.client.create(c.kind, c.data as never);
      else if (c.action === 'update') await ctx.client.update(c.kind, c.name, c.data as never, c.etag);
      else if (c.action === 'delete') await ctx.client.remove(c.kind, c.name);
      else continue;
    } catch (err) {
      if (err instanceof ApiError) {
        const stale = err.status === 412 ? ' (it changed since apply read it; run apply again)' : '';
        throw new ApiError(
          err.status,
          err.code,
          `apply stopped at ${c.action} ${c.kind}/${c.name}: ${err.message}${stale}; the changes printed above were made`,
        );
      }
      throw err;
    }
    ctx.io.stdout.write(planText([c]));
  }
}

/** `apply` and `export`. */
export function applyCommands(): Record<string, Command> {
  return {
    apply: {
      summary: 'make the registry match a file (idempotent)',
      usage: `Usage: mcp-gateway apply -f FILE [--prune] [--dry-run [--exit-code]]

FILE (YAML or JSON) has top-level \`adapters:\`, \`tools:\` and \`toolsets:\` lists of the objects the API takes:

  adapters:
    - name: weather
      endpoints: [http://127.0.0.1:8000/mcp]
  tools:
    - name: score
      endpoints: [http://127.0.0.1:9000/score]
      toolDefinition:
        tool: { name: score, inputSchema: { type: object } }
  toolsets:
    - name: team
      tools: [score, weather__*]

The whole file is checked first (syntax, fields, types, names, one runtime each, then the gateway's own rules
from its /schemas/gateway.json); any problem is printed as FILE:LINE:COLUMN and nothing is changed (exit 2). Then each entry is compared with what the gateway stores
(defaults filled in): missing ones are created, differing ones replaced with If-Match, equal ones left alone.
A second apply of the same file changes nothing. The gateway may still refuse an entry (a pattern, a role
missing): apply stops there with exit 1, after the changes it printed.

  -f, --file FILE   the file (required)
  --prune           also delete the adapters, tools and toolsets the file does not list
  --dry-run         print what would change (+ create, ~ update with the fields, - delete) and change nothing;
                    exits 0 whether or not changes are pending...
  --exit-code       ...unless this is given too: then 4 when changes are pending, 0 when none
  -o json|yaml      the plan as data (action, kind, name, fields) instead of lines`,
      options: {
        file: { type: 'string', short: 'f' },
        prune: { type: 'boolean' },
        'dry-run': { type: 'boolean' },
        'exit-code': { type: 'boolean' },
      },
      async run(ctx) {
        noArguments(ctx);
        const path = ctx.values.file as string | undefined;
        if (path === undefined) throw new UsageError('-f FILE is required', ctx.help);
        const dryRun = ctx.values['dry-run'] === true;
        if (ctx.values['exit-code'] && !dryRun)
          throw new UsageError('--exit-code applies with --dry-run', ctx.help);
        const text = await readInputFile(path);
        const file = parseGatewayFile(text, path);
        // The gateway's own rules (patterns, ranges), before anything changes; an older gateway has none.
        const schema = await ctx.client.fileSchema();
        if (schema) checkAgainstSchema(text, path, schema);
        const changes = await planApply(ctx, file, ctx.values.prune === true);
        const pending = changes.some((c) => c.action !== 'unchanged' && c.action !== 'kept');
        const format = ctx.format();
        if (format !== 'table') {
          if (!dryRun) await executeQuietly(ctx, changes);
          const data = changes.map(({ data: _data, etag: _etag, ...rest }) => rest);
          print(ctx.io.stdout, format, data, () => []);
          return dryRun && ctx.values['exit-code'] && pending ? EXIT.changesPending : EXIT.ok;
        }
        if (dryRun) {
          ctx.io.stdout.write(planText(changes));
          ctx.io.stdout.write(summary(changes, true));
          return ctx.values['exit-code'] && pending ? EXIT.changesPending : EXIT.ok;
        }
        await execute(ctx, changes);
        ctx.io.stdout.write(summary(changes, false));
        return EXIT.ok;
      },
    },
    export: {
      summary: 'print the registry as a file for apply',
      usage: `Usage: mcp-gateway export [-o yaml|json] > gateway.yaml

Every adapter, tool and toolset you may read, as the file \`apply -f\` takes (YAML unless -o json), without the read-only
fields (id, createdBy, createdAt, lastUpdatedAt) and without values equal to the defaults. Applying it to the
same gateway changes nothing; applying it to an empty one recreates them. Secrets are not exported. Values you
may read but not write are masked by the gateway (${MASK}); export then warns on stderr, and such a file cannot
restore them.`,
      options: {},
      async run(ctx) {
        noArguments(ctx);
        const resources = {
          adapters: (await ctx.client.list('adapters')) as Json[],
          tools: (await ctx.client.list('tools')) as Json[],
          toolsets: (await ctx.client.list('toolsets')) as Json[],
        };
        for (const kind of FILE_KINDS)
          for (const r of resources[kind])
            if (holdsMask(r))
              ctx.io.stderr.write(
                `warning: ${kind}/${String(r.name)} has masked values (${MASK}): you may read it but not write it\n`,
              );
        ctx.io.stdout.write(gatewayFileText(resources, ctx.format('yaml') === 'json' ? 'json' : 'yaml'));
      },
    },
  };
}

async function executeQuietly(ctx: Context, changes: readonly Change[]): Promise<void> {
  const quiet: Context = { ...ctx, io: { ...ctx.io, stdout: { write: () => true } } };
  await execute(quiet, changes);
}

function holdsMask(resource: Json): boolean {
  const env = resource.environmentVariables as Record<string, string> | undefined;
  const args = resource.args as string[] | undefined;
  return Object.values(env ?? {}).some((v) => v === MASK) || (args ?? []).some((a) => a === MASK);
}
