/**
 * Resource subscriptions and resource list changes through the tool router's `subscriptions/listen`, end to end
 * with real peers: SDK 2.x upstreams (2026-07-28 `subscriptions/listen` with `resourceSubscriptions`) and an
 * SDK 1.x upstream (`resources/subscribe` on its session), raw listen streams on `/mcp` for two callers. Alice
 * may read the `secret` adapter and open the admin panel; Bob may do neither. What a caller was not let
 * subscribe is proved at the upstream (who subscribed there, with which identity), not by waiting for silence;
 * a stream's last frames are counted after the gateway's drain closed it gracefully.
 */
import { Client as LegacyClient } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as LegacyTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { SubscribeRequestSchema, UnsubscribeRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import type { McpServer as LegacyMcpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { InMemoryServerEventBus, McpServer, createMcpHandler } from '@modelcontextprotocol/server';
import type { ServerNotifier } from '@modelcontextprotocol/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UPSTREAM_USER_HEADER } from '../auth/index.js';
import { startLegacyMcpServer } from '../../test/mcp-servers.js';
import type { RunningMcpServer } from '../../test/mcp-servers.js';
import { ACK, MODERN, SUBSCRIPTION_ID, rawListen } from '../../test/raw-listen.js';
import { serveMcpFetch } from '../../test/http-fixture.js';
import { addToolset, federate, startFederatingGateway } from '../../test/federating-gateway.js';
import type { TestGateway } from '../../test/test-gateway.js';

const UPDATED = 'notifications/resources/updated';
const LIST_CHANGED = 'notifications/resources/list_changed';
const NOTE = 'memo://notes/first';

const headersOf = (user: string, roles: readonly string[]) => ({
  'x-dev-userid': user,
  'x-dev-roles': roles.join(','),
});
const ALICE = headersOf('alice', ['team', 'vault', 'ops']);
const BOB = headersOf('bob', ['team']);

/** A resource subscription an upstream received: who asked (the identity the router sent), for what. */
interface Received {
  readonly user: string | null;
  readonly authorization: string | null;
  readonly uris: readonly string[];
  open: boolean;
  /** Ends the upstream's stream of it from the server's side. */
  finish?: () => void;
}

/** Upstream bookkeeping a test waits on: every change wakes the waiters. */
class Ledger {
  readonly received: Received[] = [];
  readonly unsubscribed: string[] = [];
  private readonly waiters = new Set<() => void>();
  changed() {
    for (const wake of [...this.waiters]) wake();
  }
  /** Resolves once `test` holds (checked now and at every change). */
  until(test: () => boolean): Promise<void> {
    return new Promise((resolve) => {
      const check = () => {
        if (!test()) return;
        this.waiters.delete(check);
        resolve();
      };
      this.waiters.add(check);
      check();
    });
  }
  openCount = () => this.received.filter((r) => r.open).length;
}

/**
 * A response whose body's end (done or cancelled by the reader) is told to `ended`; `finish` ends it from the
 * server's side (the stream closes without a result: the upstream went away).
 */
function watched(response: Response, ended: () => void): { response: Response; finish: () => void } {
  if (!response.body) return { response, finish: () => undefined };
  const reader = response.body.getReader();
  let finish = () => undefined as void;
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      finish = () => {
        try {
          controller.close();
        } catch {
          // Already closed.
        }
        ended();
        void reader.cancel();
      };
    },
    async pull(controller) {
      const { done, value } = await reader.read().catch(() => ({ done: true, value: undefined }));
      if (done) {
        ended();
        controller.close();
      } else controller.enqueue(value);
    },
    cancel(reason) {
      ended();
      return reader.cancel(reason);
    },
  });
  return {
    response: new Response(body, { status: response.status, headers: response.headers }),
    finish: () => finish(),
  };
}

/** Resources and tools every subscribable upstream serves (the two SDK lines take the same calls). */
function registerResources(server: McpServer | LegacyMcpServer, name: string) {
  const s = server as McpServer;
  s.registerResource('first', NOTE, { mimeType: 'text/plain' }, async (uri) => ({
    contents: [{ uri: uri.href, mimeType: 'text/plain', text: `first note of ${name}` }],
  }));
  for (const view of ['view', 'panel']) {
    s.registerResource(view, `ui://dashboard/${view}.html`, { mimeType: 'text/html' }, async (uri) => ({
      contents: [{ uri: uri.href, mimeType: 'text/html', text: `<title>${view} of ${name}</title>` }],
    }));
  }
  s.registerTool(
    'show_dashboard',
    { description: 'Shows the dashboard', _meta: { ui: { resourceUri: 'ui://dashboard/view.html' } } },
    async () => ({ content: [{ type: 'text', text: `dashboard of ${name}` }] }),
  );
  s.registerTool(
    'admin_panel',
    { description: 'Opens the admin panel', _meta: { ui: { resourceUri: 'ui://dashboard/panel.html' } } },
    async () => ({ content: [{ type: 'text', text: `panel of ${name}` }] }),
  );
}

