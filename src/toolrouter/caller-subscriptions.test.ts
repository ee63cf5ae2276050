/**
 * The listen streams' own rules, without a gateway: what is left to the SDK handler, the capacity guard, a
 * source that cannot open, and the hooks a resources relay uses (a source that honors some URIs and not others,
 * delivers before the acknowledgement went out, or ends the stream).
 */
import { describe, expect, it } from 'vitest';
import type { Principal } from '../auth/index.js';
import { createSilentLogger } from '../observability/index.js';
import type { Catalog, CatalogEntry, CatalogSnapshot } from './catalog.js';
import { createCallerSubscriptions, createEndpointSubscriptions } from './caller-subscriptions.js';
import type { ChangeNotification, ListenSource } from './caller-subscriptions.js';
import { MODERN, SUBSCRIPTION_ID, listenBody as rawListenBody } from '../../test/raw-listen.js';

const alice: Principal = { userId: 'alice', roles: [] } as unknown as Principal;
const bob: Principal = { userId: 'bob', roles: [] } as unknown as Principal;

/** A listen request's body; without `notifications`, one that names no filter. */
const listenBody = (id: string, notifications?: unknown) =>
  rawListenBody(id, notifications === undefined ? {} : { notifications });

function listenRequest(body: unknown, headers: Record<string, string> = {}, signal?: AbortSignal) {
  return new Request('http://127.0.0.1/mcp', {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'mcp-protocol-version': MODERN,
      'mcp-method': 'subscriptions/listen',
      ...headers,
    },
    body: JSON.stringify(body),
    ...(signal && { signal }),
  });
}

/** Every JSON-RPC message of an SSE body, read to its end. */
async function messagesOf(response: Response): Promise<Record<string, unknown>[]> {
  const text = await response.text();
  return text
    .split('\n\n')
    .map((frame) =>
      frame
        .split('\n')
        .filter((line) => line.startsWith('data: '))
        .map((line) => line.slice(6))
        .join('\n'),
    )
    .filter((data) => data !== '')
    .map((data) => JSON.parse(data) as Record<string, unknown>);
}

/** A source that honors `toolsListChanged` and hands out its `deliver` to the test. */
function toolsSource() {
  const delivers: ((n: ChangeNotification) => void)[] = [];
  const closed: number[] = [];
  const source: ListenSource = {
    open(_principal, requested, deliver) {
      delivers.push(deliver);
      const index = delivers.length - 1;
      return Promise.resolve({
        honored: requested.toolsListChanged ? { toolsListChanged: true } : {},
        close: () => void closed.push(index),
      });
    },
  };
  return { source, delivers, closed };
}

const base = {
  serverInfo: { name: 'unit', version: '0' },
  maxAgeMs: 60_000,
  maxBodyBytes: 65_536,
  logger: createSilentLogger(),
};

