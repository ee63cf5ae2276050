/**
 * What `/mcp` and a toolset's endpoint offer, end to end with real SDK peers: `server/discover` (2026-07-28) and
 * `initialize` (SDK 1.x clients) tell the same capabilities — the router's tools, the federated upstreams'
 * extensions merged by name, none it cannot carry — and the cache rules of SEP-2549: an upstream list marked
 * `public` is listed once for everyone, one marked `private` once per caller (and never shown to another), each
 * for as long as its `ttlMs` says, and every list the router answers is `private`.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { Client as LegacyClient } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as LegacyTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  Client as ModernClient,
  StreamableHTTPClientTransport as ModernTransport,
} from '@modelcontextprotocol/client';
import { McpServer, createMcpHandler } from '@modelcontextprotocol/server';
import type { CacheHint, ServerCapabilities } from '@modelcontextprotocol/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCORE_TOOL, startScoreServer } from '../../scripts/samples/score-server.js';
import type { ScoreServer } from '../../scripts/samples/score-server.js';
import { UPSTREAM_USER_HEADER, devAuth } from '../auth/index.js';
import { startLegacyMcpServer } from '../../test/mcp-servers.js';
import type { RunningMcpServer } from '../../test/mcp-servers.js';
import { serveMcpFetch } from '../../test/http-fixture.js';
import { federationListed } from '../../test/federating-gateway.js';
import { startTestGateway } from '../../test/test-gateway.js';
import type { TestGateway } from '../../test/test-gateway.js';
import { LISTING_PRINCIPAL } from './federation.js';

/** An SDK 2.x upstream whose tools depend on who asks (the gateway's identity header), counting its lists. */
interface CountingUpstream {
  readonly url: string;
  /** `tools/list` requests received, by the user the gateway named. */
  readonly lists: Map<string, number>;
  close(): Promise<void>;
}

async function startCountingUpstream(options: {
  name: string;
  hint: CacheHint;
  /** The tools a user sees (the router's own listing identity included). */
  toolsFor: (user: string) => string[];
  extensions?: ServerCapabilities['extensions'];
}): Promise<CountingUpstream> {
  const lists = new Map<string, number>();
  const handler = createMcpHandler(
    (ctx) => {
      const user = String((ctx.authInfo?.extra as { user?: string } | undefined)?.user ?? '');
      const server = new McpServer(
        { name: options.name, version: '2.0.0' },
        {
          cacheHints: { 'tools/list': options.hint },
          ...(options.extensions && { capabilities: { extensions: options.extensions } }),
        },
      );
      for (const tool of options.toolsFor(user)) {
        server.registerTool(tool, { description: `${tool} of ${options.name}` }, async () => ({
          content: [{ type: 'text', text: `${tool} for ${user}` }],
        }));
      }
      return server;
    },
    { legacy: 'stateless' },
  );
  const http = await serveMcpFetch((request, c) => {
    const headers = (c.env as { incoming?: { headers: IncomingHttpHeaders } }).incoming?.headers ?? {};
    const user = decodeURIComponent(String(headers[UPSTREAM_USER_HEADER.toLowerCase()] ?? ''));
    if (c.req.header('mcp-method') === 'tools/list') lists.set(user, (lists.get(user) ?? 0) + 1);
    return handler.fetch(request, { authInfo: { token: '', clientId: user, scopes: [], extra: { user } } });
  });
  return {
    url: http.mcpUrl,
    lists,
    close: http.close,
  };
}

/** Every caller here has the role `team`, which every resource requires: they all may use everything. */
const headersOf = (user: string, roles: string[] = ['team']) => ({
  'x-dev-userid': user,
  'x-dev-roles': roles.join(','),
});

