/**
 * Multi round-trip requests (2026-07-28) through `/mcp`: an SDK 2.x upstream tool that demands input, an SDK 2.x
 * client doing the round trip itself (the router seals the upstream's `requestState` and routes the retry back),
 * an SDK 1.x client the router bridges for (elicitation on the caller's own call), and sealed state that was
 * tampered with or belongs to someone else refused and audited.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { McpServer, createMcpHandler } from '@modelcontextprotocol/server';
import { Client as ModernClient, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { Client as LegacyClient } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as LegacyTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { localPrincipal } from '../auth/index.js';
import type { AuditLog } from '../observability/index.js';
import { startTestGateway } from '../../test/test-gateway.js';
import type { TestGateway } from '../../test/test-gateway.js';
import { serveMcpFetch } from '../../test/http-fixture.js';

/** An SDK 2.x server whose `greet` asks the caller's name (MRTR) before answering; it records what it got. */
async function startAskingUpstream() {
  const issued = new Set<string>();
  const retries: { requestState: unknown; name: unknown }[] = [];
  let counter = 0;
  const handler = createMcpHandler(() => {
    const server = new McpServer({ name: 'asking-upstream', version: '2.0.0' });
    server.registerTool(
      'greet',
      { description: 'Greets you by the name it asks for', inputSchema: z.object({ greeting: z.string() }) },
      async ({ greeting }, ctx) => {
        const responses = ctx.mcpReq.inputResponses as
          Record<string, { content?: { name?: string } }> | undefined;
        const state = ctx.mcpReq.requestState();
        const name = responses?.['who']?.content?.name;
        if (name === undefined) {
          const requestState = `upstream-state-${++counter}`;
          issued.add(requestState);
          return {
            resultType: 'input_required' as const,
            inputRequests: {
              who: {
                method: 'elicitation/create' as const,
                params: {
                  mode: 'form' as const,
                  message: 'What is your name?',
                  requestedSchema: {
                    type: 'object' as const,
                    properties: { name: { type: 'string' as const } },
                    required: ['name'],
                  },
                },
              },
            },
            requestState,
          };
        }
        retries.push({ requestState: state, name });
        if (typeof state !== 'string' || !issued.has(state)) {
          return { isError: true, content: [{ type: 'text' as const, text: 'unknown requestState' }] };
        }
        return { content: [{ type: 'text' as const, text: `${greeting}, ${name}` }] };
      },
    );
    return server;
  });
  const http = await serveMcpFetch((request) => handler.fetch(request));
  return {
    url: http.mcpUrl,
    issued,
    retries,
    close: () => http.close(),
  };
}

type Upstream = Awaited<ReturnType<typeof startAskingUpstream>>;

const userHeaders = (user: string) => ({ 'x-test-user': user });

async function modernClient(url: string, user: string, name = 'Ada') {
  const client = new ModernClient(
    { name: 'mrtr-test-modern', version: '2.0.0' },
    { versionNegotiation: { mode: { pin: '2026-07-28' } }, capabilities: { elicitation: { form: {} } } },
  );
  client.setRequestHandler('elicitation/create', async () => ({ action: 'accept', content: { name } }));
  await client.connect(
    new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: userHeaders(user) } }),
  );
  return client;
}

interface ManualInputRequired {
  resultType: 'input_required';
  inputRequests?: Record<string, { method: string }>;
  requestState?: string;
}

const textOf = (result: unknown) =>
  ((result as { content: { text: string }[] }).content[0] ?? { text: '' }).text;

