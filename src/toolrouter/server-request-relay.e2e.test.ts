/**
 * The tool router relaying a federated upstream's server requests (elicitation, sampling) to the caller of the
 * tool call that made them, end to end: a real gateway, an SDK 2.x upstream served the 2025 way that elicits and
 * samples mid-call, and callers on SDK 1.x and 2.x (2025) and 2.x (2026-07-28), on `/mcp` and on a toolset.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client as V1Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as V1Transport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  McpError,
} from '@modelcontextprotocol/sdk/types.js';
import {
  Client as V2Client,
  StreamableHTTPClientTransport as V2Transport,
} from '@modelcontextprotocol/client';
import { devAuth } from '../auth/index.js';
import { startElicitingMcpServer } from '../../test/eliciting-mcp-server.js';
import type { ElicitingMcpServer } from '../../test/eliciting-mcp-server.js';
import { legacyInitialize, mcpPostHeaders } from '../../test/legacy-requests.js';
import { startTestGateway } from '../../test/test-gateway.js';
import type { TestGateway } from '../../test/test-gateway.js';

const headersOf = (user: string) => ({ 'x-dev-userid': user, 'x-dev-roles': 'team' });
const textOf = (result: Record<string, unknown>) =>
  ((result.content as { type: string; text?: string }[] | undefined) ?? []).map((c) => c.text ?? '').join('');

/** How a test caller answers a server request. */
type ElicitAnswer = (message: string) => Promise<Record<string, unknown>> | Record<string, unknown>;

interface Caller {
  call(name: string, args: Record<string, unknown>, signal?: AbortSignal): Promise<Record<string, unknown>>;
  /** The messages of the elicitations this caller received, in order. */
  readonly asked: string[];
  close(): Promise<void>;
}

interface CallerOptions {
  readonly user?: string;
  readonly elicit?: ElicitAnswer;
  readonly sample?: () => Record<string, unknown>;
}

/** An SDK 1.x (2025-11-25) caller declaring what it has handlers for. */
async function v1Caller(url: string, options: CallerOptions = {}): Promise<Caller> {
  const asked: string[] = [];
  const client = new V1Client(
    { name: 'relay-test-v1', version: '1.0.0' },
    {
      capabilities: {
        ...(options.elicit && { elicitation: {} }),
        ...(options.sample && { sampling: {} }),
      },
    },
  );
  if (options.elicit) {
    const elicit = options.elicit;
    client.setRequestHandler(ElicitRequestSchema, async (request) => {
      asked.push(request.params.message);
      return (await elicit(request.params.message)) as never;
    });
  }
  if (options.sample) {
    const sample = options.sample;
    client.setRequestHandler(CreateMessageRequestSchema, async () => sample() as never);
  }
  const transport = new V1Transport(new URL(url), {
    requestInit: { headers: headersOf(options.user ?? 'alice') },
  });
  await client.connect(transport);
  return {
    asked,
    call: async (name, args, signal) =>
      (await client.callTool({ name, arguments: args }, undefined, {
        timeout: 120_000,
        ...(signal && { signal }),
      })) as Record<string, unknown>,
    close: () => client.close(),
  };
}

/** An SDK 2.x caller: 2025 (`legacy`, the default) or pinned to 2026-07-28. */
async function v2Caller(
  url: string,
  options: CallerOptions & { readonly modern?: boolean } = {},
): Promise<Caller> {
  const asked: string[] = [];
  const client = new V2Client(
    { name: 'relay-test-v2', version: '2.0.0' },
    {
      ...(options.modern && { versionNegotiation: { mode: { pin: '2026-07-28' } } }),
      capabilities: {
        ...(options.elicit && { elicitation: { form: {} } }),
        ...(options.sample && { sampling: {} }),
      },
    },
  );
  if (options.elicit) {
    const elicit = options.elicit;
    client.setRequestHandler('elicitation/create', async (request) => {
      asked.push(request.params.message);
      return (await elicit(request.params.message)) as never;
    });
  }
  if (options.sample) {
    const sample = options.sample;
    client.setRequestHandler('sampling/createMessage', async () => sample() as never);
  }
  const transport = new V2Transport(new URL(url), {
    requestInit: { headers: headersOf(options.user ?? 'alice') },
  });
  await client.connect(transport);
  return {
    asked,
    call: async (name, args, signal) =>
      (await client.request(
        { method: 'tools/call', params: { name, arguments: args } },
        { timeout: 120_000, ...(signal && { signal }) },
      )) as Record<string, unknown>,
    close: () => client.close(),
  };
}

