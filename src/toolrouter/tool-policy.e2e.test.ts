/**
 * The tool policy through a real gateway: `src/main.ts` started with `MCP_GATEWAY_TOOL_POLICY_FILE`, SDK 1.x and
 * 2.x clients on `/mcp`. One rule hides a tool from the list and refuses its call; a rule on the arguments allows
 * one call of a tool and refuses another; each refusal is an audit line naming the rule. A policy that does not
 * compile stops the start with exit 2 and a message naming the file, the rule and the position. In search mode,
 * `search_tools` never finds what the policy hides and `call_tool` is refused by the same rule. Behind real tokens,
 * rules read the token's claims.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { SCORE_TOOL, startScoreServer } from '../../scripts/samples/score-server.js';
import type { ScoreServer } from '../../scripts/samples/score-server.js';
import { runGatewayToExit, startGatewayProcess } from '../../test/gateway-process.js';
import type { GatewayProcess } from '../../test/gateway-process.js';
import { CLIENT_ERAS, connectLegacyClient } from '../../test/mcp-clients.js';
import { startTestGateway } from '../../test/test-gateway.js';
import type { MiddlewareHandler } from 'hono';
import { createAuthenticator, devAuth, localPrincipal } from '../auth/index.js';
import { parseAuthConfig } from '../config/index.js';
import type { AppEnv } from '../http/index.js';
import { startTokenIssuer } from '../../test/token-issuer.js';
import { TOOL_POLICY_DENIED, loadToolPolicy } from './policy/index.js';

const POLICY = `# Who may see and call what on /mcp: the first rule that applies decides.
default: deny
rules:
  - name: admins
    when: '"mcp.admin" in caller.roles'
    effect: allow
  - name: no-destructive
    description: Tools that may destroy something are for admins only.
    when: tool.annotations.destructiveHint
    effect: deny
  - name: short-texts
    tools: [score]
    when: args.text.size() <= 20
    effect: allow
`;

const BOB = { 'x-dev-userid': 'bob', 'x-dev-roles': 'eng' };
const ROOT = { 'x-dev-userid': 'root', 'x-dev-roles': 'mcp.admin' };
const LONG_TEXT = 'a good text that is much longer than twenty characters';

const dir = mkdtempSync(join(tmpdir(), 'mcp-gateway-policy-'));
let score: ScoreServer;
let gateway: GatewayProcess;

async function register(url: string, name: string, annotations: Record<string, unknown>): Promise<void> {
  const res = await fetch(`${url}/tools`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-dev-userid': 'alice' },
    body: JSON.stringify({
      name,
      requiredRoles: ['eng'],
      endpoints: [score.url],
      toolDefinition: { tool: { ...SCORE_TOOL, name, annotations } },
    }),
  });
  expect(res.status).toBe(201);
}

/** The JSON-RPC error a client call ended with (both SDK lines throw one with `code`). */
async function refusal(call: Promise<unknown>): Promise<{ code: number; message: string }> {
  const err = (await call.then(
    () => undefined,
    (e: unknown) => e,
  )) as { code?: number; message?: string } | undefined;
  expect(err, 'the call was refused').toBeDefined();
  return { code: err!.code!, message: err!.message! };
}

beforeAll(async () => {
  score = await startScoreServer();
  const file = join(dir, 'policy.yaml');
  writeFileSync(file, POLICY);
  gateway = await startGatewayProcess({
    DATABASE_URL: join(dir, 'gateway.db'),
    MCP_GATEWAY_TOOL_POLICY_FILE: file,
  });
  await register(gateway.url, 'score', { readOnlyHint: true });
  await register(gateway.url, 'wipe', { destructiveHint: true });
}, 90_000);

