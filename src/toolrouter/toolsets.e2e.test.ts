/**
 * Toolsets end to end: a real gateway on a socket serving `/toolsets/{name}/mcp` over a registered HTTP tool
 * (the score sample) and federated adapters of both SDK lines, to SDK 1.x and 2.x clients — just the members,
 * renames both ways, non-members refused, the caller's own permissions still applied, `list_changed` on a
 * membership change, `requiredRoles` on the endpoint, search discovery over the members only; a toolset's own
 * `policy` with the gateway's (both must allow, rules on the tools' real names, refusals audited).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { MiddlewareHandler } from 'hono';
import { extractWWWAuthenticateParams } from '@modelcontextprotocol/sdk/client/auth.js';
import { SCORE_TOOL, startScoreServer } from '../../scripts/samples/score-server.js';
import type { ScoreServer } from '../../scripts/samples/score-server.js';
import {
  PROTECTED_RESOURCE_METADATA_PATH,
  createAuthenticator,
  devAuth,
  localPrincipal,
} from '../auth/index.js';
import type { Authenticator } from '../auth/index.js';
import { parseAuthConfig } from '../config/index.js';
import type { AppEnv } from '../http/index.js';
import { openRegistryStore } from '../registry/index.js';
import { CLIENT_ERAS, connectLegacyClient } from '../../test/mcp-clients.js';
import { startLegacyMcpServer, startModernMcpServer } from '../../test/mcp-servers.js';
import type { RunningMcpServer } from '../../test/mcp-servers.js';
import { startTestGateway } from '../../test/test-gateway.js';
import type { TestGateway } from '../../test/test-gateway.js';
import { startTokenIssuer } from '../../test/token-issuer.js';
import type { TokenIssuer } from '../../test/token-issuer.js';
import type { AuditLog } from '../observability/index.js';
import { TOOL_POLICY_DENIED, toolPolicyFrom } from './policy/index.js';

const headersOf = (user: string, roles: string[] = []) => ({
  'x-dev-userid': user,
  'x-dev-roles': roles.join(','),
});
const as = (user: string, roles: string[] = []) => ({ headers: headersOf(user, roles) });
const textOf = (result: Record<string, unknown>) =>
  ((result.content as { type: string; text?: string }[] | undefined) ?? []).map((c) => c.text ?? '').join('');

/** Calls the control plane as a dev-auth user; returns the JSON answer. */
async function control(
  gateway: TestGateway,
  method: string,
  path: string,
  body: unknown,
  user = 'alice',
  expected = method === 'POST' ? 201 : 200,
): Promise<Record<string, unknown>> {
  const res = await fetch(`${gateway.url}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...headersOf(user) },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  if (res.status !== expected) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return res.status === 204 ? {} : ((await res.json()) as Record<string, unknown>);
}

const scoreBody = (name: string, url: string, extra: Record<string, unknown> = {}) => ({
  name,
  endpoints: [url],
  toolDefinition: { tool: { ...SCORE_TOOL, name } },
  ...extra,
});

const TEAM = {
  name: 'team',
  description: 'What the team uses',
  tools: [
    'score',
    { name: 'legacy__echo', rename: 'say', description: 'Says the text back' },
    'modern__*',
    'bobs-score',
    'later__tool',
  ],
  requiredRoles: ['team'],
};

describe('toolsets: /toolsets/{name}/mcp', () => {
  let gateway: TestGateway;
  let score: ScoreServer;
  let legacy: RunningMcpServer;
  let modern: RunningMcpServer;
  let endpoint: string;

  beforeAll(async () => {
    score = await startScoreServer();
    legacy = await startLegacyMcpServer({ name: 'legacy-upstream' });
    modern = await startModernMcpServer({ name: 'modern-upstream' });
    gateway = await startTestGateway({ authenticate: devAuth(), toolRouter: {} });
    const shared = { requiredRoles: ['team'] };
    await control(gateway, 'POST', '/tools', scoreBody('score', score.url, shared));
    await control(gateway, 'POST', '/tools', scoreBody('other', score.url, shared));
    // Bob's own: alice may not use it, whatever a toolset says.
    await control(gateway, 'POST', '/tools', scoreBody('bobs-score', score.url), 'bob');
    await control(gateway, 'POST', '/adapters', {
      name: 'legacy',
      endpoints: [legacy.url],
      federate: true,
      ...shared,
    });
    await control(gateway, 'POST', '/adapters', {
      name: 'modern',
      endpoints: [modern.url],
      federate: true,
      ...shared,
    });
    await control(gateway, 'POST', '/toolsets', TEAM);
    endpoint = `${gateway.url}/toolsets/team/mcp`;
  });
  afterAll(async () => {
    await gateway?.close();
    await Promise.all([score?.close(), legacy?.close(), modern?.close()]);
  });

  describe.each(CLIENT_ERAS)('%s client', (_era, connect) => {
    it('lists just the members the caller may use, renamed and described as the toolset says', async () => {
      const alice = await connect(endpoint, as('alice'));
      const bob = await connect(endpoint, as('bob', ['team']));
      try {
        expect((await alice.listAll()).names).toEqual(['modern__echo', 'modern__whoami', 'say', 'score']);
        expect((await bob.listAll()).names).toEqual([
          'bobs-score',
          'modern__echo',
          'modern__whoami',
          'say',
          'score',
        ]);
        const say = (await alice.listPage()).tools.find((t) => t.name === 'say') as { description?: string };
        expect(say.description).toBe('Says the text back');
        // `/mcp` stays everything the caller may use.
        const everything = await connect(`${gateway.url}/mcp`, as('alice'));
        try {
          expect((await everything.listAll()).names).toEqual(
            expect.arrayContaining(['legacy__echo', 'legacy__count', 'other', 'score']),
          );
        } finally {
          await everything.close();
        }
      } finally {
        await Promise.all([alice.close(), bob.close()]);
      }
    });

    it('calls a renamed member by its new name, reaching the tool by its own', async () => {
      const client = await connect(endpoint, as('alice'));
      try {
        const said = await client.call('say', { text: 'hello through a toolset' });
        expect(said.isError).toBeFalsy();
        expect(textOf(said)).toBe('hello through a toolset');
        const scored = await client.call('score', { text: 'a great day' });
        expect(scored.structuredContent).toMatchObject({ label: 'positive' });
        const whoami = await client.call('modern__whoami', {});
        expect(textOf(whoami)).toContain('modern-upstream');
      } finally {
        await client.close();
      }
    });

    it('refuses a non-member, the original name of a renamed member, and a member the caller may not use', async () => {
      const client = await connect(endpoint, as('alice'));
      try {
        for (const name of ['other', 'legacy__echo', 'legacy__count', 'bobs-score', 'later__tool']) {
          await expect(client.call(name, { text: 'x' })).rejects.toMatchObject({
            code: -32602,
            message: expect.stringContaining(`Unknown tool: ${name}`),
          });
        }
      } finally {
        await client.close();
      }
    });

    it('tells a connected client when the membership changes, and lists the new members', async () => {
      const client = await connect(endpoint, as('alice'));
      try {
        await client.listAll();
        let next = client.nextChange();
        await control(gateway, 'PUT', '/toolsets/team', { ...TEAM, tools: [...TEAM.tools, 'other'] });
        await next;
        expect((await client.listAll()).names).toContain('other');
        next = client.nextChange();
        await control(gateway, 'PUT', '/toolsets/team', TEAM);
        await next;
        expect((await client.listAll()).names).not.toContain('other');
      } finally {
        await client.close();
      }
    });
  });

  it('does not tell a toolset client of a change outside the toolset, and tells it of a member’s change', async () => {
    const client = await connectLegacyClient(endpoint, as('alice'));
    const everything = await connectLegacyClient(`${gateway.url}/mcp`, as('alice'));
    try {
      await client.listAll();
      await everything.listAll();
      const before = client.changes;
      let heard = everything.nextChange();
      await control(
        gateway,
        'PUT',
        '/tools/other',
        scoreBody('other', score.url, { requiredRoles: ['team', 'x'] }),
      );
      await heard;
      // The same instance rebuilt its catalog and told `/mcp`'s stream; the toolset's list is the same.
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(client.changes).toBe(before);
      heard = client.nextChange();
      await control(gateway, 'PUT', '/tools/score', {
        ...scoreBody('score', score.url, { requiredRoles: ['team'] }),
        toolDefinition: { tool: { ...SCORE_TOOL, name: 'score', description: 'Scores text, now better.' } },
      });
      await heard;
    } finally {
      await Promise.all([client.close(), everything.close()]);
    }
  });

  it('refuses a caller without a required role with 403, and an unknown toolset with 404', async () => {
    const post = (path: string, user: string, roles: string[] = []) =>
      fetch(`${gateway.url}${path}`, {
        method: 'POST',
        headers: {
          ...headersOf(user, roles),
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          'mcp-protocol-version': '2026-07-28',
        },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }),
      });
    const refused = await post('/toolsets/team/mcp', 'carol', ['staff']);
    expect(refused.status).toBe(403);
    expect(refused.headers.get('www-authenticate')).toMatch(/insufficient_scope/);
    expect(((await refused.json()) as { error: { message: string } }).error.message).toContain('team');
    expect((await post('/toolsets/nothing/mcp', 'alice')).status).toBe(404);
    for (const [, connect] of CLIENT_ERAS) {
      await expect(connect(endpoint, as('carol', ['staff']))).rejects.toThrow();
    }
    // The control plane's read rules are the adapters': she cannot see it there either.
    await control(gateway, 'GET', '/toolsets/team', undefined, 'carol', 404);
  });

  it('reports members that resolve to nothing the reader may use in status.unresolved', async () => {
    const alice = await control(gateway, 'GET', '/toolsets/team', undefined, 'alice');
    expect(alice.status).toEqual({ tools: 4, unresolved: ['bobs-score', 'later__tool'] });
    const admin = await fetch(`${gateway.url}/toolsets/team`, { headers: headersOf('root', ['mcp.admin']) });
    expect(((await admin.json()) as { status: unknown }).status).toEqual({
      tools: 5,
      unresolved: ['later__tool'],
    });
  });

  it('with discovery "search", lists search_tools and call_tool over the members only', async () => {
    await control(gateway, 'POST', '/toolsets', {
      name: 'finder',
      tools: ['score', 'modern__*'],
      requiredRoles: ['team'],
      discovery: 'search',
    });
    for (const [, connect] of CLIENT_ERAS) {
      const client = await connect(`${gateway.url}/toolsets/finder/mcp`, as('alice'));
      try {
        expect((await client.listAll()).names).toEqual(['search_tools', 'call_tool']);
        const found = await client.call('search_tools', { query: 'echo text', limit: 10 });
        const names = (found.structuredContent as { tools: { name: string }[] }).tools.map((t) => t.name);
        expect(names).toContain('modern__echo');
        expect(names).not.toContain('legacy__echo');
        const echoed = await client.call('call_tool', { name: 'modern__echo', arguments: { text: 'found' } });
        expect(textOf(echoed)).toBe('found');
        await expect(
          client.call('call_tool', { name: 'legacy__echo', arguments: { text: 'x' } }),
        ).rejects.toMatchObject({ code: -32602 });
      } finally {
        await client.close();
      }
    }
  });

  it('ends a toolset’s endpoint when the toolset is deleted: its calls then get 404', async () => {
    await control(gateway, 'POST', '/toolsets', { name: 'brief', tools: ['score'], requiredRoles: ['team'] });
    const client = await connectLegacyClient(`${gateway.url}/toolsets/brief/mcp`, as('alice'));
    try {
      expect((await client.listAll()).names).toEqual(['score']);
      await control(gateway, 'DELETE', '/toolsets/brief', undefined, 'alice', 204);
      await expect(client.listPage()).rejects.toThrow();
    } finally {
      await client.close();
    }
  });
});

/** The JSON-RPC error a client call ended with (both SDK lines throw one with `code`). */
async function refusal(call: Promise<unknown>): Promise<{ code: number; message: string }> {
  const err = (await call.then(
    () => undefined,
    (e: unknown) => e,
  )) as { code?: number; message?: string } | undefined;
  expect(err, 'the call was refused').toBeDefined();
  return { code: err!.code!, message: err!.message! };
}

describe('a toolset policy with the gateway policy', () => {
  let gateway: TestGateway;
  let score: ScoreServer;
  let legacy: RunningMcpServer;
  const audits: Record<string, unknown>[] = [];
  const audit: AuditLog = { enabled: () => true, write: (entry) => void audits.push({ ...entry }) };
  const endpoint = () => `${gateway.url}/toolsets/guarded/mcp`;

  beforeAll(async () => {
    score = await startScoreServer();
    legacy = await startLegacyMcpServer({ name: 'legacy-upstream' });
    gateway = await startTestGateway({
      authenticate: devAuth(),
      toolRouter: {},
      operations: { audit },
      // The gateway's own policy (`MCP_GATEWAY_TOOL_POLICY_FILE`): it applies on toolsets too.
      policy: toolPolicyFrom(
        {
          default: 'allow',
          rules: [{ name: 'carol-no-score', tools: ['score'], when: 'caller.id == "carol"', effect: 'deny' }],
        },
        'test gateway policy',
      ),
    });
    await control(gateway, 'POST', '/tools', scoreBody('score', score.url, { requiredRoles: ['team'] }));
    await control(gateway, 'POST', '/adapters', {
      name: 'legacy',
      endpoints: [legacy.url],
      federate: true,
      requiredRoles: ['team'],
    });
    await control(gateway, 'POST', '/toolsets', {
      name: 'guarded',
      tools: ['score', { name: 'legacy__echo', rename: 'say' }, 'legacy__count'],
      requiredRoles: ['team'],
      // Rules name tools as `/mcp` does: `legacy__echo`, shown here as `say`.
      policy: {
        default: 'allow',
        rules: [
          {
            name: 'echo-for-leads',
            tools: ['legacy__echo'],
            when: '!("lead" in caller.roles)',
            effect: 'deny',
          },
        ],
      },
    });
  });
  afterAll(async () => {
    await gateway?.close();
    await Promise.all([score?.close(), legacy?.close()]);
  });

  describe.each(CLIENT_ERAS)('%s client', (_era, connect) => {
    it('hides a member and refuses its call by the same rule, on the tool’s real name through a rename', async () => {
      const alice = await connect(endpoint(), as('alice', ['team']));
      try {
        expect((await alice.listAll()).names).toEqual(['legacy__count', 'score']);
        const refused = await refusal(alice.call('say', { text: 'hello' }));
        expect(refused.code).toBe(TOOL_POLICY_DENIED);
        expect(refused.message).toContain(
          "Tool 'say' is not allowed: refused by tool policy rule 'echo-for-leads'.",
        );
      } finally {
        await alice.close();
      }
      const lead = await connect(endpoint(), as('dave', ['team', 'lead']));
      try {
        expect((await lead.listAll()).names).toEqual(['legacy__count', 'say', 'score']);
        expect(textOf(await lead.call('say', { text: 'hello' }))).toBe('hello');
      } finally {
        await lead.close();
      }
      // The toolset's policy is the toolset's only: `/mcp` still lists and calls the tool.
      const everything = await connect(`${gateway.url}/mcp`, as('alice', ['team']));
      try {
        expect((await everything.listAll()).names).toContain('legacy__echo');
        expect(textOf(await everything.call('legacy__echo', { text: 'hi' }))).toBe('hi');
      } finally {
        await everything.close();
      }
    });

    it('applies the gateway policy on the toolset too: both must allow', async () => {
      const carol = await connect(endpoint(), as('carol', ['team', 'lead']));
      try {
        expect((await carol.listAll()).names).toEqual(['legacy__count', 'say']);
        const refused = await refusal(carol.call('score', { text: 'good' }));
        expect(refused.code).toBe(TOOL_POLICY_DENIED);
        expect(refused.message).toContain("refused by tool policy rule 'carol-no-score'");
      } finally {
        await carol.close();
      }
    });
  });

  it('audits a toolset policy’s refusal as the gateway policy’s are', () => {
    expect(audits).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          via: 'tool-router',
          tool: 'say',
          kind: 'adapter',
          name: 'legacy',
          principal: 'alice',
          outcome: 'denied',
          policy: { decision: 'deny', rule: 'echo-for-leads' },
        }),
        expect.objectContaining({
          tool: 'score',
          principal: 'carol',
          outcome: 'denied',
          policy: { decision: 'deny', rule: 'carol-no-score' },
        }),
      ]),
    );
  });

  it('refuses a policy whose CEL does not compile with a 400 naming policy', async () => {
    const res = await fetch(`${gateway.url}/toolsets`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headersOf('alice') },
      body: JSON.stringify({
        name: 'broken',
        tools: ['score'],
        policy: { default: 'allow', rules: [{ name: 'typo', when: '"x" in caller.rolez', effect: 'deny' }] },
      }),
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as {
      error: { code: string; message: string; details: { path: string }[] };
    };
    expect(body.error.message).toMatch(/^policy: rules\[0\]\.when \(rule 'typo'\)/);
    expect(body.error.details.map((d) => d.path)).toEqual(['policy']);
    // Nothing was stored.
    expect((await fetch(`${gateway.url}/toolsets/broken`, as('alice'))).status).toBe(404);
  });

  it('stores the policy and answers it on a read, and a replaced policy applies to new requests', async () => {
    const read = await control(gateway, 'GET', '/toolsets/guarded', undefined);
    expect(read.policy).toMatchObject({ default: 'allow', rules: [{ name: 'echo-for-leads' }] });
    await control(gateway, 'PUT', '/toolsets/guarded', {
      name: 'guarded',
      tools: ['score', { name: 'legacy__echo', rename: 'say' }, 'legacy__count'],
      requiredRoles: ['team'],
      policy: { default: 'deny', rules: [{ name: 'only-score', tools: ['score'], effect: 'allow' }] },
    });
    const alice = await connectLegacyClient(endpoint(), as('alice', ['team']));
    try {
      expect((await alice.listAll()).names).toEqual(['score']);
    } finally {
      await alice.close();
    }
  });
});

describe('toolsets behind real tokens', () => {
  let issuer: TokenIssuer;
  let gateway: TestGateway;
  let score: ScoreServer;
  let auth: Authenticator;
  let endpoint: string;

  beforeAll(async () => {
    score = await startScoreServer();
    let current: MiddlewareHandler<AppEnv> = localPrincipal({ principal: { userId: 'alice', roles: [] } });
    gateway = await startTestGateway({ authenticate: (c, next) => current(c, next), toolRouter: {} });
    const post = (path: string, body: object) =>
      fetch(`${gateway.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      }).then((r) => expect(r.status).toBe(201));
    await post('/tools', scoreBody('score', score.url, { requiredRoles: ['analyst'] }));
    await post('/tools', scoreBody('other', score.url, { requiredRoles: ['analyst'] }));
    await post('/toolsets', { name: 'analysts', tools: ['score'], requiredRoles: ['analyst'] });
    endpoint = `${gateway.url}/toolsets/analysts/mcp`;
    issuer = await startTokenIssuer({ audience: endpoint });
    auth = await createAuthenticator(
      parseAuthConfig(
        { MCP_GATEWAY_AUTH: 'oidc', MCP_GATEWAY_OIDC_ISSUER: issuer.issuer },
        { host: '127.0.0.1', publicUrl: gateway.url },
      ),
    );
    current = auth.authenticate;
  });
  afterAll(async () => {
    await gateway?.close();
    await score?.close();
    await issuer?.close();
  });

  const listRequest = (token?: string) =>
    fetch(endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        ...(token && { authorization: `Bearer ${token}` }),
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });

  it('answers 401 pointing at the toolset’s own protected-resource metadata, which names the toolset', async () => {
    const res = await listRequest();
    expect(res.status).toBe(401);
    const metadataUrl = extractWWWAuthenticateParams(res).resourceMetadataUrl;
    expect(metadataUrl?.href).toBe(`${gateway.url}${PROTECTED_RESOURCE_METADATA_PATH}/toolsets/analysts/mcp`);
    const doc = await auth.wellKnownRoutes.request(
      `${PROTECTED_RESOURCE_METADATA_PATH}/toolsets/analysts/mcp`,
    );
    expect(((await doc.json()) as { resource: string }).resource).toBe(endpoint);
  });

  it('refuses a token issued for /mcp (audience binding to the toolset)', async () => {
    const token = await issuer.mint({ sub: 'sam', roles: ['analyst'] }, { audience: `${gateway.url}/mcp` });
    expect((await listRequest(token)).status).toBe(401);
  });

  it.each(CLIENT_ERAS)(
    'serves a role holder, and refuses a token without the role (%s)',
    async (_era, connect) => {
      const analyst = await connect(endpoint, {
        headers: { authorization: `Bearer ${await issuer.mint({ sub: 'sam', roles: ['analyst'] })}` },
      });
      try {
        expect((await analyst.listAll()).names).toEqual(['score']);
        await expect(analyst.call('other', { text: 'x' })).rejects.toMatchObject({ code: -32602 });
      } finally {
        await analyst.close();
      }
      const outsider = await issuer.mint({ sub: 'nina', roles: ['staff'] });
      expect((await listRequest(outsider)).status).toBe(403);
      await expect(connect(endpoint, { headers: { authorization: `Bearer ${outsider}` } })).rejects.toThrow();
    },
  );
});

