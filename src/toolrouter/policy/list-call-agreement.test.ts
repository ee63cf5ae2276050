/**
 * The property the tool policy exists for: `tools/list` and `tools/call` never disagree. For every combination
 * of policy, caller and tool in the tables below, through the router's own hook (`createPolicyGate`):
 *
 * - a tool is listed ⇔ some call of it (among many argument sets, including wrong types and missing keys) is allowed;
 * - a call of a tool that is not listed is refused, whatever its arguments.
 *
 * The policies cover rules without conditions, on annotations, claims (present, missing, of another type),
 * scopes, adapters and titles, and on arguments alone or mixed with the caller (`&&`, `||`, `!`, `?:`, macros,
 * optional chaining), deny and allow, in either order. The last test shows the documented limit: a condition
 * on arguments that no arguments can make false is not detected, and then a listed tool can still be refused
 * (never the other way round).
 */
import { describe, expect, it } from 'vitest';
import type { Principal } from '../../core/index.js';
import type { CatalogEntry, CatalogSnapshot } from '../catalog.js';
import { ToolPolicyDenied, compileToolPolicy, createPolicyGate, toolPolicyDocument } from './index.js';
import type { ToolPolicyDocument } from './index.js';

type Rules = ToolPolicyDocument['rules'];

/** Name → [rules, default]. */
const POLICIES: Record<string, [Rules, 'allow' | 'deny']> = {
  'deny by glob': [[{ name: 'no-fs', tools: ['fs__*'], effect: 'deny' }], 'allow'],
  'deny destructive': [[{ name: 'd', when: 'tool.annotations.destructiveHint', effect: 'deny' }], 'allow'],
  'read-only only': [[{ name: 'ro', when: 'tool.annotations.readOnlyHint', effect: 'allow' }], 'deny'],
  'allow by args': [
    [{ name: 'tmp', tools: ['fs__write'], when: 'args.path.startsWith("/tmp/")', effect: 'allow' }],
    'deny',
  ],
  'deny by args': [[{ name: 'no-write-mode', when: 'args.mode == "write"', effect: 'deny' }], 'allow'],
  'caller && args': [
    [{ name: 'ops-tmp', when: '"ops" in caller.roles && args.path.startsWith("/tmp/")', effect: 'allow' }],
    'deny',
  ],
  'caller || args': [
    [{ name: 'admin-or-dry', when: '"mcp.admin" in caller.roles || args.dryRun == true', effect: 'allow' }],
    'deny',
  ],
  'claim required (missing → deny)': [
    [
      { name: 'pro-only', when: 'caller.claims.tier != "pro"', effect: 'deny' },
      { name: 'rest', effect: 'allow' },
    ],
    'deny',
  ],
  'claim optional or read-only': [
    [
      {
        name: 'pro-or-ro',
        when: 'caller.claims.?tier.orValue("free") == "pro" || tool.annotations.readOnlyHint',
        effect: 'allow',
      },
    ],
    'deny',
  ],
  'deny by args, then allow by args': [
    [
      { name: 'too-many', when: 'args.n > 100', effect: 'deny' },
      { name: 'non-negative', when: 'args.n >= 0', effect: 'allow' },
    ],
    'deny',
  ],
  'deny by args, then deny all': [
    [
      { name: 'write-mode', when: 'args.mode == "write"', effect: 'deny' },
      { name: 'all', tools: ['*'], effect: 'deny' },
    ],
    'allow',
  ],
  'macro over roles && optional arg': [
    [
      {
        name: 'eng-read',
        when: 'caller.roles.exists(r, r == "eng") && args.?mode.orValue("read") == "read"',
        effect: 'allow',
      },
    ],
    'deny',
  ],
  'adapter deny, title allow': [
    [
      { name: 'no-github', when: 'tool.adapter == "github"', effect: 'deny' },
      { name: 'titled', when: 'tool.title != ""', effect: 'allow' },
    ],
    'deny',
  ],
  'scope or read-only': [
    [
      {
        name: 'writer',
        when: '"tools:write" in caller.scopes || tool.annotations.readOnlyHint',
        effect: 'allow',
      },
    ],
    'deny',
  ],
  'deny erroring arg, then allow': [
    [
      { name: 'no-etc', when: 'args.path.startsWith("/etc")', effect: 'deny' },
      { name: 'rest', effect: 'allow' },
    ],
    'deny',
  ],
  'ternary on args': [
    [
      {
        name: 'write-needs-ops',
        when: 'args.?mode.orValue("") == "write" ? "ops" in caller.roles : true',
        effect: 'allow',
      },
    ],
    'deny',
  ],
  'negated caller, then args': [
    [
      { name: 'only-alice', when: '!(caller.id == "alice")', effect: 'deny' },
      { name: 'small', when: 'args.n < 10', effect: 'allow' },
    ],
    'deny',
  ],
  'args rule on some tools only': [
    [
      {
        name: 'fs-tmp',
        tools: ['fs__*'],
        when: 'args.path.startsWith("/tmp/") || tool.annotations.readOnlyHint',
        effect: 'allow',
      },
      { name: 'fs-rest', tools: ['fs__*'], effect: 'deny' },
      { name: 'others', when: '!tool.annotations.destructiveHint', effect: 'allow' },
    ],
    'deny',
  ],
  'claim of another type': [
    [{ name: 'level', when: 'caller.claims.level > 3 && args.n < caller.claims.level', effect: 'allow' }],
    'deny',
  ],
  'default deny, no rules': [[], 'deny'],
};

