/**
 * `subscriptions/listen` on the tool router, per caller, end to end: a real gateway on a socket, raw 2026-07-28
 * listen requests read as SSE (to see every frame: the acknowledgement, each notification's subscription id, the
 * graceful close) and the SDK 2.x client. Two callers listen on `/mcp`; a change only one of them can see (a tool
 * the other may not read; a tool the gateway's policy hides from the other) reaches that caller's stream only; a
 * toolset's listeners hear only of their toolset's changes. "Heard nothing" is proved by order, not by waiting:
 * each stream is finally closed gracefully by the gateway's drain, after a change everyone hears, and every frame
 * before that close is counted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/client';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { SCORE_TOOL, startScoreServer } from '../../scripts/samples/score-server.js';
import type { ScoreServer } from '../../scripts/samples/score-server.js';
import { devAuth } from '../auth/index.js';
import { startTestGateway } from '../../test/test-gateway.js';
import type { TestGateway } from '../../test/test-gateway.js';
import { until } from '../../test/polling.js';
import { ACK, MODERN, SUBSCRIPTION_ID, listenRequest, rawListen } from '../../test/raw-listen.js';
import type { RawListen } from '../../test/raw-listen.js';
import { toolPolicyFrom } from './policy/index.js';

const headersOf = (user: string, roles: string[] = []) => ({
  'x-dev-userid': user,
  'x-dev-roles': roles.join(','),
});

/** Calls the control plane as a dev-auth user. */
async function control(
  gateway: TestGateway,
  method: string,
  path: string,
  body: unknown,
  user = 'alice',
): Promise<void> {
  const res = await fetch(`${gateway.url}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...headersOf(user, ['team']) },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
}

const scoreBody = (name: string, url: string, extra: Record<string, unknown> = {}) => ({
  name,
  endpoints: [url],
  toolDefinition: { tool: { ...SCORE_TOOL, name } },
  ...extra,
});

/** A raw listen stream for `user` with `roles`, by default on the tools list. */
const listen = (
  url: string,
  user: string,
  id: string,
  notifications: Record<string, unknown> = { toolsListChanged: true },
  roles: string[] = ['team'],
): Promise<RawListen> => rawListen(url, headersOf(user, roles), id, notifications);

const LIST_CHANGED = 'notifications/tools/list_changed';

/** Waits until the router has exactly `count` listeners (the streams above are registered once acknowledged). */
async function listening(gateway: TestGateway, count: number): Promise<void> {
  await until(
    () => gateway.toolRouter?.listeners(),
    (have) => have === count,
    `${count} listeners`,
    10_000,
    10,
  );
}

describe('subscriptions/listen on /mcp: each caller hears of their own list only', () => {
  let gateway: TestGateway;
  let score: ScoreServer;

  beforeAll(async () => {
    score = await startScoreServer();
    gateway = await startTestGateway({
      authenticate: devAuth(),
      toolRouter: {},
      policy: toolPolicyFrom(
        {
          default: 'allow',
          rules: [
            { name: 'bob-no-hidden', tools: ['hidden-from-bob'], when: 'caller.id == "bob"', effect: 'deny' },
          ],
        },
        'test gateway policy',
      ),
    });
    await control(gateway, 'POST', '/tools', scoreBody('score', score.url, { requiredRoles: ['team'] }));
  });
  afterAll(async () => {
    await gateway?.close();
    await score?.close();
  });

  it('acknowledges only what it honors, and refuses a missing or malformed filter with -32602', async () => {
    const stream = await listen(`${gateway.url}/mcp`, 'alice', 'ack-1', {
      toolsListChanged: true,
      promptsListChanged: true,
      resourcesListChanged: true,
      resourceSubscriptions: ['file:///anything'],
    });
    await stream.until(ACK, 1);
    expect(stream.messages[0]).toEqual({
      jsonrpc: '2.0',
      method: ACK,
      params: { notifications: { toolsListChanged: true }, _meta: { [SUBSCRIPTION_ID]: 'ack-1' } },
    });
    stream.abort();
    await stream.ended;
    await listening(gateway, 0);

    // Nothing honored: acknowledged with an empty filter, then closed gracefully at once.
    const nothing = await listen(`${gateway.url}/mcp`, 'alice', 'ack-2', { promptsListChanged: true });
    await nothing.ended;
    expect(nothing.messages.map((m) => m.method ?? 'result')).toEqual([ACK, 'result']);
    expect(nothing.messages[0]!.params!.notifications).toEqual({});
    expect(nothing.messages[1]).toMatchObject({
      id: 'ack-2',
      result: { _meta: { [SUBSCRIPTION_ID]: 'ack-2' } },
    });

    for (const params of [{}, { notifications: { toolsListChanged: 'yes' } }]) {
      const { response } = listenRequest(`${gateway.url}/mcp`, headersOf('alice', ['team']), 'bad', params);
      const answer = await response;
      expect(answer.status).toBe(200);
      expect(await answer.json()).toMatchObject({ id: 'bad', error: { code: -32602 } });
    }
  });

  it('acknowledges to the SDK 2.x client the filter it honors', async () => {
    const client = new Client(
      { name: 'listen-test', version: '2.0.0' },
      { versionNegotiation: { mode: { pin: MODERN } } },
    );
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${gateway.url}/mcp`), {
        requestInit: { headers: headersOf('alice', ['team']) },
      }),
    );
    try {
      const subscription = await client.listen({ toolsListChanged: true, promptsListChanged: true });
      expect(subscription.honoredFilter).toEqual({ toolsListChanged: true });
      let heard = 0;
      const changed = new Promise<void>((resolve) =>
        client.setNotificationHandler('notifications/tools/list_changed', () => {
          heard++;
          resolve();
        }),
      );
      await listening(gateway, 1);
      await control(gateway, 'POST', '/tools', scoreBody('sdk-added', score.url));
      await changed;
      expect(heard).toBe(1);
      await subscription.close();
    } finally {
      await client.close();
    }
    await listening(gateway, 0);
  });

  it('tells a caller of a change only when their own list changed; every notification carries its stream id', async () => {
    const alice = await listen(`${gateway.url}/mcp`, 'alice', 'alice-listen');
    const bob = await listen(`${gateway.url}/mcp`, 'bob', 'bob-listen');
    await Promise.all([alice.until(ACK, 1), bob.until(ACK, 1)]);
    await listening(gateway, 2);

    // A tool alice registers with no roles: hers alone to read.
    await control(gateway, 'POST', '/tools', scoreBody('alices-own', score.url));
    await alice.until(LIST_CHANGED, 1);
    // A tool both may read, hidden from bob by the gateway's policy: bob's list is the same.
    await control(
      gateway,
      'POST',
      '/tools',
      scoreBody('hidden-from-bob', score.url, { requiredRoles: ['team'] }),
    );
    await alice.until(LIST_CHANGED, 2);
    // A change both see.
    await control(gateway, 'POST', '/tools', scoreBody('shared', score.url, { requiredRoles: ['team'] }));
    await Promise.all([alice.until(LIST_CHANGED, 3), bob.until(LIST_CHANGED, 1)]);

    // Drain: each stream's last frame is the graceful close, after everything it was sent.
    gateway.toolRouter!.drain();
    await Promise.all([alice.ended, bob.ended]);
    await listening(gateway, 0);
    const methods = (stream: RawListen) => stream.messages.map((m) => m.method ?? 'result');
    expect(methods(alice)).toEqual([ACK, LIST_CHANGED, LIST_CHANGED, LIST_CHANGED, 'result']);
    // Bob's only notification is the change he can see: the two before it were never sent to him.
    expect(methods(bob)).toEqual([ACK, LIST_CHANGED, 'result']);
    for (const [stream, id] of [
      [alice, 'alice-listen'],
      [bob, 'bob-listen'],
    ] as const) {
      for (const message of stream.messages) {
        const meta = message.params?._meta ?? message.result?._meta;
        expect(meta?.[SUBSCRIPTION_ID]).toBe(id);
      }
      expect(stream.messages.at(-1)).toMatchObject({
        jsonrpc: '2.0',
        id,
        result: {
          resultType: 'complete',
          _meta: { 'io.modelcontextprotocol/serverInfo': { name: 'mcp-gateway' } },
        },
      });
    }

    // Once draining, a new stream is acknowledged and closed at once: its client listens elsewhere.
    const late = await listen(`${gateway.url}/mcp`, 'alice', 'late');
    await late.ended;
    expect(methods(late)).toEqual([ACK, 'result']);
  });
});

