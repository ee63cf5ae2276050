/**
 * The token vault's refresh, on a real (in-memory SQLite) registry and a fake authorization server: concurrent
 * requests of one caller share one refresh, the rotated refresh token is what the next refresh sends, and a
 * refused refresh drops the grant.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSilentLogger } from '../observability/index.js';
import {
  createSecretCipher,
  createSettingsCipher,
  openRegistryStore,
  registeredOf,
} from '../registry/index.js';
import type { RegistryStore, SecretCipher } from '../registry/index.js';
import { ConnectionRequiredError, createTokenVault, grantSealName } from './token-vault.js';
import type { TokenVault } from './token-vault.js';
import type { OAuthUserAdapter } from './upstream-credentials.js';

const UPSTREAM = 'https://mcp.example.com/mcp';
const ISSUER = 'https://auth.example.com';
const NOW = Date.UTC(2026, 0, 1);

let store: RegistryStore;
let cipher: SecretCipher;
let vault: TokenVault;
let adapter: OAuthUserAdapter;
/** Refresh tokens sent to the token endpoint, in order. */
let refreshesSent: string[];
/** Held token answers: the test releases them. */
let release: () => void;
let held: Promise<void>;
let refuseRefresh: boolean;
let tokenRequested: () => void;
let firstTokenRequest: Promise<void>;

async function fakeFetch(url: string, init: RequestInit): Promise<Response> {
  if (url === UPSTREAM)
    return new Response('{}', {
      status: 401,
      headers: { 'www-authenticate': `Bearer resource_metadata="${ISSUER}/prm"` },
    });
  if (url === `${ISSUER}/prm`) return Response.json({ resource: UPSTREAM, authorization_servers: [ISSUER] });
  if (url === `${ISSUER}/.well-known/oauth-authorization-server`)
    return Response.json({
      issuer: ISSUER,
      authorization_endpoint: `${ISSUER}/authorize`,
      token_endpoint: `${ISSUER}/token`,
      code_challenge_methods_supported: ['S256'],
    });
  if (url === `${ISSUER}/token`) {
    const form = new URLSearchParams(String(init.body));
    refreshesSent.push(form.get('refresh_token') ?? '');
    expect(form.get('resource')).toBe(UPSTREAM);
    tokenRequested();
    await held;
    if (refuseRefresh) return Response.json({ error: 'invalid_grant' }, { status: 400 });
    const n = refreshesSent.length;
    return Response.json({
      access_token: `access-${n}`,
      refresh_token: `refresh-${n}`,
      token_type: 'Bearer',
      expires_in: 3600,
    });
  }
  return new Response('', { status: 404 });
}

beforeEach(async () => {
  store = await openRegistryStore(':memory:');
  cipher = await createSecretCipher('test-gateway-secret');
  refreshesSent = [];
  refuseRefresh = false;
  held = new Promise((resolve) => (release = resolve));
  firstTokenRequest = new Promise((resolve) => (tokenRequested = resolve));
  vault = createTokenVault({
    store,
    cipher,
    settings: await createSettingsCipher('test-gateway-secret'),
    readSecret: async () => undefined,
    publicUrl: 'https://gw.example.com',
    logger: createSilentLogger(),
    fetch: fakeFetch,
    now: () => NOW,
  });
  const row = await store.create(
    'adapter',
    'notes',
    {
      endpoints: [UPSTREAM],
      requiredRoles: [],
      environmentVariables: {},
      replicaCount: 1,
      description: '',
      useWorkloadIdentity: false,
      upstreamAuth: { type: 'oauth-user', clientId: 'gateway' },
    },
    'root',
  );
  adapter = registeredOf('adapter', row);
  // An expired grant, as the callback would have stored it an hour ago.
  await store.saveGrant({
    userId: 'alice',
    adapter: 'notes',
    adapterUid: adapter.uid,
    scopes: '',
    ...(await cipher.seal(
      grantSealName('alice', 'notes'),
      JSON.stringify({ access_token: 'access-0', refresh_token: 'refresh-0' }),
    )),
    createdAt: new Date(NOW - 3_600_000),
    expiresAt: new Date(NOW - 1000),
    lastUpdatedAt: new Date(NOW - 3_600_000),
  });
});

afterEach(async () => {
  await store.close();
});

describe('token vault refresh', () => {
  it('concurrent requests of one caller share one refresh; the rotated refresh token is used next', async () => {
    const calls = Array.from({ length: 5 }, () => vault.accessToken('alice', adapter));
    await firstTokenRequest;
    // Every caller has read the expired grant and joined the refresh in flight by the time its answer comes.
    await new Promise((resolve) => setImmediate(resolve));
    release();
    expect(await Promise.all(calls)).toEqual(Array(5).fill('access-1'));
    expect(refreshesSent).toEqual(['refresh-0']);
    // The token the upstream refuses is refreshed with the rotated refresh token.
    expect(await vault.renew('alice', adapter, 'access-1')).toBe('access-2');
    expect(refreshesSent).toEqual(['refresh-0', 'refresh-1']);
    // A token refreshed meanwhile is used as is: no second refresh for the stale one.
    expect(await vault.renew('alice', adapter, 'access-1')).toBe('access-2');
    expect(refreshesSent).toHaveLength(2);
  });

  it('a refused refresh drops the grant: the caller must connect again', async () => {
    refuseRefresh = true;
    release();
    await expect(vault.accessToken('alice', adapter)).rejects.toBeInstanceOf(ConnectionRequiredError);
    expect(await store.getGrant('alice', 'notes')).toBeUndefined();
    const again = vault.accessToken('alice', adapter);
    await expect(again).rejects.toThrow('open https://gw.example.com/connect/notes');
  });

  it("another caller's request never uses this grant", async () => {
    release();
    await expect(vault.accessToken('bob', adapter)).rejects.toBeInstanceOf(ConnectionRequiredError);
    expect(refreshesSent).toEqual([]);
  });
});
