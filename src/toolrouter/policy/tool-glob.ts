/**
 * @module tool-glob: the `tools` patterns of a policy rule — a tool name as listed (`search`, `github__*`,
 * `fs__read_?`), where `*` matches any run of characters (also none, also `__`) and `?` exactly one. Compiled
 * once into one anchored regular expression per rule.
 */

/** The characters a pattern may hold: the MCP tool-name alphabet plus the two wildcards. */
const PATTERN_ALPHABET = /^[A-Za-z0-9_.\-*?]+$/;

/** Why `pattern` is not a usable tool pattern, or undefined. */
export function toolPatternProblem(pattern: string): string | undefined {
  if (pattern.length === 0 || pattern.length > 256) return 'must be 1–256 characters';
  if (!PATTERN_ALPHABET.test(pattern)) {
    return 'may hold only tool-name characters (A–Z, a–z, 0–9, "_", ".", "-") and the wildcards "*" and "?"';
  }
  return undefined;
}

const escaped = (c: string) => (c === '.' || c === '-' ? `\\${c}` : c);

/** One matcher for any of `patterns` (valid ones: see {@link toolPatternProblem}). */
export function compileToolPatterns(patterns: readonly string[]): (name: string) => boolean {
  if (patterns.includes('*')) return () => true;
  const alternatives = patterns.map((pattern) =>
    [...pattern].map((c) => (c === '*' ? '.*' : c === '?' ? '.' : escaped(c))).join(''),
  );
  const regex = new RegExp(`^(?:${alternatives.join('|')})$`, 's');
  return (name) => regex.test(name);
}
