/** @module load-tool-policy: a policy file's text (YAML or JSON) to a compiled {@link ToolPolicy}, or every reason it is not one. */
import { ToolPolicyError, parseToolPolicyText } from './policy-document.js';
import { RuleCompileError, compileToolPolicy } from './tool-policy.js';
import type { ToolPolicy } from './tool-policy.js';

/**
 * Parses, checks and compiles a policy; throws {@link ToolPolicyError} naming `source`, the rule and, for a
 * `when` that does not compile, the line and column inside it.
 */
export function loadToolPolicy(text: string, source: string): ToolPolicy {
  const document = parseToolPolicyText(text, source);
  try {
    return compileToolPolicy(document, source);
  } catch (err) {
    if (!(err instanceof RuleCompileError)) throw err;
    throw new ToolPolicyError(source, [
      `rules[${err.index}].when (rule '${err.rule}'): ${err.condition.message}`,
    ]);
  }
}
