/**
 * @module Tests of `upstreamAuth` on the control plane: what a body may say (a 400 naming the field for a header
 * the gateway manages itself, a malformed name, prefix or secret reference), what is stored (the secret's name,
 * never a value), and what writers and readers see.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { secretGate, secretReferenceGate } from '../auth/index.js';
import { upstreamAuthSecretName } from '../registry/index.js';
import { createTestApp, headerPrincipal, imageAdapter, imageTool, json } from '../../test/test-app.js';

const OWNER = { 'x-test-user': 'olga', 'x-test-roles': 'team.a' };
const READER = { 'x-test-user': 'rita', 'x-test-roles': 'team.read' };
const OAUTH = {
  type: 'oauth-client-credentials',
  tokenUrl: 'https://auth.example.com/token',
  clientId: 'gateway',
  clientSecret: 'client-secret',
  scopes: ['read'],
};

let harness: Awaited<ReturnType<typeof createTestApp>>;
beforeEach(async () => {
  // The writer may name secrets (a role in MCP_GATEWAY_SECRET_ROLES); those it names exist.
  harness = await createTestApp({
    authenticate: headerPrincipal(),
    authorizeSecrets: secretGate({ secretRoles: ['team.a'] }),
    secretReferenceGate: secretReferenceGate({ secretRoles: ['team.a'] }),
  });
  for (const name of ['k', 'tool-key', 'weather-key', 'client-secret']) {
    const created = await harness.app.request(
      '/secrets',
      json('POST', { name, value: `value-of-${name}` }, OWNER),
    );
    expect(created.status).toBe(201);
  }
});
afterEach(() => harness.close());

const post = (path: string, body: unknown, headers = OWNER) =>
  harness.app.request(path, json('POST', body, headers));

async function refusal(res: Response) {
  expect(res.status).toBe(400);
  const { error } = (await res.json()) as {
    error: { code: string; message: string; details?: { path: string; message: string }[] };
  };
  return error;
}

describe('upstreamAuth on a write', () => {
  it.each([
    ['Host'],
    ['Content-Length'],
    ['Mcp-Session-Id'],
    ['MCP-Protocol-Version'],
    ['Forwarded'],
    ['X-Forwarded-For'],
    ['X-Forwarded-Client-Cert'],
    ['Connection'],
    ['Transfer-Encoding'],
    ['X-Mcp-UserId'],
    ['traceparent'],
    ['Proxy-Authorization'],
  ])('refuses the gateway-managed header %s with a 400 naming upstreamAuth.name', async (name) => {
    const res = await post(
      '/adapters',
      imageAdapter('a', { upstreamAuth: { type: 'header', name, secret: 'k' } }),
    );
    const error = await refusal(res);
    expect(error.details?.map((d) => d.path)).toEqual(['upstreamAuth.name']);
    expect(error.message).toContain('upstreamAuth.name');
  });

  it.each([
    [{ type: 'header', name: 'X Api Key', secret: 'k' }, 'upstreamAuth.name'],
    [{ type: 'header', name: 'X-Api-Key:', secret: 'k' }, 'upstreamAuth.name'],
    [{ type: 'header', name: '', secret: 'k' }, 'upstreamAuth.name'],
    [{ type: 'header', name: 'X-Api-Key', secret: 'k', prefix: 'a\r\nX-Evil: 1' }, 'upstreamAuth.prefix'],
    [{ type: 'header', secret: 'k' }, 'upstreamAuth.name'],
    [{ type: 'bearer' }, 'upstreamAuth.secret'],
    [{ type: 'bearer', secret: 'Not A Secret Name' }, 'upstreamAuth.secret'],
    [{ type: 'bearer', secret: 'k', value: 'inline-value' }, 'upstreamAuth.value'],
    [{ ...OAUTH, tokenUrl: 'ftp://auth.example.com/token' }, 'upstreamAuth.tokenUrl'],
    [{ ...OAUTH, tokenUrl: 'https://user:pw@auth.example.com/token' }, 'upstreamAuth.tokenUrl'],
    [{ ...OAUTH, clientSecret: undefined }, 'upstreamAuth.clientSecret'],
    [{ ...OAUTH, clientId: '' }, 'upstreamAuth.clientId'],
    [{ ...OAUTH, scopes: ['has space'] }, 'upstreamAuth.scopes.0'],
    [{ ...OAUTH, clientSecretValue: 'inline' }, 'upstreamAuth.clientSecretValue'],
  ])('refuses %j naming %s', async (upstreamAuth, path) => {
    const error = await refusal(await post('/adapters', imageAdapter('a', { upstreamAuth })));
    expect(error.details?.map((d) => d.path)).toContain(path);
  });

  it('refuses an unknown type, naming the field and the types there are', async () => {
    const error = await refusal(
      await post('/tools', imageTool('t', { upstreamAuth: { type: 'aws-sigv4', secret: 'k' } })),
    );
    expect(error.message).toMatch(
      /upstreamAuth.*"bearer", "header", "oauth-client-credentials", "oauth-user" or "token-exchange"/,
    );
  });

  it('accepts Authorization with a prefix and Cookie as header names (where credentials usually go)', async () => {
    for (const [i, name] of ['Authorization', 'Cookie', 'X-Api-Key'].entries()) {
      const res = await post(
        '/adapters',
        imageAdapter(`ok${i}`, { upstreamAuth: { type: 'header', name, secret: 'k', prefix: 'Token ' } }),
      );
      expect(res.status, name).toBe(201);
    }
  });

  it('refuses a token URL the SSRF guard refuses (a metadata address), naming upstreamAuth.tokenUrl', async () => {
    const upstreamAuth = { ...OAUTH, tokenUrl: 'http://169.254.169.254/token' };
    const error = await refusal(await post('/adapters', imageAdapter('a', { upstreamAuth })));
    expect(error.details?.map((d) => d.path)).toEqual(['upstreamAuth.tokenUrl']);
    expect(error.message).toContain('MCP_GATEWAY_ALLOW_LINK_LOCAL');
  });
});

describe('upstreamAuth as stored and shown', () => {
  it('oauth-client-credentials: the client secret by name to writers, only the type to readers', async () => {
    const res = await post(
      '/adapters',
      imageAdapter('o', { upstreamAuth: OAUTH, requiredRoles: ['team.read'] }),
    );
    expect(res.status).toBe(201);
    expect(upstreamAuthSecretName((await harness.store.get('adapter', 'o'))!.spec)).toBe('client-secret');
    const mine = (await (await harness.app.request('/adapters/o', { headers: OWNER })).json()) as {
      upstreamAuth: unknown;
    };
    expect(mine.upstreamAuth).toEqual(OAUTH);
    const theirs = (await (await harness.app.request('/adapters/o', { headers: READER })).json()) as {
      upstreamAuth: unknown;
    };
    expect(theirs.upstreamAuth).toEqual({ type: 'oauth-client-credentials' });
  });

  it('stores the secret name only, shows it to writers and only the type to readers', async () => {
    const upstreamAuth = { type: 'header', name: 'X-Api-Key', secret: 'weather-key', prefix: 'Key ' };
    expect(
      (await post('/adapters', imageAdapter('w', { upstreamAuth, requiredRoles: ['team.read'] }))).status,
    ).toBe(201);
    const stored = await harness.store.get('adapter', 'w');
    expect(stored?.spec.upstreamAuth).toEqual(upstreamAuth);
    expect(upstreamAuthSecretName(stored!.spec)).toBe('weather-key');

    const mine = (await (await harness.app.request('/adapters/w', { headers: OWNER })).json()) as Record<
      string,
      unknown
    >;
    expect(mine.upstreamAuth).toEqual(upstreamAuth);
    const theirs = (await (await harness.app.request('/adapters/w', { headers: READER })).json()) as Record<
      string,
      unknown
    >;
    expect(theirs.upstreamAuth).toEqual({ type: 'header' });
    const list = (await (await harness.app.request('/adapters', { headers: READER })).json()) as Record<
      string,
      unknown
    >[];
    expect(list.find((a) => a.name === 'w')?.upstreamAuth).toEqual({ type: 'header' });
  });

  it('round-trips: a writer can PUT back what it read, and a PUT without upstreamAuth removes it', async () => {
    await post('/tools', imageTool('t', { upstreamAuth: { type: 'bearer', secret: 'tool-key' } }));
    const read = (await (await harness.app.request('/tools/t', { headers: OWNER })).json()) as Record<
      string,
      unknown
    >;
    expect(read.upstreamAuth).toEqual({ type: 'bearer', secret: 'tool-key' });
    expect((await harness.app.request('/tools/t', json('PUT', read, OWNER))).status).toBe(200);
    const { upstreamAuth: _dropped, ...without } = read;
    expect((await harness.app.request('/tools/t', json('PUT', without, OWNER))).status).toBe(200);
    expect((await harness.store.get('tool', 't'))?.spec.upstreamAuth).toBeUndefined();
    expect(upstreamAuthSecretName((await harness.store.get('tool', 't'))!.spec)).toBeUndefined();
  });
});

describe('upstreamAuth token-exchange', () => {
  const EXCHANGE = { type: 'token-exchange', clientId: 'gateway', clientSecret: 'client-secret' };
  const remote = (name: string, upstreamAuth: unknown) => ({
    name,
    endpoints: ['https://notes.example.com/mcp'],
    upstreamAuth,
  });
  const withMode = async (tokenExchange?: { issuerTokenEndpoint: boolean }) => {
    harness.close();
    harness = await createTestApp({
      authenticate: headerPrincipal(),
      authorizeSecrets: secretGate({ secretRoles: ['team.a'] }),
      secretReferenceGate: secretReferenceGate({ secretRoles: ['team.a'] }),
      ...(tokenExchange && { tokenExchange }),
    });
    const created = await post('/secrets', { name: 'client-secret', value: 'value-of-client-secret' });
    expect(created.status).toBe(201);
  };

  it('is refused without bearer-token authentication (the dev modes), naming the field', async () => {
    await withMode(undefined);
    const error = await refusal(await post('/adapters', remote('n', EXCHANGE)));
    expect(error.details).toContainEqual({
      path: 'upstreamAuth.type',
      message: expect.stringContaining('MCP_GATEWAY_AUTH=oidc or jwt'),
    });
  });

  it('needs a tokenUrl where no OIDC issuer names one (jwt mode); stores what was sent', async () => {
    await withMode({ issuerTokenEndpoint: false });
    const error = await refusal(await post('/adapters', remote('n', EXCHANGE)));
    expect(error.details).toContainEqual({ path: 'upstreamAuth.tokenUrl', message: expect.any(String) });
    const full = {
      ...EXCHANGE,
      tokenUrl: 'https://idp.example.com/token',
      audience: 'notes-api',
      scopes: ['notes:read'],
      subjectTokenType: 'urn:ietf:params:oauth:token-type:jwt',
    };
    expect((await post('/adapters', { ...remote('n', full), requiredRoles: ['team.read'] })).status).toBe(
      201,
    );
    expect((await harness.store.get('adapter', 'n'))?.spec.upstreamAuth).toEqual(full);
    const theirs = (await (await harness.app.request('/adapters/n', { headers: READER })).json()) as {
      upstreamAuth: unknown;
    };
    expect(theirs.upstreamAuth).toEqual({ type: 'token-exchange' });
  });

  it('in oidc mode takes no tokenUrl and federate; refuses sse and a missing default audience', async () => {
    await withMode({ issuerTokenEndpoint: true });
    expect((await post('/adapters', remote('n', EXCHANGE))).status).toBe(201);
    // Federated: listed and called per caller with their exchanged token.
    expect((await post('/adapters', { ...remote('f', EXCHANGE), federate: true })).status).toBe(201);
    for (const [body, path] of [
      [{ ...remote('s', EXCHANGE), transport: 'sse' }, 'upstreamAuth.type'],
      [{ ...remote('fs', EXCHANGE), transport: 'sse', federate: true }, 'upstreamAuth.type'],
      [imageAdapter('i', { upstreamAuth: EXCHANGE }), 'upstreamAuth.audience'],
      [remote('u', { ...EXCHANGE, tokenUrl: 'http://169.254.169.254/token' }), 'upstreamAuth.tokenUrl'],
    ] as const) {
      const error = await refusal(await post('/adapters', body));
      expect(error.details?.map((d) => d.path)).toContain(path);
    }
    expect(
      (await post('/adapters', imageAdapter('i', { upstreamAuth: { ...EXCHANGE, audience: 'a' } }))).status,
    ).toBe(201);
  });
});
