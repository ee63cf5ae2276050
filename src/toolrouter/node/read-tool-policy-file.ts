/** @module read-tool-policy-file: `MCP_GATEWAY_TOOL_POLICY_FILE` read from disk and compiled, once at start. */
import { readFile } from 'node:fs/promises';
import { ToolPolicyError, loadToolPolicy } from '../policy/index.js';
import type { ToolPolicy } from '../policy/index.js';

/** The variable that names the file, for messages. */
const VARIABLE = 'MCP_GATEWAY_TOOL_POLICY_FILE';

/**
 * Reads and compiles the policy in `path`; throws {@link ToolPolicyError} (whose message names the variable, the
 * file, the rule and the position in its `when`) when it cannot be read or used.
 */
export async function readToolPolicyFile(path: string): Promise<ToolPolicy> {
  const source = `${VARIABLE} (${path})`;
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new ToolPolicyError(source, [
      `cannot read it: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    ]);
  }
  return loadToolPolicy(text, source);
}