afterAll(async () => {
  await gateway?.stop();
  await score?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe.each(CLIENT_ERAS)('tool policy through /mcp, %s', (_era, connect) => {
  it('hides a tool from the list and refuses its call by the same rule', async () => {
    const bob = await connect(`${gateway.url}/mcp`, { headers: BOB });
    try {
      expect((await bob.listAll()).names).toEqual(['score']);
      const refused = await refusal(bob.call('wipe', { text: 'good' }));
      expect(refused.code).toBe(TOOL_POLICY_DENIED);
      expect(refused.message).toContain(
        "Tool 'wipe' is not allowed: refused by tool policy rule 'no-destructive'.",
      );
    } finally {
      await bob.close();
    }
    const root = await connect(`${gateway.url}/mcp`, { headers: ROOT });
    try {
      expect((await root.listAll()).names).toEqual(['score', 'wipe']);
      expect((await root.call('wipe', { text: 'good' })).isError).not.toBe(true);
    } finally {
      await root.close();
    }
  });

  it('allows a call by its arguments and refuses another, and audits the refusals', async () => {
    const bob = await connect(`${gateway.url}/mcp`, { headers: BOB });
    try {
      const allowed = await bob.call('score', { text: 'good' });
      expect(allowed.structuredContent).toEqual({ score: 1, label: 'positive', words: 1 });
      const refused = await refusal(bob.call('score', { text: LONG_TEXT }));
      expect(refused.code).toBe(TOOL_POLICY_DENIED);
      expect(refused.message).toContain("Tool 'score' is not allowed: refused by the tool policy's default.");
    } finally {
      await bob.close();
    }
    // Log lines reach the gateway's stdout a moment after the answer: wait for them.
    await vi.waitFor(
      () => {
        const audits = gateway.logs.filter(
          (l) => l.audit === true && l.via === 'tool-router' && l.principal === 'bob',
        );
        expect(audits).toEqual(
          expect.arrayContaining([
            expect.objectContaining({
              tool: 'wipe',
              kind: 'tool',
              name: 'wipe',
              outcome: 'denied',
              policy: { decision: 'deny', rule: 'no-destructive' },
            }),
            expect.objectContaining({
              tool: 'score',
              outcome: 'denied',
              policy: { decision: 'deny', rule: 'default' },
            }),
            expect.objectContaining({ tool: 'score', outcome: 'success' }),
          ]),
        );
      },
      { timeout: 10_000, interval: 50 },
    );
    // The arguments never reach the log, refused or not.
    expect(JSON.stringify(gateway.logs)).not.toContain(LONG_TEXT);
  });
});

describe('a tool policy that does not compile', () => {
  it('stops the start with exit 2, naming the file, the rule and the position', async () => {
    const file = join(dir, 'broken.yaml');
    writeFileSync(
      file,
      'default: deny\nrules:\n  - name: typo\n    when: \'"eng" in caller.rolez\'\n    effect: allow\n',
    );
    const result = await runGatewayToExit({
      DATABASE_URL: join(dir, 'never.db'),
      MCP_GATEWAY_TOOL_POLICY_FILE: file,
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`Invalid tool policy MCP_GATEWAY_TOOL_POLICY_FILE (${file})`);
    expect(result.stderr).toContain("rules[0].when (rule 'typo'): line 1, column 17: No such key: rolez");
  }, 60_000);
});

describe('tool policy in search mode', () => {
  it('search_tools never finds a hidden tool; call_tool is refused by the same rule', async () => {
    const server = await startTestGateway({
      authenticate: devAuth(),
      toolRouter: { discovery: 'search' },
      policy: loadToolPolicy(POLICY, 'test policy'),
    });
    try {
      await register(server.url, 'score', { readOnlyHint: true });
      await register(server.url, 'wipe', { destructiveHint: true });
      const bob = await connectLegacyClient(`${server.url}/mcp`, { headers: BOB });
      try {
        const found = (await bob.call('search_tools', { query: 'score sentiment text', limit: 10 })) as {
          structuredContent: { tools: { name: string }[] };
        };
        expect(found.structuredContent.tools.map((t) => t.name)).toEqual(['score']);
        const refused = await refusal(bob.call('call_tool', { name: 'wipe', arguments: { text: 'good' } }));
        expect(refused.code).toBe(TOOL_POLICY_DENIED);
        expect(refused.message).toContain("refused by tool policy rule 'no-destructive'");
        const allowed = await bob.call('call_tool', { name: 'score', arguments: { text: 'good' } });
        expect(allowed.structuredContent).toEqual({ score: 1, label: 'positive', words: 1 });
      } finally {
        await bob.close();
      }
      const root = await connectLegacyClient(`${server.url}/mcp`, { headers: ROOT });
      try {
        const found = (await root.call('search_tools', { query: 'score sentiment text', limit: 10 })) as {
          structuredContent: { tools: { name: string }[] };
        };
        expect(found.structuredContent.tools.map((t) => t.name).sort()).toEqual(['score', 'wipe']);
      } finally {
        await root.close();
      }
    } finally {
      await server.close();
    }
  });
});

describe('tool policy on token claims', () => {
  it.each(CLIENT_ERAS)('lists and allows by a claim of the caller’s token (%s)', async (_era, connect) => {
    // Authentication is switched on once the gateway listens: the token audience is its URL.
    let current: MiddlewareHandler<AppEnv> = localPrincipal({ principal: { userId: 'alice', roles: [] } });
    const server = await startTestGateway({
      authenticate: (c, next) => current(c, next),
      toolRouter: {},
      policy: loadToolPolicy(
        `default: deny
rules:
  - name: pro-tier
    when: caller.claims.?plan.?tier.orValue("free") == "pro" && caller.claims.email.endsWith("@example.com")
    effect: allow
`,
        'claims policy',
      ),
    });
    const issuer = await startTokenIssuer({ audience: `${server.url}/mcp` });
    try {
      const res = await fetch(`${server.url}/tools`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'score', endpoints: [score.url], toolDefinition: { tool: SCORE_TOOL } }),
      });
      expect(res.status).toBe(201);
      const auth = await createAuthenticator(
        parseAuthConfig(
          { MCP_GATEWAY_AUTH: 'oidc', MCP_GATEWAY_OIDC_ISSUER: issuer.issuer },
          { host: '127.0.0.1', publicUrl: server.url },
        ),
      );
      current = auth.authenticate;
      const clientWith = async (claims: Record<string, unknown>) =>
        connect(`${server.url}/mcp`, {
          headers: { authorization: `Bearer ${await issuer.mint({ sub: 'alice', ...claims })}` },
        });
      const pro = await clientWith({ email: 'alice@example.com', plan: { tier: 'pro' } });
      try {
        expect((await pro.listAll()).names).toEqual(['score']);
        expect((await pro.call('score', { text: 'good' })).structuredContent).toEqual({
          score: 1,
          label: 'positive',
          words: 1,
        });
      } finally {
        await pro.close();
      }
      const free = await clientWith({ email: 'alice@example.com' });
      try {
        expect((await free.listAll()).names).toEqual([]);
        const refused = await refusal(free.call('score', { text: 'good' }));
        expect(refused.code).toBe(TOOL_POLICY_DENIED);
        expect(refused.message).toContain("refused by the tool policy's default");
      } finally {
        await free.close();
      }
    } finally {
      await server.close();
      await issuer.close();
    }
  });
});
