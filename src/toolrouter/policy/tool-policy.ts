/**
 * @module tool-policy: one compiled policy that decides both what a caller sees in `tools/list` and which
 * `tools/call` it may make — with the same compiled rules, so the two cannot drift apart.
 *
 * **Semantics.** Rules are tried in order; the first rule that *applies* decides (first match wins, as in a
 * firewall: an exception is written above the rule it is an exception to). A rule applies to a request when one of
 * its `tools` patterns matches the tool's name (every tool when it has none) and its `when` is true (always, when
 * it has none). Then its `effect` is the decision; when no rule applies, `default` is. A `when` whose evaluation
 * fails (a claim the token lacks, an argument of another type) fails closed for that rule: a `deny` rule applies,
 * an `allow` rule does not.
 *
 * **Listing.** A list is filtered without arguments, so a `when` that reads `args` may be unknowable then. What
 * is worked out instead is every value the condition can take over all possible arguments (`cel-condition.ts`): its
 * parts that read no arguments are evaluated, its parts that do are "anything" unless a value comes out without
 * them, and CEL's own `&&`/`||`/`!`/`?:` rules combine them (`false && x` is false whatever `x` is). Walking the
 * rules with that answer:
 *
 * - a rule that applies to no call is skipped, as it is at call time;
 * - a rule that applies to every call decides the listing, as it decides every call;
 * - an `allow` rule that depends on the arguments lists the tool (some call may be allowed; the call decides);
 * - a `deny` rule that depends on the arguments is passed over (calls it does not refuse reach the later rules).
 *
 * So a tool is hidden only when every possible call of it is refused — "unlisted ⇒ refused" always holds — and it
 * is listed exactly when some call is allowed, provided each argument condition can be true and can be false for
 * some arguments (a tautology such as `has(args.x) || !has(args.x)` is not detected: such a tool may be listed
 * and still refused). A policy whose rules never read `args` lists and refuses exactly alike.
 */
import { DEFAULT_RULE_NAME } from './policy-document.js';
import type { PolicyEffect, ToolPolicyDocument } from './policy-document.js';
import { ConditionError, ERROR, FALSE, TRUE, celCaller, celTool, compileCondition } from './cel-condition.js';
import type { Condition, PolicyCaller, PolicyTool } from './cel-condition.js';
import { compileToolPatterns } from './tool-glob.js';

/** A `tools/call` decision: the effect, and the rule that decided (`default` when none applied). */
export interface CallDecision {
  readonly allowed: boolean;
  readonly rule: string;
}

/** A `tools/list` decision for one tool. */
export interface ListDecision {
  readonly listed: boolean;
  /** The rule that decided the listing (`default` when none applied). */
  readonly rule: string;
  /** True when the tool is listed because some calls may be allowed: each call is decided by its arguments. */
  readonly byArguments: boolean;
}

/** A compiled policy. Build one with {@link compileToolPolicy}, once (at start, or when a toolset changes). */
export interface ToolPolicy {
  /** Where the rules came from (a file path, `toolset team-a`), for messages and logs. */
  readonly source: string;
  /** True when it allows everything without looking (no rules, `default: allow`): callers may skip it. */
  readonly allowsEverything: boolean;
  /**
   * False when no rule can read `caller.claims` (no `when` mentions them): two callers with the same id, roles and
   * scopes then always get the same decisions, whatever their tokens' other claims (`iat`, `exp`, …).
   */
  readonly readsClaims: boolean;
  /** Whether `tool` is listed to `caller`. */
  listDecision(caller: PolicyCaller, tool: PolicyTool): ListDecision;
  /** Whether `caller` may call `tool` with `args`. */
  callDecision(caller: PolicyCaller, tool: PolicyTool, args: Readonly<Record<string, unknown>>): CallDecision;
}

interface CompiledRule {
  readonly name: string;
  readonly effect: PolicyEffect;
  readonly appliesTo: (name: string) => boolean;
  /** Undefined: always true. */
  readonly when: Condition | undefined;
}

/** What a rule says about one request: it applies, it does not, or (listing only) that depends on the arguments. */
type Applies = true | false | 'depends';

/** Whether `rule` applies to one call. A condition that errors fails closed: a deny rule applies, an allow rule does not. */
function appliesToCall(
  rule: CompiledRule,
  caller: PolicyCaller,
  tool: PolicyTool,
  args: Readonly<Record<string, unknown>>,
): boolean {
  if (!rule.appliesTo(tool.name)) return false;
  if (!rule.when) return true;
  const value = rule.when.evaluate(caller, tool, args);
  return value === 'error' ? rule.effect === 'deny' : value;
}

/**
 * Whether `rule` applies to every call of `tool` by `caller`, to none, or to some (by their arguments): the same
 * reading as {@link appliesToCall}, over every value the condition can take.
 */
