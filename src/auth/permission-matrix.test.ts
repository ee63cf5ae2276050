/**
 * The permission matrix through the real control plane, with real tokens from a local issuer: creator,
 * admin, role holder and stranger × read / list / write / delete, and the creator-roles limit.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { OpenAPIHono } from '@hono/zod-openapi';
import { every } from 'hono/combine';
import { extractWWWAuthenticateParams } from '@modelcontextprotocol/sdk/client/auth.js';
import { parseAuthConfig } from '../config/auth-config.js';
import type { AppEnv } from '../http/index.js';
import { createTestApp, imageAdapter, json } from '../../test/test-app.js';
import { startTokenIssuer } from '../../test/token-issuer.js';
import type { TokenIssuer } from '../../test/token-issuer.js';
import { createAuthenticator } from './authenticator.js';

const PUBLIC_URL = 'https://gw.example.com';

const USERS = {
  creator: { sub: 'alice', roles: [] as string[] },
  admin: { sub: 'root', roles: ['mcp.admin'] },
  roleHolder: { sub: 'bob', roles: ['mcp.engineer'] },
  stranger: { sub: 'eve', roles: ['mcp.viewer'] },
};
type User = keyof typeof USERS;

let issuer: TokenIssuer;
const tokens = {} as Record<User, string>;

beforeAll(async () => {
  issuer = await startTokenIssuer({ audience: PUBLIC_URL });
  for (const [user, claims] of Object.entries(USERS)) tokens[user as User] = await issuer.mint(claims);
});
afterAll(() => issuer.close());

async function appWith(env: Record<string, string> = {}) {
  const config = parseAuthConfig(
    { MCP_GATEWAY_AUTH: 'oidc', MCP_GATEWAY_OIDC_ISSUER: issuer.issuer, ...env },
    { host: '127.0.0.1', publicUrl: PUBLIC_URL },
  );
  const auth = await createAuthenticator(config);
  // What app.ts will mount on /adapters and /tools: authentication, then the creation gate.
  return createTestApp({ authenticate: every(auth.authenticate, auth.authorizeCreate) });
}

const as = (user: User, init: RequestInit = {}): RequestInit => ({
  ...init,
  headers: { ...(init.headers as Record<string, string>), authorization: `Bearer ${tokens[user]}` },
});

describe('permission matrix (reference model)', () => {
  let app: OpenAPIHono<AppEnv>;
  let close: () => Promise<void>;

  beforeEach(async () => {
    ({ app, close } = await appWith());
    const res = await app.request(
      '/adapters',
      as('creator', json('POST', imageAdapter('weather', { requiredRoles: ['mcp.engineer'] }))),
    );
    expect(res.status).toBe(201);
    expect(((await res.json()) as { createdBy: string }).createdBy).toBe('alice');
    return () => close();
  });

  // [user, read status, write status, delete status, listed]
  const matrix: [User, number, number, number, boolean][] = [
    ['creator', 200, 200, 204, true],
    ['admin', 200, 200, 204, true],
    ['roleHolder', 200, 403, 403, true],
    // Hidden entirely: the same 404 as a name that does not exist.
    ['stranger', 404, 404, 404, false],
  ];

  it.each(matrix)('%s: read %i, write %i, delete %i, listed %s', async (user, read, write, del, listed) => {
    expect((await app.request('/adapters/weather', as(user))).status).toBe(read);
    // Status passes authorization for readers (image runtimes answer 501 until a deployer exists).
    const status = (await app.request('/adapters/weather/status', as(user))).status;
    if (read === 200) expect(status).not.toBe(404);
    else expect(status).toBe(404);

    const list = (await (await app.request('/adapters', as(user))).json()) as { name: string }[];
    expect(list.map((a) => a.name)).toEqual(listed ? ['weather'] : []);

    const update = await app.request(
      '/adapters/weather',
      as(user, json('PUT', imageAdapter('weather', { requiredRoles: ['mcp.engineer'], description: user }))),
    );
    expect(update.status).toBe(write);
    expect((await app.request('/adapters/weather', as(user, { method: 'DELETE' }))).status).toBe(del);
  });

  it('without a token, nothing is readable: 401 with the challenge', async () => {
    const res = await app.request('/adapters/weather');
    expect(res.status).toBe(401);
    expect(extractWWWAuthenticateParams(res).resourceMetadataUrl?.href).toBe(
      `${PUBLIC_URL}/.well-known/oauth-protected-resource`,
    );
  });

  it('useWorkloadIdentity needs mcp.admin', async () => {
    const body = imageAdapter('wi', { useWorkloadIdentity: true });
    expect((await app.request('/adapters', as('roleHolder', json('POST', body)))).status).toBe(403);
    expect((await app.request('/adapters', as('admin', json('POST', body)))).status).toBe(201);
  });

  it('everyone authenticated may create when MCP_GATEWAY_CREATOR_ROLES is unset', async () => {
    const res = await app.request('/adapters', as('stranger', json('POST', imageAdapter('mine'))));
    expect(res.status).toBe(201);
  });
});

describe('permission matrix: MCP_GATEWAY_CREATOR_ROLES', () => {
  let app: OpenAPIHono<AppEnv>;

  beforeEach(async () => {
    const made = await appWith({ MCP_GATEWAY_CREATOR_ROLES: 'mcp.engineer' });
    app = made.app;
    return () => made.close();
  });

  it.each([
    ['roleHolder', 201],
    ['admin', 201],
    ['creator', 403],
    ['stranger', 403],
  ] as [User, number][])('%s creating an adapter: %i', async (user, status) => {
    const res = await app.request(
      '/adapters',
      as(user, json('POST', imageAdapter(`by-${user.toLowerCase()}`))),
    );
    expect(res.status).toBe(status);
    if (status === 403) {
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer .*error="insufficient_scope"/);
      expect(extractWWWAuthenticateParams(res).error).toBe('insufficient_scope');
      const body = (await res.json()) as { error: { code: string; message: string } };
      expect(body.error).toEqual({
        code: 'forbidden',
        message: 'Creating adapters requires one of the roles: mcp.engineer, mcp.admin.',
      });
    }
  });

  it('applies to tools as well, and not to reads or updates', async () => {
    const tool = {
      name: 'scorer',
      imageName: 'team/tool',
      imageVersion: '1.0.0',
      toolDefinition: { tool: { name: 'scorer', description: 'x', inputSchema: { type: 'object' } } },
    };
    expect((await app.request('/tools', as('stranger', json('POST', tool)))).status).toBe(403);
    expect((await app.request('/tools', as('stranger'))).status).toBe(200);
    expect((await app.request('/tools', as('roleHolder', json('POST', tool)))).status).toBe(201);
  });
});

// Through the control plane as it is wired (resource-routes.ts masks with maskForReader and refuses with
// insufficientRole): these run, and fail if either stops being called.
describe('environment variables: values only for writers', () => {
  it('readers see the keys with masked values; creator and admin see the values', async () => {
    const { app, close } = await appWith();
    try {
      const body = imageAdapter('envy', {
        requiredRoles: ['mcp.engineer'],
        environmentVariables: { API_KEY: 's3cret' },
      });
      expect((await app.request('/adapters', as('creator', json('POST', body)))).status).toBe(201);
      const envOf = async (user: User, path = '/adapters/envy') => {
        const data = (await (await app.request(path, as(user))).json()) as
          | { environmentVariables: Record<string, string> }
          | { environmentVariables: Record<string, string> }[];
        return Array.isArray(data) ? data[0]!.environmentVariables : data.environmentVariables;
      };
      expect(await envOf('creator')).toEqual({ API_KEY: 's3cret' });
      expect(await envOf('admin')).toEqual({ API_KEY: 's3cret' });
      expect(await envOf('roleHolder')).toEqual({ API_KEY: '***' });
      expect(await envOf('roleHolder', '/adapters')).toEqual({ API_KEY: '***' });
      expect(await envOf('creator', '/adapters')).toEqual({ API_KEY: 's3cret' });
    } finally {
      await close();
    }
  });

  it('403s for a missing role carry error="insufficient_scope"', async () => {
    const { app, close } = await appWith();
    try {
      const w2 = imageAdapter('w2', { requiredRoles: ['mcp.engineer'] });
      expect((await app.request('/adapters', as('creator', json('POST', w2)))).status).toBe(201);
      const put = await app.request('/adapters/w2', as('roleHolder', json('PUT', w2)));
      expect(put.status).toBe(403);
      expect(put.headers.get('www-authenticate')).toMatch(/error="insufficient_scope"/);
      const wi = imageAdapter('w3', { useWorkloadIdentity: true });
      const created = await app.request('/adapters', as('roleHolder', json('POST', wi)));
      expect(created.status).toBe(403);
      expect(created.headers.get('www-authenticate')).toMatch(/error="insufficient_scope"/);
    } finally {
      await close();
    }
  });
});
