/**
 * @module context: what a command runs with — the process's streams and environment (injected, so tests run the
 * CLI in-process), its parsed options, and the API client for `--url`/`--token`.
 */
import { readFile } from 'node:fs/promises';
import type { ApiClient } from './api-client.js';
import { createApiClient } from './api-client.js';
import type { GlobalSettings, OptionSpecs, OutputFormat, Parsed } from './args.js';
import { UsageError } from './errors.js';
import type { Writer } from './output.js';

/** The process around the CLI. */
export interface CliIo {
  readonly stdout: Writer;
  readonly stderr: Writer;
  /** Where `secrets create` reads the value; a terminal is refused (it would echo the value). */
  readonly stdin: AsyncIterable<string | Uint8Array> & { readonly isTTY?: boolean };
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly fetch?: typeof fetch;
  /** Aborted on Ctrl-C: ends `logs --follow`. */
  readonly signal?: AbortSignal;
}

/** One parsed invocation. */
export interface Context {
  readonly io: CliIo;
  readonly values: Parsed['values'];
  readonly positionals: readonly string[];
  readonly settings: GlobalSettings;
  readonly client: ApiClient;
  /** This command's help text, for usage errors. */
  readonly help: string;
  /** `-o`, or the command's default. */
  format(fallback?: OutputFormat): OutputFormat;
}

/** A subcommand: its help, its own options, and what it does (resolving to an exit code, 0 by default). */
export interface Command {
  readonly summary: string;
  readonly usage: string;
  readonly options: OptionSpecs;
  run(ctx: Context): Promise<number | void>;
}

/** Builds the context of a parsed invocation. */
export function createContext(io: CliIo, parsed: Parsed, settings: GlobalSettings, help: string): Context {
  return {
    io,
    values: parsed.values,
    positionals: parsed.positionals,
    settings,
    help,
    client: createApiClient({
      url: settings.url,
      token: settings.token,
      signal: io.signal,
      ...(io.fetch && { fetch: io.fetch }),
    }),
    format: (fallback = 'table') => settings.output ?? fallback,
  };
}

/** The single NAME positional of a command (exactly one, or a usage error). */
export function nameArgument(ctx: Context, what = 'NAME'): string {
  const [name, ...extra] = ctx.positionals;
  if (name === undefined) throw new UsageError(`${what} is required`, ctx.help);
  if (extra.length > 0) throw new UsageError(`unexpected argument '${extra[0]}'`, ctx.help);
  return name;
}

/** No positional at all. */
export function noArguments(ctx: Context): void {
  if (ctx.positionals.length > 0)
    throw new UsageError(`unexpected argument '${ctx.positionals[0]}'`, ctx.help);
}

/** Reads a file named on the command line; a missing one is a usage error naming it. */
export async function readInputFile(path: string, option = '-f'): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw new UsageError(
      `${option} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
}