async function control(gateway: TestGateway, path: string, body: unknown, user = 'alice'): Promise<void> {
  const res = await fetch(`${gateway.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headersOf(user) },
    body: JSON.stringify({ requiredRoles: ['team'], ...(body as object) }),
  });
  if (res.status !== 201) throw new Error(`POST ${path}: ${res.status} ${await res.text()}`);
}

async function modernClient(url: string, user: string, roles?: string[]) {
  const client = new ModernClient(
    { name: 'aggregate-offer-test', version: '2.0.0' },
    { versionNegotiation: { mode: 'auto' } },
  );
  await client.connect(
    new ModernTransport(new URL(url), { requestInit: { headers: headersOf(user, roles) } }),
  );
  return client;
}

async function legacyClient(url: string, user: string, roles?: string[]) {
  const client = new LegacyClient({ name: 'aggregate-offer-test-legacy', version: '1.0.0' });
  await client.connect(
    new LegacyTransport(new URL(url), { requestInit: { headers: headersOf(user, roles) } }),
  );
  return client;
}

/** A raw 2026-07-28 `tools/list` of `url` as `user`: the wire answer, cache fields included. */
async function rawModernList(client: ModernClient): Promise<Record<string, unknown>> {
  return (await client.request({ method: 'tools/list', params: {} })) as Record<string, unknown>;
}

const namesOf = (result: { tools: { name: string }[] }) => result.tools.map((t) => t.name).sort();

describe('the aggregate offer of /mcp and toolsets', () => {
  let gateway: TestGateway;
  let score: ScoreServer;
  let legacy: RunningMcpServer;
  let traced: CountingUpstream;
  let other: CountingUpstream;
  let perUser: CountingUpstream;
  let everyone: CountingUpstream;
  const router = LISTING_PRINCIPAL.userId;

  beforeAll(async () => {
    score = await startScoreServer();
    legacy = await startLegacyMcpServer({ name: 'legacy-upstream' });
    traced = await startCountingUpstream({
      name: 'traced',
      hint: { ttlMs: 600_000, cacheScope: 'public' },
      toolsFor: () => ['probe'],
      extensions: {
        'com.example/trace': { formats: ['w3c'], sampling: 'always' },
        // Not merged from upstreams: the router claims the Tasks extension itself (it routes tasks/*).
        'io.modelcontextprotocol/tasks': { upstreamOnly: true },
      },
    });
    other = await startCountingUpstream({
      name: 'other',
      hint: { ttlMs: 600_000, cacheScope: 'public' },
      toolsFor: () => ['poke'],
      extensions: {
        'com.example/trace': { formats: ['b3'], sampling: 'never' },
        'com.example/receipts': { signed: true },
      },
    });
    perUser = await startCountingUpstream({
      name: 'per-user',
      hint: { ttlMs: 600_000, cacheScope: 'private' },
      // The router's own identity sees every tool; each user only theirs and the common one.
      toolsFor: (user) =>
        user === router
          ? ['common', 'alice_notes', 'bob_notes', 'internal']
          : [
              'common',
              ...(user === 'alice' ? ['alice_notes'] : []),
              ...(user === 'bob' ? ['bob_notes'] : []),
            ],
    });
    everyone = await startCountingUpstream({
      name: 'everyone',
      hint: { ttlMs: 600_000, cacheScope: 'public' },
      toolsFor: () => ['shared'],
    });
    gateway = await startTestGateway({ authenticate: devAuth(), toolRouter: {} });
    await control(gateway, '/tools', {
      name: 'score',
      endpoints: [score.url],
      toolDefinition: { tool: { ...SCORE_TOOL, name: 'score' } },
    });
    await control(gateway, '/adapters', { name: 'legacy', endpoints: [legacy.url], federate: true });
    await control(gateway, '/adapters', { name: 'traced', endpoints: [traced.url], federate: true });
    await control(gateway, '/adapters', { name: 'other', endpoints: [other.url], federate: true });
    await control(gateway, '/adapters', { name: 'per-user', endpoints: [perUser.url], federate: true });
    await control(gateway, '/adapters', { name: 'everyone', endpoints: [everyone.url], federate: true });
    await control(gateway, '/toolsets', { name: 'tracing', tools: ['traced__*', 'score'] });
    await federationListed(gateway, ['legacy', 'traced', 'other', 'per-user', 'everyone']);
  }, 120_000);

  afterAll(async () => {
    await gateway?.close();
    await Promise.all([score, legacy, traced, other, perUser, everyone].map((s) => s?.close()));
  });

  describe('discovery', () => {
    // Lists are merged as a union, in the order of the tools' names (`other__…` before `traced__…`).
    const expectedExtensions = {
      'com.example/trace': { formats: ['b3', 'w3c'] },
      'com.example/receipts': { signed: true },
      // The router's own (`tasks.ts`), whatever the upstreams say of it.
      'io.modelcontextprotocol/tasks': {},
    };

    it('server/discover on /mcp: the router’s versions, its tools, the upstreams’ extensions merged by name', async () => {
      const client = await modernClient(`${gateway.url}/mcp`, 'alice');
      try {
        expect(client.getNegotiatedProtocolVersion()).toBe('2026-07-28');
        const discover = (await client.discover()) as unknown as Record<string, unknown>;
        expect(discover.supportedVersions).toContain('2026-07-28');
        const capabilities = discover.capabilities as ServerCapabilities;
        expect(capabilities.tools).toEqual({ listChanged: true });
        // `sampling` differs between the two upstreams: left out rather than claimed for both.
        expect(capabilities.extensions).toEqual(expectedExtensions);
        // Nothing the router does not serve: no resources, prompts, logging or completions.
        expect(Object.keys(capabilities).sort()).toEqual(['extensions', 'tools']);
        expect(discover.cacheScope).toBe('private');
      } finally {
        await client.close();
      }
    });

    it('initialize (SDK 1.x client) tells the same capabilities', async () => {
      const client = await legacyClient(`${gateway.url}/mcp`, 'alice');
      try {
        const capabilities = client.getServerCapabilities() as ServerCapabilities;
        expect(capabilities.tools).toEqual({ listChanged: true });
        expect(capabilities.extensions).toEqual(expectedExtensions);
        expect(Object.keys(capabilities).sort()).toEqual(['extensions', 'tools']);
      } finally {
        await client.close();
      }
    });

    it('a toolset offers the extensions of the upstreams it has tools of, and no others', async () => {
      const modern = await modernClient(`${gateway.url}/toolsets/tracing/mcp`, 'alice');
      const old = await legacyClient(`${gateway.url}/toolsets/tracing/mcp`, 'alice');
      try {
        const discover = (await modern.discover()) as unknown as { capabilities: ServerCapabilities };
        const only = {
          'com.example/trace': { formats: ['w3c'], sampling: 'always' },
          'io.modelcontextprotocol/tasks': {},
        };
        expect(discover.capabilities.extensions).toEqual(only);
        expect(old.getServerCapabilities()?.extensions).toEqual(only);
      } finally {
        await Promise.all([modern.close(), old.close()]);
      }
    });
  });

  describe('caching', () => {
    it('a private upstream list is asked once per caller, and one caller’s never reaches another', async () => {
      const before = new Map(perUser.lists);
      const alice = await modernClient(`${gateway.url}/mcp`, 'alice');
      const bob = await modernClient(`${gateway.url}/mcp`, 'bob');
      const carol = await legacyClient(`${gateway.url}/mcp`, 'carol');
      try {
        const aliceTools = namesOf((await rawModernList(alice)) as { tools: { name: string }[] });
        const bobTools = namesOf((await rawModernList(bob)) as { tools: { name: string }[] });
        const carolTools = namesOf(await carol.listTools());
        const perUserOf = (names: string[]) => names.filter((n) => n.startsWith('per-user__'));
        expect(perUserOf(aliceTools)).toEqual(['per-user__alice_notes', 'per-user__common']);
        expect(perUserOf(bobTools)).toEqual(['per-user__bob_notes', 'per-user__common']);
        expect(perUserOf(carolTools)).toEqual(['per-user__common']);
        // Everything else is as it was: the HTTP tool and the shared federated lists.
        for (const names of [aliceTools, bobTools, carolTools]) {
          expect(names).toEqual(
            expect.arrayContaining(['score', 'everyone__shared', 'traced__probe', 'legacy__echo']),
          );
        }

        // Again, twice: within the upstream's ttlMs each caller's list is served without asking the upstream.
        for (let i = 0; i < 2; i++) {
          expect(perUserOf(namesOf((await rawModernList(alice)) as { tools: { name: string }[] }))).toEqual(
            perUserOf(aliceTools),
          );
          expect(perUserOf(namesOf((await rawModernList(bob)) as { tools: { name: string }[] }))).toEqual(
            perUserOf(bobTools),
          );
        }
        const asked = (user: string) => (perUser.lists.get(user) ?? 0) - (before.get(user) ?? 0);
        expect(asked('alice')).toBe(1);
        expect(asked('bob')).toBe(1);
        expect(asked('carol')).toBe(1);

        // Bob may not call what the upstream lists to alice only; nor anyone what it lists to the router only.
        await expect(
          bob.request({ method: 'tools/call', params: { name: 'per-user__alice_notes', arguments: {} } }),
        ).rejects.toThrow(/Unknown tool/);
        await expect(
          alice.request({ method: 'tools/call', params: { name: 'per-user__internal', arguments: {} } }),
        ).rejects.toThrow(/Unknown tool/);
        const called = (await alice.request({
          method: 'tools/call',
          params: { name: 'per-user__alice_notes', arguments: {} },
        })) as { content: { text: string }[] };
        expect(called.content[0]!.text).toBe('alice_notes for alice');
      } finally {
        await Promise.all([alice.close(), bob.close(), carol.close()]);
      }
    });

    it('a public upstream list is listed once, as the router, for every caller', async () => {
      const alice = await modernClient(`${gateway.url}/mcp`, 'alice');
      const bob = await legacyClient(`${gateway.url}/mcp`, 'bob');
      try {
        for (let i = 0; i < 3; i++) {
          expect(namesOf((await rawModernList(alice)) as { tools: { name: string }[] })).toContain(
            'everyone__shared',
          );
          expect(namesOf(await bob.listTools())).toContain('everyone__shared');
        }
        // Only the router's own listing (within the 10-minute ttlMs: no refresh), never one per caller.
        expect([...everyone.lists.keys()]).toEqual([router]);
        expect(everyone.lists.get(router)).toBe(1);
      } finally {
        await Promise.all([alice.close(), bob.close()]);
      }
    });

    it('the router’s own list answers are private, with a TTL no longer than its registry reads', async () => {
      const alice = await modernClient(`${gateway.url}/mcp`, 'alice');
      const bob = await legacyClient(`${gateway.url}/mcp`, 'bob');
      try {
        const answer = await rawModernList(alice);
        expect(answer.cacheScope).toBe('private');
        expect(answer.ttlMs).toBe(gateway.toolRouter!.settings.registryMaxAgeMs);
        // 2025-era answers carry no cache fields.
        const old = (await bob.listTools()) as Record<string, unknown>;
        expect(old).not.toHaveProperty('cacheScope');
        expect(old).not.toHaveProperty('ttlMs');
      } finally {
        await Promise.all([alice.close(), bob.close()]);
      }
    });
  });
});
