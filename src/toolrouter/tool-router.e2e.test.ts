/**
 * The tool router at `/mcp` end to end: a real gateway on a socket, SDK clients of both lines, a registered HTTP
 * tool server (the sample), federated adapters built on both SDK lines, and what goes wrong around them —
 * permissions, a failing adapter among healthy ones, list changes reaching connected clients (also across two
 * gateway instances sharing a registry), 1,000 tools across pages.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SCORE_TOOL, startScoreServer } from '../../scripts/samples/score-server.js';
import type { ScoreServer } from '../../scripts/samples/score-server.js';
import { devAuth } from '../auth/index.js';
import { openRegistryStore } from '../registry/index.js';
import type { JsonObject } from '../registry/index.js';
import { closedPort, startHttpServer } from '../../test/http-fixture.js';
import type { RunningServer } from '../../test/http-fixture.js';
import { CLIENT_ERAS, connectLegacyClient, connectModernClient } from '../../test/mcp-clients.js';
import type { TestMcpClient } from '../../test/mcp-clients.js';
import { startLegacyMcpServer, startModernMcpServer } from '../../test/mcp-servers.js';
import type { RunningMcpServer } from '../../test/mcp-servers.js';
import { startTestGateway } from '../../test/test-gateway.js';
import type { TestGateway } from '../../test/test-gateway.js';

const textOf = (result: Record<string, unknown>) =>
  ((result.content as { type: string; text?: string }[] | undefined) ?? []).map((c) => c.text ?? '').join('');

/** Calls the control plane as a dev-auth user. */
async function register(
  gateway: TestGateway,
  kind: 'tools' | 'adapters',
  body: Record<string, unknown>,
  user = 'alice',
  method: 'POST' | 'PUT' = 'POST',
): Promise<void> {
  const path = method === 'PUT' ? `/${kind}/${String(body.name)}` : `/${kind}`;
  const res = await fetch(`${gateway.url}${path}`, {
    method,
    headers: { 'content-type': 'application/json', 'x-dev-userid': user, 'x-dev-roles': '' },
    body: JSON.stringify(body),
  });
  if (res.status !== (method === 'POST' ? 201 : 200)) {
    throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  }
}

