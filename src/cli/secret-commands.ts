/**
 * @module secret-commands: `mcp-gateway secrets list|get|create|update|delete|rekey`. A value is read from standard
 * input or `--from-file`, never from the command line: every user of the machine can read a process's
 * arguments (`ps`, `/proc/PID/cmdline`), and shells keep them in their history. The CLI never prints a value
 * (the API never returns one).
 */
import type { Command, Context } from './context.js';
import { nameArgument, noArguments, readInputFile } from './context.js';
import { UsageError } from './errors.js';
import { cell, fieldRows, print } from './output.js';

const WHY_STDIN = `The value comes from standard input (one trailing newline is dropped, so \`printf %s "$V" |\` and
\`echo "$V" |\` store the same) or from --from-file PATH (likewise), never from the command line: every user
on the machine can read a process's arguments (ps, /proc/PID/cmdline) and shells keep them in history. A
terminal on standard input is refused, since typing would show the value on screen.`;

const valueOptions = { 'from-file': { type: 'string' } } as const;

/** The value to store: from `--from-file` or piped stdin, with one trailing newline dropped. */
async function readValue(ctx: Context): Promise<string> {
  const path = ctx.values['from-file'] as string | undefined;
  let text: string;
  if (path !== undefined) text = await readInputFile(path, '--from-file');
  else {
    if (ctx.io.stdin.isTTY)
      throw new UsageError(
        'pipe the value on standard input or use --from-file PATH (a terminal would show it)',
        ctx.help,
      );
    const chunks: Buffer[] = [];
    for await (const chunk of ctx.io.stdin)
      chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk));
    text = Buffer.concat(chunks).toString('utf8');
  }
  const value = text.replace(/\r?\n$/, '');
  if (value === '') throw new UsageError('the value is empty', ctx.help);
  return value;
}

/** A secret NAME and nothing else: a second word is most likely a value typed where it must not be. */
function secretName(ctx: Context): string {
  if (ctx.positionals.length > 1)
    throw new UsageError(
      'a secret value is never taken from the command line (other users can read it with ps): pipe it on standard input or use --from-file',
      ctx.help,
    );
  return nameArgument(ctx);
}

const usedBy = (s: Record<string, unknown>) =>
  ((s.usedBy as { kind: string; name: string }[] | undefined) ?? [])
    .map((u) => `${u.kind}s/${u.name}`)
    .join(',');

const rows = (items: Record<string, unknown>[]) => [
  ['NAME', 'CREATED BY', 'CREATED', 'UPDATED', 'USED BY'],
  ...items.map((s) => [cell(s.name), cell(s.createdBy), cell(s.createdAt), cell(s.lastUpdatedAt), usedBy(s)]),
];

/** The subcommands of `secrets`. */
export function secretCommands(): Record<string, Command> {
  const p = 'mcp-gateway secrets';
  return {
    list: {
      summary: 'list the secrets (names and who wrote them, never values)',
      usage: `Usage: ${p} list [-o table|json|yaml]`,
      options: {},
      async run(ctx) {
        noArguments(ctx);
        const items = await ctx.client.list('secrets');
        print(ctx.io.stdout, ctx.format(), items, () => rows(items));
      },
    },
    get: {
      summary: 'show one secret (never its value)',
      usage: `Usage: ${p} get NAME [-o table|json|yaml]`,
      options: {},
      async run(ctx) {
        const { body, etag } = await ctx.client.get('secrets', nameArgument(ctx));
        print(ctx.io.stdout, ctx.format(), body, () => fieldRows(body, etag ? [['etag', etag]] : []));
      },
    },
    create: {
      summary: 'store a secret (value from stdin or --from-file)',
      usage: `Usage: ${p} create NAME [--from-file PATH] < value

${WHY_STDIN}`,
      options: valueOptions,
      async run(ctx) {
        const name = secretName(ctx);
        const value = await readValue(ctx);
        const { body } = await ctx.client.create('secrets', { name, value });
        print(ctx.io.stdout, ctx.format(), body, () => fieldRows(body));
      },
    },
    update: {
      summary: 'rotate a secret (value from stdin or --from-file)',
      usage: `Usage: ${p} update NAME [--from-file PATH] [--if-match ETAG] < value

Replaces the value. With --if-match, only if the secret is unchanged since you read that ETag (412, exit 1).

${WHY_STDIN}`,
      options: { ...valueOptions, 'if-match': { type: 'string' } },
      async run(ctx) {
        const name = secretName(ctx);
        const value = await readValue(ctx);
        const { body } = await ctx.client.update(
          'secrets',
          name,
          { value },
          ctx.values['if-match'] as string | undefined,
        );
        print(ctx.io.stdout, ctx.format(), body, () => fieldRows(body));
      },
    },
    rekey: {
      summary: 're-seal every stored value under the current gateway secret',
      usage: `Usage: ${p} rekey [--dry-run] [-o table|json|yaml]

After the gateway secret changed (the old one kept in MCP_GATEWAY_PREVIOUS_SECRETS): re-seals stored secrets,
OAuth grants and sealed settings still under an old key. Safe to run again. When every REMAINING count is 0,
drop the previous secrets and restart. --dry-run only counts.`,
      options: { 'dry-run': { type: 'boolean' } },
      async run(ctx) {
        noArguments(ctx);
        const dryRun = ctx.values['dry-run'] === true;
        const report = await ctx.client.rekeySecrets(dryRun);
        print(ctx.io.stdout, ctx.format(), report, () => [
          ['KIND', 'RESEALED', 'REMAINING'],
          ...(['secrets', 'grants', 'settings'] as const).map((kind) => [
            kind,
            String(report.resealed[kind]),
            String(report.remaining[kind]),
          ]),
        ]);
        for (const value of report.unreadable) {
          ctx.io.stderr.write(
            `cannot open ${value.kind} '${value.name}': sealed under key id ${value.keyId}, which no configured secret gives\n`,
          );
        }
      },
    },
    delete: {
      summary: 'remove a secret',
      usage: `Usage: ${p} delete NAME [--if-match ETAG] [--force]

Refused (409, exit 1) while adapters or tools reference the secret (\`get\` shows them as usedBy), unless
--force: then the references stay, and those resources cannot start new replicas until a secret of that name
exists again.`,
      options: { 'if-match': { type: 'string' }, force: { type: 'boolean' } },
      async run(ctx) {
        const name = nameArgument(ctx);
        await ctx.client.remove(
          'secrets',
          name,
          ctx.values['if-match'] as string | undefined,
          ctx.values.force === true,
        );
        ctx.io.stderr.write(`deleted secrets/${name}\n`);
      },
    },
  };
}
