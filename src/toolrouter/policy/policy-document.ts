/**
 * @module policy-document: the shape of a tool policy — what `MCP_GATEWAY_TOOL_POLICY_FILE` holds (YAML or JSON),
 * and what a toolset's `policy` field can embed ({@link ToolPolicyDocumentSchema}). Checked strictly: an unknown
 * key (`efect:`) is an error, not a rule that silently never applies.
 */
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { toolPatternProblem } from './tool-glob.js';

/** What a rule does when it matches, and what happens when none matches. */
export const POLICY_EFFECTS = ['allow', 'deny'] as const;
export type PolicyEffect = (typeof POLICY_EFFECTS)[number];

/** The name decisions give when no rule matched and the policy's `default` decided. */
export const DEFAULT_RULE_NAME = 'default';
/** Longest `when` expression: a policy is a few lines of CEL, not a program. */
export const MAX_WHEN_LENGTH = 4096;
/** Most rules in one policy. */
export const MAX_RULES = 1000;

const RULE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;

const ToolPattern = z.string().superRefine((value, ctx) => {
  const problem = toolPatternProblem(value);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

/** One rule: it applies to the tools its patterns match, when its condition holds. */
export const ToolPolicyRuleSchema = z.strictObject({
  /** Named in decisions, denials and audit lines. */
  name: z
    .string()
    .regex(
      RULE_NAME,
      'must be 1–128 characters of A–Z, a–z, 0–9, "_", ".", ":" and "-", starting with a letter or digit',
    )
    .refine((name) => name !== DEFAULT_RULE_NAME, `"${DEFAULT_RULE_NAME}" names the policy's default`),
  description: z.string().max(1000).optional(),
  /** Tool names as listed, with `*` and `?`; every tool when absent. */
  tools: z
    .array(ToolPattern)
    .min(1, 'must list at least one pattern (leave it out to match every tool)')
    .optional(),
  /** A CEL expression over `caller`, `tool` and `args`; always true when absent. */
  when: z.string().min(1).max(MAX_WHEN_LENGTH).optional(),
  effect: z.enum(POLICY_EFFECTS, { error: 'must be "allow" or "deny"' }),
});
export type ToolPolicyRule = z.infer<typeof ToolPolicyRuleSchema>;

/** A whole policy: ordered rules (the first that matches decides) and what decides when none matches. */
export const ToolPolicyDocumentSchema = z
  .strictObject({
    rules: z.array(ToolPolicyRuleSchema).max(MAX_RULES),
    default: z.enum(POLICY_EFFECTS, { error: 'must be "allow" or "deny"' }),
  })
  .superRefine((doc, ctx) => {
    const seen = new Set<string>();
    doc.rules.forEach((rule, index) => {
      if (seen.has(rule.name)) {
        ctx.addIssue({
          code: 'custom',
          path: ['rules', index, 'name'],
          message: `"${rule.name}" names two rules`,
        });
      }
      seen.add(rule.name);
    });
  });
export type ToolPolicyDocument = z.infer<typeof ToolPolicyDocumentSchema>;

/** Why a policy cannot be used: every problem, each naming where it is. */
export class ToolPolicyError extends Error {
  constructor(
    /** Where the policy came from (a file path, `toolset team-a`). */
    readonly source: string,
    readonly problems: readonly string[],
  ) {
    super(`Invalid tool policy ${source}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ToolPolicyError';
  }
}

const pathOf = (path: readonly PropertyKey[]) =>
  path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`)).join('');

/** Checks a parsed value (JSON, YAML, a toolset field) as a policy; throws {@link ToolPolicyError}. */
export function toolPolicyDocument(value: unknown, source: string): ToolPolicyDocument {
  const result = ToolPolicyDocumentSchema.safeParse(value);
  if (result.success) return result.data;
  throw new ToolPolicyError(
    source,
    result.error.issues.map((issue) => {
      const where = pathOf(issue.path);
      const rule =
        issue.path[0] === 'rules' && typeof issue.path[1] === 'number' ? ruleLabel(value, issue.path[1]) : '';
      return `${where || '(top level)'}${rule}: ${issue.message}`;
    }),
  );
}

/** ` (rule 'x')` for the rule at `index` of a raw document, when it has a name. */
function ruleLabel(value: unknown, index: number): string {
  const rules = (value as { rules?: unknown } | null)?.rules;
  const name = Array.isArray(rules) ? (rules[index] as { name?: unknown } | undefined)?.name : undefined;
  return typeof name === 'string' ? ` (rule '${name}')` : '';
}

/** Parses the text of a policy file (YAML, of which JSON is a subset) and checks it; throws {@link ToolPolicyError}. */
export function parseToolPolicyText(text: string, source: string): ToolPolicyDocument {
  let value: unknown;
  try {
    value = parseYaml(text, { maxAliasCount: 100 });
  } catch (err) {
    throw new ToolPolicyError(source, [`not YAML or JSON: ${(err as Error).message.split('\n')[0]}`]);
  }
  return toolPolicyDocument(value, source);
}
