/**
 * @module cel-condition: the `when` of a policy rule — a CEL expression (`@marcbachmann/cel-js`, pure JS, runs on
 * the edge) over three variables, parsed and type-checked once when the policy is compiled:
 *
 * - `caller`: `id` (string), `roles` and `scopes` (lists of strings), `claims` (the token's claims, a map; empty
 *   in the dev auth modes);
 * - `tool`: `name` (as listed), `adapter` (the adapter of a federated tool, `""` for a registered one), `title`
 *   (`""` when none), `annotations` (a map, the four MCP hints always present with the spec's defaults);
 * - `args`: the call's arguments (a map). Absent while a list is filtered: see `tool-policy.ts`.
 *
 * A typo in a field of `caller` or `tool`, an unknown variable, a syntax error or an expression that cannot be a
 * boolean is a compile error with the line and column inside the expression.
 */
import { Environment } from '@marcbachmann/cel-js';
import type { ParseResult } from '@marcbachmann/cel-js';

/** The caller as rules see it. */
export interface PolicyCaller {
  readonly id: string;
  readonly roles: readonly string[];
  readonly scopes: readonly string[];
  readonly claims: Readonly<Record<string, unknown>>;
}

/** A tool as rules see it. */
export interface PolicyTool {
  readonly name: string;
  readonly adapter: string;
  readonly title: string;
  readonly annotations: Readonly<Record<string, unknown>>;
}

/** The CEL type of `caller` (the evaluator wants instances of a registered class for a typed variable). */
class CelCaller implements PolicyCaller {
  readonly id: string;
  readonly roles: readonly string[];
  readonly scopes: readonly string[];
  readonly claims: Readonly<Record<string, unknown>>;
  constructor(caller: PolicyCaller) {
    this.id = caller.id;
    this.roles = caller.roles;
    this.scopes = caller.scopes;
    this.claims = caller.claims;
  }
}

/** The CEL type of `tool`. */
class CelTool implements PolicyTool {
  readonly name: string;
  readonly adapter: string;
  readonly title: string;
  readonly annotations: Readonly<Record<string, unknown>>;
  constructor(tool: PolicyTool) {
    this.name = tool.name;
    this.adapter = tool.adapter;
    this.title = tool.title;
    this.annotations = tool.annotations;
  }
}

/** `caller` as the evaluator takes it; build it once per request. */
export const celCaller = (caller: PolicyCaller): PolicyCaller =>
  caller instanceof CelCaller ? caller : new CelCaller(caller);
/** `tool` as the evaluator takes it; build it once per tool. */
export const celTool = (tool: PolicyTool): PolicyTool => (tool instanceof CelTool ? tool : new CelTool(tool));

/** The variable a rule reads the call's arguments from. */
export const ARGS_VARIABLE = 'args';

let environment: Environment | undefined;

/** One environment for every policy: building one is the expensive part, and it holds no state of a policy. */
function policyEnvironment(): Environment {
  environment ??= new Environment({
    enableOptionalTypes: true,
    // A rule is a few lines; anything far bigger is a mistake or an attempt to make evaluation slow.
    limits: {
      maxAstNodes: 2000,
      maxDepth: 64,
      maxListElements: 1000,
      maxMapEntries: 1000,
      maxCallArguments: 16,
    },
  })
    .registerType('Caller', {
      ctor: CelCaller,
      fields: { id: 'string', roles: 'list<string>', scopes: 'list<string>', claims: 'map<string, dyn>' },
    })
    .registerType('Tool', {
      ctor: CelTool,
      fields: { name: 'string', adapter: 'string', title: 'string', annotations: 'map<string, dyn>' },
    })
    .registerVariable('caller', 'Caller')
    .registerVariable('tool', 'Tool')
    .registerVariable(ARGS_VARIABLE, 'map<string, dyn>');
  return environment;
}

/** A `when` that does not compile, with where in the expression (1-based line and column). */
export class ConditionError extends Error {
  constructor(
    readonly summary: string,
    readonly line: number,
    readonly column: number,
  ) {
    super(`line ${line}, column ${column}: ${summary}`);
    this.name = 'ConditionError';
  }
}

/** What evaluating a condition gives: its value, or `error` (a missing key, a value of the wrong type, …). */
export type ConditionValue = boolean | 'error';

/** A compiled `when`. */
export interface Condition {
  /** True when the expression names `args`: its value may then depend on the arguments of a call. */
  readonly readsArgs: boolean;
  /** Evaluates it; `args` left out means "not known" (any use of it is an error, which `&&`/`||` may absorb). */
  evaluate(caller: PolicyCaller, tool: PolicyTool, args?: Readonly<Record<string, unknown>>): ConditionValue;
}

function positionOf(expression: string, offset: number | undefined): { line: number; column: number } {
  const before = expression.slice(0, Math.max(0, Math.min(offset ?? 0, expression.length)));
  const lines = before.split('\n');
  return { line: lines.length, column: lines.at(-1)!.length + 1 };
}

function conditionError(expression: string, error: unknown): ConditionError {
  const e = error as { summary?: unknown; message?: unknown; range?: { start?: number } };
  const summary =
    typeof e.summary === 'string' && e.summary !== ''
      ? e.summary
      : String(e.message ?? error).split('\n')[0]!;
  const { line, column } = positionOf(expression, e.range?.start);
  return new ConditionError(summary, line, column);
}

/** True when `node` (a parsed AST, or part of it) names the variable `name` anywhere. */
function names(node: unknown, name: string, depth = 0): boolean {
  if (depth > 200 || node === null || typeof node !== 'object') return false;
  if (Array.isArray(node)) return node.some((child) => names(child, name, depth + 1));
  const { op, args } = node as { op?: unknown; args?: unknown };
  if (op === 'id') return args === name;
  return names(args, name, depth + 1);
}

/** Parses and type-checks `expression`; throws {@link ConditionError}. */
export function compileCondition(expression: string): Condition {
  const env = policyEnvironment();
  let parsed: ParseResult;
  try {
    parsed = env.parse(expression);
  } catch (err) {
    throw conditionError(expression, err);
  }
  const checked = parsed.check();
  if (!checked.valid) throw conditionError(expression, checked.error);
  if (checked.type !== 'bool' && checked.type !== 'dyn') {
    throw new ConditionError(`must be a boolean expression, not ${checked.type ?? 'unknown'}`, 1, 1);
  }
  const readsArgs = names(parsed.ast, ARGS_VARIABLE);
  return {
    readsArgs,
    evaluate(caller, tool, args) {
      try {
        const value: unknown = parsed(args === undefined ? { caller, tool } : { caller, tool, args });
        // A `dyn` expression can come out as anything: only a boolean is an answer.
        return typeof value === 'boolean' ? value : 'error';
      } catch {
        return 'error';
      }
    },
  };
}