const CALLERS: Record<string, Principal> = {
  'alice (eng, tier pro)': { userId: 'alice', roles: ['eng'], scopes: [], claims: { tier: 'pro', level: 5 } },
  'bob (nothing)': { userId: 'bob', roles: [] },
  'carol (ops, tier free, tools:write)': {
    userId: 'carol',
    roles: ['ops'],
    scopes: ['tools:write'],
    claims: { tier: 'free', level: 'high' },
  },
  'root (mcp.admin)': { userId: 'root', roles: ['mcp.admin'], scopes: [], claims: { tier: 7 } },
};

function entry(name: string, tool: Record<string, unknown>, adapter?: string): CatalogEntry {
  return {
    name,
    tool: { name, inputSchema: { type: 'object' }, ...tool },
    owner: {},
    target: adapter
      ? { kind: 'federated', adapter: { name: adapter }, upstream: {} }
      : { kind: 'registered', resource: {} },
    digest: 0n,
  } as unknown as CatalogEntry;
}

const TOOLS: CatalogEntry[] = [
  entry('fs__write', { annotations: { destructiveHint: true } }, 'fs'),
  entry('fs__read', { annotations: { readOnlyHint: true } }, 'fs'),
  entry(
    'github__create_issue',
    { title: 'Create an issue', annotations: { destructiveHint: false } },
    'github',
  ),
  entry('score', { title: 'Score sentiment', annotations: { readOnlyHint: true, idempotentHint: true } }),
  entry('bare', {}),
];

/** Arguments calls are tried with: matching, not matching, missing, of the wrong type. */
const ARGUMENTS: Record<string, unknown>[] = [
  {},
  { path: '/tmp/a' },
  { path: '/etc/passwd' },
  { path: 7 },
  { mode: 'read' },
  { mode: 'write' },
  { mode: 'write', path: '/tmp/a' },
  { dryRun: true },
  { dryRun: 'yes' },
  { n: 5 },
  { n: 50 },
  { n: 500 },
  { n: -1 },
  { n: 'x' },
  { path: '/tmp/a', n: 5, mode: 'read' },
  { path: null, mode: null, n: null },
];

function snapshotOf(entries: CatalogEntry[]): CatalogSnapshot {
  return { entries, byName: new Map(entries.map((e) => [e.name, e])), fingerprint: 'test' };
}

/** The gate's verdict on one call: allowed, or the rule that refused. */
function callVerdict(
  gate: ReturnType<typeof createPolicyGate>,
  principal: Principal,
  tool: CatalogEntry,
  args: Record<string, unknown>,
) {
  try {
    gate.enforce(principal, tool, args);
    return true;
  } catch (err) {
    if (err instanceof ToolPolicyDenied) return false;
    throw err;
  }
}

