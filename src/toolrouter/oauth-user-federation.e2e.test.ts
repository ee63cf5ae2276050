/**
 * Federation of an `oauth-user` adapter end to end: the real gateway (`main.ts`, a SQLite file, jwt mode) in
 * front of an SDK 2.x MCP server that accepts only access tokens of a real authorization server (oidc-provider)
 * and lists tools that differ per user. Two callers through the tool router (`/mcp`) and a toolset: without a
 * grant a caller sees none of the adapter's tools and a call asks them to connect (-32042 for an SDK 1.x
 * client; a URL-mode elicitation for an SDK 2.x client declaring it, which connects in its handler and gets
 * the retried call's answer; a tool error naming the URL for one that does not). Once connected each caller
 * lists and calls with their own token (the upstream sees their subject), never the other's; a refused token is
 * refreshed; a revoked grant makes the caller connect again; no token appears in logs or answers.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  Client as ModernClient,
  StreamableHTTPClientTransport as ModernTransport,
} from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GatewayProcess } from '../../test/gateway-process.js';
import { CLIENT_ERAS, connectLegacyClient, connectModernClient } from '../../test/mcp-clients.js';
import { startOAuthProtectedUpstream } from '../../test/oauth-protected-upstream.js';
import type { OAuthProtectedUpstream } from '../../test/oauth-protected-upstream.js';
import { elicitationOf, startOAuthUserGateway } from '../../test/oauth-user-gateway.js';
import type { OAuthUserGateway } from '../../test/oauth-user-gateway.js';
import type { OidcAuthorizationServer } from '../../test/oidc-authorization-server.js';

const dir = mkdtempSync(join(tmpdir(), 'mcpgw-oauth-user-federation-'));
let setting: OAuthUserGateway;
let as: OidcAuthorizationServer;
let gateway: GatewayProcess;
let notes: OAuthProtectedUpstream;
let tokens: OAuthUserGateway['tokens'];
/** Every gateway answer read, as text, for the leak check. */
let answers: string[];

const send = (path: string, token: string, init?: RequestInit) => setting.send(path, token, init);

/** The browser: opens `connectUrl` (a `/connect/{adapter}` URL) as the caller and follows every redirect back. */
const connectAccount = async (token: string, connectUrl: string, account: string) =>
  (await setting.connect(token, connectUrl, account)).res;

const routerUrl = () => `${gateway.url}/mcp`;
const toolsetUrl = () => `${gateway.url}/toolsets/notebook/mcp`;
const headersOf = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });
const textOf = (result: Record<string, unknown>) =>
  (result.content as { type: string; text: string }[]).map((c) => c.text).join('');
const notesTools = (names: string[]) => names.filter((n) => n.startsWith('notes__')).sort();

/** The names `token`'s caller is listed at `url`, and what a recorded answer of them looked like. */
async function listedTo(url: string, token: string, era: 0 | 1): Promise<string[]> {
  const client = await CLIENT_ERAS[era][1](url, headersOf(token));
  try {
    const { names } = await client.listAll();
    answers.push(JSON.stringify(names));
    return names;
  } finally {
    await client.close();
  }
}

/** A 2.x client (2026-07-28) that declares URL elicitation and answers it by running `onUrl`. */
async function connectElicitingClient(url: string, token: string, onUrl: (url: string) => Promise<void>) {
  const client = new ModernClient(
    { name: 'oauth-user-federation-test', version: '2.0.0' },
    { versionNegotiation: { mode: { pin: '2026-07-28' } }, capabilities: { elicitation: { url: {} } } },
  );
  client.setRequestHandler('elicitation/create', async (request) => {
    const params = request.params as { mode?: string; url?: string };
    if (params.mode !== 'url' || !params.url) return { action: 'decline' };
    await onUrl(params.url);
    return { action: 'accept' };
  });
  await client.connect(
    new ModernTransport(new URL(url), { requestInit: { headers: { authorization: `Bearer ${token}` } } }),
  );
  return client;
}