/** Waits until the gateway's router has exactly `count` list-change listeners (streams and subscriptions). */
async function listening(gateway: TestGateway, count: number, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (gateway.toolRouter?.listeners() !== count) {
    if (Date.now() > deadline) {
      throw new Error(`expected ${count} list-change listeners, have ${gateway.toolRouter?.listeners()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/**
 * Waits until each federated adapter's listing is in: a listing runs in the background, and on a busy machine the
 * first one can time out and be retried a second later, which the tests that read a settled list must not see.
 */
async function federationListed(
  gateway: TestGateway,
  adapters: readonly string[],
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (const adapter of adapters) {
    for (;;) {
      if (gateway.toolRouter?.federationStatus(adapter)?.state === 'listed') break;
      if (Date.now() > deadline) {
        throw new Error(`${adapter}: ${JSON.stringify(gateway.toolRouter?.federationStatus(adapter))}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

const as = (user: string, roles: string[] = []) => ({
  headers: { 'x-dev-userid': user, 'x-dev-roles': roles.join(',') },
});

const scoreBody = (name: string, url: string, extra: Record<string, unknown> = {}) => ({
  name,
  endpoints: [url],
  toolDefinition: { tool: { ...SCORE_TOOL, name } },
  ...extra,
});

describe('tool router: registered tools and federated adapters, both eras', () => {
  let gateway: TestGateway;
  let score: ScoreServer;
  let legacy: RunningMcpServer;
  let modern: RunningMcpServer;
  let broken: RunningServer;

  beforeAll(async () => {
    score = await startScoreServer();
    legacy = await startLegacyMcpServer({ name: 'legacy-upstream' });
    modern = await startModernMcpServer({ name: 'modern-upstream' });
    // Answers 2xx with a body that breaks the declared outputSchema, or an HTTP error, by path.
    broken = await startHttpServer((req, res) => {
      req.resume();
      if (req.url === '/wrong-shape') {
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"score":"high"}');
      } else if (req.url === '/plain') {
        res.writeHead(200, { 'content-type': 'text/plain' }).end('just text');
      } else {
        res.writeHead(503, { 'content-type': 'text/plain' }).end('model is warming up');
      }
    });
    gateway = await startTestGateway({ authenticate: devAuth(), toolRouter: {} });
    await register(gateway, 'tools', scoreBody('score', score.url));
    await register(gateway, 'tools', scoreBody('shape', `${broken.url}/wrong-shape`));
    await register(gateway, 'tools', {
      name: 'plain',
      endpoints: [`${broken.url}/plain`],
      toolDefinition: { tool: { name: 'plain', inputSchema: { type: 'object' } } },
    });
    await register(gateway, 'tools', {
      name: 'warming',
      endpoints: [`${broken.url}/warming`],
      toolDefinition: { tool: { name: 'warming', inputSchema: { type: 'object' } } },
    });
    await register(gateway, 'adapters', { name: 'legacy', endpoints: [legacy.url], federate: true });
    await register(gateway, 'adapters', { name: 'modern', endpoints: [modern.url], federate: true });
    // Not federated: its tools stay behind /adapters/quiet/mcp.
    await register(gateway, 'adapters', { name: 'quiet', endpoints: [modern.url] });
    await federationListed(gateway, ['legacy', 'modern']);
  });
  afterAll(async () => {
    await gateway?.close();
    await Promise.all([score?.close(), legacy?.close(), modern?.close(), broken?.close()]);
  });

  describe.each(CLIENT_ERAS)('%s client', (_era, connect) => {
    let client: TestMcpClient;
    beforeAll(async () => {
      client = await connect(`${gateway.url}/mcp`, as('alice'));
    });
    afterAll(async () => {
      await client?.close();
    });

    it('lists registered tools and federated adapter tools, named {adapter}__{tool}, in name order', async () => {
      const { names } = await client.listAll();
      expect(names).toEqual(
        expect.arrayContaining(['score', 'legacy__echo', 'legacy__count', 'modern__echo', 'modern__whoami']),
      );
      expect(names.some((n) => n.startsWith('quiet__'))).toBe(false);
      expect(names).toEqual([...names].sort());
      const page = await client.listPage();
      const listed = page.tools.find((t) => t.name === 'score') as unknown as typeof SCORE_TOOL;
      expect(listed.outputSchema).toEqual(SCORE_TOOL.outputSchema);
      expect(listed.annotations).toEqual(SCORE_TOOL.annotations);
    });

    it('calls a registered tool: the JSON answer becomes structuredContent plus text', async () => {
      const result = await client.call('score', { text: 'a great and wonderful day' });
      expect(result.isError).toBeFalsy();
      expect(result.structuredContent).toEqual({ score: expect.any(Number), label: 'positive', words: 5 });
      expect(JSON.parse(textOf(result))).toEqual(result.structuredContent);
    });

    it('turns a broken answer into isError results with a clear message, not protocol errors', async () => {
      const shape = await client.call('shape', { text: 'fine' });
      expect(shape.isError).toBe(true);
      expect(textOf(shape)).toMatch(/does not match its outputSchema/);
      const warming = await client.call('warming', {});
      expect(warming.isError).toBe(true);
      expect(textOf(warming)).toBe(
        "Tool 'warming' failed: its server answered HTTP 503 Service Unavailable: model is warming up",
      );
      const plain = await client.call('plain', {});
      expect(plain.isError).toBeFalsy();
      expect(textOf(plain)).toBe('just text');
      expect(plain.structuredContent).toBeUndefined();
    });

    it('calls federated tools on both upstream lines, passing progress through', async () => {
      expect(textOf(await client.call('legacy__echo', { text: 'via legacy' }))).toBe('via legacy');
      expect(textOf(await client.call('modern__echo', { text: 'via modern' }))).toBe('via modern');
      const progress: number[] = [];
      const counted = await client.call('legacy__count', { n: 4 }, (p) => progress.push(p.progress));
      expect(textOf(counted)).toBe('counted to 4');
      expect(progress).toEqual([1, 2, 3, 4]);
    });

    it('tells the upstream who calls, never with the caller’s credentials', async () => {
      const result = await client.call('legacy__whoami', {});
      const { headers } = JSON.parse(textOf(result)) as { headers: Record<string, string> };
      expect(headers['x-mcp-userid']).toBe('alice');
      expect(headers.authorization).toBeUndefined();
      expect(headers['x-dev-userid']).toBeUndefined();
    });

    it('refuses an unknown tool and a foreign cursor with Invalid Params', async () => {
      await expect(client.call('nope', {})).rejects.toMatchObject({ code: -32602 });
      await expect(client.listPage('not-a-cursor')).rejects.toMatchObject({ code: -32602 });
    });
  });

  it('answers GET without an event-stream Accept with 406 and DELETE with 405 (stateless: no sessions)', async () => {
    const get = await fetch(`${gateway.url}/mcp`, { headers: { accept: 'application/json' } });
    expect(get.status).toBe(406);
    const del = await fetch(`${gateway.url}/mcp`, { method: 'DELETE' });
    expect(del.status).toBe(405);
  });

  it('refuses a foreign Origin with 403 (DNS-rebinding protection, as on the data plane)', async () => {
    const res = await fetch(`${gateway.url}/mcp`, {
      method: 'POST',
      headers: { origin: 'https://evil.example', 'content-type': 'application/json' },
      body: '{}',
    });
    expect(res.status).toBe(403);
  });

  it('shows a federated adapter’s listing in its status', async () => {
    const res = await fetch(`${gateway.url}/adapters/legacy/status`, as('alice'));
    const status = (await res.json()) as { federation?: { state: string; tools: number } };
    expect(status.federation).toMatchObject({ state: 'listed', tools: 6 });
    const quiet = (await (await fetch(`${gateway.url}/adapters/quiet/status`, as('alice'))).json()) as object;
    expect(quiet).not.toHaveProperty('federation');
  });
});

describe('tool router: permissions', () => {
  let gateway: TestGateway;
  let score: ScoreServer;
  let upstream: RunningMcpServer;

  beforeAll(async () => {
    score = await startScoreServer();
    upstream = await startModernMcpServer({ name: 'team-upstream' });
    gateway = await startTestGateway({ authenticate: devAuth(), toolRouter: {} });
    await register(gateway, 'tools', scoreBody('alice-only', score.url), 'alice');
    await register(gateway, 'tools', scoreBody('team-tool', score.url, { requiredRoles: ['team'] }), 'alice');
    await register(gateway, 'adapters', {
      name: 'team',
      endpoints: [upstream.url],
      federate: true,
      requiredRoles: ['team'],
    });
  });
  afterAll(async () => {
    await gateway?.close();
    await score?.close();
    await upstream?.close();
  });

  it.each(CLIENT_ERAS)('lists and calls only what the caller may read (%s)', async (_era, connect) => {
    const alice = await connect(`${gateway.url}/mcp`, as('alice'));
    const member = await connect(`${gateway.url}/mcp`, as('bob', ['team']));
    const outsider = await connect(`${gateway.url}/mcp`, as('carol', ['other']));
    const admin = await connect(`${gateway.url}/mcp`, as('dana', ['mcp.admin']));
    try {
      // The creator reads what she registered, whatever its roles.
      expect((await alice.listAll()).names).toEqual([
        'alice-only',
        'team-tool',
        'team__echo',
        'team__whoami',
      ]);
      expect((await member.listAll()).names).toEqual(['team-tool', 'team__echo', 'team__whoami']);
      expect((await outsider.listAll()).names).toEqual([]);
      expect((await admin.listAll()).names).toHaveLength(4);
      expect((await member.call('team-tool', { text: 'fine' })).isError).toBeFalsy();
      // Not a tool the caller may use: the same answer as a tool that does not exist.
      await expect(outsider.call('team-tool', { text: 'x' })).rejects.toMatchObject({ code: -32602 });
      await expect(outsider.call('team__echo', { text: 'x' })).rejects.toMatchObject({ code: -32602 });
      await expect(member.call('alice-only', { text: 'x' })).rejects.toMatchObject({ code: -32602 });
    } finally {
      await Promise.all([alice.close(), member.close(), outsider.close(), admin.close()]);
    }
  });
});

describe('tool router: a failing adapter among healthy ones', () => {
  let gateway: TestGateway;
  let healthy: RunningMcpServer;
  let replacement: RunningMcpServer;
  let silent: RunningServer;
  let refusedUrl: string;

  beforeAll(async () => {
    healthy = await startLegacyMcpServer({ name: 'healthy' });
    replacement = await startModernMcpServer({ name: 'replacement' });
    // Accepts connections and never answers: a hung upstream.
    silent = await startHttpServer(() => undefined);
    refusedUrl = `http://127.0.0.1:${await closedPort()}/mcp`;
    gateway = await startTestGateway({ authenticate: devAuth(), toolRouter: { listTimeoutMs: 700 } });
    await register(gateway, 'adapters', { name: 'healthy', endpoints: [healthy.url], federate: true });
    await register(gateway, 'adapters', { name: 'down', endpoints: [refusedUrl], federate: true });
    await register(gateway, 'adapters', { name: 'hung', endpoints: [`${silent.url}/mcp`], federate: true });
  });
  afterAll(async () => {
    await gateway?.close();
    await Promise.all([healthy?.close(), replacement?.close(), silent?.close()]);
  });

  it('serves the healthy adapter’s tools at once, leaves the others out and says why in their status', async () => {
    const client = await connectLegacyClient(`${gateway.url}/mcp`, as('alice'));
    try {
      // The first listing waits for the hung adapter at most the listing timeout (without it, this never ends).
      const { names } = await client.listAll();
      expect(names.length).toBeGreaterThan(0);
      expect(names.every((n) => n.startsWith('healthy__'))).toBe(true);

      const federationOf = async (adapter: string) =>
        (
          (await (await fetch(`${gateway.url}/adapters/${adapter}/status`, as('alice'))).json()) as {
            federation: { state: string; error?: string; checkedAt?: string };
          }
        ).federation;
      // On a busy machine the first list can be answered before the hung adapter's listing has timed out.
      let hungBefore = await federationOf('hung');
      for (const deadline = Date.now() + 30_000; hungBefore.state !== 'failed' && Date.now() < deadline;) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        hungBefore = await federationOf('hung');
      }
      expect((await client.listAll()).names).toEqual(names);
      // Failures are remembered: later listings do not wait for the failing adapters again. Waiting on the hung
      // one would mean listing it to the end (its 700 ms timeout) before answering, which records a new check;
      // a retry that came due meanwhile runs in the background and has not ended when the list is answered.
      const hung = await federationOf('hung');
      expect(hung.checkedAt).toBe(hungBefore.checkedAt);

      expect(hung).toMatchObject({ state: 'failed', error: expect.stringMatching(/700 ms/) });
      // Refused: failed, and once a retry finds the refusing replica taken out of the ready set, pending for
      // want of one (a retry comes due 1 s after the refusal, so either may show by now).
      expect(await federationOf('down')).toMatchObject({
        state: expect.stringMatching(/^(failed|pending)$/),
        error: expect.any(String),
      });

      // Repaired (pointed at a working server): its tools join the list and connected clients hear of it.
      await listening(gateway, 1);
      const changed = client.nextChange(8000);
      await register(
        gateway,
        'adapters',
        { name: 'down', endpoints: [replacement.url], federate: true },
        'alice',
        'PUT',
      );
      await changed;
      expect((await client.listAll()).names).toEqual(expect.arrayContaining(['down__echo', 'healthy__echo']));
    } finally {
      await client.close();
    }
  });
});

describe('tool router: list changes reach connected clients', () => {
  let gateway: TestGateway;
  let score: ScoreServer;

  beforeAll(async () => {
    score = await startScoreServer();
    gateway = await startTestGateway({ authenticate: devAuth(), toolRouter: {} });
    await register(gateway, 'tools', scoreBody('first', score.url));
  });
  afterAll(async () => {
    await gateway?.close();
    await score?.close();
  });

  it.each(CLIENT_ERAS)(
    'adds, changes and removes a tool while a %s client is connected',
    async (_era, connect) => {
      const client = await connect(`${gateway.url}/mcp`, as('alice'));
      try {
        await client.listAll();
        let next = client.nextChange();
        await register(gateway, 'tools', scoreBody('added', score.url));
        await next;
        expect((await client.listAll()).names).toContain('added');

        next = client.nextChange();
        await register(
          gateway,
          'tools',
          scoreBody('added', score.url, { description: 'changed' }),
          'alice',
          'PUT',
        );
        // The description of the resource is not part of the MCP definition: change the definition itself.
        await register(
          gateway,
          'tools',
          {
            ...scoreBody('added', score.url),
            toolDefinition: {
              tool: { ...SCORE_TOOL, name: 'added', description: 'Now scores differently.' },
            },
          },
          'alice',
          'PUT',
        );
        await next;

        next = client.nextChange();
        const res = await fetch(`${gateway.url}/tools/added`, { method: 'DELETE', ...as('alice') });
        expect(res.status).toBe(204);
        await next;
        expect((await client.listAll()).names).not.toContain('added');
      } finally {
        await client.close();
      }
    },
  );

  it('on the legacy stream, a caller hears only of changes to what they can see', async () => {
    const alice = await connectLegacyClient(`${gateway.url}/mcp`, as('alice'));
    const bob = await connectLegacyClient(`${gateway.url}/mcp`, as('bob'));
    try {
      await alice.listAll();
      const before = bob.changes;
      const heard = alice.nextChange();
      await register(gateway, 'tools', scoreBody('private-to-alice', score.url));
      await heard;
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(bob.changes).toBe(before);
    } finally {
      await Promise.all([alice.close(), bob.close()]);
      await listening(gateway, 0);
    }
  });

  it('tells a legacy client that reconnects with an outdated Last-Event-ID at once', async () => {
    const open = (lastEventId?: string) =>
      fetch(`${gateway.url}/mcp`, {
        headers: {
          accept: 'text/event-stream',
          'x-dev-userid': 'alice',
          ...(lastEventId && { 'last-event-id': lastEventId }),
        },
      });
    const read = async (res: Response) => {
      const reader = res.body!.getReader();
      let text = '';
      const deadline = Date.now() + 1000;
      while (Date.now() < deadline && !/\n\n.*\n\n/s.test(text)) {
        const { value, done } = await Promise.race([
          reader.read(),
          new Promise<{ value: undefined; done: true }>((r) =>
            setTimeout(() => r({ value: undefined, done: true }), 300),
          ),
        ]);
        if (done) break;
        text += new TextDecoder().decode(value);
      }
      await reader.cancel();
      return text;
    };
    const fresh = await read(await open());
    const id = /id: (\S+)/.exec(fresh)?.[1];
    expect(id).toBeDefined();
    expect(fresh).not.toContain('list_changed');
    expect(await read(await open(id))).not.toContain('list_changed');
    expect(await read(await open('0-0'))).toContain('notifications/tools/list_changed');
  });
});

describe('tool router: two gateway instances sharing a registry', () => {
  const folder = mkdtempSync(join(tmpdir(), 'mcpgw-router-'));
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

  async function pair(databaseUrl: string) {
    for (let i = 0; i < 2; i++) {
      const store = await openRegistryStore(databaseUrl, { changePollMs: 50 });
      const gateway = await startTestGateway({ store, authenticate: devAuth(), toolRouter: { pageSize: 1 } });
      const close = gateway.close.bind(gateway);
      gateways.push({ ...gateway, close: () => close().then(() => store.close()) });
    }
    return gateways as [TestGateway, TestGateway];
  }

  async function seesOtherInstancesWrites(databaseUrl: string) {
    const [a, b] = await pair(databaseUrl);
    await register(a, 'tools', scoreBody('shared-1', score.url));
    await register(a, 'tools', scoreBody('shared-2', score.url));
    for (const connect of [connectLegacyClient, connectModernClient]) {
      const onA = await connect(`${a.url}/mcp`, as('alice'));
      const onB = await connect(`${b.url}/mcp`, as('alice'));
      try {
        // A cursor from one instance continues on the other (pages of one tool here).
        const first = await onA.listPage();
        expect(first.tools.map((t) => t.name)).toEqual(['shared-1']);
        const second = await onB.listPage(first.nextCursor);
        expect(second.tools.map((t) => t.name)).toEqual(['shared-2']);

        await listening(b, 1);
        const next = onB.nextChange(5000);
        const name = `shared-${onB.era}`;
        await register(a, 'tools', scoreBody(name, score.url));
        await next;
        expect((await onB.listAll()).names).toContain(name);
      } finally {
        await Promise.all([onA.close(), onB.close()]);
        await listening(b, 0);
      }
    }
  }

  it('on one SQLite file: a write through one instance reaches clients of the other', async () => {
    await seesOtherInstancesWrites(join(folder, 'shared.db'));
  });

  const postgres = process.env.TEST_DATABASE_URL;
  it.skipIf(!postgres)('on Postgres (LISTEN/NOTIFY): the same (set TEST_DATABASE_URL to run)', async () => {
    const { TestDatabases } = await import('../../test/postgres-databases.js');
    const databases = new TestDatabases(postgres ?? '');
    try {
      await seesOtherInstancesWrites(await databases.create());
      await Promise.all(gateways.splice(0).map((g) => g.close()));
    } finally {
      await databases.dropAll();
    }
  });
});

describe('tool router: 1,000 registered tools', () => {
  let gateway: TestGateway;
  let score: ScoreServer;
  const total = 1000;
  const names = Array.from(
    { length: total },
    (_, i) => `bulk-${String((i * 7919) % total).padStart(4, '0')}`,
  );

  beforeAll(async () => {
    score = await startScoreServer();
    gateway = await startTestGateway({ authenticate: devAuth(), toolRouter: {} });
    // Written straight to the registry, in the stored shape the control plane produces; the change feed tells the router.
    for (const name of names) {
      const spec: JsonObject = {
        environmentVariables: {},
        replicaCount: 1,
        description: '',
        useWorkloadIdentity: false,
        requiredRoles: [],
        endpoints: [score.url],
        toolDefinition: { tool: { ...SCORE_TOOL, name } },
      };
      await gateway.store.create('tool', name, spec, 'alice');
    }
    gateway.toolRouter?.invalidate();
  });
  afterAll(async () => {
    await gateway?.close();
    await score?.close();
  });

  it.each(CLIENT_ERAS)(
    'lists all of them across pages of 100, each once and in order (%s)',
    async (_era, connect) => {
      const client = await connect(`${gateway.url}/mcp`, as('alice'));
      try {
        const { names: listed, pages } = await client.listAll();
        expect(pages).toBe(10);
        expect(listed).toEqual([...names].sort());
        expect((await client.call('bulk-0999', { text: 'good' })).structuredContent).toMatchObject({
          label: 'positive',
        });
      } finally {
        await client.close();
      }
    },
  );

  it('keeps paging consistent while tools are added and removed between pages', async () => {
    const client = await connectLegacyClient(`${gateway.url}/mcp`, as('alice'));
    try {
      const first = await client.listPage();
      await register(gateway, 'tools', scoreBody('aaa-before-everything', score.url));
      await register(gateway, 'tools', scoreBody('bulk-0500x', score.url));
      await gateway.store.delete('tool', 'bulk-0700');
      gateway.toolRouter?.invalidate();
      const rest: string[] = [];
      let cursor = first.nextCursor;
      while (cursor) {
        const page = await client.listPage(cursor);
        rest.push(...page.tools.map((t) => t.name));
        cursor = page.nextCursor;
      }
      const seen = [...first.tools.map((t) => t.name), ...rest];
      expect(new Set(seen).size).toBe(seen.length);
      expect(seen).toContain('bulk-0500x');
      expect(seen).not.toContain('bulk-0700');
      expect(seen).toEqual([...seen].sort());
    } finally {
      await client.close();
    }
  });
});

/** An upstream whose tool list grows on demand and which announces it, on either SDK line. */
async function startGrowingUpstream(era: 'legacy' | 'modern') {
  const names = ['first'];
  const { McpServer: McpServerV1 } = await import('@modelcontextprotocol/sdk/server/mcp.js');
  const { StreamableHTTPServerTransport } =
    await import('@modelcontextprotocol/sdk/server/streamableHttp.js');
  const { isInitializeRequest } = await import('@modelcontextprotocol/sdk/types.js');
  const { McpServer: McpServerV2, createMcpHandler } = await import('@modelcontextprotocol/server');
  const legacyServers: InstanceType<typeof McpServerV1>[] = [];
  const sessions = new Map<string, InstanceType<typeof StreamableHTTPServerTransport>>();
  const handler = createMcpHandler(() => {
    const server = new McpServerV2({ name: 'growing', version: '2.0.0' });
    for (const name of names) server.registerTool(name, { description: name }, async () => ({ content: [] }));
    return server;
  });
  const http = await startHttpServer(async (req, res) => {
    if (era === 'modern') {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const headers = new Headers();
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers.set(k, v);
      const response = await handler.fetch(
        new Request(`http://127.0.0.1${req.url}`, {
          method: req.method,
          headers,
          ...(chunks.length > 0 && { body: Buffer.concat(chunks) }),
        }),
      );
      res.writeHead(response.status, Object.fromEntries(response.headers));
      if (!response.body) return res.end();
      const reader = response.body.getReader();
      req.once('close', () => void reader.cancel().catch(() => undefined));
      for (;;) {
        const { done, value } = await reader.read().catch(() => ({ done: true, value: undefined }));
        if (done) return res.end();
        res.write(value);
      }
    }
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = chunks.length ? (JSON.parse(Buffer.concat(chunks).toString()) as unknown) : undefined;
    const id = req.headers['mcp-session-id'] as string | undefined;
    let transport = id ? sessions.get(id) : undefined;
    if (!transport && req.method === 'POST' && isInitializeRequest(body)) {
      const created = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => crypto.randomUUID(),
        onsessioninitialized: (sid) => void sessions.set(sid, created),
      });
      const server = new McpServerV1({ name: 'growing', version: '1.0.0' });
      for (const name of names)
        server.registerTool(name, { description: name }, async () => ({ content: [] }));
      legacyServers.push(server);
      await server.connect(created);
      transport = created;
    }
    if (!transport) return res.writeHead(400).end();
    await transport.handleRequest(req, res, body);
  });
  return {
    url: `${http.url}/mcp`,
    grow(name: string) {
      names.push(name);
      // Adding a tool to a connected server makes the SDK announce `list_changed` on its own.
      for (const server of legacyServers) {
        server.registerTool(name, { description: name }, async () => ({ content: [] }));
      }
      handler.notify.toolsChanged();
    },
    close: () => http.close(),
  };
}