describe('tool policy: tools/list and tools/call agree', () => {
  it(`listed ⇔ some call allowed, and no call of an unlisted tool allowed, over ${Object.keys(POLICIES).length} policies × ${Object.keys(CALLERS).length} callers × ${TOOLS.length} tools`, () => {
    const disagreements: string[] = [];
    let combinations = 0;
    let listedByArguments = 0;
    for (const [policyName, [rules, fallback]] of Object.entries(POLICIES)) {
      const policy = compileToolPolicy(
        toolPolicyDocument({ rules, default: fallback }, policyName),
        policyName,
      );
      const gate = createPolicyGate(policy);
      const snapshot = snapshotOf(TOOLS);
      for (const [callerName, principal] of Object.entries(CALLERS)) {
        const listed = new Set(gate.listed(snapshot, TOOLS, principal).map((e) => e.name));
        for (const tool of TOOLS) {
          combinations++;
          const allowed = ARGUMENTS.filter((args) => callVerdict(gate, principal, tool, args));
          const isListed = listed.has(tool.name);
          if (isListed !== allowed.length > 0) {
            disagreements.push(
              `${policyName} / ${callerName} / ${tool.name}: ${isListed ? 'listed' : 'hidden'}, calls allowed: ${JSON.stringify(allowed)}`,
            );
          }
          if (isListed && allowed.length < ARGUMENTS.length) listedByArguments++;
        }
      }
    }
    expect(disagreements).toEqual([]);
    expect(combinations).toBe(Object.keys(POLICIES).length * Object.keys(CALLERS).length * TOOLS.length);
    // The table does exercise tools whose calls are decided by their arguments.
    expect(listedByArguments).toBeGreaterThan(20);
  });

  it.each([
    // [policy, caller, tool, listed, an allowed call (when listed), a refused call]
    ['caller && args', 'bob (nothing)', 'fs__write', false, undefined, { path: '/tmp/a' }],
    [
      'caller && args',
      'carol (ops, tier free, tools:write)',
      'fs__write',
      true,
      { path: '/tmp/a' },
      { path: '/etc/passwd' },
    ],
    ['allow by args', 'alice (eng, tier pro)', 'fs__write', true, { path: '/tmp/a' }, { path: 7 }],
    ['allow by args', 'alice (eng, tier pro)', 'fs__read', false, undefined, { path: '/tmp/a' }],
    ['deny by args', 'bob (nothing)', 'bare', true, { mode: 'read' }, { mode: 'write' }],
    ['deny by args, then deny all', 'root (mcp.admin)', 'score', false, undefined, { mode: 'read' }],
    ['claim required (missing → deny)', 'bob (nothing)', 'score', false, undefined, {}],
    ['claim required (missing → deny)', 'alice (eng, tier pro)', 'fs__write', true, {}, undefined],
    ['claim of another type', 'carol (ops, tier free, tools:write)', 'score', false, undefined, { n: 1 }],
    ['caller || args', 'root (mcp.admin)', 'fs__write', true, {}, undefined],
    ['caller || args', 'bob (nothing)', 'fs__write', true, { dryRun: true }, { dryRun: 'yes' }],
  ] as const)(
    '%s / %s / %s: listed %s',
    (policyName, callerName, toolName, listed, allowedArgs, refusedArgs) => {
      const [rules, fallback] = POLICIES[policyName]!;
      const gate = createPolicyGate(
        compileToolPolicy(toolPolicyDocument({ rules, default: fallback }, 'p'), 'p'),
      );
      const principal = CALLERS[callerName]!;
      const tool = TOOLS.find((t) => t.name === toolName)!;
      expect(gate.listed(snapshotOf(TOOLS), TOOLS, principal).includes(tool)).toBe(listed);
      if (allowedArgs) expect(callVerdict(gate, principal, tool, { ...allowedArgs })).toBe(true);
      if (refusedArgs) expect(callVerdict(gate, principal, tool, { ...refusedArgs })).toBe(false);
    },
  );

  it('the documented limit: a condition on arguments that is always true lists a tool it always refuses (never the reverse)', () => {
    const rules: Rules = [
      { name: 'tautology', when: 'has(args.x) || !has(args.x)', effect: 'deny' },
      { name: 'rest', effect: 'allow' },
    ];
    const gate = createPolicyGate(
      compileToolPolicy(toolPolicyDocument({ rules, default: 'deny' }, 'p'), 'p'),
    );
    const principal = CALLERS['alice (eng, tier pro)']!;
    expect(gate.listed(snapshotOf(TOOLS), TOOLS, principal)).toHaveLength(TOOLS.length);
    for (const args of ARGUMENTS) expect(callVerdict(gate, principal, TOOLS[0]!, args)).toBe(false);
  });

  it('keeps apart, in its per-snapshot cache, two tokens of one user whose claims differ', () => {
    const [rules, fallback] = POLICIES['claim required (missing → deny)']!;
    const gate = createPolicyGate(
      compileToolPolicy(toolPolicyDocument({ rules, default: fallback }, 'p'), 'p'),
    );
    const snapshot = snapshotOf(TOOLS);
    const pro: Principal = { userId: 'alice', roles: ['eng'], claims: { tier: 'pro' } };
    const free: Principal = { userId: 'alice', roles: ['eng'], claims: { tier: 'free' } };
    expect(gate.listed(snapshot, TOOLS, pro)).toHaveLength(TOOLS.length);
    expect(gate.listed(snapshot, TOOLS, free)).toEqual([]);
    expect(gate.listed(snapshot, TOOLS, pro)).toHaveLength(TOOLS.length);
  });
});