beforeAll(async () => {
  setting = await startOAuthUserGateway({
    dir,
    beforeGateway: async (server) => {
      notes = await startOAuthProtectedUpstream('notes', server.issuer, {
        whoami: (sub) => JSON.stringify({ upstream: 'notes', sub }),
        // A tool only this user has: another caller must never see it listed.
        toolsOf: (mcp, sub) =>
          mcp.registerTool(`notes_of_${sub}`, { description: `The notes of ${sub}` }, async () => ({
            content: [{ type: 'text', text: `notes of ${sub}` }],
          })),
      });
    },
    env: { MCP_GATEWAY_TOOL_PINNING: 'enforce' },
  });
  ({ as, gateway, tokens, answers } = setting);
  const adapter = await send('/adapters', tokens.root, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      name: 'notes',
      endpoints: [notes.url],
      requiredRoles: ['team'],
      federate: true,
      upstreamAuth: { type: 'oauth-user', scopes: ['mcp'] },
    }),
  });
  expect(adapter.status, await adapter.clone().text()).toBe(201);
  const toolset = await send('/toolsets', tokens.root, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      name: 'notebook',
      description: 'Notes',
      requiredRoles: ['team'],
      tools: ['notes__*'],
      // The toolset's policy judges per-caller tools as any: nobody's own notes through this toolset.
      policy: {
        default: 'allow',
        rules: [{ name: 'no-own-notes', tools: ['notes__notes_of_*'], effect: 'deny' }],
      },
    }),
  });
  expect(toolset.status, await toolset.clone().text()).toBe(201);
}, 120_000);