function appliesToCalls(rule: CompiledRule, caller: PolicyCaller, tool: PolicyTool): Applies {
  if (!rule.appliesTo(tool.name)) return false;
  if (!rule.when) return true;
  const values = rule.when.possibleValues(caller, tool);
  const applying = rule.effect === 'deny' ? TRUE | ERROR : TRUE;
  const yes = (values & applying) !== 0;
  const no = (values & (TRUE | FALSE | ERROR) & ~applying) !== 0;
  return yes && no ? 'depends' : yes;
}

class CompiledToolPolicy implements ToolPolicy {
  readonly allowsEverything: boolean;

  constructor(
    readonly source: string,
    private readonly rules: readonly CompiledRule[],
    private readonly fallback: PolicyEffect,
    readonly readsClaims: boolean,
  ) {
    this.allowsEverything = rules.length === 0 && fallback === 'allow';
  }

  listDecision(caller: PolicyCaller, tool: PolicyTool): ListDecision {
    const c = celCaller(caller);
    const t = celTool(tool);
    for (const rule of this.rules) {
      const verdict = appliesToCalls(rule, c, t);
      if (verdict === false) continue;
      if (verdict === true) return { listed: rule.effect === 'allow', rule: rule.name, byArguments: false };
      // Depends on the arguments: an allow rule allows some calls; a deny rule lets the others through to the next rules.
      if (rule.effect === 'allow') return { listed: true, rule: rule.name, byArguments: true };
    }
    return { listed: this.fallback === 'allow', rule: DEFAULT_RULE_NAME, byArguments: false };
  }

  callDecision(
    caller: PolicyCaller,
    tool: PolicyTool,
    args: Readonly<Record<string, unknown>>,
  ): CallDecision {
    const c = celCaller(caller);
    const t = celTool(tool);
    for (const rule of this.rules) {
      if (appliesToCall(rule, c, t, args)) return { allowed: rule.effect === 'allow', rule: rule.name };
    }
    return { allowed: this.fallback === 'allow', rule: DEFAULT_RULE_NAME };
  }
}

/** The policy of a gateway without one: everything the permissions allow is listed and callable. */
export const ALLOW_ALL_POLICY: ToolPolicy = new CompiledToolPolicy('(none)', [], 'allow', false);

/** A `when` that did not compile, named by its rule. */
export class RuleCompileError extends Error {
  constructor(
    readonly source: string,
    readonly rule: string,
    readonly index: number,
    readonly condition: ConditionError,
  ) {
    super(`${source}: rule '${rule}' (rules[${index}].when), ${condition.message}`);
    this.name = 'RuleCompileError';
  }
}

/**
 * Compiles a checked policy document (`parseToolPolicyText`, `toolPolicyDocument`): every `when` parsed and
 * type-checked, every pattern turned into a matcher. Throws {@link RuleCompileError} for the first `when` that
 * does not compile. This is the factory a toolset's `policy` field uses too.
 */
export function compileToolPolicy(document: ToolPolicyDocument, source: string): ToolPolicy {
  const rules = document.rules.map((rule, index): CompiledRule => {
    let when: Condition | undefined;
    if (rule.when !== undefined) {
      try {
        when = compileCondition(rule.when);
      } catch (err) {
        if (err instanceof ConditionError) throw new RuleCompileError(source, rule.name, index, err);
        throw err;
      }
    }
    return {
      name: rule.name,
      effect: rule.effect,
      appliesTo: rule.tools ? compileToolPatterns(rule.tools) : () => true,
      when,
    };
  });
  // A field of `caller` is only reached by its name, so a `when` that never spells "claims" cannot read them.
  const readsClaims = document.rules.some((rule) => rule.when?.includes('claims') === true);
  return new CompiledToolPolicy(source, rules, document.default, readsClaims);
}

/**
 * Several policies at once (the gateway's and a toolset's): a call is allowed when every one allows it, and a
 * tool is listed when every one lists it — so a tool one of them hides is refused by that one on every call.
 * The decision names the first policy's rule that refused, or the last one's that allowed.
 */
export function allOfPolicies(policies: readonly ToolPolicy[]): ToolPolicy {
  const active = policies.filter((p) => !p.allowsEverything);
  if (active.length === 0) return ALLOW_ALL_POLICY;
  if (active.length === 1) return active[0]!;
  return {
    source: active.map((p) => p.source).join(' + '),
    allowsEverything: false,
    readsClaims: active.some((p) => p.readsClaims),
    listDecision(caller, tool) {
      let last: ListDecision | undefined;
      let byArguments = false;
      for (const policy of active) {
        last = policy.listDecision(caller, tool);
        if (!last.listed) return last;
        byArguments ||= last.byArguments;
      }
      return { ...last!, byArguments };
    },
    callDecision(caller, tool, args) {
      let last: CallDecision | undefined;
      for (const policy of active) {
        last = policy.callDecision(caller, tool, args);
        if (!last.allowed) return last;
      }
      return last!;
    },
  };
}
