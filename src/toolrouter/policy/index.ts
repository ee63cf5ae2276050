/**
 * @module toolrouter/policy: one policy for `tools/list` and `tools/call` — ordered CEL rules over the caller,
 * the tool and (for calls) the arguments, compiled once. Pure: no Node-only imports, so it runs on the edge too.
 *
 * - the gateway's `MCP_GATEWAY_TOOL_POLICY_FILE`: `loadToolPolicy(text, source)` (Node reads the file:
 *   `toolrouter/node`'s `readToolPolicyFile`);
 * - a toolset's `policy` field: embed {@link ToolPolicyDocumentSchema} in its schema, compile with
 *   `toolPolicyFrom(value, 'toolset <name>')` (a {@link ToolPolicyError}'s `problems` make the 400), and serve it
 *   combined with the gateway's: `allOfPolicies([gatewayPolicy, toolsetPolicy])`;
 * - the router takes the result as its `policy` option; `createPolicyGate` is its one hook into list and call.
 */
export { ALLOW_ALL_POLICY, RuleCompileError, allOfPolicies, compileToolPolicy } from './tool-policy.js';
export type { CallDecision, ListDecision, ToolPolicy } from './tool-policy.js';
export {
  DEFAULT_RULE_NAME,
  POLICY_EFFECTS,
  ToolPolicyDocumentSchema,
  ToolPolicyError,
  ToolPolicyRuleSchema,
  parseToolPolicyText,
  toolPolicyDocument,
} from './policy-document.js';
export type { PolicyEffect, ToolPolicyDocument, ToolPolicyRule } from './policy-document.js';
export { ConditionError } from './cel-condition.js';
export type { PolicyCaller, PolicyTool } from './cel-condition.js';
export {
  TOOL_POLICY_DENIED,
  ToolPolicyDenied,
  createPolicyGate,
  policyCallerOf,
  policyToolOf,
} from './policy-gate.js';
export type { PolicyGate } from './policy-gate.js';
export { loadToolPolicy, toolPolicyFrom } from './load-tool-policy.js';
