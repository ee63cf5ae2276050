/**
 * @module resource-commands: `mcp-gateway adapters|tools list|get|create|update|delete|status|logs`. `create` and
 * `update` take the object from `-f FILE` (JSON or YAML, checked like `apply` checks its file) or from flags for
 * the common fields; `update` sends `If-Match` with the ETag of the GET it starts from, so a change made by
 * someone else in between is refused (412) rather than overwritten.
 */
import type { OptionSpecs } from './args.js';
import { integerOption } from './args.js';
import type { AdapterStatus, RuntimeKind } from './api-client.js';
import type { Command, Context } from './context.js';
import { nameArgument, noArguments, readInputFile } from './context.js';
import { EXIT, UsageError } from './errors.js';
import { parseResourceFile } from './gateway-file.js';
import { cell, fieldRows, print } from './output.js';
import { fileForm } from './resource-fields.js';

type Json = Record<string, unknown>;

const singular = (kind: RuntimeKind) => (kind === 'adapters' ? 'adapter' : 'tool');

/** The runtime a resource names, for the tables. */
export function runtimeOf(resource: Json): string {
  if (resource.endpoints) return 'endpoints';
  if (resource.command !== undefined) return 'command';
  if (resource.imageName !== undefined) return 'image';
  return '';
}

/** Flags for the fields most resources set; `-f FILE` covers the rest. */
function fieldOptions(kind: RuntimeKind): OptionSpecs {
  return {
    file: { type: 'string', short: 'f' },
    endpoint: { type: 'string', multiple: true },
    'image-name': { type: 'string' },
    'image-version': { type: 'string' },
    command: { type: 'string' },
    arg: { type: 'string', multiple: true },
    env: { type: 'string', multiple: true },
    'secret-env': { type: 'string', multiple: true },
    replicas: { type: 'string' },
    description: { type: 'string' },
    role: { type: 'string', multiple: true },
    ...(kind === 'adapters'
      ? { transport: { type: 'string' }, federate: { type: 'boolean' } }
      : { 'tool-description': { type: 'string' }, 'input-schema': { type: 'string' } }),
  };
}