describe('multi round-trip requests through the tool router', () => {
  let upstream: Upstream;
  let gateway: TestGateway;
  let endpoint: string;
  const audit: Record<string, unknown>[] = [];
  const auditLog: AuditLog = { enabled: () => true, write: (entry) => audit.push({ ...entry }) };

  beforeAll(async () => {
    upstream = await startAskingUpstream();
    gateway = await startTestGateway({
      toolRouter: {},
      operations: { audit: auditLog },
      authenticate: (c, next) =>
        localPrincipal({
          principal: { userId: c.req.header('x-test-user') ?? 'admin', roles: ['mcp.admin'] },
        })(c, next),
    });
    const res = await fetch(`${gateway.url}/adapters`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'asker', endpoints: [upstream.url], federate: true }),
    });
    expect(res.status).toBe(201);
    endpoint = `${gateway.url}/mcp`;
  });
  afterAll(async () => {
    await gateway?.close();
    await upstream?.close();
  });

  it('an SDK 2.x client (2026-07-28) does the round trip itself: the retry reaches the upstream with its own state', async () => {
    const client = await modernClient(endpoint, 'alice');
    try {
      const before = upstream.retries.length;
      const result = await client.callTool({ name: 'asker__greet', arguments: { greeting: 'Hello' } });
      expect(textOf(result)).toBe('Hello, Ada');
      expect(result.isError).toBeFalsy();
      // The upstream got back exactly the state it issued (the router unwrapped its sealed envelope).
      const retry = upstream.retries.at(-1)!;
      expect(upstream.retries.length).toBe(before + 1);
      expect(upstream.issued.has(retry.requestState as string)).toBe(true);
    } finally {
      await client.close();
    }
  });

  it('hands the caller the upstream’s input requests unchanged, with a sealed requestState in place of the upstream’s', async () => {
    const client = await modernClient(endpoint, 'alice');
    try {
      const first = (await client.request(
        { method: 'tools/call', params: { name: 'asker__greet', arguments: { greeting: 'Hi' } } },
        { allowInputRequired: true },
      )) as unknown as ManualInputRequired;
      expect(first.resultType).toBe('input_required');
      expect(first.inputRequests?.['who']?.method).toBe('elicitation/create');
      expect(first.inputRequests?.['who']).toMatchObject({ params: { message: 'What is your name?' } });
      const sealed = first.requestState!;
      expect(sealed).toMatch(/^v2\./);
      // Nothing of the upstream's own state shows.
      for (const state of upstream.issued) expect(sealed).not.toContain(state);

      const done = await client.request(
        {
          method: 'tools/call',
          params: {
            name: 'asker__greet',
            arguments: { greeting: 'Hi' },
            inputResponses: { who: { action: 'accept', content: { name: 'Grace' } } },
            requestState: sealed,
          },
        } as never,
        { allowInputRequired: true },
      );
      expect(textOf(done)).toBe('Hi, Grace');
    } finally {
      await client.close();
    }
  });

  async function firstRound(client: ModernClient) {
    const first = (await client.request(
      { method: 'tools/call', params: { name: 'asker__greet', arguments: { greeting: 'Hey' } } },
      { allowInputRequired: true },
    )) as unknown as ManualInputRequired;
    return first.requestState!;
  }

  const retryWith = (client: ModernClient, requestState: string, name = 'asker__greet') =>
    client.request(
      {
        method: 'tools/call',
        params: {
          name,
          arguments: { greeting: 'Hey' },
          inputResponses: { who: { action: 'accept', content: { name: 'Mallory' } } },
          requestState,
        },
      } as never,
      { allowInputRequired: true },
    );

  it('refuses a tampered requestState and audits it; nothing reaches the upstream', async () => {
    const client = await modernClient(endpoint, 'alice');
    try {
      const sealed = await firstRound(client);
      const i = sealed.length - 10;
      const tampered = sealed.slice(0, i) + (sealed[i] === 'A' ? 'B' : 'A') + sealed.slice(i + 1);
      const retries = upstream.retries.length;
      const auditLines = audit.length;
      await expect(retryWith(client, tampered)).rejects.toThrow(/Invalid or expired requestState/);
      expect(upstream.retries.length).toBe(retries);
      expect(audit.slice(auditLines)).toContainEqual(
        expect.objectContaining({
          action: 'routing-state/refused',
          stateKind: 'request-state',
          method: 'tools/call',
          adapter: 'asker',
          principal: 'alice',
          reason: 'tampered',
          outcome: 'denied',
        }),
      );
    } finally {
      await client.close();
    }
  });

  it('refuses another user’s requestState (user B retrying with A’s) and audits it', async () => {
    const alice = await modernClient(endpoint, 'alice');
    const bob = await modernClient(endpoint, 'bob');
    try {
      const sealed = await firstRound(alice);
      const retries = upstream.retries.length;
      const auditLines = audit.length;
      await expect(retryWith(bob, sealed)).rejects.toThrow(/Invalid or expired requestState/);
      expect(upstream.retries.length).toBe(retries);
      expect(audit.slice(auditLines)).toContainEqual(
        expect.objectContaining({
          action: 'routing-state/refused',
          principal: 'bob',
          reason: 'wrong-principal',
        }),
      );
      // Alice's own retry with it still works.
      expect(textOf(await retryWith(alice, sealed))).toBe('Hey, Mallory');
    } finally {
      await alice.close();
      await bob.close();
    }
  });

  it('a 2026-07-28 client that declared no elicitation: the upstream is told so on that request and does not ask', async () => {
    const client = new ModernClient(
      { name: 'mrtr-test-modern-plain', version: '2.0.0' },
      { versionNegotiation: { mode: { pin: '2026-07-28' } } },
    );
    await client.connect(
      new StreamableHTTPClientTransport(new URL(endpoint), { requestInit: { headers: userHeaders('erin') } }),
    );
    try {
      const result = await client.callTool({ name: 'asker__greet', arguments: { greeting: 'Hallo' } });
      expect(result.isError).toBe(true);
      expect(textOf(result)).toMatch(/elicitation\/create.*do not declare/);
    } finally {
      await client.close();
    }
  });

  it('bridges for an SDK 1.x client (2025-11-25): it is asked by elicitation on its own call, the router retries', async () => {
    const client = new LegacyClient(
      { name: 'mrtr-test-legacy', version: '1.0.0' },
      { capabilities: { elicitation: {} } },
    );
    const asked: string[] = [];
    client.setRequestHandler(ElicitRequestSchema, async (request) => {
      asked.push(request.params.message);
      return { action: 'accept', content: { name: 'Linus' } };
    });
    await client.connect(
      new LegacyTransport(new URL(endpoint), { requestInit: { headers: userHeaders('carol') } }),
    );
    try {
      const result = await client.callTool({ name: 'asker__greet', arguments: { greeting: 'Moin' } });
      expect(textOf(result)).toBe('Moin, Linus');
      expect(asked).toEqual(['What is your name?']);
      expect(upstream.issued.has(upstream.retries.at(-1)!.requestState as string)).toBe(true);
    } finally {
      await client.close();
    }
  });

  it('an SDK 1.x client without elicitation gets a tool error naming what the tool needed', async () => {
    const client = new LegacyClient({ name: 'mrtr-test-legacy-plain', version: '1.0.0' });
    await client.connect(
      new LegacyTransport(new URL(endpoint), { requestInit: { headers: userHeaders('dave') } }),
    );
    try {
      const result = await client.callTool({ name: 'asker__greet', arguments: { greeting: 'Hallo' } });
      expect(result.isError).toBe(true);
      // The upstream is told the client declared no elicitation, so it refuses to ask (the router would refuse too).
      expect(textOf(result)).toMatch(/elicitation\/create.*(do not|did not) declare/);
    } finally {
      await client.close();
    }
  });
});