afterAll(async () => {
  await setting?.close();
  await notes?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('oauth-user federated: before connecting', () => {
  it.each([0, 1] as const)('era %i: the caller is listed none of the adapter’s tools', async (era) => {
    expect(notesTools(await listedTo(routerUrl(), tokens.alice, era))).toEqual([]);
    expect(notesTools(await listedTo(toolsetUrl(), tokens.alice, era))).toEqual([]);
  });

  // A name the adapter does not have is asked about the same way: nothing is learnt from the answer.
  it.each([
    ['/mcp', routerUrl, 'notes__whoami'],
    ['a toolset that holds the adapter’s tools', toolsetUrl, 'notes__whoami'],
    ['/mcp', routerUrl, 'notes__no_such_tool'],
  ])(
    'SDK 1.x (2025-11-25) through %s: a call of %s gets -32042 naming /connect/notes',
    async (_, url, tool) => {
      const client = await connectLegacyClient(url(), headersOf(tokens.alice));
      try {
        const { code, url: connect } = await elicitationOf(client.call(tool));
        expect(code).toBe(-32042);
        expect(connect).toBe(`${gateway.url}/connect/notes`);
      } finally {
        await client.close();
      }
    },
  );

  it('SDK 2.x (2026-07-28) without URL elicitation: a tool error whose text names /connect/notes', async () => {
    const client = await connectModernClient(routerUrl(), headersOf(tokens.alice));
    try {
      const result = await client.call('notes__whoami');
      answers.push(JSON.stringify(result));
      expect(result.isError).toBe(true);
      expect(textOf(result)).toContain(`open ${gateway.url}/connect/notes to connect your account`);
    } finally {
      await client.close();
    }
  });
});

describe('oauth-user federated: A connects', () => {
  it('after connecting, A is listed the adapter’s tools as A’s upstream account lists them', async () => {
    const landed = await connectAccount(tokens.alice, `${gateway.url}/connect/notes`, 'alice');
    expect(landed.status).toBe(200);
    for (const era of [0, 1] as const) {
      expect(notesTools(await listedTo(routerUrl(), tokens.alice, era))).toEqual([
        'notes__notes_of_alice',
        'notes__whoami',
      ]);
      expect(notesTools(await listedTo(toolsetUrl(), tokens.alice, era))).toEqual(['notes__whoami']);
    }
  });

  it.each(CLIENT_ERAS)('%s: A’s calls reach the upstream with A’s own token', async (_era, connect) => {
    const client = await connect(routerUrl(), headersOf(tokens.alice));
    try {
      const result = await client.call('notes__whoami');
      expect(JSON.parse(textOf(result))).toEqual({ upstream: 'notes', sub: 'alice' });
      expect(textOf(await client.call('notes__notes_of_alice'))).toBe('notes of alice');
    } finally {
      await client.close();
    }
    const toolset = await connect(toolsetUrl(), headersOf(tokens.alice));
    try {
      expect(JSON.parse(textOf(await toolset.call('notes__whoami'))).sub).toBe('alice');
      await expect(toolset.call('notes__notes_of_alice')).rejects.toThrow(/no-own-notes|denied|policy/i);
    } finally {
      await toolset.close();
    }
  });

  it.each([0, 1] as const)('era %i: B still sees none of it, and A’s own tool is not B’s', async (era) => {
    expect(notesTools(await listedTo(routerUrl(), tokens.bob, era))).toEqual([]);
    const client = await connectLegacyClient(routerUrl(), headersOf(tokens.bob));
    try {
      expect((await elicitationOf(client.call('notes__whoami'))).code).toBe(-32042);
      expect((await elicitationOf(client.call('notes__notes_of_alice'))).code).toBe(-32042);
    } finally {
      await client.close();
    }
  });
});

describe('oauth-user federated: B connects from the elicitation', () => {
  it('an SDK 2.x client declaring URL elicitation is asked to open /connect/notes, and its retry gets through', async () => {
    const asked: string[] = [];
    const client = await connectElicitingClient(routerUrl(), tokens.bob, async (url) => {
      asked.push(url);
      expect((await connectAccount(tokens.bob, url, 'bob')).status).toBe(200);
    });
    try {
      const result = (await client.callTool({ name: 'notes__whoami', arguments: {} })) as Record<
        string,
        unknown
      >;
      answers.push(JSON.stringify(result));
      expect(asked).toEqual([`${gateway.url}/connect/notes`]);
      expect(JSON.parse(textOf(result))).toEqual({ upstream: 'notes', sub: 'bob' });
    } finally {
      await client.close();
    }
  });

  it.each([0, 1] as const)(
    'era %i: each caller is listed their own tools, never the other’s',
    async (era) => {
      expect(notesTools(await listedTo(routerUrl(), tokens.bob, era))).toEqual([
        'notes__notes_of_bob',
        'notes__whoami',
      ]);
      expect(notesTools(await listedTo(routerUrl(), tokens.alice, era))).toEqual([
        'notes__notes_of_alice',
        'notes__whoami',
      ]);
    },
  );

  it('pins are per tool name: every caller’s tools are pinned, and none is held for differing lists', async () => {
    const res = await send('/adapters/notes/tools', tokens.root);
    expect(res.status).toBe(200);
    const pins = (
      (await res.json()) as { tools: { tool: string; state: string; held: boolean; listed: boolean }[] }
    ).tools;
    // `listed`: some caller's last listing here holds it (one caller's list does not unlist another's tools).
    expect(pins.map((p) => [p.tool, p.state, p.held, p.listed]).sort()).toEqual([
      ['notes_of_alice', 'pinned', false, true],
      ['notes_of_bob', 'pinned', false, true],
      ['whoami', 'pinned', false, true],
    ]);
  });

  it('the adapter’s status says it is listed per caller', async () => {
    const res = await send('/adapters/notes/status', tokens.root);
    expect(res.status).toBe(200);
    const status = (await res.json()) as { federation?: { state: string; tools: number } };
    expect(status.federation).toEqual({ state: 'per-caller', tools: 0 });
  });

  it('a caller cannot call the other’s own tool', async () => {
    const client = await connectLegacyClient(routerUrl(), headersOf(tokens.bob));
    try {
      await expect(client.call('notes__notes_of_alice')).rejects.toThrow(/Unknown tool/);
      expect(JSON.parse(textOf(await client.call('notes__whoami'))).sub).toBe('bob');
    } finally {
      await client.close();
    }
  });
});

describe('oauth-user federated: refresh', () => {
  it('a token the upstream refuses is refreshed once and the call goes through with the new one', async () => {
    const [, connect] = CLIENT_ERAS[1];
    const client = await connect(routerUrl(), headersOf(tokens.alice));
    try {
      await client.call('notes__whoami');
      const current = notes.lastAccepted!;
      notes.refused.add(current);
      const before = as.refreshes;
      expect(JSON.parse(textOf(await client.call('notes__whoami'))).sub).toBe('alice');
      expect(notes.lastAccepted).not.toBe(current);
      expect(as.refreshes).toBe(before + 1);
    } finally {
      await client.close();
    }
  });
});

describe('oauth-user federated: revoke', () => {
  it('after DELETE /connections/notes, A is listed none of it and a call asks A to connect again', async () => {
    expect((await send('/connections/notes', tokens.alice, { method: 'DELETE' })).status).toBe(204);
    for (const era of [0, 1] as const) {
      expect(notesTools(await listedTo(routerUrl(), tokens.alice, era))).toEqual([]);
    }
    const client = await connectLegacyClient(routerUrl(), headersOf(tokens.alice));
    try {
      const { code, url } = await elicitationOf(client.call('notes__whoami'));
      expect(code).toBe(-32042);
      expect(url).toBe(`${gateway.url}/connect/notes`);
    } finally {
      await client.close();
    }
    // B's grant is B's own: still listed, still working.
    expect(notesTools(await listedTo(routerUrl(), tokens.bob, 1))).toEqual([
      'notes__notes_of_bob',
      'notes__whoami',
    ]);
  });
});

describe('oauth-user federated: no token in the clear', () => {
  it('no access or refresh token appears in the gateway’s logs or any answer', () => {
    const values = [...notes.tokensSeen, ...as.refreshTokens];
    expect(values.length).toBeGreaterThan(2);
    const logs = gateway.logs.map((l) => JSON.stringify(l));
    for (const value of values) {
      for (const text of [...logs, ...answers]) expect(text.includes(value)).toBe(false);
    }
  });
});