interface ModernUpstream {
  readonly url: string;
  readonly notify: ServerNotifier;
  readonly ledger: Ledger;
  close(): Promise<void>;
}

/** An SDK 2.x upstream offering resource subscriptions (or not), recording each `resourceSubscriptions` listen. */
async function startModernUpstream(
  name: string,
  { subscribe = true, silent = false }: { subscribe?: boolean; silent?: boolean } = {},
): Promise<ModernUpstream> {
  const ledger = new Ledger();
  const bus = new InMemoryServerEventBus();
  const handler = createMcpHandler(
    () => {
      const server = new McpServer(
        { name, version: '2.0.0' },
        { capabilities: { resources: { subscribe, listChanged: true } } },
      );
      registerResources(server, name);
      return server;
    },
    { bus },
  );
  const http = await serveMcpFetch(async (request) => {
    if (request.headers.get('mcp-method') === 'subscriptions/listen') {
      const body = (await request.clone().json()) as {
        params?: { notifications?: { resourceSubscriptions?: string[] } };
      };
      const uris = body.params?.notifications?.resourceSubscriptions;
      if (uris) {
        const entry: Received = {
          user: request.headers.get(UPSTREAM_USER_HEADER),
          authorization: request.headers.get('authorization'),
          uris,
          open: true,
        };
        ledger.received.push(entry);
        ledger.changed();
        // A silent upstream opens the stream and never acknowledges.
        const answer = silent
          ? new Response(new ReadableStream<Uint8Array>(), {
              headers: { 'content-type': 'text/event-stream' },
            })
          : await handler.fetch(request);
        const { response, finish } = watched(answer, () => {
          entry.open = false;
          ledger.changed();
        });
        entry.finish = finish;
        return response;
      }
    }
    return handler.fetch(request);
  });
  return {
    url: http.mcpUrl,
    notify: handler.notify,
    ledger,
    close: http.close,
  };
}

