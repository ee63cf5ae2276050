import { describe, expect, it } from 'vitest';
import {
  ToolPolicyError,
  allOfPolicies,
  compileToolPolicy,
  loadToolPolicy,
  toolPolicyDocument,
  toolPolicyFrom,
} from './index.js';
import type { PolicyCaller, PolicyTool, ToolPolicyDocument } from './index.js';

const caller = (over: Partial<PolicyCaller> = {}): PolicyCaller => ({
  id: 'alice',
  roles: ['eng'],
  scopes: [],
  claims: {},
  ...over,
});
const tool = (over: Partial<PolicyTool> = {}): PolicyTool => ({
  name: 'fs__write',
  adapter: 'fs',
  title: 'Write a file',
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true },
  ...over,
});
const policy = (rules: ToolPolicyDocument['rules'], fallback: 'allow' | 'deny' = 'deny') =>
  compileToolPolicy(toolPolicyDocument({ rules, default: fallback }, 'test'), 'test');

describe('tool policy: compile and evaluate', () => {
  it('decides by the first rule that applies; the default when none does', () => {
    const p = policy(
      [
        { name: 'admins', when: '"mcp.admin" in caller.roles', effect: 'allow' },
        { name: 'no-writes', tools: ['fs__write*'], effect: 'deny' },
        { name: 'eng', when: '"eng" in caller.roles', effect: 'allow' },
      ],
      'deny',
    );
    expect(p.callDecision(caller({ roles: ['mcp.admin'] }), tool(), {})).toEqual({
      allowed: true,
      rule: 'admins',
    });
    expect(p.callDecision(caller(), tool(), {})).toEqual({ allowed: false, rule: 'no-writes' });
    expect(p.callDecision(caller(), tool({ name: 'fs__read' }), {})).toEqual({ allowed: true, rule: 'eng' });
    expect(p.callDecision(caller({ roles: [] }), tool({ name: 'fs__read' }), {})).toEqual({
      allowed: false,
      rule: 'default',
    });
    expect(p.listDecision(caller(), tool())).toEqual({
      listed: false,
      rule: 'no-writes',
      byArguments: false,
    });
  });

  it('reads claims, including nested ones, and fails closed when a claim is missing', () => {
    const p = policy(
      [
        { name: 'contractors-out', when: 'caller.claims.employment != "staff"', effect: 'deny' },
        { name: 'eu-team', when: 'caller.claims.org.region == "eu"', effect: 'allow' },
      ],
      'deny',
    );
    const staffEu = caller({ claims: { employment: 'staff', org: { region: 'eu' } } });
    expect(p.callDecision(staffEu, tool(), {}).allowed).toBe(true);
    expect(p.callDecision(caller({ claims: { employment: 'contractor' } }), tool(), {}).rule).toBe(
      'contractors-out',
    );
    // No `employment` claim: the deny rule's condition errors, and a deny rule that errors applies.
    expect(p.callDecision(caller({ claims: { org: { region: 'eu' } } }), tool(), {})).toEqual({
      allowed: false,
      rule: 'contractors-out',
    });
    // No `org` claim: the allow rule's condition errors, and an allow rule that errors does not apply.
    expect(p.callDecision(caller({ claims: { employment: 'staff' } }), tool(), {})).toEqual({
      allowed: false,
      rule: 'default',
    });
    // `has()` and optional chaining let a rule say what a missing claim means.
    const lenient = policy([
      { name: 'eu', when: 'caller.claims.?org.?region.orValue("eu") == "eu"', effect: 'allow' },
    ]);
    expect(lenient.callDecision(caller(), tool(), {}).allowed).toBe(true);
  });

  it('sees annotations, the MCP hints with their defaults, the title and the adapter', () => {
    const p = policy(
      [
        { name: 'read-only', when: 'tool.annotations.readOnlyHint', effect: 'allow' },
        {
          name: 'github-non-destructive',
          when: 'tool.adapter == "github" && !tool.annotations.destructiveHint',
          effect: 'allow',
        },
        { name: 'titled', when: 'tool.title.startsWith("Safe")', effect: 'allow' },
      ],
      'deny',
    );
    const hints = { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true };
    expect(p.callDecision(caller(), tool({ annotations: { ...hints, readOnlyHint: true } }), {}).rule).toBe(
      'read-only',
    );
    expect(
      p.callDecision(
        caller(),
        tool({ adapter: 'github', annotations: { ...hints, destructiveHint: false } }),
        {},
      ).rule,
    ).toBe('github-non-destructive');
    expect(p.callDecision(caller(), tool({ adapter: 'github', annotations: hints }), {}).allowed).toBe(false);
    expect(p.callDecision(caller(), tool({ title: 'Safe search' }), {}).rule).toBe('titled');
  });

  it('matches tools by glob: * any run (also across __), ? one character', () => {
    const p = policy([{ name: 'g', tools: ['github__*', 'fs__read_?', 'score'], effect: 'allow' }]);
    const allowed = (name: string) => p.callDecision(caller(), tool({ name }), {}).allowed;
    expect(allowed('github__create_issue')).toBe(true);
    expect(allowed('github__')).toBe(true);
    expect(allowed('fs__read_a')).toBe(true);
    expect(allowed('fs__read_ab')).toBe(false);
    expect(allowed('score')).toBe(true);
    expect(allowed('scores')).toBe(false);
    expect(allowed('xgithub__a')).toBe(false);
    // `.` in a pattern is a dot, not "any character".
    expect(
      policy([{ name: 'd', tools: ['a.b'], effect: 'allow' }]).callDecision(
        caller(),
        tool({ name: 'axb' }),
        {},
      ).allowed,
    ).toBe(false);
  });

  it('decides calls by their arguments, and lists a tool whose calls depend on them', () => {
    const p = policy(
      [
        { name: 'tmp-only', tools: ['fs__write'], when: 'args.path.startsWith("/tmp/")', effect: 'allow' },
        { name: 'small-pages', tools: ['search'], when: 'args.limit > 50', effect: 'deny' },
        { name: 'search', tools: ['search'], effect: 'allow' },
      ],
      'deny',
    );
    expect(p.callDecision(caller(), tool(), { path: '/tmp/x' })).toEqual({ allowed: true, rule: 'tmp-only' });
    expect(p.callDecision(caller(), tool(), { path: '/etc/passwd' })).toEqual({
      allowed: false,
      rule: 'default',
    });
    // No `path`, or a path that is not a string: the allow rule errors, so it does not apply.
    expect(p.callDecision(caller(), tool(), {}).allowed).toBe(false);
    expect(p.callDecision(caller(), tool(), { path: 7 }).allowed).toBe(false);
    expect(p.listDecision(caller(), tool())).toEqual({ listed: true, rule: 'tmp-only', byArguments: true });

    const search = tool({ name: 'search', adapter: '' });
    expect(p.callDecision(caller(), search, { limit: 10 }).allowed).toBe(true);
    expect(p.callDecision(caller(), search, { limit: 500 })).toEqual({ allowed: false, rule: 'small-pages' });
    // A deny rule that errors applies: a limit that is not a number is refused.
    expect(p.callDecision(caller(), search, { limit: 'many' }).rule).toBe('small-pages');
    expect(p.listDecision(caller(), search)).toEqual({ listed: true, rule: 'search', byArguments: false });
  });

  it('decides a list without arguments when the caller part already decides (false && …, true || …)', () => {
    const p = policy(
      [{ name: 'ops-tmp', when: '"ops" in caller.roles && args.path.startsWith("/tmp/")', effect: 'allow' }],
      'deny',
    );
    // Not in ops: no call can be allowed, so the tool is not listed.
    expect(p.listDecision(caller(), tool())).toEqual({ listed: false, rule: 'default', byArguments: false });
    expect(p.listDecision(caller({ roles: ['ops'] }), tool())).toEqual({
      listed: true,
      rule: 'ops-tmp',
      byArguments: true,
    });
    const q = policy([
      {
        name: 'admin-or-dry-run',
        when: '"mcp.admin" in caller.roles || args.dryRun == true',
        effect: 'allow',
      },
    ]);
    expect(q.listDecision(caller({ roles: ['mcp.admin'] }), tool())).toEqual({
      listed: true,
      rule: 'admin-or-dry-run',
      byArguments: false,
    });
  });

  it('reports a bad when with its rule and the line and column inside the expression', () => {
    const load = (when: string) => () =>
      loadToolPolicy(
        JSON.stringify({
          default: 'deny',
          rules: [
            { name: 'ok', effect: 'allow' },
            { name: 'bad', when, effect: 'allow' },
          ],
        }),
        'policy.json',
      );
    expect(load('caller.id == "a" &&')).toThrow(ToolPolicyError);
    expect(load('caller.id == "a" &&')).toThrow(
      /policy\.json[\s\S]*rules\[1\]\.when \(rule 'bad'\): line 1, column 20: Unexpected token: EOF/,
    );
    expect(load('"x" in caller.roles &&\n  calle.id == "a"')).toThrow(
      /line 2, column 3: Unknown variable: calle/,
    );
    expect(load('caller.rolez.size() > 0')).toThrow(/rule 'bad'.*line 1, column 8: No such key: rolez/);
    expect(load('caller.id')).toThrow(/must be a boolean expression, not string/);
  });

  it('refuses a document that is not a policy, naming every problem', () => {
    const bad = () =>
      loadToolPolicy(
        'rules:\n  - name: a\n    efect: allow\n  - name: a\n    effect: deny\n    tools: ["bad pattern"]\n',
        'policy.yaml',
      );
    expect(bad).toThrow(ToolPolicyError);
    try {
      bad();
    } catch (err) {
      const { problems, message } = err as ToolPolicyError;
      expect(message).toContain('policy.yaml');
      expect(problems).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/^rules\[0\] \(rule 'a'\): .*efect/),
          expect.stringMatching(/^rules\[0\]\.effect \(rule 'a'\): must be "allow" or "deny"/),
          expect.stringMatching(/^rules\[1\]\.tools\[0\] \(rule 'a'\): may hold only/),
          expect.stringMatching(/^default: must be "allow" or "deny"/),
        ]),
      );
    }
    expect(() => loadToolPolicy('rules: [\n', 'p.yaml')).toThrow(/not YAML or JSON/);
    expect(() =>
      toolPolicyDocument(
        {
          default: 'deny',
          rules: [
            { name: 'x', effect: 'allow' },
            { name: 'x', effect: 'deny' },
          ],
        },
        's',
      ),
    ).toThrow(/"x" names two rules/);
    expect(() =>
      toolPolicyDocument({ default: 'deny', rules: [{ name: 'default', effect: 'allow' }] }, 's'),
    ).toThrow(/names the policy's default/);
  });

  it('combines policies: a tool either hides is hidden, a call either refuses is refused', () => {
    const gateway = policy(
      [{ name: 'no-destructive', when: 'tool.annotations.destructiveHint', effect: 'deny' }],
      'allow',
    );
    const toolset = policy([{ name: 'members', tools: ['fs__*'], effect: 'allow' }], 'deny');
    const both = allOfPolicies([gateway, toolset]);
    const safe = tool({ name: 'fs__read', annotations: { destructiveHint: false } });
    expect(both.callDecision(caller(), safe, {})).toEqual({ allowed: true, rule: 'members' });
    expect(both.callDecision(caller(), tool(), {})).toEqual({ allowed: false, rule: 'no-destructive' });
    expect(both.listDecision(caller(), tool({ name: 'x', annotations: { destructiveHint: false } }))).toEqual(
      {
        listed: false,
        rule: 'default',
        byArguments: false,
      },
    );
    expect(allOfPolicies([]).allowsEverything).toBe(true);
  });

  it('compiles a parsed policy (a toolset field) with the same factory and the same errors', () => {
    const p = toolPolicyFrom(
      { default: 'deny', rules: [{ name: 'ro', when: 'tool.annotations.readOnlyHint', effect: 'allow' }] },
      'toolset team-a',
    );
    expect(p.source).toBe('toolset team-a');
    expect(p.callDecision(caller(), tool({ annotations: { readOnlyHint: true } }), {}).allowed).toBe(true);
    try {
      toolPolicyFrom(
        { default: 'deny', rules: [{ name: 'x', when: 'tool.nam == "a"', effect: 'allow' }] },
        'toolset team-a',
      );
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ToolPolicyError);
      expect((err as ToolPolicyError).problems).toEqual([
        "rules[0].when (rule 'x'): line 1, column 6: No such key: nam",
      ]);
    }
  });
});
