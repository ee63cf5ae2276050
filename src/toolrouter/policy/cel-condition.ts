/**
 * @module cel-condition: the `when` of a policy rule — a CEL expression (`@marcbachmann/cel-js`, pure JS, runs on
 * the edge) over three variables, parsed and type-checked once when the policy is compiled:
 *
 * - `caller`: `id` (string), `roles` and `scopes` (lists of strings), `claims` (the token's claims, a map; empty
 *   in the dev auth modes);
 * - `tool`: `name` (as listed), `adapter` (the adapter of a federated tool, `""` for a registered one), `title`
 *   (`""` when none), `annotations` (a map; the router fills in the four MCP hints, see `policy-gate.ts`);
 * - `args`: the call's arguments (a map). Absent while a list is filtered: see `tool-policy.ts`.
 *
 * A typo in a field of `caller` or `tool`, an unknown variable, a syntax error or an expression that cannot be a
 * boolean is a compile error with the line and column inside the expression.
 */
import { Environment } from '@marcbachmann/cel-js';
import type { ASTNode, ParseResult } from '@marcbachmann/cel-js';
import { serialize } from '@marcbachmann/cel-js/serialize';

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

/** The values a condition can take over every possible call, as a set of these bits. */
export const TRUE = 1;
export const FALSE = 2;
export const ERROR = 4;
/** Anything: what a part that reads unknown arguments may come to. */
const ANY = TRUE | FALSE | ERROR;

/** A compiled `when`. */
export interface Condition {
  /** True when the expression names `args`: its value may then depend on the arguments of a call. */
  readonly readsArgs: boolean;
  /** Its value for one call. */
  evaluate(caller: PolicyCaller, tool: PolicyTool, args: Readonly<Record<string, unknown>>): ConditionValue;
  /**
   * The values it can take for `caller` and `tool` over every possible arguments (bits {@link TRUE},
   * {@link FALSE}, {@link ERROR}), for listing. Exact when it does not read `args`; otherwise a superset, computed
   * as described at {@link compileCondition}.
   */
  possibleValues(caller: PolicyCaller, tool: PolicyTool): number;
}

/**
 * The condition as a tree of CEL's boolean operators (`&&`, `||`, `!`, `?:`) over parts that are evaluated as
 * they are (`leaf`): the shape in which its possible values without arguments are worked out.
 */
type Shape =
  | { readonly op: 'leaf'; readonly run: ParseResult; readonly readsArgs: boolean }
  | { readonly op: 'and' | 'or'; readonly left: Shape; readonly right: Shape }
  | { readonly op: 'not'; readonly operand: Shape }
  | { readonly op: 'cond'; readonly test: Shape; readonly then: Shape; readonly otherwise: Shape };

/** CEL's `&&` over sets of values: false if either is false (whatever the other is, error included). */
function and(a: number, b: number): number {
  let out = 0;
  if (a & FALSE || b & FALSE) out |= FALSE;
  if (a & TRUE && b & TRUE) out |= TRUE;
  if ((a & ERROR && b & (TRUE | ERROR)) || (b & ERROR && a & (TRUE | ERROR))) out |= ERROR;
  return out;
}

/** CEL's `||`: true if either is true. */
function or(a: number, b: number): number {
  let out = 0;
  if (a & TRUE || b & TRUE) out |= TRUE;
  if (a & FALSE && b & FALSE) out |= FALSE;
  if ((a & ERROR && b & (FALSE | ERROR)) || (b & ERROR && a & (FALSE | ERROR))) out |= ERROR;
  return out;
}

function not(a: number): number {
  return (a & TRUE ? FALSE : 0) | (a & FALSE ? TRUE : 0) | (a & ERROR);
}

function valueBit(value: unknown): number {
  return value === true ? TRUE : value === false ? FALSE : ERROR;
}

/** The possible values of `shape` with `args` unknown. */
function possible(shape: Shape, context: { caller: PolicyCaller; tool: PolicyTool }): number {
  switch (shape.op) {
    case 'leaf':
      try {
        // Without `args`, a part that reads it errors unless the rest of it decides (`false && args.x`): a value
        // that comes out is the value for every argument; an error may be the arguments', so anything is possible.
        return valueBit(shape.run(context));
      } catch {
        return shape.readsArgs ? ANY : ERROR;
      }
    case 'and':
      return and(possible(shape.left, context), possible(shape.right, context));
    case 'or':
      return or(possible(shape.left, context), possible(shape.right, context));
    case 'not':
      return not(possible(shape.operand, context));
    case 'cond': {
      const test = possible(shape.test, context);
      return (
        (test & TRUE ? possible(shape.then, context) : 0) |
        (test & FALSE ? possible(shape.otherwise, context) : 0) |
        (test & ERROR)
      );
    }
  }
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

/**
 * The boolean structure of `node`, each part parsed on its own; undefined when a part does not parse alone (the
 * caller then takes the whole expression as one part, which is coarser but as sound).
 */
function shapeOf(env: Environment, node: ASTNode, depth = 0): Shape | undefined {
  if (depth < 32) {
    if (node.op === '&&' || node.op === '||') {
      const [l, r] = node.args;
      const left = shapeOf(env, l, depth + 1);
      const right = left && shapeOf(env, r, depth + 1);
      return right && { op: node.op === '&&' ? 'and' : 'or', left: left!, right };
    }
    if (node.op === '!_') {
      const operand = shapeOf(env, node.args, depth + 1);
      return operand && { op: 'not', operand };
    }
    if (node.op === '?:') {
      const [t, a, b] = node.args.map((n) => shapeOf(env, n, depth + 1));
      return t && a && b && { op: 'cond', test: t, then: a, otherwise: b };
    }
  }
  try {
    return { op: 'leaf', run: env.parse(serialize(node)), readsArgs: names(node, ARGS_VARIABLE) };
  } catch {
    return undefined;
  }
}

/**
 * Parses and type-checks `expression`; throws {@link ConditionError}.
 *
 * For listing, a condition that reads `args` is taken apart at its boolean operators (`&&`, `||`, `!`, `?:`) into
 * parts, each evaluated with `args` absent: a part that reads no arguments has its one value (or error); a part
 * that does has its value when one comes out anyway, and otherwise may be anything. The parts' sets are combined
 * with CEL's own rules (`false && error` is false, `true || error` true), which gives every value the condition
 * can take for some arguments — supposing its argument parts independent (`args.x == 1 && args.x == 2` is
 * thought possibly true).
 */
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
  const evaluate = (caller: PolicyCaller, tool: PolicyTool, args: Readonly<Record<string, unknown>>) => {
    try {
      const value: unknown = parsed({ caller, tool, args });
      // A `dyn` expression can come out as anything: only a boolean is an answer.
      return typeof value === 'boolean' ? value : 'error';
    } catch {
      return 'error';
    }
  };
  const shape: Shape = (readsArgs && shapeOf(env, parsed.ast)) || { op: 'leaf', run: parsed, readsArgs };
  return {
    readsArgs,
    evaluate,
    possibleValues: (caller, tool) => possible(shape, { caller, tool }),
  };
}
