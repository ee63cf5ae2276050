/**
 * @module args: the command line, read with `node:util`'s `parseArgs`. Global options (`--url`, `--token`,
 * `-o`, `--help`) may stand before or after the command words; each subcommand adds its own options.
 */
import { parseArgs } from 'node:util';
import type { ParseArgsConfig } from 'node:util';
import { UsageError } from './errors.js';

/** Option declarations, as `parseArgs` takes them. */
export type OptionSpecs = NonNullable<ParseArgsConfig['options']>;

/** The output formats of `-o`. */
export const OUTPUT_FORMATS = ['table', 'json', 'yaml'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** Options every client command takes. */
export const GLOBAL_OPTIONS = {
  url: { type: 'string' },
  token: { type: 'string' },
  output: { type: 'string', short: 'o' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies OptionSpecs;

/** The gateway URL when neither `--url` nor `MCP_GATEWAY_URL` says otherwise. */
export const DEFAULT_URL = 'http://127.0.0.1:3000';

/** Where to connect and how to print, from the global options and the environment. */
export interface GlobalSettings {
  readonly url: string;
  readonly token: string | undefined;
  readonly output: OutputFormat | undefined;
}

/**
 * Splits off the first `count` command words (the group, then the action), skipping global options and the
 * values they take wherever they stand. The rest keeps its order for {@link parseCommand}.
 */
export function commandWords(argv: readonly string[], count: number): { words: string[]; rest: string[] } {
  const words: string[] = [];
  const rest: string[] = [];
  const takesValue = new Set(['--url', '--token', '--output', '-o']);
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i]!;
    if (words.length < count && arg === '--') {
      rest.push(...argv.slice(i));
      break;
    }
    if (words.length >= count || arg.startsWith('-')) {
      rest.push(arg);
      if (words.length < count && takesValue.has(arg) && i + 1 < argv.length) rest.push(argv[++i]!);
      continue;
    }
    words.push(arg);
  }
  return { words, rest };
}

/** Parsed options (strings, booleans, or lists for `multiple`) and positionals. */
export interface Parsed {
  readonly values: Record<string, string | boolean | string[] | boolean[] | undefined>;
  readonly positionals: string[];
}

/** Parses `args` against the global options plus `options`; an unknown option or a missing value is exit 2. */
export function parseCommand(args: readonly string[], options: OptionSpecs, help: string): Parsed {
  try {
    const { values, positionals } = parseArgs({
      args: [...args],
      options: { ...GLOBAL_OPTIONS, ...options },
      allowPositionals: true,
      strict: true,
    });
    return { values: values as Parsed['values'], positionals };
  } catch (err) {
    throw new UsageError((err as Error).message, help);
  }
}

/** `--url`, `--token` and `-o`, falling back to `MCP_GATEWAY_URL` and `MCP_GATEWAY_TOKEN`. */
export function globalSettings(
  values: Parsed['values'],
  env: Readonly<Record<string, string | undefined>>,
): GlobalSettings {
  const url = (values.url as string | undefined) ?? (env.MCP_GATEWAY_URL || DEFAULT_URL);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`--url: '${url}' is not a URL`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
    throw new UsageError(`--url: '${url}' is not an http or https URL`);
  const output = values.output as string | undefined;
  if (output !== undefined && !(OUTPUT_FORMATS as readonly string[]).includes(output))
    throw new UsageError(`-o: '${output}' is not one of ${OUTPUT_FORMATS.join(', ')}`);
  return {
    url,
    token: (values.token as string | undefined) ?? (env.MCP_GATEWAY_TOKEN || undefined),
    output: output as OutputFormat | undefined,
  };
}

/** Reads a non-negative integer option; anything else is a usage error naming it. */
export function integerOption(values: Parsed['values'], name: string, min = 0): number | undefined {
  const raw = values[name];
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || !/^\d+$/.test(raw) || Number(raw) < min)
    throw new UsageError(`--${name}: '${String(raw)}' is not an integer of at least ${min}`);
  return Number(raw);
}
