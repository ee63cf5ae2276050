/**
 * @module toolrouter/policy: one policy for `tools/list` and `tools/call` — ordered CEL rules over the caller,
 * the tool and (for calls) the arguments, compiled once. `compileToolPolicy` is the factory for any set of rules
 * (the gateway's `MCP_GATEWAY_TOOL_POLICY_FILE`, a toolset's `policy` field); `createPolicyGate` is the router's
 * hook. Pure: no Node-only imports, so it runs on the edge too.
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
export { loadToolPolicy } from './load-tool-policy.js';
