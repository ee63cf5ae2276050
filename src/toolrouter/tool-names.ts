/**
 * @module tool-names: the names federated adapter tools get on the tool router. `{adapter}{separator}{tool}`
 * when that fits; otherwise a deterministic alias, so the same upstream tool keeps the same name on every
 * gateway instance and across restarts, inside the MCP name alphabet and the length clients accept.
 */
import type { Hash64 } from '../routing/index.js';

/** The MCP tool-name alphabet (2025-11-25 `server/tools`: `[A-Za-z0-9_.-]`, case-sensitive). */
export const TOOL_NAME_ALPHABET = /^[A-Za-z0-9_.-]+$/;
/** Default separator between the adapter name and the upstream tool name. */
export const DEFAULT_SEPARATOR = '__';
/**
 * Default longest exposed name. The specification allows 128 characters, but widely used model APIs refuse
 * function names over 64, so 64 keeps every client working.
 */
export const DEFAULT_MAX_NAME_LENGTH = 64;
/** Hex digits of the hash that makes an alias unique. */
const ALIAS_HASH_DIGITS = 10;

/**
 * Why `separator` cannot be used, or undefined. It must be 1–8 characters of the alphabet and contain `_` or
 * `.`: adapter and registered tool names are DNS labels (letters, digits, `-`), so such a separator can never
 * appear inside an adapter name, and a federated name can never equal a registered tool's name.
 */
export function separatorProblem(separator: string): string | undefined {
  if (separator.length < 1 || separator.length > 8 || !TOOL_NAME_ALPHABET.test(separator)) {
    return 'must be 1–8 characters of A–Z, a–z, 0–9, "_", "." and "-"';
  }
  if (!/[_.]/.test(separator)) {
    return 'must contain "_" or "." so it cannot occur in an adapter name (e.g. "__")';
  }
  return undefined;
}

/** Options for {@link createToolNamer}. */
export interface ToolNamerOptions {
  readonly separator: string;
  /** Longest exposed name, 16–128. */
  readonly maxLength: number;
  /** 64-bit hash for aliases (xxHash64 from the routing module). */
  readonly hash: Hash64;
}

/** Maps an upstream tool of an adapter to its exposed name. */
export type ToolNamer = (adapter: string, upstreamTool: string) => string;

/**
 * Builds the namer. A name that is already in the alphabet and short enough is `{adapter}{separator}{tool}`;
 * any other (characters outside the alphabet, or too long) becomes that text with foreign characters replaced
 * by `_`, cut to leave room, plus `_` and ten hex digits of a hash of the exact adapter and tool names — so two
 * upstream names that sanitise alike still get different aliases.
 */
export function createToolNamer(options: ToolNamerOptions): ToolNamer {
  const problem = separatorProblem(options.separator);
  if (problem) throw new TypeError(`createToolNamer: separator ${problem}`);
  if (!Number.isInteger(options.maxLength) || options.maxLength < 16 || options.maxLength > 128) {
    throw new RangeError('createToolNamer: maxLength must be an integer from 16 to 128');
  }
  const { separator, maxLength, hash } = options;
  return (adapter, upstreamTool) => {
    const plain = `${adapter}${separator}${upstreamTool}`;
    if (plain.length <= maxLength && TOOL_NAME_ALPHABET.test(upstreamTool)) return plain;
    const digest = hash(`${adapter}\u0000${upstreamTool}`)
      .toString(16)
      .padStart(16, '0')
      .slice(0, ALIAS_HASH_DIGITS);
    const readable = plain.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, maxLength - ALIAS_HASH_DIGITS - 1);
    return `${readable}_${digest}`;
  };
}
