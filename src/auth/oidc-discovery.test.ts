import { afterEach, describe, expect, it } from 'vitest';
import { startTokenIssuer } from '../../test/token-issuer.js';
import type { TokenIssuer } from '../../test/token-issuer.js';
import { discoverIssuer, discoveryUrls } from './oidc-discovery.js';
import { TokenVerifierUnavailableError } from './token-verifier.js';

let issuer: TokenIssuer | undefined;
afterEach(async () => {
  await issuer?.close();
  issuer = undefined;
});

describe('discoverIssuer', () => {
  it('builds both well-known URLs (OIDC appends, RFC 8414 inserts)', () => {
    expect(discoveryUrls('https://idp.example.com/realms/x')).toEqual([
      'https://idp.example.com/realms/x/.well-known/openid-configuration',
      'https://idp.example.com/.well-known/oauth-authorization-server/realms/x',
    ]);
    expect(discoveryUrls('https://tenant.auth0.com/')).toEqual([
      'https://tenant.auth0.com/.well-known/openid-configuration',
      'https://tenant.auth0.com/.well-known/oauth-authorization-server',
    ]);
  });

  it('uses OpenID discovery first', async () => {
    issuer = await startTokenIssuer({ path: '/realms/x' });
    const found = await discoverIssuer(issuer.issuer);
    expect(found).toMatchObject({ issuer: issuer.issuer, jwksUri: issuer.jwksUri });
    expect(found.url).toMatch(/openid-configuration$/);
  });

  it('falls back to RFC 8414 metadata', async () => {
    issuer = await startTokenIssuer({ path: '/tenant', discovery: 'oauth' });
    const found = await discoverIssuer(issuer.issuer);
    expect(found.url).toBe(`${issuer.url}/.well-known/oauth-authorization-server/tenant`);
    expect(found.jwksUri).toBe(issuer.jwksUri);
  });

  it('refuses metadata naming another issuer', async () => {
    issuer = await startTokenIssuer({ advertisedIssuer: 'https://evil.example.com' });
    await expect(discoverIssuer(issuer.issuer)).rejects.toThrow(
      /names the issuer "https:\/\/evil.example.com"/,
    );
  });

  it('reports every attempt when nothing is found', async () => {
    issuer = await startTokenIssuer({ discovery: 'none' });
    const err = await discoverIssuer(issuer.issuer).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TokenVerifierUnavailableError);
    expect((err as Error).message).toMatch(
      /openid-configuration: HTTP 404; .*oauth-authorization-server: HTTP 404/,
    );
  });

  it('refuses a jwks_uri over plain http to a remote host', async () => {
    const fakeFetch = (async () =>
      Response.json({
        issuer: 'https://idp.example.com',
        jwks_uri: 'http://idp.example.com/jwks',
      })) as typeof fetch;
    await expect(discoverIssuer('https://idp.example.com', { fetch: fakeFetch })).rejects.toThrow(
      /no usable jwks_uri/,
    );
  });
});