describe('toolsets on two gateway instances sharing a registry', () => {
  const folder = mkdtempSync(join(tmpdir(), 'mcpgw-toolsets-'));
  const gateways: TestGateway[] = [];
  let score: ScoreServer;

  beforeAll(async () => {
    score = await startScoreServer();
  });
  afterEach(async () => {
    await Promise.all(gateways.splice(0).map((g) => g.close()));
  });
  afterAll(async () => {
    await score?.close();
    rmSync(folder, { recursive: true, force: true });
  });

  async function membershipChangeReachesOtherInstance(databaseUrl: string) {
    for (let i = 0; i < 2; i++) {
      const store = await openRegistryStore(databaseUrl, { changePollMs: 50 });
      const gateway = await startTestGateway({ store, authenticate: devAuth(), toolRouter: {} });
      const close = gateway.close.bind(gateway);
      gateways.push({ ...gateway, close: () => close().then(() => store.close()) });
    }
    const [a, b] = gateways as [TestGateway, TestGateway];
    await control(a, 'POST', '/tools', scoreBody('one', score.url));
    await control(a, 'POST', '/tools', scoreBody('two', score.url));
    await control(a, 'POST', '/toolsets', { name: 'pair', tools: ['one'] });
    for (const [, connect] of CLIENT_ERAS) {
      const onB = await connect(`${b.url}/toolsets/pair/mcp`, as('alice'));
      try {
        expect((await onB.listAll()).names).toEqual(['one']);
        const next = onB.nextChange(5000);
        await control(a, 'PUT', '/toolsets/pair', { name: 'pair', tools: ['one', 'two'] });
        await next;
        expect((await onB.listAll()).names).toEqual(['one', 'two']);
        await control(a, 'PUT', '/toolsets/pair', { name: 'pair', tools: ['one'] });
        // Wait until B serves the restored membership before the next era's client connects.
        const deadline = Date.now() + 5000;
        while ((await onB.listAll()).names.length !== 1 && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      } finally {
        await onB.close();
      }
    }
  }

  it('on one SQLite file: a membership change through one instance reaches clients of the other', async () => {
    await membershipChangeReachesOtherInstance(join(folder, 'shared.db'));
  });

  const postgres = process.env.TEST_DATABASE_URL;
  it.skipIf(!postgres)('on Postgres (LISTEN/NOTIFY): the same (set TEST_DATABASE_URL to run)', async () => {
    const { TestDatabases } = await import('../../test/postgres-databases.js');
    const databases = new TestDatabases(postgres ?? '');
    try {
      await membershipChangeReachesOtherInstance(await databases.create());
      await Promise.all(gateways.splice(0).map((g) => g.close()));
    } finally {
      await databases.dropAll();
    }
  });
});