describe('caller subscriptions', () => {
  it('leaves to the SDK handler what is not a listen it would reach the filter of', async () => {
    const subscriptions = createCallerSubscriptions({ ...base, sources: [toolsSource().source] });
    const body = listenBody('x', { toolsListChanged: true });
    // No Mcp-Method header, another method, a 2025 request, a wrong content type: the SDK answers those.
    expect(await subscriptions.serve(listenRequest(body, { 'mcp-method': '' }), body, alice)).toBeUndefined();
    const call = { ...body, method: 'tools/list' };
    expect(
      await subscriptions.serve(listenRequest(call, { 'mcp-method': 'tools/list' }), call, alice),
    ).toBeUndefined();
    const legacy = { jsonrpc: '2.0', id: 1, method: 'subscriptions/listen', params: { notifications: {} } };
    expect(
      await subscriptions.serve(
        listenRequest(legacy, { 'mcp-protocol-version': '2025-11-25' }),
        legacy,
        alice,
      ),
    ).toBeUndefined();
    expect(
      await subscriptions.serve(listenRequest(body, { 'content-type': 'text/plain' }), body, alice),
    ).toBeUndefined();
    // A body the endpoint did not read is read here (from a copy).
    const unread = await subscriptions.serve(listenRequest(listenBody('y')), undefined, alice);
    expect(await unread!.json()).toMatchObject({ id: 'y', error: { code: -32602 } });
    subscriptions.close();
  });

  it('refuses a subscription beyond the limit with -32603, and takes one again once a stream ended', async () => {
    const tools = toolsSource();
    const subscriptions = createCallerSubscriptions({
      ...base,
      sources: [tools.source],
      maxSubscriptions: 1,
    });
    const abort = new AbortController();
    const body = listenBody('first', { toolsListChanged: true });
    const first = await subscriptions.serve(listenRequest(body, {}, abort.signal), body, alice);
    expect(first!.headers.get('content-type')).toBe('text/event-stream');
    expect(subscriptions.size).toBe(1);
    const second = listenBody('second', { toolsListChanged: true });
    const refused = await subscriptions.serve(listenRequest(second), second, alice);
    expect(await refused!.json()).toEqual({
      jsonrpc: '2.0',
      id: 'second',
      error: { code: -32603, message: 'Subscription limit reached' },
    });
    abort.abort();
    expect(subscriptions.size).toBe(0);
    expect(tools.closed).toEqual([0]);
    const third = listenBody('third', { toolsListChanged: true });
    expect((await subscriptions.serve(listenRequest(third), third, alice))!.status).toBe(200);
    subscriptions.close();
  });

  it('answers -32603 and opens nothing when a source cannot open', async () => {
    const tools = toolsSource();
    const failing: ListenSource = { open: () => Promise.reject(new Error('registry unreachable')) };
    const subscriptions = createCallerSubscriptions({ ...base, sources: [tools.source, failing] });
    const body = listenBody('broken', { toolsListChanged: true });
    const answer = await subscriptions.serve(listenRequest(body), body, alice);
    expect(await answer!.json()).toMatchObject({ id: 'broken', error: { code: -32603 } });
    expect(tools.closed).toEqual([0]);
    expect(subscriptions.size).toBe(0);
  });

  it('acknowledges the URIs a resources source accepted, stamps what it delivers (held before the ack), drops the rest', async () => {
    // What a resources relay would do: subscribe each URI upstream, some accepted, some refused.
    let deliver: ((n: ChangeNotification) => void) | undefined;
    const resources: ListenSource = {
      open(_principal, requested, given) {
        deliver = given;
        // Delivered while opening: held until the acknowledgement is written.
        given({ method: 'notifications/resources/updated', params: { uri: 'a__file:///one' } });
        const accepted = (requested.resourceSubscriptions ?? []).filter((uri) => uri.startsWith('a__'));
        return Promise.resolve({
          honored: { resourcesListChanged: true, resourceSubscriptions: accepted },
          close: () => undefined,
        });
      },
    };
    const subscriptions = createCallerSubscriptions({ ...base, sources: [toolsSource().source, resources] });
    const body = listenBody('res', {
      toolsListChanged: true,
      resourcesListChanged: true,
      resourceSubscriptions: ['a__file:///one', 'b__file:///refused'],
    });
    const response = await subscriptions.serve(listenRequest(body), body, alice);
    deliver!({
      method: 'notifications/resources/updated',
      params: { uri: 'a__file:///one', _meta: { kept: 1 } },
    });
    // A source that sends what was not acknowledged (a refused URI, prompts): dropped.
    deliver!({ method: 'notifications/resources/updated', params: { uri: 'b__file:///refused' } });
    deliver!({ method: 'notifications/prompts/list_changed' });
    subscriptions.drain();
    const messages = await messagesOf(response!);
    expect(messages).toEqual([
      {
        jsonrpc: '2.0',
        method: 'notifications/subscriptions/acknowledged',
        params: {
          notifications: {
            toolsListChanged: true,
            resourcesListChanged: true,
            resourceSubscriptions: ['a__file:///one'],
          },
          _meta: { [SUBSCRIPTION_ID]: 'res' },
        },
      },
      {
        jsonrpc: '2.0',
        method: 'notifications/resources/updated',
        params: { uri: 'a__file:///one', _meta: { [SUBSCRIPTION_ID]: 'res' } },
      },
      {
        jsonrpc: '2.0',
        method: 'notifications/resources/updated',
        params: { uri: 'a__file:///one', _meta: { kept: 1, [SUBSCRIPTION_ID]: 'res' } },
      },
      {
        jsonrpc: '2.0',
        id: 'res',
        result: {
          resultType: 'complete',
          _meta: {
            [SUBSCRIPTION_ID]: 'res',
            'io.modelcontextprotocol/serverInfo': { name: 'unit', version: '0' },
          },
        },
      },
    ]);
  });
});

