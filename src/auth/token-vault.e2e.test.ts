/**
 * The token vault end to end (`upstreamAuth: {"type":"oauth-user"}`): the real gateway (`main.ts`, a SQLite
 * file, jwt mode with a test issuer) in front of SDK 2.x MCP servers on 127.0.0.1 that accept only access tokens
 * of a real authorization server (oidc-provider: dynamic client registration, PKCE, resource indicators, refresh
 * tokens, revocation) and answer 401 with `resource_metadata` otherwise. SDK 1.x and 2.x clients get the URL
 * elicitation error (-32042) naming `/connect/{adapter}`; the test signs in browserlessly (redirects followed
 * with fetch, the authorization server's login and consent done programmatically); the retry gets through with
 * the caller's own token. Refresh, a refused token, revocation and two callers are covered, and no token value
 * appears in the registry file, the gateway's logs or any answer.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GatewayProcess } from '../../test/gateway-process.js';
import { CLIENT_ERAS, connectLegacyClient } from '../../test/mcp-clients.js';
import type { TestClientOptions } from '../../test/mcp-clients.js';
import { modernToolCallBody, modernToolCallHeaders } from '../../test/modern-requests.js';
import {
  Client as ModernClient,
  StreamableHTTPClientTransport as ModernTransport,
} from '@modelcontextprotocol/client';
import { startOAuthProtectedUpstream } from '../../test/oauth-protected-upstream.js';
import type { ConnectBinding, OAuthProtectedUpstream } from '../../test/oauth-protected-upstream.js';
import { elicitationOf, startOAuthUserGateway } from '../../test/oauth-user-gateway.js';
import type { OAuthUserGateway } from '../../test/oauth-user-gateway.js';
import type { OidcAuthorizationServer } from '../../test/oidc-authorization-server.js';

const dir = mkdtempSync(join(tmpdir(), 'mcpgw-token-vault-'));
let setting: OAuthUserGateway;
let as: OidcAuthorizationServer;
let gateway: GatewayProcess;
let notes: OAuthProtectedUpstream;
let short: OAuthProtectedUpstream;
let tokens: OAuthUserGateway['tokens'];
/** Every gateway answer read, as text, for the leak check. */
let answers: string[];

const send = (path: string, token: string, init?: RequestInit) => setting.send(path, token, init);

/** An upstream of the authorization server whose `whoami` names itself and the caller. */
const startProtectedUpstream = (name: string, asIssuer: string) =>
  startOAuthProtectedUpstream(name, asIssuer, { whoami: (sub) => JSON.stringify({ upstream: name, sub }) });

/** The browser's connect flow for `adapter` as `token`'s caller, signing in at the authorization server as `account`. */
const browserFlow = (token: string, adapter: string, account: string, binding?: ConnectBinding) =>
  setting.connect(token, `${gateway.url}/connect/${adapter}`, account, binding);

const connectAccount = async (token: string, adapter: string, account: string) =>
  (await browserFlow(token, adapter, account)).res;

/**
 * A 2.x client negotiating as it does by default (`auto`): it tries `server/discover`, then `initialize`. A client
 * pinned to 2026-07-28 reports a failed `server/discover` as a failed negotiation without the error's data
 * (SDK 2.x behaviour), so the elicitation is seen by the auto client and by a raw 2026-07-28 request.
 */
async function connectAutoClient(url: string, options: TestClientOptions = {}) {
  const client = new ModernClient({ name: 'token-vault-test-auto', version: '2.0.0' });
  await client.connect(
    new ModernTransport(new URL(url), { requestInit: { headers: options.headers ?? {} } }),
  );
  return client;
}

const ELICITING_CLIENTS = [
  ['SDK 1.x (2025-11-25)', connectLegacyClient],
  ['SDK 2.x (auto negotiation)', connectAutoClient],
] as const;

const mcpUrl = (adapter: string) => `${gateway.url}/adapters/${adapter}/mcp`;
const headersOf = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });
const textOf = (result: Record<string, unknown>) =>
  (result.content as { type: string; text: string }[]).map((c) => c.text).join('');

beforeAll(async () => {
  // `short`'s tokens live 10 s, under the 30 s the vault renews ahead: every use of its grant refreshes it.
  let shortUrl = '';
  setting = await startOAuthUserGateway({
    dir,
    accessTokenTtlFor: (resource) => (resource === shortUrl ? 10 : 300),
    beforeGateway: async (server) => {
      notes = await startProtectedUpstream('notes', server.issuer);
      short = await startProtectedUpstream('short', server.issuer);
      shortUrl = short.url;
    },
  });
  ({ as, gateway, tokens, answers } = setting);
  for (const [name, upstream] of [
    ['notes', notes],
    ['short', short],
  ] as const) {
    const res = await send('/adapters', tokens.root, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        name,
        endpoints: [upstream.url],
        requiredRoles: ['team'],
        upstreamAuth: { type: 'oauth-user', scopes: ['mcp'] },
      }),
    });
    expect(res.status, await res.clone().text()).toBe(201);
  }
}, 120_000);

