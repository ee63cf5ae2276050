/**
 * Client ID Metadata Documents for `oauth-user`: at an authorization server whose metadata says
 * `client_id_metadata_document_supported: true` (oidc-provider, looking clients up by fetching their URL), the
 * gateway's `client_id` is the URL of the document it serves, `/oauth/client-metadata.json` — no dynamic
 * registration. The connect flow runs through the gateway's real routes on a socket (the authorization server
 * fetches the document from it), and the grant it stores opens an SDK 2.x upstream that takes only that
 * server's tokens. A configured `clientId` still wins. (Over loopback http: the URL is injected, as a real
 * gateway publishes one only with an https public URL.)
 */
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registeredOf } from '../registry/index.js';
import { legacyInitializeBody, mcpPostHeaders } from '../../test/legacy-requests.js';
import { startOAuthProtectedUpstream } from '../../test/oauth-protected-upstream.js';
import type { OAuthProtectedUpstream } from '../../test/oauth-protected-upstream.js';
import { followAuthorizationRedirects } from '../../test/oidc-client.js';
import { startOidcAuthorizationServer } from '../../test/oidc-authorization-server.js';
import type { OidcAuthorizationServer } from '../../test/oidc-authorization-server.js';
import { serveApp } from '../../test/serve-app.js';
import type { ServedApp } from '../../test/serve-app.js';
import { createTestApp, headerPrincipal, json } from '../../test/test-app.js';

const ALICE = { 'x-test-user': 'alice', 'x-test-roles': 'mcp.admin' };
let as: OidcAuthorizationServer;
let upstream: OAuthProtectedUpstream;
let served: ServedApp;
let harness: Awaited<ReturnType<typeof createTestApp>>;

beforeAll(async () => {
  as = await startOidcAuthorizationServer({
    accounts: { alice: { roles: [] } },
    clientIdMetadataDocuments: true,
  });
  upstream = await startOAuthProtectedUpstream('notes', as.issuer);
  // The gateway's URL is its metadata's client_id, so the socket comes first and the app behind it after.
  const front = new Hono();
  front.all('*', (c) => harness.app.fetch(c.req.raw));
  served = await serveApp(front);
  harness = await createTestApp({
    authenticate: headerPrincipal(),
    origins: { publicUrl: served.url, allowedOrigins: [], loopback: true },
    clientMetadataUrl: `${served.url}/oauth/client-metadata.json`,
  });
  const registration = await fetch(`${as.issuer}/.well-known/openid-configuration`);
  expect(((await registration.json()) as Record<string, unknown>).client_id_metadata_document_supported).toBe(
    true,
  );
  const created = await harness.app.request(
    '/adapters',
    json('POST', { name: 'notes', endpoints: [upstream.url], upstreamAuth: { type: 'oauth-user' } }, ALICE),
  );
  expect(created.status, await created.clone().text()).toBe(201);
}, 60_000);

afterAll(async () => {
  await served?.close();
  await harness?.close();
  await upstream?.close();
  await as?.close();
});

describe('Client ID Metadata Documents', () => {
  it('serves the document: its own URL as client_id, the callback as redirect URI, a public client', async () => {
    const res = await fetch(`${served.url}/oauth/client-metadata.json`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      client_id: `${served.url}/oauth/client-metadata.json`,
      redirect_uris: [`${served.url}/connect/callback`],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    });
  });

  it('connects with the document URL as client_id (no registration), and the grant opens the upstream', async () => {
    const start = await fetch(`${served.url}/connect/notes`, { headers: ALICE, redirect: 'manual' });
    expect(start.status, await start.clone().text()).toBe(302);
    const location = new URL(start.headers.get('location')!);
    expect(location.searchParams.get('client_id')).toBe(`${served.url}/oauth/client-metadata.json`);
    const cookie = start.headers
      .getSetCookie()
      .map((line) => line.split(';')[0])
      .join('; ');
    const callback = await followAuthorizationRedirects(location, `${served.url}/connect/callback`);
    expect(as.fetchedClients).toContain(`${served.url}/oauth/client-metadata.json`);
    const done = await fetch(callback, { headers: { ...ALICE, cookie } });
    expect(done.status, await done.clone().text()).toBe(200);
    // No client was registered: no registration setting is kept for the adapter.
    const row = registeredOf('adapter', (await harness.store.get('adapter', 'notes'))!);
    expect(await harness.store.getSetting(`oauth-client:notes:${row.uid}`)).toBeUndefined();
    expect((await harness.store.listGrants('alice')).map((g) => g.adapter)).toEqual(['notes']);
    // The stored grant is a token of that authorization server the upstream takes.
    const token = await harness.vault.accessToken('alice', row);
    const answer = await fetch(upstream.url, {
      method: 'POST',
      headers: mcpPostHeaders({ authorization: `Bearer ${token}` }),
      body: legacyInitializeBody({ clientName: 't' }),
    });
    expect(answer.status).toBe(200);
    await answer.body?.cancel();
  });

  it('a configured clientId still wins over the document', async () => {
    const created = await harness.app.request(
      '/adapters',
      json(
        'POST',
        {
          name: 'pinned',
          endpoints: [upstream.url],
          upstreamAuth: { type: 'oauth-user', clientId: 'pinned-client' },
        },
        ALICE,
      ),
    );
    expect(created.status).toBe(201);
    const start = await fetch(`${served.url}/connect/pinned`, { headers: ALICE, redirect: 'manual' });
    expect(start.status).toBe(302);
    expect(new URL(start.headers.get('location')!).searchParams.get('client_id')).toBe('pinned-client');
  });

  it('a gateway whose public URL is not https publishes no document', async () => {
    const plain = await createTestApp({ authenticate: headerPrincipal() });
    try {
      const res = await plain.app.request('/oauth/client-metadata.json');
      expect(res.status).toBe(404);
      expect(plain.vault.clientMetadata).toBeUndefined();
    } finally {
      await plain.close();
    }
  });
});