function fieldHelp(kind: RuntimeKind): string {
  return `  -f, --file FILE          the whole ${singular(kind)} as JSON or YAML (the object the API takes);
                           the flags below cannot be combined with it
  --endpoint URL           a replica's URL (repeat for several): the endpoints runtime
  --image-name NAME, --image-version VERSION    the image runtime
  --command PROGRAM, --arg ARG (repeat)         the command runtime (a program on the gateway host)
  --env NAME=VALUE         an environment variable (repeat); update adds to or replaces existing ones
  --secret-env NAME=SECRET a variable whose value is the stored secret SECRET (secretEnvironmentVariables;
                           repeat); the value never passes through the command line
  --replicas N             replicaCount
  --description TEXT
  --role ROLE              a role that may read it (requiredRoles; repeat)
${
  kind === 'adapters'
    ? `  --transport stdio|streamable-http|sse   how it speaks MCP (a command: default stdio; sse: the
                           2024-11-05 HTTP+SSE transport, also for --endpoint and images)
  --federate               list its tools on the tool router (/mcp)`
    : `  --tool-description TEXT  the MCP tool's description
  --input-schema JSON      the MCP tool's inputSchema (default {"type":"object"})`
}`;
}

const FLAG_FIELDS = [
  'endpoint',
  'image-name',
  'image-version',
  'command',
  'arg',
  'env',
  'secret-env',
  'replicas',
  'description',
  'role',
  'transport',
  'federate',
  'tool-description',
  'input-schema',
];

const RUNTIME_FIELDS = ['endpoints', 'imageName', 'imageVersion', 'command', 'args', 'transport', 'network'];

/** `base` (the stored resource on update, `{name}` on create) with the flags applied. */
function applyFlags(kind: RuntimeKind, ctx: Context, base: Json): Json {
  const v = ctx.values;
  const out: Json = { ...base };
  const runtime = v.endpoint ? 'endpoints' : v.command ? 'command' : v['image-name'] ? 'image' : undefined;
  if (runtime !== undefined && runtime !== runtimeOf(base)) {
    // A new runtime replaces the old one and its address (an endpoint URL carries its own port and path).
    for (const field of [...RUNTIME_FIELDS, 'port', 'path']) delete out[field];
    if (kind === 'tools' && out.toolDefinition) {
      const { port: _port, path: _path, ...definition } = out.toolDefinition as Json;
      out.toolDefinition = definition;
    }
  }
  if (v.endpoint) out.endpoints = v.endpoint;
  if (v.endpoint && base.endpoints) delete out.replicaCount;
  if (v['image-name'] !== undefined) out.imageName = v['image-name'];
  if (v['image-version'] !== undefined) out.imageVersion = v['image-version'];
  if (v.command !== undefined) out.command = v.command;
  if (v.arg) out.args = v.arg;
  if (v.env) {
    const env: Record<string, string> = { ...((out.environmentVariables as Record<string, string>) ?? {}) };
    for (const pair of v.env as string[]) {
      const eq = pair.indexOf('=');
      if (eq <= 0) throw new UsageError(`--env: '${pair}' is not NAME=VALUE`, ctx.help);
      env[pair.slice(0, eq)] = pair.slice(eq + 1);
    }
    out.environmentVariables = env;
  }
  if (v['secret-env']) {
    const refs: Record<string, string> = {
      ...((out.secretEnvironmentVariables as Record<string, string>) ?? {}),
    };
    for (const pair of v['secret-env'] as string[]) {
      const eq = pair.indexOf('=');
      if (eq <= 0 || eq === pair.length - 1)
        throw new UsageError(`--secret-env: '${pair}' is not NAME=SECRET`, ctx.help);
      refs[pair.slice(0, eq)] = pair.slice(eq + 1);
    }
    out.secretEnvironmentVariables = refs;
  }
  const replicas = integerOption(v, 'replicas');
  if (replicas !== undefined) out.replicaCount = replicas;
  if (v.description !== undefined) out.description = v.description;
  if (v.role) out.requiredRoles = v.role;
  if (v.transport !== undefined) out.transport = v.transport;
  if (v.federate) out.federate = true;
  if (kind === 'tools') {
    const definition = { ...((out.toolDefinition as Json | undefined) ?? {}) };
    const tool: Json = { ...((definition.tool as Json | undefined) ?? {}), name: out.name };
    if (v['tool-description'] !== undefined) tool.description = v['tool-description'];
    if (v['input-schema'] !== undefined) {
      try {
        tool.inputSchema = JSON.parse(v['input-schema'] as string);
      } catch (err) {
        throw new UsageError(`--input-schema: not JSON: ${(err as Error).message}`, ctx.help);
      }
    }
    tool.inputSchema ??= { type: 'object' };
    definition.tool = tool;
    out.toolDefinition = definition;
  }
  return out;
}

const usesFlags = (ctx: Context) => FLAG_FIELDS.some((f) => ctx.values[f] !== undefined);

/** The body of `create`/`update`: from `-f`, or from flags over `base`. */
async function bodyOf(kind: RuntimeKind, ctx: Context, base: Json | undefined): Promise<Json> {
  const [positional, ...extra] = ctx.positionals;
  if (extra.length > 0) throw new UsageError(`unexpected argument '${extra[0]}'`, ctx.help);
  const file = ctx.values.file as string | undefined;
  if (file !== undefined) {
    if (usesFlags(ctx))
      throw new UsageError('-f and field flags cannot be combined: put every field in the file', ctx.help);
    const { name, data } = parseResourceFile(await readInputFile(file), file, kind);
    if (positional !== undefined && positional !== name)
      throw new UsageError(`NAME '${positional}' differs from the file's name '${name}'`, ctx.help);
    return data;
  }
  if (positional === undefined) throw new UsageError('NAME (or -f FILE) is required', ctx.help);
  if (!usesFlags(ctx) && base === undefined)
    throw new UsageError('give -f FILE or flags for the fields', ctx.help);
  return applyFlags(kind, ctx, base ?? { name: positional });
}

function listRows(resources: Json[]): string[][] {
  return [
    ['NAME', 'RUNTIME', 'REPLICAS', 'CREATED BY', 'UPDATED', 'DESCRIPTION'],
    ...resources.map((r) => [
      cell(r.name),
      runtimeOf(r),
      cell(r.replicaCount),
      cell(r.createdBy),
      cell(r.lastUpdatedAt),
      cell(r.description),
    ]),
  ];
}

function statusRows(status: AdapterStatus): string[][] {
  return [
    ['INSTANCE', 'READY', 'STATE', 'ENDPOINT', 'LATENCY', 'DETAIL'],
    ...status.replicas.map((r) => [
      String(r.instance),
      r.ready ? 'yes' : 'no',
      r.state,
      cell(r.endpoint),
      r.latencyMs === undefined ? '' : `${Math.round(r.latencyMs)} ms`,
      cell(r.detail),
    ]),
  ];
}

/** Streams `body` to stdout until it ends or `signal` aborts; resolves with the exit code. */
export async function pipeText(body: ReadableStream<Uint8Array>, ctx: Context): Promise<number> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const onAbort = () => void reader.cancel().catch(() => {});
  ctx.io.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      ctx.io.stdout.write(decoder.decode(value, { stream: true }));
    }
    ctx.io.stdout.write(decoder.decode());
  } catch (err) {
    if (!ctx.io.signal?.aborted) throw err;
  } finally {
    ctx.io.signal?.removeEventListener('abort', onAbort);
  }
  return ctx.io.signal?.aborted ? EXIT.interrupted : EXIT.ok;
}

