/**
 * The tool router behind real OAuth: tokens from a local issuer (jose-signed, JWKS over HTTP) with roles, the
 * 401 challenge pointing at `/mcp`'s own protected-resource metadata, audience binding to `/mcp`, and per-user
 * filtering of the merged list with SDK clients of both lines.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MiddlewareHandler } from 'hono';
import { extractWWWAuthenticateParams } from '@modelcontextprotocol/sdk/client/auth.js';
import { SCORE_TOOL, startScoreServer } from '../../scripts/samples/score-server.js';
import type { ScoreServer } from '../../scripts/samples/score-server.js';
import { PROTECTED_RESOURCE_METADATA_PATH, createAuthenticator, localPrincipal } from '../auth/index.js';
import type { Authenticator } from '../auth/index.js';
import { parseAuthConfig } from '../config/index.js';
import { CALLER_CREDENTIAL_HEADERS } from '../core/index.js';
import type { AppEnv } from '../http/index.js';
import { CLIENT_ERAS } from '../../test/mcp-clients.js';
import { startModernMcpServer } from '../../test/mcp-servers.js';
import type { RunningMcpServer } from '../../test/mcp-servers.js';
import { startTestGateway } from '../../test/test-gateway.js';
import type { TestGateway } from '../../test/test-gateway.js';
import { startTokenIssuer } from '../../test/token-issuer.js';
import type { TokenIssuer } from '../../test/token-issuer.js';

describe('tool router with real tokens', () => {
  let issuer: TokenIssuer;
  let gateway: TestGateway;
  let score: ScoreServer;
  let upstream: RunningMcpServer;
  let auth: Authenticator;
  let endpoint: string;

  beforeAll(async () => {
    score = await startScoreServer();
    upstream = await startModernMcpServer({ name: 'finance-upstream' });
    // Authentication is switched on once the gateway listens: the token audience is its URL.
    let current: MiddlewareHandler<AppEnv> = localPrincipal({ principal: { userId: 'alice', roles: [] } });
    gateway = await startTestGateway({ authenticate: (c, next) => current(c, next), toolRouter: {} });
    const post = (path: string, body: object) =>
      fetch(`${gateway.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      }).then((r) => expect(r.status).toBe(201));
    await post('/tools', {
      name: 'public-score',
      endpoints: [score.url],
      requiredRoles: ['staff'],
      toolDefinition: { tool: { ...SCORE_TOOL, name: 'public-score' } },
    });
    await post('/tools', {
      name: 'alice-score',
      endpoints: [score.url],
      toolDefinition: { tool: { ...SCORE_TOOL, name: 'alice-score' } },
    });
    await post('/adapters', {
      name: 'finance',
      endpoints: [upstream.url],
      federate: true,
      requiredRoles: ['finance'],
    });

    endpoint = `${gateway.url}/mcp`;
    issuer = await startTokenIssuer({ audience: endpoint });
    auth = await createAuthenticator(
      parseAuthConfig(
        { MCP_GATEWAY_AUTH: 'oidc', MCP_GATEWAY_OIDC_ISSUER: issuer.issuer },
        { host: '127.0.0.1', publicUrl: gateway.url },
      ),
    );
    current = auth.authenticate;
  });
  afterAll(async () => {
    await gateway?.close();
    await score?.close();
    await upstream?.close();
    await issuer?.close();
  });

  it('answers 401 without a token, pointing at the metadata of /mcp, which describes /mcp', async () => {
    const res = await fetch(endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    expect(res.status).toBe(401);
    const metadataUrl = extractWWWAuthenticateParams(res).resourceMetadataUrl;
    expect(metadataUrl?.href).toBe(`${gateway.url}${PROTECTED_RESOURCE_METADATA_PATH}/mcp`);
    const doc = await auth.wellKnownRoutes.request(`${PROTECTED_RESOURCE_METADATA_PATH}/mcp`);
    expect(((await doc.json()) as { resource: string }).resource).toBe(endpoint);
  });

  it('refuses a token issued for another resource (an adapter endpoint)', async () => {
    const token = await issuer.mint({ sub: 'alice' }, { audience: `${gateway.url}/adapters/finance/mcp` });
    const res = await fetch(endpoint, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    expect(res.status).toBe(401);
  });

  it.each(CLIENT_ERAS)(
    'filters the merged list by the token’s user and roles (%s)',
    async (_era, connect) => {
      const clientFor = async (sub: string, roles: string[], extra: Record<string, string> = {}) =>
        connect(endpoint, {
          headers: { ...extra, authorization: `Bearer ${await issuer.mint({ sub, roles })}` },
        });
      const alice = await clientFor('alice', []);
      const staff = await clientFor('sam', ['staff']);
      // Fred also sends every kind of header the gateway's one list drops, forged: none may reach the upstream.
      const forged = Object.fromEntries(
        [...CALLER_CREDENTIAL_HEADERS.filter((h) => h !== 'authorization'), 'x-mcp-userid', 'x-dev-userid']
          .concat(['forwarded', 'x-forwarded-for', 'x-real-ip'])
          .map((name) => [name, `forged-${name}`]),
      );
      const finance = await clientFor('fred', ['finance', 'staff'], forged);
      const nobody = await clientFor('nina', []);
      try {
        expect((await alice.listAll()).names).toEqual([
          'alice-score',
          'finance__echo',
          'finance__whoami',
          'public-score',
        ]);
        expect((await staff.listAll()).names).toEqual(['public-score']);
        expect((await finance.listAll()).names).toEqual(['finance__echo', 'finance__whoami', 'public-score']);
        expect((await nobody.listAll()).names).toEqual([]);

        const whoami = await finance.call('finance__whoami', {});
        const { headers } = JSON.parse((whoami.content as { text: string }[])[0]!.text) as {
          headers: Record<string, string>;
        };
        expect(headers['x-mcp-userid']).toBe('fred');
        expect(headers['x-mcp-roles']).toBe('finance,staff');
        expect(headers).not.toHaveProperty('authorization');
        expect(Object.values(headers).filter((v) => String(v).startsWith('forged'))).toEqual([]);
        await expect(staff.call('finance__echo', { text: 'x' })).rejects.toMatchObject({ code: -32602 });
      } finally {
        await Promise.all([alice.close(), staff.close(), finance.close(), nobody.close()]);
      }
    },
  );
});