describe('resource subscriptions through the tool router: each caller hears of their own resources only', () => {
  let gateway: TestGateway;
  let live: ModernUpstream;
  let secret: ModernUpstream;
  let plain: ModernUpstream;
  let flaky: ModernUpstream;
  let silent: ModernUpstream;
  let shifty: ModernUpstream;
  let old: RunningMcpServer;
  /** The SDK 1.x upstream's sessions: each one's server and the URIs subscribed on it. */
  const oldSessions: { server: LegacyMcpServer; uris: Set<string> }[] = [];
  const oldLedger = new Ledger();
  let nextId = 0;
  const listenAs = (headers: Record<string, string>, notifications: Record<string, unknown>) =>
    rawListen(`${gateway.url}/mcp`, headers, `sub-${++nextId}`, notifications);

  beforeAll(async () => {
    live = await startModernUpstream('live');
    secret = await startModernUpstream('secret');
    plain = await startModernUpstream('plain', { subscribe: false });
    flaky = await startModernUpstream('flaky');
    silent = await startModernUpstream('silent', { silent: true });
    shifty = await startModernUpstream('shifty');
    old = await startLegacyMcpServer({
      name: 'old',
      register: (server) => {
        registerResources(server, 'old');
        server.server.registerCapabilities({ resources: { subscribe: true } });
        const session = { server, uris: new Set<string>() };
        oldSessions.push(session);
        server.server.setRequestHandler(SubscribeRequestSchema, async (request, extra) => {
          session.uris.add(request.params.uri);
          oldLedger.received.push({
            user: (extra.requestInfo?.headers[UPSTREAM_USER_HEADER.toLowerCase()] as string) ?? null,
            authorization: (extra.requestInfo?.headers.authorization as string) ?? null,
            uris: [request.params.uri],
            open: true,
          });
          oldLedger.changed();
          return {};
        });
        server.server.setRequestHandler(UnsubscribeRequestSchema, async (request) => {
          session.uris.delete(request.params.uri);
          oldLedger.unsubscribed.push(request.params.uri);
          oldLedger.changed();
          return {};
        });
      },
    });
    gateway = await startFederatingGateway();
    await federate(gateway, 'live', live.url);
    await federate(gateway, 'secret', secret.url, ['vault']);
    await federate(gateway, 'plain', plain.url);
    await federate(gateway, 'flaky', flaky.url);
    await federate(gateway, 'silent', silent.url);
    await federate(gateway, 'shifty', shifty.url);
    await addToolset(gateway, 'live-only', ['live__*']);
    await federate(gateway, 'old', old.url);
    // The router lists every upstream once (and learns what each offers) before anyone listens.
    const client = await modernClient(ALICE);
    const tools = (await client.listTools()).tools.map((t) => t.name);
    expect(tools).toEqual(expect.arrayContaining(['secret__show_dashboard', 'flaky__show_dashboard']));
    await client.close();
  });

  afterAll(async () => {
    await gateway?.close();
    await Promise.all([live, secret, plain, flaky, silent, shifty, old].map((s) => s?.close()));
  });

  async function modernClient(headers: Record<string, string>) {
    const client = new Client(
      { name: 'subscriptions-test', version: '2.0.0' },
      { versionNegotiation: { mode: { pin: MODERN } } },
    );
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${gateway.url}/mcp`), { requestInit: { headers } }),
    );
    return client;
  }

  it('claims resources.subscribe and listChanged to 2026-07-28 callers only', async () => {
    const modern = await modernClient(BOB);
    expect(modern.getServerCapabilities()?.resources).toEqual({ subscribe: true, listChanged: true });
    await modern.close();
    // A 2025 caller has no session with the stateless router to subscribe on: it is not told.
    const legacy = new LegacyClient({ name: 'subscriptions-test-legacy', version: '1.0.0' });
    await legacy.connect(
      new LegacyTransport(new URL(`${gateway.url}/mcp`), { requestInit: { headers: BOB } }),
    );
    expect(legacy.getServerCapabilities()?.resources).toEqual({});
    await legacy.close();
  });

  it('subscribes only what the caller may read; an update reaches its subscriber under the namespaced URI', async () => {
    const alice = await listenAs(ALICE, {
      resourceSubscriptions: ['memo://secret/notes/first', 'memo://live/notes/first'],
    });
    await alice.until(ACK, 1);
    expect(alice.messages[0]!.params!.notifications).toEqual({
      resourceSubscriptions: expect.arrayContaining(['memo://secret/notes/first', 'memo://live/notes/first']),
    });
    const bob = await listenAs(BOB, {
      resourceSubscriptions: ['memo://secret/notes/first', 'memo://live/notes/first', 'memo://nobody/x'],
    });
    await bob.until(ACK, 1);
    // Refused alike: an adapter Bob may not read, one that does not exist.
    expect(bob.messages[0]!.params!.notifications).toEqual({
      resourceSubscriptions: ['memo://live/notes/first'],
    });

    // At the upstream Bob may not read: Alice's subscription only, under her identity, never a caller token.
    expect(secret.ledger.received).toMatchObject([
      { user: 'alice', authorization: null, uris: [NOTE], open: true },
    ]);
    expect(secret.ledger.received).toHaveLength(1);
    expect(live.ledger.received.map((r) => r.user).sort()).toEqual(['alice', 'bob']);

    secret.notify.resourceUpdated(NOTE);
    await alice.until(UPDATED, 1);
    expect(alice.messages.at(-1)).toEqual({
      jsonrpc: '2.0',
      method: UPDATED,
      params: {
        uri: 'memo://secret/notes/first',
        _meta: { [SUBSCRIPTION_ID]: alice.messages[0]!.params!._meta![SUBSCRIPTION_ID] },
      },
    });
    live.notify.resourceUpdated(NOTE);
    await alice.until(UPDATED, 2);
    await bob.until(UPDATED, 1);
    expect(bob.messages.filter((m) => m.method === UPDATED)).toEqual([
      {
        jsonrpc: '2.0',
        method: UPDATED,
        params: { uri: 'memo://live/notes/first', _meta: { [SUBSCRIPTION_ID]: `sub-${nextId}` } },
      },
    ]);

    // Alice's stream ends: her upstream subscriptions end with it (Bob's stays).
    alice.abort();
    await secret.ledger.until(() => secret.ledger.openCount() === 0);
    await live.ledger.until(() => live.ledger.openCount() === 1);
    bob.abort();
    await live.ledger.until(() => live.ledger.openCount() === 0);
  });

  it('serves the SDK 2.x client’s listen(): the honored filter, and updates to its notification handler', async () => {
    const client = await modernClient(BOB);
    try {
      const updated = new Promise<string>((resolve) =>
        client.setNotificationHandler(UPDATED, (notification) => resolve(notification.params.uri)),
      );
      const subscription = await client.listen({
        resourceSubscriptions: ['memo://live/notes/first', 'memo://secret/notes/first'],
      });
      expect(subscription.honoredFilter).toEqual({ resourceSubscriptions: ['memo://live/notes/first'] });
      live.notify.resourceUpdated(NOTE);
      expect(await updated).toBe('memo://live/notes/first');
      await subscription.close();
      await live.ledger.until(() => live.ledger.openCount() === 0);
    } finally {
      await client.close();
    }
  });

  it('refuses the view of a tool the caller may not use, and an upstream that offers no subscriptions', async () => {
    const views = ['ui://live/dashboard/view.html', 'ui://live/dashboard/panel.html'];
    const bob = await listenAs(BOB, { resourceSubscriptions: [...views, 'memo://plain/notes/first'] });
    await bob.until(ACK, 1);
    expect(bob.messages[0]!.params!.notifications).toEqual({ resourceSubscriptions: [views[0]] });
    expect(plain.ledger.received).toEqual([]);
    const alice = await listenAs(ALICE, { resourceSubscriptions: views });
    await alice.until(ACK, 1);
    expect(alice.messages[0]!.params!.notifications).toEqual({ resourceSubscriptions: views });
    live.notify.resourceUpdated('ui://dashboard/panel.html');
    await alice.until(UPDATED, 1);
    expect(alice.messages.at(-1)!.params!.uri).toBe(views[1]);
    // Bob's upstream subscription never named the panel: the update had nowhere to reach him from.
    expect(live.ledger.received.find((r) => r.user === 'bob' && r.open)!.uris).toEqual([
      'ui://dashboard/view.html',
    ]);
    bob.abort();
    alice.abort();
    await live.ledger.until(() => live.ledger.openCount() === 0);
  });

  it('subscribes an SDK 1.x upstream with resources/subscribe and unsubscribes when the stream ends', async () => {
    const alice = await listenAs(ALICE, { resourceSubscriptions: ['memo://old/notes/first'] });
    await alice.until(ACK, 1);
    expect(alice.messages[0]!.params!.notifications).toEqual({
      resourceSubscriptions: ['memo://old/notes/first'],
    });
    expect(oldLedger.received).toEqual([{ user: 'alice', authorization: null, uris: [NOTE], open: true }]);
    for (const session of oldSessions) {
      if (session.uris.has(NOTE)) await session.server.server.sendResourceUpdated({ uri: NOTE });
    }
    await alice.until(UPDATED, 1);
    expect(alice.messages.at(-1)!.params).toEqual({
      uri: 'memo://old/notes/first',
      _meta: { [SUBSCRIPTION_ID]: `sub-${nextId}` },
    });
    alice.abort();
    await oldLedger.until(() => oldLedger.unsubscribed.length === 1);
    expect(oldLedger.unsubscribed).toEqual([NOTE]);
  });

  it('refuses the URIs of an upstream that is gone, without holding the acknowledgement', async () => {
    await flaky.close();
    const alice = await listenAs(ALICE, {
      resourceSubscriptions: ['memo://flaky/notes/first', 'memo://live/notes/first'],
    });
    await alice.until(ACK, 1);
    expect(alice.messages[0]!.params!.notifications).toEqual({
      resourceSubscriptions: ['memo://live/notes/first'],
    });
    alice.abort();
    await live.ledger.until(() => live.ledger.openCount() === 0);
  });

  it('refuses the URIs of an upstream that never acknowledges, after the listing timeout, and lets go of it', async () => {
    const alice = await listenAs(ALICE, {
      resourceSubscriptions: ['memo://silent/notes/first', 'memo://live/notes/first'],
    });
    await alice.until(ACK, 1);
    expect(alice.messages[0]!.params!.notifications).toEqual({
      resourceSubscriptions: ['memo://live/notes/first'],
    });
    // The router gave up on the silent upstream's stream rather than leave it open.
    await silent.ledger.until(() => silent.ledger.received.length === 1 && silent.ledger.openCount() === 0);
    alice.abort();
    await live.ledger.until(() => live.ledger.openCount() === 0);
  });

  it('serves a toolset its own adapters’ resources only', async () => {
    const alice = await rawListen(`${gateway.url}/toolsets/live-only/mcp`, ALICE, 'toolset-1', {
      resourceSubscriptions: ['memo://secret/notes/first', 'memo://live/notes/first'],
      resourcesListChanged: true,
    });
    await alice.until(ACK, 1);
    expect(alice.messages[0]!.params!.notifications).toEqual({
      resourcesListChanged: true,
      resourceSubscriptions: ['memo://live/notes/first'],
    });
    expect(secret.ledger.openCount()).toBe(0);
    alice.abort();
    await live.ledger.until(() => live.ledger.openCount() === 0);
  });

  it('ends the caller’s stream gracefully when the upstream ends its subscription', async () => {
    const alice = await listenAs(ALICE, { resourceSubscriptions: ['memo://live/notes/first'] });
    await alice.until(ACK, 1);
    await live.ledger.until(() => live.ledger.openCount() === 1);
    live.ledger.received.find((r) => r.open)!.finish!();
    await alice.ended;
    expect(alice.messages.map((m) => m.method ?? 'result')).toEqual([ACK, 'result']);
    expect(alice.messages[1]).toMatchObject({ id: `sub-${nextId}`, result: { resultType: 'complete' } });
  });

  it('ends the caller’s stream gracefully when an SDK 1.x upstream closes the session it subscribed on', async () => {
    const alice = await listenAs(ALICE, { resourceSubscriptions: ['memo://old/notes/first'] });
    await alice.until(ACK, 1);
    const session = oldSessions.find((s) => s.uris.has(NOTE))!;
    await session.server.close();
    await alice.ended;
    expect(alice.messages.map((m) => m.method ?? 'result')).toEqual([ACK, 'result']);
  });

  it('stops a caller’s subscription upstream, and tells them their list changed, when they lose the adapter', async () => {
    const uri = 'memo://shifty/notes/first';
    const bob = await listenAs(BOB, { resourcesListChanged: true, resourceSubscriptions: [uri] });
    const alice = await listenAs(ALICE, { resourceSubscriptions: [uri] });
    await Promise.all([bob.until(ACK, 1), alice.until(ACK, 1)]);
    expect(bob.messages[0]!.params!.notifications).toEqual({
      resourcesListChanged: true,
      resourceSubscriptions: [uri],
    });
    await shifty.ledger.until(() => shifty.ledger.openCount() === 2);
    // Only the vault may read it now.
    const res = await fetch(`${gateway.url}/adapters/shifty`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', ...headersOf('admin', ['mcp.admin']) },
      body: JSON.stringify({
        name: 'shifty',
        endpoints: [shifty.url],
        federate: true,
        requiredRoles: ['vault'],
      }),
    });
    expect(res.status, await res.clone().text()).toBeLessThan(300);
    await bob.until(LIST_CHANGED, 1);
    await shifty.ledger.until(() => shifty.ledger.received.find((r) => r.user === 'bob')!.open === false);
    expect(shifty.ledger.received.find((r) => r.user === 'alice')!.open).toBe(true);
    shifty.notify.resourceUpdated(NOTE);
    await alice.until(UPDATED, 1);
    expect(alice.messages.at(-1)!.params!.uri).toBe(uri);
    bob.abort();
    alice.abort();
    await shifty.ledger.until(() => shifty.ledger.openCount() === 0);
  });

  it('tells a caller of resource list changes in their scope only', async () => {
    const alice = await listenAs(ALICE, { resourcesListChanged: true });
    const bob = await listenAs(BOB, { resourcesListChanged: true });
    await alice.until(ACK, 1);
    await bob.until(ACK, 1);
    expect(bob.messages[0]!.params!.notifications).toEqual({ resourcesListChanged: true });
    // Bob may not read `secret`: its change reaches Alice only. Then one both hear.
    secret.notify.resourcesChanged();
    await alice.until(LIST_CHANGED, 1);
    live.notify.resourcesChanged();
    await alice.until(LIST_CHANGED, 2);
    await bob.until(LIST_CHANGED, 1);
    // Closed gracefully by the drain (last test): every frame before it is counted.
    gateway.toolRouter!.drain();
    await Promise.all([alice.ended, bob.ended]);
    expect(bob.messages.map((m) => m.method ?? 'result')).toEqual([ACK, LIST_CHANGED, 'result']);
    expect(alice.messages.map((m) => m.method ?? 'result')).toEqual([
      ACK,
      LIST_CHANGED,
      LIST_CHANGED,
      'result',
    ]);
  });
});