const accept = (name: string) => () => ({ action: 'accept', content: { name } });

async function control(gateway: TestGateway, path: string, body: unknown): Promise<void> {
  const res = await fetch(`${gateway.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headersOf('alice') },
    body: JSON.stringify(body),
  });
  if (res.status !== 201) throw new Error(`POST ${path}: ${res.status} ${await res.text()}`);
}

describe('tool router: server requests of federated upstreams reach the caller', () => {
  let gateway: TestGateway;
  let upstream: ElicitingMcpServer;
  let mcp: string;
  let toolset: string;

  beforeAll(async () => {
    upstream = await startElicitingMcpServer();
    gateway = await startTestGateway({ authenticate: devAuth(), toolRouter: {} });
    await control(gateway, '/adapters', {
      name: 'asker',
      endpoints: [upstream.url],
      federate: true,
      requiredRoles: ['team'],
    });
    await control(gateway, '/toolsets', {
      name: 'helpdesk',
      tools: [{ name: 'asker__ask', rename: 'ask_user' }, 'asker__sample'],
      requiredRoles: ['team'],
    });
    mcp = `${gateway.url}/mcp`;
    toolset = `${gateway.url}/toolsets/helpdesk/mcp`;
    const deadline = Date.now() + 60_000;
    while (gateway.toolRouter?.federationStatus('asker')?.state !== 'listed') {
      if (Date.now() > deadline) throw new Error('asker was not listed');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }, 90_000);
  afterAll(async () => {
    await gateway?.close();
    await upstream?.close();
  });

  it.each([
    ['SDK 1.x', v1Caller],
    ['SDK 2.x (2025)', v2Caller],
  ] as const)('%s caller on /mcp answers the elicitation of its call', async (_label, connect) => {
    const caller = await connect(mcp, { elicit: accept('Ada') });
    try {
      const result = await caller.call('asker__ask', { question: 'Who are you?' });
      expect(textOf(result)).toBe('accept:Ada');
      expect(caller.asked).toEqual(['Who are you?']);
      // The upstream was offered elicitation because this caller declared it.
      expect(upstream.outcomes.at(-1)?.clientCapabilities).toHaveProperty('elicitation');
    } finally {
      await caller.close();
    }
  });

  it('a toolset endpoint relays too, under the name the toolset shows', async () => {
    const caller = await v2Caller(toolset, { elicit: accept('Grace') });
    try {
      expect(textOf(await caller.call('ask_user', { question: 'Name?' }))).toBe('accept:Grace');
      expect(caller.asked).toEqual(['Name?']);
    } finally {
      await caller.close();
    }
  });

  it('sampling requests are relayed, on /mcp and on a toolset', async () => {
    const sample = () => ({
      role: 'assistant',
      content: { type: 'text', text: 'bonjour' },
      model: 'test-model',
    });
    const v1 = await v1Caller(mcp, { sample });
    const v2 = await v2Caller(toolset, { sample });
    try {
      expect(textOf(await v1.call('asker__sample', { prompt: 'Say hello' }))).toBe(
        'sampled:bonjour:test-model',
      );
      expect(textOf(await v2.call('asker__sample', { prompt: 'Say hello' }))).toBe(
        'sampled:bonjour:test-model',
      );
    } finally {
      await Promise.all([v1.close(), v2.close()]);
    }
  });

  it('an elicitation not tied to a request (the upstream session stream) reaches the only call in progress', async () => {
    const caller = await v1Caller(mcp, { elicit: accept('Linus') });
    try {
      // The router's upstream session for such callers exists (its standalone stream open) before the test.
      expect(textOf(await caller.call('asker__ask', { question: 'First?' }))).toBe('accept:Linus');
      expect(textOf(await caller.call('asker__ask-unrelated', { question: 'And you?' }))).toBe(
        'accept:Linus',
      );
    } finally {
      await caller.close();
    }
  });

  it('a caller that declines, or answers with an error, is answered upstream as it said', async () => {
    const decliner = await v1Caller(mcp, { elicit: () => ({ action: 'decline' }) });
    const refuser = await v2Caller(mcp, {
      elicit: () => {
        throw new McpError(-32050, 'the user closed the dialog');
      },
    });
    try {
      expect(textOf(await decliner.call('asker__ask', { question: 'Q1' }))).toBe('decline');
      expect(textOf(await refuser.call('asker__ask', { question: 'Q2' }))).toMatch(
        /^error -32050: .*the user closed the dialog/,
      );
    } finally {
      await Promise.all([decliner.close(), refuser.close()]);
    }
  });

  it('a caller without the capability: the upstream is not offered it, and one that asks anyway gets an error', async () => {
    const caller = await v1Caller(mcp, {});
    try {
      // The upstream's own capability check: the router declared no elicitation for this caller.
      expect(textOf(await caller.call('asker__ask', { question: 'Q' }))).toMatch(/^error .*elicitation/i);
      expect(upstream.outcomes.at(-1)?.clientCapabilities).not.toHaveProperty('elicitation');
      // An upstream that sends it regardless gets a JSON-RPC error at once (no hang).
      expect(textOf(await caller.call('asker__ask-anyway', { question: 'Q' }))).toMatch(/^error -32601: /);
    } finally {
      await caller.close();
    }
  });

  it('a caller that declared sampling only is not asked for elicitation', async () => {
    const caller = await v2Caller(mcp, {
      sample: () => ({ role: 'assistant', content: { type: 'text', text: 'x' }, model: 'm' }),
    });
    try {
      expect(textOf(await caller.call('asker__ask-anyway', { question: 'Q' }))).toMatch(/^error -32601: /);
    } finally {
      await caller.close();
    }
  });

  it('a 2026-07-28 caller has no channel for server requests: the upstream is told so, the call completes', async () => {
    const caller = await v2Caller(mcp, { modern: true, elicit: accept('nobody') });
    try {
      expect(textOf(await caller.call('asker__ask', { question: 'Q' }))).toMatch(/^error .*elicitation/i);
      expect(textOf(await caller.call('asker__ask-anyway', { question: 'Q' }))).toMatch(/^error -32601: /);
      expect(caller.asked).toEqual([]);
    } finally {
      await caller.close();
    }
  });

  it('two callers eliciting at once each get only their own request, also for the same principal', async () => {
    // Every caller holds its answer until all three were asked: the three elicitations are outstanding together.
    let release: () => void = () => undefined;
    const allAsked = new Promise<void>((resolve) => (release = resolve));
    let asked = 0;
    const answerAs = (name: string) => async () => {
      if (++asked === 3) release();
      await allAsked;
      return { action: 'accept', content: { name } };
    };
    const one = await v1Caller(mcp, { elicit: answerAs('one') });
    const two = await v2Caller(mcp, { elicit: answerAs('two') });
    const bob = await v1Caller(toolset, { user: 'bob', elicit: answerAs('bob') });
    try {
      const results = await Promise.all([
        one.call('asker__ask', { question: 'for one' }),
        two.call('asker__ask', { question: 'for two' }),
        bob.call('ask_user', { question: 'for bob' }),
      ]);
      expect(results.map(textOf)).toEqual(['accept:one', 'accept:two', 'accept:bob']);
      expect([one.asked, two.asked, bob.asked]).toEqual([['for one'], ['for two'], ['for bob']]);
    } finally {
      await Promise.all([one.close(), two.close(), bob.close()]);
    }
  });

  it('a caller that cancels or disconnects mid-elicitation: the upstream gets an error, nothing is left waiting', async () => {
    for (const leave of ['cancel', 'disconnect'] as const) {
      let asked: () => void = () => undefined;
      const wasAsked = new Promise<void>((resolve) => (asked = resolve));
      // Never answers: the caller goes away instead.
      const caller = await v1Caller(mcp, {
        elicit: () => {
          asked();
          return new Promise<never>(() => undefined);
        },
      });
      const abort = new AbortController();
      const outcome = upstream.nextOutcome(60_000);
      const call = caller
        .call('asker__ask', { question: `then ${leave}` }, abort.signal)
        .catch((e: unknown) => e);
      await wasAsked;
      if (leave === 'cancel') abort.abort();
      else await caller.close();
      expect((await outcome).outcome).toMatch(/^error /);
      await call;
      await caller.close();
    }
    // The router still relays for the next caller.
    const next = await v2Caller(mcp, { elicit: accept('after') });
    try {
      expect(textOf(await next.call('asker__ask', { question: 'still there?' }))).toBe('accept:after');
    } finally {
      await next.close();
    }
  });

  it("another principal cannot answer someone else's relayed request", async () => {
    let requestId: unknown;
    let asked: () => void = () => undefined;
    const wasAsked = new Promise<void>((resolve) => (asked = resolve));
    // A raw 2025 caller: initialize, then a tools/call whose SSE stream carries the relayed elicitation.
    const post = (body: unknown, user: string, extra: Record<string, string> = {}) =>
      fetch(mcp, {
        method: 'POST',
        headers: mcpPostHeaders({ ...headersOf(user), ...extra }),
        body: JSON.stringify(body),
      });
    const init = await post(legacyInitialize({ capabilities: { elicitation: {} } }), 'alice');
    const sessionId = init.headers.get('mcp-session-id') ?? undefined;
    await init.text();
    expect(sessionId).toMatch(/^mcpgw1\.e\./);
    const session = { 'mcp-session-id': sessionId!, 'mcp-protocol-version': '2025-11-25' };
    const outcome = upstream.nextOutcome(60_000);
    const callResponse = await post(
      {
        jsonrpc: '2.0',
        id: 2,
        method: 'tools/call',
        params: { name: 'asker__ask', arguments: { question: 'raw' } },
      },
      'alice',
      session,
    );
    const reader = callResponse.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    const reading = (async () => {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        text += value;
        const match = /"method":"elicitation\/create"/.test(text) && /"id":"(mcp-gateway-[^"]+)"/.exec(text);
        if (match && requestId === undefined) {
          requestId = match[1];
          asked();
        }
      }
    })();
    await wasAsked;
    // Bob, with alice's session id and the request id, is not taken as the answer.
    const forged = {
      jsonrpc: '2.0',
      id: requestId,
      result: { action: 'accept', content: { name: 'mallory' } },
    };
    const bobs = await post(forged, 'bob', session);
    await bobs.text();
    const alices = await post(
      { jsonrpc: '2.0', id: requestId, result: { action: 'accept', content: { name: 'alice' } } },
      'alice',
      session,
    );
    expect(alices.status).toBe(202);
    expect((await outcome).outcome).toBe('accept:alice');
    await reading;
    expect(text).toContain('accept:alice');
  });
});

describe('tool router: a relayed request ends with its call', () => {
  let gateway: TestGateway;
  let upstream: ElicitingMcpServer;

  beforeAll(async () => {
    upstream = await startElicitingMcpServer();
    // Calls time out quickly here; nothing below measures time.
    gateway = await startTestGateway({ authenticate: devAuth(), toolRouter: { callTimeoutMs: 1500 } });
    await control(gateway, '/adapters', { name: 'asker', endpoints: [upstream.url], federate: true });
  }, 90_000);
  afterAll(async () => {
    await gateway?.close();
    await upstream?.close();
  });

  it('a call that times out while its caller is asked: the upstream gets an error, the caller the timeout', async () => {
    const caller = await v1Caller(`${gateway.url}/mcp`, {
      elicit: () => new Promise<never>(() => undefined),
    });
    try {
      const outcome = upstream.nextOutcome(60_000);
      const result = await caller.call('asker__ask', { question: 'Too slow?' });
      expect(result.isError).toBe(true);
      expect(textOf(result)).toMatch(/did not answer the call of 'ask' within 1500 ms/);
      expect((await outcome).outcome).toMatch(/^error -32603: The caller of the tool call is gone/);
    } finally {
      await caller.close();
    }
  });
});
