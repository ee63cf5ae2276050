/**
 * @module run-cli: the client commands of `mcp-gateway` (everything but `serve` and `stdio`, which `cli.ts`
 * runs itself): finds the command, parses its options, runs it against the gateway at `--url`, and turns every
 * failure into one line on stderr and a documented exit code.
 */
import { commandWords, globalSettings, parseCommand } from './args.js';
import { applyCommands } from './apply-commands.js';
import type { CliIo, Command } from './context.js';
import { createContext } from './context.js';
import { ApiError, EXIT, UnreachableError, UsageError } from './errors.js';
import { GatewayFileError } from './gateway-file.js';
import { resourceCommands } from './resource-commands.js';
import { secretCommands } from './secret-commands.js';
import { toolsetCommands } from './toolset-commands.js';

export type { CliIo } from './context.js';
export { EXIT } from './errors.js';

/** Command groups with subcommands. */
const GROUPS: Readonly<Record<string, { summary: string; commands: Record<string, Command> }>> = {
  adapters: { summary: 'MCP servers the gateway proxies', commands: resourceCommands('adapters') },
  tools: { summary: 'tool servers behind the tool router', commands: resourceCommands('tools') },
  toolsets: { summary: 'named groups of tools, each with its own MCP endpoint', commands: toolsetCommands() },
  secrets: { summary: 'stored secrets (values never shown)', commands: secretCommands() },
};

/** Commands without subcommands. */
const TOPS: Readonly<Record<string, Command>> = applyCommands();

/** The first words that run a client command (`cli.ts` hands these to {@link runCli}). */
export const CLIENT_COMMANDS: readonly string[] = [...Object.keys(GROUPS), ...Object.keys(TOPS)];

const GLOBAL_HELP = `Global options (before or after the command):
  --url URL         the gateway (default: MCP_GATEWAY_URL, else http://127.0.0.1:3000)
  --token TOKEN     bearer token (default: MCP_GATEWAY_TOKEN); never printed. Prefer the variable: like
                    every argument, --token is visible to other users in ps
  -o, --output FMT  table (default), json or yaml
  -h, --help        help for any command or subcommand

Exit codes: 0 ok; 1 the gateway refused (its message on stderr); 2 usage error or a bad file (nothing was
changed); 3 cannot reach the gateway; 4 apply --dry-run --exit-code with changes pending; 130 Ctrl-C.`;

/** The client part of `mcp-gateway --help`. */
export const CLIENT_USAGE = `${Object.entries(GROUPS)
  .map(
    ([group, { summary, commands }]) =>
      `  ${group} ${Object.keys(commands).join('|')}\n            ${summary}`,
  )
  .join('\n')}
${Object.entries(TOPS)
  .map(([name, c]) => `  ${name.padEnd(9)} ${c.summary}`)
  .join('\n')}

${GLOBAL_HELP}`;

function groupHelp(group: string): string {
  const { summary, commands } = GROUPS[group]!;
  const width = Math.max(...Object.keys(commands).map((c) => c.length));
  return `Usage: mcp-gateway ${group} COMMAND [options]

${summary[0]!.toUpperCase()}${summary.slice(1)}.

${Object.entries(commands)
  .map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`)
  .join('\n')}

Run \`mcp-gateway ${group} COMMAND --help\` for a command's options.

${GLOBAL_HELP}
`;
}

const commandHelp = (command: Command) => `${command.usage}\n\n${GLOBAL_HELP}\n`;

/** Runs one client command; resolves with the exit code (it never calls `process.exit`). */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  let help = '';
  try {
    const first = commandWords(argv, 1).words[0];
    let command: Command;
    let rest: string[];
    if (first !== undefined && first in GROUPS) {
      const { words, rest: r } = commandWords(argv, 2);
      const sub = words[1];
      help = groupHelp(first);
      if (sub === undefined || sub === 'help') {
        if (r.includes('--help') || r.includes('-h') || sub === 'help') {
          io.stdout.write(help);
          return EXIT.ok;
        }
        throw new UsageError(`${first}: a command is required`, help);
      }
      const found = GROUPS[first]!.commands[sub];
      if (!found) throw new UsageError(`${first}: unknown command '${sub}'`, help);
      command = found;
      rest = r;
    } else if (first !== undefined && first in TOPS) {
      command = TOPS[first]!;
      rest = commandWords(argv, 1).rest;
    } else {
      throw new UsageError(first === undefined ? 'a command is required' : `unknown command '${first}'`);
    }
    help = commandHelp(command);
    const parsed = parseCommand(rest, command.options, help);
    if (parsed.values.help) {
      io.stdout.write(help);
      return EXIT.ok;
    }
    const settings = globalSettings(parsed.values, io.env);
    const code = await command.run(createContext(io, parsed, settings, help));
    return code ?? EXIT.ok;
  } catch (err) {
    return report(err, io, help);
  }
}

function report(err: unknown, io: CliIo, help: string): number {
  if (err instanceof GatewayFileError) {
    io.stderr.write(`${err.problems.map((p) => `mcp-gateway: ${p}`).join('\n')}\nnothing was changed\n`);
    return EXIT.usage;
  }
  if (err instanceof UsageError) {
    io.stderr.write(`mcp-gateway: ${err.message}\n`);
    const hint = err.help ?? help;
    io.stderr.write(hint ? '(see --help)\n' : 'Run `mcp-gateway --help` for the commands.\n');
    return EXIT.usage;
  }
  if (err instanceof ApiError) {
    io.stderr.write(`mcp-gateway: ${err.status} ${err.code}: ${err.message}\n`);
    return EXIT.api;
  }
  if (err instanceof UnreachableError) {
    io.stderr.write(`mcp-gateway: ${err.message}\n`);
    return EXIT.unreachable;
  }
  if ((err as Error | undefined)?.name === 'AbortError') return EXIT.interrupted;
  io.stderr.write(`mcp-gateway: ${err instanceof Error ? err.message : String(err)}\n`);
  return EXIT.api;
}