describe('subscriptions/listen on a toolset: its listeners hear only of the toolset’s changes', () => {
  let gateway: TestGateway;
  let score: ScoreServer;

  beforeAll(async () => {
    score = await startScoreServer();
    gateway = await startTestGateway({ authenticate: devAuth(), toolRouter: {} });
    const shared = { requiredRoles: ['team'] };
    await control(gateway, 'POST', '/tools', scoreBody('member', score.url, shared));
    await control(gateway, 'POST', '/tools', scoreBody('outsider', score.url, shared));
    await control(gateway, 'POST', '/toolsets', { name: 'team', tools: ['member'], requiredRoles: ['team'] });
  });
  afterAll(async () => {
    await gateway?.close();
    await score?.close();
  });

  it('tells a toolset listener of a member’s change, not of a change outside the toolset', async () => {
    const toolset = await listen(`${gateway.url}/toolsets/team/mcp`, 'alice', 'toolset-listen');
    const everything = await listen(`${gateway.url}/mcp`, 'alice', 'mcp-listen');
    await Promise.all([toolset.until(ACK, 1), everything.until(ACK, 1)]);
    await listening(gateway, 2);

    const changed = (name: string, description: string) =>
      control(gateway, 'PUT', `/tools/${name}`, {
        ...scoreBody(name, score.url, { requiredRoles: ['team'] }),
        toolDefinition: { tool: { ...SCORE_TOOL, name, description } },
      });
    await changed('outsider', 'Changed outside the toolset.');
    await everything.until(LIST_CHANGED, 1);
    await changed('member', 'Changed inside the toolset.');
    await Promise.all([everything.until(LIST_CHANGED, 2), toolset.until(LIST_CHANGED, 1)]);

    gateway.toolRouter!.drain();
    await Promise.all([toolset.ended, everything.ended]);
    const methods = (stream: RawListen) => stream.messages.map((m) => m.method ?? 'result');
    expect(methods(everything)).toEqual([ACK, LIST_CHANGED, LIST_CHANGED, 'result']);
    expect(methods(toolset)).toEqual([ACK, LIST_CHANGED, 'result']);
    expect(
      toolset.messages.every(
        (m) => (m.params?._meta ?? m.result?._meta)?.[SUBSCRIPTION_ID] === 'toolset-listen',
      ),
    ).toBe(true);
    await listening(gateway, 0);
  });
});

