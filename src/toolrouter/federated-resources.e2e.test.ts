/**
 * Resources and MCP Apps through the tool router, end to end with real SDK peers: an SDK 2.x upstream and an
 * SDK 1.x upstream serve the same URIs (notes, a template, two `ui://` views, each linked by a tool), a 2.x
 * resource-only upstream, a tools-only one and one nothing answers for. SDK 2.x (2026-07-28) and SDK 1.x (2025)
 * clients on `/mcp` list and read them under per-adapter URIs; a crafted URI naming no adapter or one the caller
 * may not reach is refused; a view whose tool the policy hides is neither listed nor read; a toolset serves only
 * its tools' resources; the `resources` capability and the MCP Apps extension are offered only where an
 * upstream in scope offers them.
 */
import { Client as LegacyClient } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as LegacyTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ResourceTemplate as LegacyResourceTemplate } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { McpServer as LegacyMcpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import {
  Client as ModernClient,
  StreamableHTTPClientTransport as ModernTransport,
} from '@modelcontextprotocol/client';
import { McpServer, ResourceTemplate, createMcpHandler } from '@modelcontextprotocol/server';
import type { CacheHint } from '@modelcontextprotocol/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UPSTREAM_USER_HEADER, devAuth } from '../auth/index.js';
import { startLegacyMcpServer, startModernMcpServer } from '../../test/mcp-servers.js';
import type { RunningMcpServer } from '../../test/mcp-servers.js';
import { closedPort, serveMcpFetch } from '../../test/http-fixture.js';
import { addToolset, federate, startFederatingGateway } from '../../test/federating-gateway.js';
import { startTestGateway } from '../../test/test-gateway.js';
import type { TestGateway } from '../../test/test-gateway.js';
import { LISTING_PRINCIPAL } from './federation.js';

const APP_MIME = 'text/html;profile=mcp-app';
const UI_EXTENSION = 'io.modelcontextprotocol/ui';

/** What both app upstreams serve, under the same URIs, each text naming its server. */
function registerApp(server: McpServer | LegacyMcpServer, name: string): void {
  // The two SDK lines take the same calls; one signature is enough for the test.
  const s = server as McpServer;
  const Template = (
    server instanceof McpServer ? ResourceTemplate : LegacyResourceTemplate
  ) as typeof ResourceTemplate;
  s.registerResource('first', 'memo://notes/first', { mimeType: 'text/plain' }, async (uri) => ({
    contents: [{ uri: uri.href, mimeType: 'text/plain', text: `first note of ${name}` }],
  }));
  s.registerResource(
    'note',
    new Template('memo://notes/{id}', { list: undefined }),
    { mimeType: 'text/plain' },
    async (uri, variables) => ({
      contents: [{ uri: uri.href, mimeType: 'text/plain', text: `note ${String(variables.id)} of ${name}` }],
    }),
  );
  for (const view of ['view', 'panel']) {
    s.registerResource(view, `ui://dashboard/${view}.html`, { mimeType: APP_MIME }, async (uri) => ({
      contents: [
        { uri: uri.href, mimeType: APP_MIME, text: `<!doctype html><title>${view} of ${name}</title>` },
      ],
    }));
  }
  s.registerTool(
    'show_dashboard',
    { description: 'Shows the dashboard', _meta: { ui: { resourceUri: 'ui://dashboard/view.html' } } },
    async () => ({ content: [{ type: 'text', text: `dashboard of ${name}` }] }),
  );
  s.registerTool(
    'admin_panel',
    { description: 'Opens the admin panel', _meta: { 'ui/resourceUri': 'ui://dashboard/panel.html' } },
    async () => ({ content: [{ type: 'text', text: `panel of ${name}` }] }),
  );
  s.registerTool('link_note', { description: 'Links the first note' }, async () => ({
    content: [
      { type: 'resource_link', uri: 'memo://notes/first', name: 'first' },
      { type: 'resource', resource: { uri: 'memo://notes/first', mimeType: 'text/plain', text: 'inline' } },
    ],
  }));
}

/** An SDK 2.x server with resources and no tools at all. */
async function startResourceOnlyServer(): Promise<{ url: string; close(): Promise<void> }> {
  const handler = createMcpHandler(() => {
    const server = new McpServer({ name: 'docs', version: '2.0.0' });
    server.registerResource('guide', 'docs://guide', { mimeType: 'text/markdown' }, async (uri) => ({
      contents: [{ uri: uri.href, mimeType: 'text/markdown', text: '# The guide' }],
    }));
    return server;
  });
  const http = await serveMcpFetch((request) => handler.fetch(request));
  return {
    url: http.mcpUrl,
    close: http.close,
  };
}

const headersOf = (user: string, roles: string[]) => ({
  'x-dev-userid': user,
  'x-dev-roles': roles.join(','),
});
/** May open the admin panel (the policy lets `ops` use `*__admin_panel`). */
const ALICE = ['alice', ['team', 'ops']] as const;
/** Uses everything of the team but the admin panel. */
const BOB = ['bob', ['team']] as const;
/** Also may read the vaulted adapter. */
const VERA = ['vera', ['team', 'vault']] as const;

async function modernClient(url: string, [user, roles]: readonly [string, readonly string[]]) {
  const client = new ModernClient(
    { name: 'resources-test', version: '2.0.0' },
    { versionNegotiation: { mode: 'auto' } },
  );
  await client.connect(
    new ModernTransport(new URL(url), { requestInit: { headers: headersOf(user, [...roles]) } }),
  );
  return client;
}

async function legacyClient(url: string, [user, roles]: readonly [string, readonly string[]]) {
  const client = new LegacyClient({ name: 'resources-test-legacy', version: '1.0.0' });
  await client.connect(
    new LegacyTransport(new URL(url), { requestInit: { headers: headersOf(user, [...roles]) } }),
  );
  return client;
}

/** The JSON-RPC error a client request ended with. */
async function refusal(call: Promise<unknown>): Promise<{ code: number; message: string }> {
  const err = (await call.then(
    () => undefined,
    (e: unknown) => e,
  )) as { code?: number; message?: string } | undefined;
  expect(err, 'the request was refused').toBeDefined();
  return { code: err!.code!, message: err!.message! };
}

const textOf = (result: { contents: unknown[] }) => (result.contents[0] as { text?: string }).text;

interface Lister {
  listResources(params?: { cursor?: string }): Promise<{ resources: { uri: string }[]; nextCursor?: string }>;
  listTools(params?: {
    cursor?: string;
  }): Promise<{ tools: { name: string; _meta?: unknown }[]; nextCursor?: string }>;
}

/** Every URI the endpoint lists, sorted (page by page: the SDK 1.x client returns one page per call). */
async function allUris(client: Lister): Promise<string[]> {
  const uris: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await client.listResources(cursor === undefined ? undefined : { cursor });
    uris.push(...page.resources.map((r) => r.uri));
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return uris.sort();
}

/** Every tool the endpoint lists, page by page. */
async function allTools(client: Lister): Promise<{ name: string; _meta?: unknown }[]> {
  const tools: { name: string; _meta?: unknown }[] = [];
  let cursor: string | undefined;
  do {
    const page = await client.listTools(cursor === undefined ? undefined : { cursor });
    tools.push(...page.tools);
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return tools;
}

describe('resources and MCP Apps through the tool router', () => {
  let gateway: TestGateway;
  let app2: RunningMcpServer;
  let app1: RunningMcpServer;
  let vaulted: RunningMcpServer;
  let plain: RunningMcpServer;
  let docs: { url: string; close(): Promise<void> };
  /** The SDK 1.x upstream's per-session servers (the router's listing session among them). */
  const app1Sessions: LegacyMcpServer[] = [];

  beforeAll(async () => {
    app2 = await startModernMcpServer({
      name: 'app2',
      capabilities: { extensions: { [UI_EXTENSION]: { mimeTypes: [APP_MIME] } } },
      register: (server) => registerApp(server, 'app2'),
    });
    app1 = await startLegacyMcpServer({
      name: 'app1',
      register: (server) => {
        registerApp(server, 'app1');
        app1Sessions.push(server);
      },
    });
    vaulted = await startModernMcpServer({
      name: 'vaulted',
      register: (server) => registerApp(server, 'vaulted'),
    });
    plain = await startModernMcpServer({ name: 'plain' });
    docs = await startResourceOnlyServer();
    gateway = await startFederatingGateway({ pageSize: 4 });
    await federate(gateway, 'app2', app2.url);
    await federate(gateway, 'app1', app1.url);
    await federate(gateway, 'vaulted', vaulted.url, ['vault']);
    await federate(gateway, 'plain', plain.url);
    await federate(gateway, 'docs', docs.url);
    // A resource server (no tools) only some may read.
    await federate(gateway, 'vault-docs', docs.url, ['vault']);
    await federate(gateway, 'gone', `http://127.0.0.1:${await closedPort()}/mcp`);
    for (const [name, tools] of [
      ['app2-only', ['app2__*']],
      ['app1-only', ['app1__*']],
      ['plain-only', ['plain__*']],
    ] as const) {
      await addToolset(gateway, name, tools);
    }
  });

  afterAll(async () => {
    await gateway?.close();
    await Promise.all([app2, app1, vaulted, plain, docs].map((s) => s?.close()));
  });

  it('lists the resources of every upstream in scope under per-adapter URIs, to an SDK 2.x client', async () => {
    const client = await modernClient(`${gateway.url}/mcp`, ALICE);
    try {
      expect(await allUris(client)).toEqual([
        'docs://docs/guide',
        'memo://app1/notes/first',
        'memo://app2/notes/first',
        'ui://app1/dashboard/panel.html',
        'ui://app1/dashboard/view.html',
        'ui://app2/dashboard/panel.html',
        'ui://app2/dashboard/view.html',
      ]);
      const templates = (await client.listResourceTemplates()).resourceTemplates.map((t) => t.uriTemplate);
      expect(templates.sort()).toEqual(['memo://app1/notes/{id}', 'memo://app2/notes/{id}']);
    } finally {
      await client.close();
    }
  });

  it('reads each upstream’s resource under its own URI: two upstreams with the same URI never collide', async () => {
    for (const connect of [modernClient, legacyClient]) {
      const client = await connect(`${gateway.url}/mcp`, BOB);
      try {
        const first2 = await client.readResource({ uri: 'memo://app2/notes/first' });
        expect(textOf(first2)).toBe('first note of app2');
        expect(first2.contents[0]!.uri).toBe('memo://app2/notes/first');
        expect(textOf(await client.readResource({ uri: 'memo://app1/notes/first' }))).toBe(
          'first note of app1',
        );
        // A template's expansion goes to its upstream.
        expect(textOf(await client.readResource({ uri: 'memo://app1/notes/7' }))).toBe('note 7 of app1');
        expect(textOf(await client.readResource({ uri: 'docs://docs/guide' }))).toBe('# The guide');
      } finally {
        await client.close();
      }
    }
  });

  it('links each tool to its own upstream’s app view, which the client reads through the router', async () => {
    for (const connect of [modernClient, legacyClient]) {
      const client = await connect(`${gateway.url}/mcp`, ALICE);
      try {
        const tools = await allTools(client);
        const meta = (name: string) =>
          tools.find((t) => t.name === name)?._meta as {
            ui: { resourceUri: string };
            'ui/resourceUri': string;
          };
        expect(meta('app2__show_dashboard').ui.resourceUri).toBe('ui://app2/dashboard/view.html');
        expect(meta('app1__show_dashboard').ui.resourceUri).toBe('ui://app1/dashboard/view.html');
        expect(meta('app1__admin_panel')['ui/resourceUri']).toBe('ui://app1/dashboard/panel.html');
        const view = await client.readResource({ uri: meta('app2__show_dashboard').ui.resourceUri });
        expect(view.contents[0]).toMatchObject({
          uri: 'ui://app2/dashboard/view.html',
          mimeType: APP_MIME,
          text: '<!doctype html><title>view of app2</title>',
        });
        const legacyView = await client.readResource({ uri: 'ui://app1/dashboard/view.html' });
        expect(textOf(legacyView)).toBe('<!doctype html><title>view of app1</title>');
      } finally {
        await client.close();
      }
    }
  });

  it('names resource links and embedded resources of tool results as the router shows them', async () => {
    for (const connect of [modernClient, legacyClient]) {
      const client = await connect(`${gateway.url}/mcp`, BOB);
      try {
        for (const adapter of ['app1', 'app2']) {
          const result = (await client.callTool({ name: `${adapter}__link_note`, arguments: {} })) as {
            content: { type: string; uri?: string; resource?: { uri: string } }[];
          };
          expect(result.content[0]).toMatchObject({
            type: 'resource_link',
            uri: `memo://${adapter}/notes/first`,
          });
          expect(result.content[1]!.resource?.uri).toBe(`memo://${adapter}/notes/first`);
          const read = await client.readResource({ uri: result.content[0]!.uri as string });
          expect(textOf(read)).toBe(`first note of ${adapter}`);
        }
      } finally {
        await client.close();
      }
    }
  });

  it('refuses a crafted URI naming no adapter or one the caller may not reach, alike', async () => {
    for (const connect of [modernClient, legacyClient]) {
      const client = await connect(`${gateway.url}/mcp`, BOB);
      try {
        for (const uri of [
          'memo://notes/first',
          'memo://vaulted/notes/first',
          'ui://vaulted/dashboard/view.html',
          'memo://nobody/notes/first',
          'memo://%61pp1/notes/first',
          'docs://vault-docs/guide',
          'not a uri',
        ]) {
          const refused = await refusal(client.readResource({ uri }));
          expect(refused.code, uri).toBe(-32602);
          expect(refused.message, uri).toContain('Resource not found');
        }
        expect((await allUris(client)).filter((u) => u.includes('vault'))).toEqual([]);
      } finally {
        await client.close();
      }
      // The same URI is read by a caller who may use the vaulted adapter: the refusal was the scope.
      const vera = await connect(`${gateway.url}/mcp`, VERA);
      try {
        expect(textOf(await vera.readResource({ uri: 'docs://vault-docs/guide' }))).toBe('# The guide');
        expect(textOf(await vera.readResource({ uri: 'memo://vaulted/notes/first' }))).toBe(
          'first note of vaulted',
        );
      } finally {
        await vera.close();
      }
    }
  });

  it('hides an app view from a caller whose policy hides its tool, in the list and on read', async () => {
    for (const connect of [modernClient, legacyClient]) {
      const bob = await connect(`${gateway.url}/mcp`, BOB);
      try {
        expect((await allTools(bob)).map((t) => t.name)).not.toContain('app2__admin_panel');
        const uris = await allUris(bob);
        expect(uris).toContain('ui://app2/dashboard/view.html');
        expect(uris).not.toContain('ui://app2/dashboard/panel.html');
        expect(uris).not.toContain('ui://app1/dashboard/panel.html');
        const refused = await refusal(bob.readResource({ uri: 'ui://app2/dashboard/panel.html' }));
        expect(refused.code).toBe(-32602);
      } finally {
        await bob.close();
      }
      const alice = await connect(`${gateway.url}/mcp`, ALICE);
      try {
        expect(textOf(await alice.readResource({ uri: 'ui://app2/dashboard/panel.html' }))).toContain(
          'panel of app2',
        );
      } finally {
        await alice.close();
      }
    }
  });

  it('serves on a toolset only the resources of its tools’ adapters', async () => {
    for (const connect of [modernClient, legacyClient]) {
      const client = await connect(`${gateway.url}/toolsets/app2-only/mcp`, BOB);
      try {
        expect(await allUris(client)).toEqual(['memo://app2/notes/first', 'ui://app2/dashboard/view.html']);
        expect(textOf(await client.readResource({ uri: 'memo://app2/notes/first' }))).toBe(
          'first note of app2',
        );
        for (const uri of ['memo://app1/notes/first', 'docs://docs/guide']) {
          expect((await refusal(client.readResource({ uri }))).code, uri).toBe(-32602);
        }
      } finally {
        await client.close();
      }
    }
  });

  it('offers resources and the MCP Apps extension only where an upstream in scope offers them', async () => {
    const capabilitiesAt = async (path: string, connect: typeof modernClient | typeof legacyClient) => {
      const client = await connect(`${gateway.url}${path}`, BOB);
      try {
        return client.getServerCapabilities() as {
          resources?: unknown;
          extensions?: Record<string, unknown>;
        };
      } finally {
        await client.close();
      }
    };
    for (const connect of [modernClient, legacyClient]) {
      const all = await capabilitiesAt('/mcp', connect);
      expect(all.resources).toBeDefined();
      expect(all.extensions?.[UI_EXTENSION]).toEqual({ mimeTypes: [APP_MIME] });
      const app1Only = await capabilitiesAt('/toolsets/app1-only/mcp', connect);
      expect(app1Only.resources).toBeDefined();
      expect(app1Only.extensions?.[UI_EXTENSION]).toBeUndefined();
      const plainOnly = await capabilitiesAt('/toolsets/plain-only/mcp', connect);
      expect(plainOnly.resources).toBeUndefined();
      expect(plainOnly.extensions?.[UI_EXTENSION]).toBeUndefined();
    }
    // Not offered, not served: the method is unknown there.
    const client = await legacyClient(`${gateway.url}/toolsets/plain-only/mcp`, BOB);
    try {
      expect(
        (await refusal(client.request({ method: 'resources/list', params: {} }, {} as never))).code,
      ).toBe(-32601);
    } finally {
      await client.close();
    }
  });

  it('pages the merged list with its own cursors, and refuses a cursor it did not make', async () => {
    const client = await modernClient(`${gateway.url}/mcp`, ALICE);
    try {
      const seen: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        // One page at a time, as the wire has it (the SDK's listResources() walks them all itself).
        const page = (await client.request({
          method: 'resources/list',
          params: cursor === undefined ? {} : { cursor },
        })) as { resources: { uri: string }[]; nextCursor?: string };
        seen.push(...page.resources.map((r) => r.uri));
        cursor = page.nextCursor;
        pages++;
      } while (cursor !== undefined);
      expect(pages).toBe(2);
      expect(seen).toEqual(await allUris(client));
      const refused = await refusal(
        client.request({ method: 'resources/list', params: { cursor: 't1.bm9wZQ' } }),
      );
      expect(refused.code).toBe(-32602);
    } finally {
      await client.close();
    }
  });

  it('lists a resource an upstream adds as soon as it announces the change', async () => {
    const client = await legacyClient(`${gateway.url}/mcp`, BOB);
    try {
      expect(await allUris(client)).not.toContain('memo://app1/notes/late');
      // Registering on a connected SDK 1.x server sends notifications/resources/list_changed on its sessions.
      for (const server of app1Sessions) {
        server.registerResource('late', 'memo://notes/late', { mimeType: 'text/plain' }, async (uri) => ({
          contents: [{ uri: uri.href, text: 'a late note' }],
        }));
      }
      // The announcement reaches the router's listing session asynchronously; within the refresh time
      // (5 minutes) only the announcement can bring the new resource.
      const deadline = Date.now() + 30_000;
      while (!(await allUris(client)).includes('memo://app1/notes/late')) {
        if (Date.now() > deadline) throw new Error('the new resource was never listed');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(textOf(await client.readResource({ uri: 'memo://app1/notes/late' }))).toBe('a late note');
    } finally {
      await client.close();
    }
  });

  it('leaves an unreachable upstream out of the list and names it when a read of it fails', async () => {
    const client = await legacyClient(`${gateway.url}/mcp`, BOB);
    try {
      expect(await allUris(client)).toContain('docs://docs/guide');
      const refused = await refusal(client.readResource({ uri: 'memo://gone/notes/first' }));
      expect(refused.message).toContain("Adapter 'gone'");
    } finally {
      await client.close();
    }
  });
});

/** An SDK 2.x upstream whose resources depend on who asks (the gateway's identity header), counting its lists. */
async function startCountingNotes(hint: CacheHint) {
  const lists = new Map<string, number>();
  const handler = createMcpHandler(
    (ctx) => {
      const user = String((ctx.authInfo?.extra as { user?: string } | undefined)?.user ?? '');
      const server = new McpServer(
        { name: 'notes', version: '2.0.0' },
        { cacheHints: { 'resources/list': hint } },
      );
      server.registerTool('noop', { description: 'Does nothing' }, async () => ({ content: [] }));
      server.registerResource('mine', `memo://notes/${user}`, { mimeType: 'text/plain' }, async (uri) => ({
        contents: [{ uri: uri.href, text: `notes of ${user}` }],
      }));
      return server;
    },
    { legacy: 'stateless' },
  );
  const http = await serveMcpFetch((request, c) => {
    const user = decodeURIComponent(c.req.header(UPSTREAM_USER_HEADER) ?? '');
    if (c.req.header('mcp-method') === 'resources/list') lists.set(user, (lists.get(user) ?? 0) + 1);
    return handler.fetch(request, { authInfo: { token: '', clientId: user, scopes: [], extra: { user } } });
  });
  return {
    url: http.mcpUrl,
    lists,
    close: http.close,
  };
}

describe('resource lists through the tool router, cached by the rules', () => {
  let gateway: TestGateway;
  let shared: Awaited<ReturnType<typeof startCountingNotes>>;
  let own: Awaited<ReturnType<typeof startCountingNotes>>;
  const router = LISTING_PRINCIPAL.userId;

  beforeAll(async () => {
    shared = await startCountingNotes({ ttlMs: 600_000, cacheScope: 'public' });
    own = await startCountingNotes({ ttlMs: 600_000, cacheScope: 'private' });
    gateway = await startTestGateway({ authenticate: devAuth(), toolRouter: {} });
    for (const [name, url] of [
      ['shared', shared.url],
      ['own', own.url],
    ] as const) {
      const res = await fetch(`${gateway.url}/adapters`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headersOf('admin', ['mcp.admin']) },
        body: JSON.stringify({ name, endpoints: [url], federate: true, requiredRoles: ['team'] }),
      });
      expect(res.status, await res.clone().text()).toBe(201);
    }
  });

  afterAll(async () => {
    await gateway?.close();
    await Promise.all([shared, own].map((s) => s?.close()));
  });

  it('lists a public upstream once for everyone, a private one once per caller, never one caller’s to another', async () => {
    const results = new Map<string, string[]>();
    for (const user of ['alice', 'bob']) {
      for (let round = 0; round < 2; round++) {
        const client = await modernClient(`${gateway.url}/mcp`, [user, ['team']]);
        try {
          // The wire answer: filtered by identity, so private, whatever the upstreams said.
          const raw = (await client.request({ method: 'resources/list', params: {} })) as Record<
            string,
            unknown
          >;
          expect(raw.cacheScope).toBe('private');
          results.set(user, await allUris(client));
        } finally {
          await client.close();
        }
      }
    }
    expect(results.get('alice')).toEqual(['memo://own/notes/alice', `memo://shared/notes/${router}`]);
    expect(results.get('bob')).toEqual(['memo://own/notes/bob', `memo://shared/notes/${router}`]);
    // The public list was asked once, as the router; the private one once as the router, then once per caller.
    expect(Object.fromEntries(shared.lists)).toEqual({ [router]: 1 });
    expect(Object.fromEntries(own.lists)).toEqual({ [router]: 1, alice: 1, bob: 1 });
    // A caller reads their own notes of the private upstream, as themselves.
    const bob = await legacyClient(`${gateway.url}/mcp`, ['bob', ['team']]);
    try {
      expect(textOf(await bob.readResource({ uri: 'memo://own/notes/bob' }))).toBe('notes of bob');
    } finally {
      await bob.close();
    }
  });
});