afterAll(async () => {
  await setting?.close();
  await Promise.all([notes?.close(), short?.close()]);
  rmSync(dir, { recursive: true, force: true });
});

describe('oauth-user: the first use', () => {
  it.each(ELICITING_CLIENTS)(
    '%s: a caller without a grant gets -32042 naming /connect/notes',
    async (_era, connect) => {
      const { code, url } = await elicitationOf(connect(mcpUrl('notes'), headersOf(tokens.alice)));
      expect(code).toBe(-32042);
      expect(url).toBe(`${gateway.url}/connect/notes`);
    },
  );

  it('a 2026-07-28 tools/call without a grant is answered with -32042 for its id', async () => {
    const res = await send('/adapters/notes/mcp', tokens.alice, {
      method: 'POST',
      headers: modernToolCallHeaders('whoami'),
      body: modernToolCallBody('whoami', {}, 7),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      id: number;
      error: { code: number; data: { elicitations: { url: string }[] } };
    };
    expect(body.id).toBe(7);
    expect(body.error.code).toBe(-32042);
    expect(body.error.data.elicitations[0]!.url).toBe(`${gateway.url}/connect/notes`);
  });

  it('connecting signs in at the upstream, and the grant is listed without a token', async () => {
    const landed = await connectAccount(tokens.alice, 'notes', 'alice');
    expect(landed.status).toBe(200);
    expect(await landed.text()).toContain('<h1>Connected</h1>');
    const listed = (await (await send('/connections', tokens.alice)).json()) as Record<string, unknown>[];
    expect(listed).toEqual([
      { adapter: 'notes', scopes: ['mcp'], createdAt: expect.any(String), expiresAt: expect.any(String) },
    ]);
  });

  it.each(CLIENT_ERAS)(
    "%s: after connecting, the retry reaches the upstream with the caller's token",
    async (_era, connect) => {
      const client = await connect(mcpUrl('notes'), headersOf(tokens.alice));
      try {
        expect(JSON.parse(textOf(await client.call('whoami')))).toEqual({ upstream: 'notes', sub: 'alice' });
      } finally {
        await client.close();
      }
    },
  );

  it('a callback with a state that was already used, or forged, is refused', async () => {
    const forged = await fetch(`${gateway.url}/connect/callback?state=abc.def&code=x`);
    expect(forged.status).toBe(400);
    const none = await fetch(`${gateway.url}/connect/callback?code=x`);
    expect(none.status).toBe(400);
    const done = await browserFlow(tokens.alice, 'notes', 'alice');
    expect(done.res.status).toBe(200);
    const replay = await fetch(done.callback!, { headers: { cookie: done.cookie } });
    expect(replay.status).toBe(400);
    expect(await replay.text()).toContain('already completed');
  });

  it('a callback reached in another browser (without the cookie /connect set) stores nothing', async () => {
    const other = await browserFlow(tokens.bob, 'notes', 'bob', 'none');
    expect(other.res.status).toBe(403);
    expect(await other.res.text()).toContain('another browser');
    const bobs = (await (await send('/connections', tokens.bob)).json()) as unknown[];
    expect(bobs).toEqual([]);
  });

  it('a callback carrying another browser’s binding cookie stores nothing', async () => {
    const other = await browserFlow(tokens.bob, 'notes', 'bob', 'other');
    expect(other.res.status).toBe(403);
    expect(await other.res.text()).toContain('another browser');
    expect(await (await send('/connections', tokens.bob)).json()).toEqual([]);
  });
});

describe('oauth-user: two callers', () => {
  it.each(ELICITING_CLIENTS)('%s: caller B gets -32042 while A is connected', async (_era, connect) => {
    const { code } = await elicitationOf(connect(mcpUrl('notes'), headersOf(tokens.bob)));
    expect(code).toBe(-32042);
  });

  it('each caller reaches the upstream with their own grant', async () => {
    expect((await connectAccount(tokens.bob, 'notes', 'bob')).status).toBe(200);
    for (const [user, token] of [
      ['alice', tokens.alice],
      ['bob', tokens.bob],
    ] as const) {
      for (const [, connect] of CLIENT_ERAS) {
        const client = await connect(mcpUrl('notes'), headersOf(token));
        try {
          expect(JSON.parse(textOf(await client.call('whoami'))).sub).toBe(user);
        } finally {
          await client.close();
        }
      }
    }
    const bobs = (await (await send('/connections', tokens.bob)).json()) as { adapter: string }[];
    expect(bobs.map((c) => c.adapter)).toEqual(['notes']);
  });
});

describe('oauth-user: refresh', () => {
  it('an access token due to expire is refreshed with the refresh token, and the rotated grant is used', async () => {
    expect((await connectAccount(tokens.alice, 'short', 'alice')).status).toBe(200);
    const before = as.refreshes;
    const [, connect] = CLIENT_ERAS[1];
    const client = await connect(mcpUrl('short'), headersOf(tokens.alice));
    try {
      expect(JSON.parse(textOf(await client.call('whoami'))).sub).toBe('alice');
      const first = short.lastAccepted;
      expect(JSON.parse(textOf(await client.call('whoami'))).sub).toBe('alice');
      expect(short.lastAccepted).not.toBe(first);
    } finally {
      await client.close();
    }
    expect(as.refreshes).toBeGreaterThan(before);
  });

  it('an access token the upstream refuses is refreshed once and the request goes through', async () => {
    const [, connect] = CLIENT_ERAS[1];
    const client = await connect(mcpUrl('notes'), headersOf(tokens.alice));
    try {
      await client.call('whoami');
      const current = notes.lastAccepted!;
      notes.refused.add(current);
      const before = as.refreshes;
      expect(JSON.parse(textOf(await client.call('whoami'))).sub).toBe('alice');
      expect(notes.lastAccepted).not.toBe(current);
      expect(as.refreshes).toBe(before + 1);
    } finally {
      await client.close();
    }
  });
});

describe('oauth-user: a token the upstream keeps refusing', () => {
  it('is refreshed once, then the caller gets -32042 on the request it made', async () => {
    const [, connect] = CLIENT_ERAS[0];
    const client = await connect(mcpUrl('short'), headersOf(tokens.alice));
    try {
      short.refusedUsers.add('alice');
      const before = as.refreshes;
      const { code, url } = await elicitationOf(client.call('whoami'));
      expect(code).toBe(-32042);
      expect(url).toBe(`${gateway.url}/connect/short`);
      // `short`'s tokens are always due: the request refreshes once, and its 401 once more (not again).
      expect(as.refreshes - before).toBe(2);
    } finally {
      short.refusedUsers.delete('alice');
      await client.close();
    }
  });
});

describe('oauth-user: revoke', () => {
  it('DELETE /connections/{adapter} revokes at the upstream, and the next call gets -32042 again', async () => {
    const destroyedBefore = as.destroyedRefreshTokens.length;
    expect((await send('/connections/notes', tokens.alice, { method: 'DELETE' })).status).toBe(204);
    expect(as.destroyedRefreshTokens.length).toBeGreaterThan(destroyedBefore);
    for (const [, connect] of ELICITING_CLIENTS) {
      const { code, url } = await elicitationOf(connect(mcpUrl('notes'), headersOf(tokens.alice)));
      expect(code).toBe(-32042);
      expect(url).toBe(`${gateway.url}/connect/notes`);
    }
    const listed = (await (await send('/connections', tokens.alice)).json()) as { adapter: string }[];
    expect(listed.map((c) => c.adapter)).toEqual(['short']);
    expect((await send('/connections/notes', tokens.alice, { method: 'DELETE' })).status).toBe(404);
    // Bob's grant is his own: still there, still working.
    const [, connect] = CLIENT_ERAS[0];
    const client = await connect(mcpUrl('notes'), headersOf(tokens.bob));
    try {
      expect(JSON.parse(textOf(await client.call('whoami'))).sub).toBe('bob');
    } finally {
      await client.close();
    }
  });
});

describe('oauth-user: no token in the clear', () => {
  it('no access or refresh token appears in the registry files, the logs or any answer', () => {
    const values = [...notes.tokensSeen, ...short.tokensSeen, ...as.refreshTokens];
    expect(values.length).toBeGreaterThan(5);
    const files = readdirSync(dir).map((f) => readFileSync(join(dir, f)).toString('latin1'));
    const logs = gateway.logs.map((l) => JSON.stringify(l));
    for (const value of values) {
      for (const text of [...files, ...logs, ...answers]) expect(text.includes(value)).toBe(false);
    }
    // The grants are in the file, sealed: it is the registry the gateway used.
    expect(files.some((f) => f.includes('oauth_grants'))).toBe(true);
  });
});