describe('subscriptions/listen: a stream’s lifetime, and search mode', () => {
  it('closes a stream gracefully at its maximum age, so the caller listens (and is authenticated) again', async () => {
    const gateway = await startTestGateway({ authenticate: devAuth(), toolRouter: { streamMaxAgeMs: 200 } });
    try {
      const stream = await listen(`${gateway.url}/mcp`, 'alice', 'aging');
      await stream.ended;
      expect(stream.messages.map((m) => m.method ?? 'result')).toEqual([ACK, 'result']);
      expect(stream.messages[1]).toMatchObject({
        id: 'aging',
        result: { _meta: { [SUBSCRIPTION_ID]: 'aging' } },
      });
      await listening(gateway, 0);
    } finally {
      await gateway.close();
    }
  });

  it('honors no tools filter in search mode, whose two-tool list never changes', async () => {
    const gateway = await startTestGateway({ authenticate: devAuth(), toolRouter: { discovery: 'search' } });
    try {
      const stream = await listen(`${gateway.url}/mcp`, 'alice', 'searching');
      await stream.ended;
      expect(stream.messages.map((m) => m.method ?? 'result')).toEqual([ACK, 'result']);
      expect(stream.messages[0]!.params!.notifications).toEqual({});
    } finally {
      await gateway.close();
    }
  });
});
