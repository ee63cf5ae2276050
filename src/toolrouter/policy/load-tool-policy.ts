/**
 * @module load-tool-policy: a policy from where it is written — a file's text (YAML or JSON), or a value already
 * parsed (a toolset's `policy` field) — to a compiled {@link ToolPolicy}, or every reason it is not one, as one
 * {@link ToolPolicyError} (a toolset route turns its `problems` into a 400).
 */
import { ToolPolicyError, parseToolPolicyText, toolPolicyDocument } from './policy-document.js';
import type { ToolPolicyDocument } from './policy-document.js';
import { RuleCompileError, compileToolPolicy } from './tool-policy.js';
import type { ToolPolicy } from './tool-policy.js';

function compiled(document: ToolPolicyDocument, source: string): ToolPolicy {
  try {
    return compileToolPolicy(document, source);
  } catch (err) {
    if (!(err instanceof RuleCompileError)) throw err;
    throw new ToolPolicyError(source, [
      `rules[${err.index}].when (rule '${err.rule}'): ${err.condition.message}`,
    ]);
  }
}

/**
 * Checks and compiles a parsed policy (`{ rules, default }`); throws {@link ToolPolicyError} naming `source`, the
 * rule and, for a `when` that does not compile, the line and column inside it.
 */
export function toolPolicyFrom(value: unknown, source: string): ToolPolicy {
  return compiled(toolPolicyDocument(value, source), source);
}

/** Parses (YAML or JSON), checks and compiles a policy file's text; throws {@link ToolPolicyError}. */
export function loadToolPolicy(text: string, source: string): ToolPolicy {
  return compiled(parseToolPolicyText(text, source), source);
}
