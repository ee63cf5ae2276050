/**
 * @module tool-names: the names federated adapter tools get on the tool router. `{adapter}{separator}{tool}`
 * when that fits; otherwise a deterministic alias, so the same upstream tool keeps the same name on every
 * gateway instance and across restarts, inside the MCP name alphabet and the length clients accept.
 */
import { TOOL_NAME_ALPHABET, separatorProblem } from '../config/index.js';
import type { Hash64 } from '../routing/index.js';

/** Hex digits of the hash that makes an alias unique. */
const ALIAS_HASH_DIGITS = 10;

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