/** The subcommands of `adapters` or `tools`. */
export function resourceCommands(kind: RuntimeKind): Record<string, Command> {
  const one = singular(kind);
  const p = `mcp-gateway ${kind}`;
  return {
    list: {
      summary: `list the ${kind}`,
      usage: `Usage: ${p} list [-o table|json|yaml]\n\nEvery ${one} you may read, ordered by name (all pages).`,
      options: {},
      async run(ctx) {
        noArguments(ctx);
        const items = (await ctx.client.list(kind)) as Json[];
        print(ctx.io.stdout, ctx.format(), items, () => listRows(items));
      },
    },
    get: {
      summary: `show one ${one}`,
      usage: `Usage: ${p} get NAME [-o table|json|yaml]\n\nThe ${one} as stored (-o json or yaml: the API's object; the table also shows its ETag).`,
      options: {},
      async run(ctx) {
        const { body, etag } = await ctx.client.get(kind, nameArgument(ctx));
        print(ctx.io.stdout, ctx.format(), body, () => fieldRows(body as Json, etag ? [['etag', etag]] : []));
      },
    },
    create: {
      summary: `register a ${one}`,
      usage: `Usage: ${p} create NAME [flags]
       ${p} create -f FILE

Registers a ${one}; 409 (exit 1) when the name is taken.

${fieldHelp(kind)}`,
      options: fieldOptions(kind),
      async run(ctx) {
        const body = await bodyOf(kind, ctx, undefined);
        const { body: created } = await ctx.client.create(kind, body as never);
        print(ctx.io.stdout, ctx.format(), created, () => fieldRows(created as Json));
      },
    },
    update: {
      summary: `change a ${one}`,
      usage: `Usage: ${p} update NAME [flags] [--if-match ETAG]
       ${p} update [NAME] -f FILE [--if-match ETAG]

Replaces the ${one}: with -f by the file's object (a full object: what it leaves out takes the default), with
flags by the stored ${one} with those fields changed. The request carries If-Match with the ETag of the GET
it starts from (or --if-match), so a change someone made in between is refused (412, exit 1), never lost.

${fieldHelp(kind)}
  --if-match ETAG          the ETag you read earlier (e.g. from \`get\`) instead of a fresh one`,
      options: { ...fieldOptions(kind), 'if-match': { type: 'string' } },
      async run(ctx) {
        const file = ctx.values.file as string | undefined;
        const name =
          file === undefined
            ? ctx.positionals[0]
            : (ctx.positionals[0] ?? parseResourceFile(await readInputFile(file), file, kind).name);
        if (name === undefined) throw new UsageError('NAME (or -f FILE) is required', ctx.help);
        const current = await ctx.client.get(kind, name);
        const body = await bodyOf(
          kind,
          ctx,
          file === undefined ? fileForm(kind, current.body as Json) : undefined,
        );
        const ifMatch = (ctx.values['if-match'] as string | undefined) ?? current.etag;
        const { body: updated } = await ctx.client.update(kind, name, body as never, ifMatch);
        print(ctx.io.stdout, ctx.format(), updated, () => fieldRows(updated as Json));
      },
    },
    delete: {
      summary: `remove a ${one}`,
      usage: `Usage: ${p} delete NAME [--if-match ETAG]\n\nRemoves the ${one} and stops what runs for it. With --if-match, only if it is unchanged since.`,
      options: { 'if-match': { type: 'string' } },
      async run(ctx) {
        const name = nameArgument(ctx);
        await ctx.client.remove(kind, name, ctx.values['if-match'] as string | undefined);
        ctx.io.stderr.write(`deleted ${kind}/${name}\n`);
      },
    },
    status: {
      summary: `live status of each replica`,
      usage: `Usage: ${p} status NAME [-o table|json|yaml]\n\nProbes each replica now (the gateway's /status).`,
      options: {},
      async run(ctx) {
        const status = await ctx.client.status(kind, nameArgument(ctx));
        const format = ctx.format();
        if (format === 'table') ctx.io.stdout.write(`${status.replicaStatus} (${status.runtime})\n`);
        print(ctx.io.stdout, format, status, () => statusRows(status));
      },
    },
    logs: {
      summary: `log lines of one replica`,
      usage: `Usage: ${p} logs NAME [--instance N] [--tail N] [--follow]

  --instance N   the replica (default 0)
  --tail N       the last N lines (default 1000)
  --follow, -F   keep streaming new lines until Ctrl-C (exit 130) or the gateway ends the stream (exit 0)`,
      options: {
        instance: { type: 'string' },
        tail: { type: 'string' },
        follow: { type: 'boolean', short: 'F' },
      },
      async run(ctx) {
        const name = nameArgument(ctx);
        const instance = integerOption(ctx.values, 'instance');
        const tail = integerOption(ctx.values, 'tail', 1);
        const body = await ctx.client.logs(
          kind,
          name,
          {
            ...(instance !== undefined && { instance }),
            ...(tail !== undefined && { tail }),
            ...(ctx.values.follow === true && { follow: true }),
          },
          ctx.io.signal,
        );
        return pipeText(body, ctx);
      },
    },
  };
}
