/**
 * @module policy-gate: where the tool router applies its {@link ToolPolicy} — the one hook into `tools/list`
 * (and `search_tools`, which searches the same list) and `tools/call` (and `call_tool`, which takes the very path
 * of a direct call). Turns the router's principal and catalog entries into the `caller` and `tool` that rules see,
 * and remembers each caller's filtered list per catalog snapshot, so a list costs one policy walk per tool only
 * the first time a caller asks after a change.
 */
import { ProtocolError } from '@modelcontextprotocol/server';
import type { Tool } from '@modelcontextprotocol/server';
import type { Principal } from '../../core/index.js';
import type { CatalogEntry, CatalogSnapshot } from '../catalog.js';
import { celCaller, celTool } from './cel-condition.js';
import type { PolicyCaller, PolicyTool } from './cel-condition.js';
import { DEFAULT_RULE_NAME } from './policy-document.js';
import { ALLOW_ALL_POLICY } from './tool-policy.js';
import type { CallDecision, ToolPolicy } from './tool-policy.js';

/**
 * The JSON-RPC error code of a call the policy refuses: in the implementation-defined server range, the code
 * gateways commonly give "forbidden" (the HTTP answer stays 200, as for every JSON-RPC error).
 */
export const TOOL_POLICY_DENIED = -32003;

/** A `tools/call` the policy refused. Its message names the rule; nothing else of the policy goes to the caller. */
export class ToolPolicyDenied extends ProtocolError {
  constructor(
    tool: string,
    /** The rule that refused (`default` for the policy's default). */
    readonly rule: string,
    /** The tool refused, for the audit line (not sent). */
    readonly entry: CatalogEntry,
  ) {
    super(
      TOOL_POLICY_DENIED,
      rule === DEFAULT_RULE_NAME
        ? `Tool '${tool}' is not allowed: refused by the tool policy's default.`
        : `Tool '${tool}' is not allowed: refused by tool policy rule '${rule}'.`,
      { rule },
    );
    this.name = 'ToolPolicyDenied';
  }
}

/**
 * The four MCP tool hints with the values the specification gives them when a tool says nothing — except that
 * `destructiveHint` ("meaningful only when readOnlyHint is false") is false for a tool that says it is read-only.
 */
function annotationsOf(tool: Tool): Record<string, unknown> {
  const given = (tool.annotations ?? {}) as Record<string, unknown>;
  const readOnly = given['readOnlyHint'] === true;
  return {
    readOnlyHint: false,
    destructiveHint: !readOnly,
    idempotentHint: false,
    openWorldHint: true,
    ...given,
  };
}

/** A tool as rules see it: the name clients call, its adapter when federated, its title and annotations. */
export function policyToolOf(entry: Pick<CatalogEntry, 'name' | 'tool' | 'target'>): PolicyTool {
  const tool: Tool = entry.tool;
  return celTool({
    name: entry.name,
    adapter: entry.target.kind === 'federated' ? entry.target.adapter.name : '',
    title: tool.title ?? tool.annotations?.title ?? '',
    annotations: annotationsOf(tool),
  });
}

/** The caller as rules see it. */
export function policyCallerOf(principal: Principal): PolicyCaller {
  return celCaller({
    id: principal.userId,
    roles: principal.roles,
    scopes: principal.scopes ?? [],
    claims: principal.claims ?? {},
  });
}

/**
 * Distinct callers whose list is remembered per snapshot; later ones are filtered on each request (about a
 * millisecond per thousand tools). With rules on claims every token is a caller of its own (`iat` differs).
 */
const MAX_CALLERS_PER_SNAPSHOT = 2_000;

/** The router's policy hook. */
export interface PolicyGate {
  /** The entries of `visible` (the caller's readable tools of `snapshot`, in order) that the policy lists. */
  listed(
    snapshot: CatalogSnapshot,
    visible: readonly CatalogEntry[],
    principal: Principal,
  ): readonly CatalogEntry[];
  /** Throws {@link ToolPolicyDenied} when the policy refuses this call of `entry` (called as `name`). */
  enforce(
    principal: Principal,
    entry: CatalogEntry,
    args: Readonly<Record<string, unknown>> | undefined,
  ): void;
}

/** Everything that can make two callers' lists differ: id, roles, scopes, and claims when a rule reads them. */
function callerKey(principal: Principal, withClaims: boolean): string {
  const { userId, roles, scopes = [] } = principal;
  return JSON.stringify(
    withClaims ? [userId, roles, scopes, principal.claims ?? {}] : [userId, roles, scopes],
  );
}

/**
 * Builds the hook; with no policy (or one that allows everything) it costs nothing. `seenAs` gives the entry rules
 * see for one the scope shows (a toolset's renamed entry: the catalog's own, under its real name); itself by default.
 */
export function createPolicyGate(
  policy: ToolPolicy = ALLOW_ALL_POLICY,
  seenAs: (entry: CatalogEntry) => CatalogEntry = (entry) => entry,
): PolicyGate {
  if (policy.allowsEverything) {
    return { listed: (_snapshot, visible) => visible, enforce: () => undefined };
  }
  const tools = new WeakMap<CatalogEntry, PolicyTool>();
  const toolOf = (entry: CatalogEntry): PolicyTool => {
    let tool = tools.get(entry);
    if (!tool) {
      tool = policyToolOf(seenAs(entry));
      tools.set(entry, tool);
    }
    return tool;
  };
  const lists = new WeakMap<CatalogSnapshot, Map<string, readonly CatalogEntry[]>>();
  return {
    listed(snapshot, visible, principal) {
      let byCaller = lists.get(snapshot);
      if (!byCaller) {
        byCaller = new Map();
        lists.set(snapshot, byCaller);
      }
      const key = callerKey(principal, policy.readsClaims);
      let found = byCaller.get(key);
      if (!found) {
        const caller = policyCallerOf(principal);
        found = visible.filter((entry) => policy.listDecision(caller, toolOf(entry)).listed);
        if (byCaller.size < MAX_CALLERS_PER_SNAPSHOT) byCaller.set(key, found);
      }
      return found;
    },
    enforce(principal, entry, args) {
      const decision: CallDecision = policy.callDecision(
        policyCallerOf(principal),
        toolOf(entry),
        args ?? {},
      );
      if (!decision.allowed) throw new ToolPolicyDenied(entry.name, decision.rule, entry);
    },
  };
}