describe('tool router: an upstream that announces list changes', () => {
  it.each(['legacy', 'modern'] as const)('relists a %s upstream and tells connected clients', async (era) => {
    const upstream = await startGrowingUpstream(era);
    const gateway = await startTestGateway({ authenticate: devAuth(), toolRouter: {} });
    const client = await connectLegacyClient(`${gateway.url}/mcp`, as('alice'));
    try {
      await register(gateway, 'adapters', { name: 'growing', endpoints: [upstream.url], federate: true });
      // The registration itself is a change; wait until the adapter is listed and settled.
      const deadline = Date.now() + 5000;
      while (!(await client.listAll()).names.includes('growing__first')) {
        if (Date.now() > deadline) throw new Error('the adapter was never listed');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      await listening(gateway, 1);
      // Let the notice of the adapter's own arrival reach the client before counting.
      await new Promise((resolve) => setTimeout(resolve, 300));
      const before = client.changes;
      upstream.grow('second');
      const until = Date.now() + 5000;
      while (client.changes === before) {
        if (Date.now() > until) throw new Error('no list_changed after the upstream grew');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect((await client.listAll()).names).toEqual(['growing__first', 'growing__second']);
    } finally {
      await client.close();
      await gateway.close();
      await upstream.close();
    }
  });
});
