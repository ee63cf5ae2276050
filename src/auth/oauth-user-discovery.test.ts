import { describe, expect, it } from 'vitest';
import {
  OAuthDiscoveryError,
  discoverAuthorizationServer,
  resourceMetadataOf,
} from './oauth-user-discovery.js';
import type { OAuthHttp } from './oauth-user-discovery.js';

const UPSTREAM = 'https://mcp.example.com/mcp';
const PRM = 'https://mcp.example.com/.well-known/oauth-protected-resource/mcp';

/** A fake network: answers by URL, records every URL contacted. */
function network(
  documents: Record<string, unknown>,
  options: { refuse?: (url: string) => string | undefined } = {},
) {
  const contacted: string[] = [];
  const http: OAuthHttp = {
    timeoutMs: 1000,
    refuseUrl: options.refuse,
    fetch: async (url, init) => {
      contacted.push(url);
      expect(init.redirect).toBe('manual');
      if (url === UPSTREAM)
        return new Response('{}', {
          status: 401,
          headers: { 'www-authenticate': `Bearer error="invalid_token", resource_metadata="${PRM}"` },
        });
      if (url in documents) return Response.json(documents[url]);
      return new Response('not found', { status: 404 });
    },
  };
  return { http, contacted };
}

const server = (issuer: string) => ({
  issuer,
  authorization_endpoint: `${issuer}/authorize`,
  token_endpoint: `${issuer}/token`,
  registration_endpoint: `${issuer}/register`,
  revocation_endpoint: `${issuer}/revoke`,
  code_challenge_methods_supported: ['S256'],
});

describe('discoverAuthorizationServer', () => {
  it('follows the 401 to the protected-resource metadata and the RFC 8414 metadata', async () => {
    const { http } = network({
      [PRM]: {
        resource: UPSTREAM,
        authorization_servers: ['https://auth.example.com/tenant'],
        scopes_supported: ['read'],
      },
      'https://auth.example.com/.well-known/oauth-authorization-server/tenant': server(
        'https://auth.example.com/tenant',
      ),
    });
    const found = await discoverAuthorizationServer(http, UPSTREAM);
    expect(found).toEqual({
      issuer: 'https://auth.example.com/tenant',
      authorizationEndpoint: 'https://auth.example.com/tenant/authorize',
      tokenEndpoint: 'https://auth.example.com/tenant/token',
      registrationEndpoint: 'https://auth.example.com/tenant/register',
      revocationEndpoint: 'https://auth.example.com/tenant/revoke',
      resource: UPSTREAM,
      scopesSupported: ['read'],
      clientIdMetadataDocuments: false,
    });
  });

  it('never contacts an authorization server the SSRF guard refuses', async () => {
    const metadata = 'http://169.254.169.254/.well-known/oauth-authorization-server';
    const { http, contacted } = network(
      {
        [PRM]: { authorization_servers: ['http://169.254.169.254'] },
        [metadata]: server('http://169.254.169.254'),
      },
      { refuse: (url) => (url.includes('169.254.') ? 'a link-local address' : undefined) },
    );
    await expect(discoverAuthorizationServer(http, UPSTREAM)).rejects.toThrow(
      /refused: a link-local address/,
    );
    expect(contacted.some((url) => url.includes('169.254.'))).toBe(false);
  });

  it('refuses metadata naming another issuer, or without PKCE S256', async () => {
    const issuer = 'https://auth.example.com';
    const wrongIssuer = network({
      [PRM]: { authorization_servers: [issuer] },
      [`${issuer}/.well-known/oauth-authorization-server`]: server('https://evil.example.com'),
    });
    await expect(discoverAuthorizationServer(wrongIssuer.http, UPSTREAM)).rejects.toThrow(/another issuer/);
    const noPkce = network({
      [PRM]: { authorization_servers: [issuer] },
      [`${issuer}/.well-known/openid-configuration`]: {
        ...server(issuer),
        code_challenge_methods_supported: ['plain'],
      },
    });
    await expect(discoverAuthorizationServer(noPkce.http, UPSTREAM)).rejects.toThrow(OAuthDiscoveryError);
  });
});

describe('resourceMetadataOf', () => {
  it('reads the parameter quoted or bare, and nothing else', () => {
    expect(resourceMetadataOf(`Bearer resource_metadata="${PRM}", scope="a b"`)).toBe(PRM);
    expect(resourceMetadataOf(`Bearer realm="x",resource_metadata=${PRM}`)).toBe(PRM);
    expect(resourceMetadataOf('Bearer realm="x"')).toBeUndefined();
    expect(resourceMetadataOf(null)).toBeUndefined();
  });
});