describe('a source ending the stream', () => {
  const base = {
    serverInfo: { name: 'unit', version: '0' },
    maxAgeMs: 3_600_000,
    maxBodyBytes: 1 << 20,
    logger: createSilentLogger(),
  };
  const ending = (early: boolean) => {
    const closed: number[] = [];
    let end: (() => void) | undefined;
    const source: ListenSource = {
      open(_principal, _requested, _deliver, given) {
        end = given;
        // An upstream subscription that ended while the others were still opening.
        if (early) given();
        return Promise.resolve({ honored: { resourcesListChanged: true }, close: () => closed.push(1) });
      },
    };
    return { source, closed, end: () => end!() };
  };

  it('closes the stream gracefully when a source ends it, before or after the acknowledgement', async () => {
    for (const early of [true, false]) {
      const { source, closed, end } = ending(early);
      const subscriptions = createCallerSubscriptions({ ...base, sources: [source] });
      const body = listenBody('ended', { resourcesListChanged: true });
      const response = await subscriptions.serve(listenRequest(body), body, alice);
      if (!early) end();
      const messages = await messagesOf(response!);
      expect(messages.map((m) => m.method ?? 'result')).toEqual([
        'notifications/subscriptions/acknowledged',
        'result',
      ]);
      expect(closed).toEqual([1]);
      expect(subscriptions.size).toBe(0);
    }
  }, 10_000);
});

describe('the tools-list source', () => {
  /** A catalog whose list is one shared snapshot, with each caller's own lists' digest set by the test. */
  function fakeCatalog() {
    const listeners = new Set<(snapshot: CatalogSnapshot) => void>();
    const own = new Map<string, string>();
    const entry = (name: string, digest: bigint) => ({ name, digest }) as unknown as CatalogEntry;
    let snapshot = { entries: [entry('shared', 1n)] } as unknown as CatalogSnapshot;
    const catalog = {
      snapshot: () => Promise.resolve(snapshot),
      visible: (current: CatalogSnapshot) => [...current.entries],
      ownListsFingerprint: (principal: Principal) => own.get(principal.userId) ?? '',
      onChange(listener: (snapshot: CatalogSnapshot) => void) {
        listeners.add(listener);
        return () => void listeners.delete(listener);
      },
    } as unknown as Catalog;
    const emit = () => {
      snapshot = { entries: [...snapshot.entries] } as unknown as CatalogSnapshot;
      for (const listener of listeners) listener(snapshot);
    };
    return { catalog, own, emit };
  }

  it('tells a caller whose own (per-caller) lists changed, and not the others', async () => {
    const { catalog, own, emit } = fakeCatalog();
    const subscriptions = createEndpointSubscriptions({
      ...base,
      catalog,
      listCanChange: true,
      listed: (snapshot, principal) => catalog.visible(snapshot, principal),
    });
    const open = async (principal: Principal) => {
      const body = listenBody(principal.userId, { toolsListChanged: true });
      return (await subscriptions.serve(listenRequest(body), body, principal))!;
    };
    const [aliceStream, bobStream] = [await open(alice), await open(bob)];
    // Alice's upstream account lists her tools: her list changed, the shared one did not.
    own.set('alice', 'notes:1');
    emit();
    // Nothing changed for anyone.
    emit();
    subscriptions.drain();
    const methods = async (response: Response) =>
      (await messagesOf(response)).map((m) => (m.method as string | undefined) ?? 'result');
    expect(await methods(aliceStream)).toEqual([
      'notifications/subscriptions/acknowledged',
      'notifications/tools/list_changed',
      'result',
    ]);
    expect(await methods(bobStream)).toEqual(['notifications/subscriptions/acknowledged', 'result']);
    subscriptions.close();
  });
});
