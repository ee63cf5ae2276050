/**
 * Who may use the process runtime, through the real control plane with real tokens (`jwt` mode, a local
 * issuer): `MCP_GATEWAY_COMMAND_ROLES` on create and replace of adapters and tools, the dev modes' local user,
 * `MCP_GATEWAY_COMMAND_ALLOW`, input that could never run, and what readers see of `args`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { extractWWWAuthenticateParams } from '@modelcontextprotocol/sdk/client/auth.js';
import { parseAuthConfig } from '../config/auth-config.js';
import type { RuntimeInspector, RuntimeStatus } from '../deploy/index.js';
import type { RegistryStore } from '../registry/index.js';
import { createTestApp, imageAdapter, imageTool, json } from '../../test/test-app.js';
import { startTokenIssuer } from '../../test/token-issuer.js';
import type { TokenIssuer } from '../../test/token-issuer.js';
import { createAuthenticator } from './authenticator.js';

const PUBLIC_URL = 'https://gw.example.com';
const METADATA = `${PUBLIC_URL}/.well-known/oauth-protected-resource`;

const USERS = {
  /** Authenticated, no role at all. */
  nobody: { sub: 'eve', roles: [] as string[] },
  admin: { sub: 'root', roles: ['mcp.admin'] },
  /** Holds the custom role the tests list in MCP_GATEWAY_COMMAND_ROLES. */
  operator: { sub: 'olga', roles: ['team.ops'] },
  /** Olga again after losing team.ops: still the creator of what she registered. */
  olgaDemoted: { sub: 'olga', roles: [] as string[] },
  /** May read what lists team.read in requiredRoles, and write nothing. */
  reader: { sub: 'rita', roles: ['team.read'] },
};
type User = keyof typeof USERS;

let issuer: TokenIssuer;
const tokens = {} as Record<User, string>;

beforeAll(async () => {
  issuer = await startTokenIssuer({ audience: PUBLIC_URL });
  for (const [user, claims] of Object.entries(USERS)) tokens[user as User] = await issuer.mint(claims);
});
afterAll(() => issuer.close());

/** The real app with the authenticator `main.ts` would build for `env`, in jwt mode unless `env` says else. */
async function appWith(env: Record<string, string> = {}, inspector?: RuntimeInspector) {
  const jwt = {
    MCP_GATEWAY_AUTH: 'jwt',
    MCP_GATEWAY_JWKS_URL: issuer.jwksUri,
    MCP_GATEWAY_JWT_ISSUER: issuer.issuer,
  };
  // Dev mode refuses a public URL that is not loopback: the laptop it runs on is its own public URL.
  const publicUrl = env.MCP_GATEWAY_AUTH === 'dev' ? 'http://127.0.0.1:3000' : PUBLIC_URL;
  const config = parseAuthConfig(env.MCP_GATEWAY_AUTH ? env : { ...jwt, ...env }, {
    host: '127.0.0.1',
    publicUrl,
  });
  const auth = await createAuthenticator(config);
  return createTestApp({
    authenticate: auth.authenticate,
    authorize: auth.authorizeCreate,
    commandGate: auth.commandGate,
    ...(inspector && { inspector }),
  });
}

const as = (user: User, init: RequestInit = {}): RequestInit => ({
  ...init,
  headers: { ...(init.headers as Record<string, string>), authorization: `Bearer ${tokens[user]}` },
});

const PWNED = { name: 'x', command: 'sh', args: ['-c', 'id > /tmp/pwned'] };
const commandTool = (name: string, extra: Record<string, unknown> = {}) => {
  const { imageName: _i, imageVersion: _v, ...tool } = imageTool(name);
  return { ...tool, command: 'node', args: ['tool.js'], ...extra };
};

interface ErrorBody {
  error: { code: string; message: string; details?: { path: string; message: string }[] };
}

async function expectCommandRefusal(res: Response, field = 'command') {
  expect(res.status).toBe(403);
  expect(res.headers.get('www-authenticate')).toMatch(/^Bearer .*error="insufficient_scope"/);
  const challenge = extractWWWAuthenticateParams(res);
  expect(challenge.error).toBe('insufficient_scope');
  expect(challenge.resourceMetadataUrl?.href).toBe(METADATA);
  const body = (await res.json()) as ErrorBody;
  expect(body.error.code).toBe('forbidden');
  expect(body.error.message).toBe(
    `${field}: the process runtime runs a program on the gateway host and requires one of the roles in MCP_GATEWAY_COMMAND_ROLES: mcp.admin, team.ops.`,
  );
}

async function names(store: RegistryStore) {
  const page = { limit: 1000 };
  const rows = [...(await store.list('adapter', page)), ...(await store.list('tool', page))];
  return rows.map((r) => r.name);
}

describe('MCP_GATEWAY_COMMAND_ROLES on create', () => {
  it('refuses the roleless user of issue #12 with 403 insufficient_scope and stores nothing', async () => {
    const { app, store, close } = await appWith({ MCP_GATEWAY_COMMAND_ROLES: 'team.ops' });
    try {
      await expectCommandRefusal(await app.request('/adapters', as('nobody', json('POST', PWNED))));
      await expectCommandRefusal(await app.request('/tools', as('nobody', json('POST', commandTool('t')))));
      expect(await names(store)).toEqual([]);
      // The same user may still register what runs elsewhere.
      const image = await app.request('/adapters', as('nobody', json('POST', imageAdapter('mine'))));
      expect(image.status).toBe(201);
    } finally {
      await close();
    }
  });

  it('refuses args or transport alone too, naming the field (they shape what runs)', async () => {
    const { app, store, close } = await appWith({ MCP_GATEWAY_COMMAND_ROLES: 'team.ops' });
    try {
      await expectCommandRefusal(
        await app.request('/adapters', as('nobody', json('POST', imageAdapter('a', { args: ['-c'] })))),
        'args',
      );
      await expectCommandRefusal(
        await app.request(
          '/adapters',
          as('nobody', json('POST', imageAdapter('a', { transport: 'streamable-http' }))),
        ),
        'transport',
      );
      expect(await names(store)).toEqual([]);
      // `sse` names how a remote server speaks, not a program: no role needed, and it still gates a command.
      const remote = await app.request(
        '/adapters',
        as(
          'nobody',
          json('POST', { name: 'legacy', endpoints: ['http://127.0.0.1:9/sse'], transport: 'sse' }),
        ),
      );
      expect(remote.status).toBe(201);
      await expectCommandRefusal(
        await app.request(
          '/adapters',
          as('nobody', json('POST', { name: 'b', command: 'node', transport: 'sse' })),
        ),
      );
    } finally {
      await close();
    }
  });

  it('only mcp.admin may by default; a custom role works once listed', async () => {
    const byDefault = await appWith();
    try {
      const admin = await byDefault.app.request('/adapters', as('admin', json('POST', PWNED)));
      expect(admin.status).toBe(201);
      const operator = await byDefault.app.request(
        '/adapters',
        as('operator', json('POST', { ...PWNED, name: 'y' })),
      );
      expect(operator.status).toBe(403);
      expect(((await operator.json()) as ErrorBody).error.message).toContain(
        'requires one of the roles in MCP_GATEWAY_COMMAND_ROLES: mcp.admin.',
      );
    } finally {
      await byDefault.close();
    }
    const listed = await appWith({ MCP_GATEWAY_COMMAND_ROLES: 'team.ops' });
    try {
      const adapter = await listed.app.request('/adapters', as('operator', json('POST', PWNED)));
      expect(adapter.status).toBe(201);
      const tool = await listed.app.request('/tools', as('operator', json('POST', commandTool('t'))));
      expect(tool.status).toBe(201);
      // mcp.admin qualifies even when the variable does not list it.
      const admin = await listed.app.request('/adapters', as('admin', json('POST', { ...PWNED, name: 'z' })));
      expect(admin.status).toBe(201);
    } finally {
      await listed.close();
    }
  });
});

describe('MCP_GATEWAY_COMMAND_ROLES on replace (PUT)', () => {
  it('a creator without the role cannot introduce, change or keep a command; may move off it or delete', async () => {
    const { app, store, close } = await appWith({ MCP_GATEWAY_COMMAND_ROLES: 'team.ops' });
    try {
      // Olga registers an image adapter and a command adapter while she holds team.ops.
      expect((await app.request('/adapters', as('operator', json('POST', imageAdapter('img'))))).status).toBe(
        201,
      );
      const cmd = { name: 'cmd', command: 'npx', args: ['-y', 'server'] };
      expect((await app.request('/adapters', as('operator', json('POST', cmd)))).status).toBe(201);
      const before = await store.get('adapter', 'cmd');

      // Then she loses it.
      const put = (name: string, body: unknown) =>
        app.request(`/adapters/${name}`, as('olgaDemoted', json('PUT', body)));
      await expectCommandRefusal(await put('img', { name: 'img', command: 'sh', args: ['-c', 'id'] }));
      expect((await store.get('adapter', 'img'))?.spec.command).toBeUndefined();
      await expectCommandRefusal(await put('cmd', { ...cmd, args: ['-c', 'id'] }));
      // Not even the description: the body still says what runs, and its environment could change it.
      await expectCommandRefusal(await put('cmd', { ...cmd, description: 'same program' }));
      expect((await store.get('adapter', 'cmd'))?.version).toBe(before?.version);

      // Moving it to a runtime that runs nothing here, or deleting it, stays hers.
      expect((await put('cmd', imageAdapter('cmd'))).status).toBe(200);
      expect((await store.get('adapter', 'cmd'))?.spec.command).toBeUndefined();
      expect((await app.request('/adapters/img', as('olgaDemoted', { method: 'DELETE' }))).status).toBe(204);
    } finally {
      await close();
    }
  });

  it('a holder of the role may replace a command; a stranger is refused before anything is read', async () => {
    const { app, store, close } = await appWith({ MCP_GATEWAY_COMMAND_ROLES: 'team.ops' });
    try {
      const cmd = { name: 'cmd', command: 'npx', args: ['-y', 'server'] };
      expect((await app.request('/adapters', as('operator', json('POST', cmd)))).status).toBe(201);
      const changed = await app.request(
        '/adapters/cmd',
        as('operator', json('PUT', { ...cmd, args: ['-y', 'other'] })),
      );
      expect(changed.status).toBe(200);
      expect((await store.get('adapter', 'cmd'))?.spec.args).toEqual(['-y', 'other']);
      // Same answer whether the name exists or not: the refusal says nothing about what is registered.
      await expectCommandRefusal(await app.request('/adapters/cmd', as('nobody', json('PUT', cmd))));
      await expectCommandRefusal(
        await app.request('/adapters/ghost', as('nobody', json('PUT', { ...cmd, name: 'ghost' }))),
      );
    } finally {
      await close();
    }
  });
});

describe('the dev modes: the local user runs commands', () => {
  it.each(['dev', 'dev-insecure'])(
    '%s: the README walk-through works without headers; other roles by header are refused',
    async (mode) => {
      const { app, close } = await appWith({ MCP_GATEWAY_AUTH: mode });
      try {
        const everything = {
          name: 'everything',
          command: 'npx',
          args: ['-y', '@modelcontextprotocol/server-everything'],
          replicaCount: 2,
        };
        expect((await app.request('/adapters', json('POST', everything))).status).toBe(201);
        const alice = await app.request(
          '/adapters',
          json('POST', { ...everything, name: 'alices' }, { 'x-dev-userid': 'alice' }),
        );
        expect(alice.status).toBe(201);
        const viewer = await app.request(
          '/adapters',
          json('POST', { ...everything, name: 'viewers' }, { 'x-dev-roles': 'mcp.viewer' }),
        );
        expect(viewer.status).toBe(403);
        expect(((await viewer.json()) as ErrorBody).error.message).toContain(
          'MCP_GATEWAY_COMMAND_ROLES: mcp.admin, mcp.dev.',
        );
      } finally {
        await close();
      }
    },
  );
});

describe('MCP_GATEWAY_COMMAND_ALLOW', () => {
  const ALLOW = { MCP_GATEWAY_COMMAND_ALLOW: 'npx,uvx,/usr/bin/node' };

  it.each([
    ['npx', 201],
    ['/usr/bin/node', 201],
    // A bare name matches a bare name only, and an absolute path only itself.
    ['/usr/bin/npx', 400],
    ['node', 400],
    ['bash', 400],
    ['./npx', 400],
    ['bin/npx', 400],
  ])('%s: %i', async (command, status) => {
    const { app, store, close } = await appWith(ALLOW);
    try {
      const res = await app.request('/adapters', as('admin', json('POST', { name: 'p', command })));
      expect(res.status).toBe(status);
      if (status === 400) {
        const body = (await res.json()) as ErrorBody;
        expect(body.error.details?.[0]?.path).toBe('command');
        expect(body.error.message).toMatch(/^command: /);
        expect(body.error.message).toContain('MCP_GATEWAY_COMMAND_ALLOW permits: npx, uvx, /usr/bin/node.');
        if (command.includes('/') && !command.startsWith('/')) {
          expect(body.error.message).toContain('is a relative path, which never matches the allow list');
        }
        expect(await names(store)).toEqual([]);
      }
    } finally {
      await close();
    }
  });

  it('applies to PUT and to tools; a caller without the role hears of the role, not of the list', async () => {
    const { app, close } = await appWith(ALLOW);
    try {
      expect(
        (await app.request('/adapters', as('admin', json('POST', { name: 'p', command: 'npx' })))).status,
      ).toBe(201);
      const put = await app.request('/adapters/p', as('admin', json('PUT', { name: 'p', command: 'bash' })));
      expect(put.status).toBe(400);
      const tool = await app.request('/tools', as('admin', json('POST', commandTool('t'))));
      expect(tool.status).toBe(400);
      expect((await tool.json()) as ErrorBody).toMatchObject({ error: { details: [{ path: 'command' }] } });
      const nobody = await app.request(
        '/adapters',
        as('nobody', json('POST', { name: 'q', command: 'bash' })),
      );
      expect(nobody.status).toBe(403);
    } finally {
      await close();
    }
  });
});

describe('input that can never run', () => {
  it.each([
    ['a NUL byte in command', { name: 'n', command: 'np\u0000x' }, 'command', /NUL/],
    ['a NUL byte in an argument', { name: 'n', command: 'npx', args: ['-y', 'a\u0000b'] }, 'args.1', /NUL/],
    [
      'a NUL byte in an environment value',
      { name: 'n', command: 'npx', environmentVariables: { TOKEN: 'x\u0000y' } },
      'environmentVariables.TOKEN',
      /NUL/,
    ],
    [
      'a NUL byte in an environment name',
      { name: 'n', command: 'npx', environmentVariables: { 'A\u0000B': 'x' } },
      'environmentVariables.A\u0000B',
      /not a valid variable name/,
    ],
    [
      'a command line in command',
      { name: 'n', command: 'npx -y @modelcontextprotocol/server-everything' },
      'command',
      /is not the path of a file on the gateway host; it must be one program name or path: put the arguments in `args`/,
    ],
    ['a tab in command', { name: 'n', command: 'npx\t-y' }, 'command', /put the arguments in `args`/],
  ])('%s is a 400 naming the field, before anything is stored', async (_what, body, path, message) => {
    // The local admin: these fail whoever sends them.
    const { app, store, close } = await createTestApp();
    try {
      const res = await app.request('/adapters', json('POST', body));
      expect(res.status).toBe(400);
      const error = ((await res.json()) as ErrorBody).error;
      expect(error.details).toContainEqual({ path, message: expect.stringMatching(message) });
      expect(await names(store)).toEqual([]);
    } finally {
      await close();
    }
  });

  it('NUL bytes in the environment of a tool or an image adapter are refused too', async () => {
    const { app, close } = await createTestApp();
    try {
      const adapter = imageAdapter('i', { environmentVariables: { K: '\u0000' } });
      expect((await app.request('/adapters', json('POST', adapter))).status).toBe(400);
      const tool = imageTool('t', { environmentVariables: { K: '\u0000' } });
      expect((await app.request('/tools', json('POST', tool))).status).toBe(400);
    } finally {
      await close();
    }
  });
});

describe('what readers see of args', () => {
  const SECRET_ARGS = ['-y', 'server', '--api-key=s3cret'];
  const running: RuntimeStatus = {
    readyReplicas: 1,
    updatedReplicas: 1,
    availableReplicas: 1,
    // What the process deployer reports: the command line.
    image: `npx ${SECRET_ARGS.join(' ')}`,
    replicaStatus: 'Healthy',
    runtime: 'command',
    replicas: [],
  };
  const inspector: RuntimeInspector = {
    status: async () => ({ ok: true, status: running }),
    logs: async () => ({ ok: true, text: '' }),
  };

  it('a reader through requiredRoles sees each argument masked in GET, list and status; writers see them', async () => {
    const { app, close } = await appWith({ MCP_GATEWAY_COMMAND_ROLES: 'team.ops' }, inspector);
    try {
      const body = {
        name: 'keyed',
        command: 'npx',
        args: SECRET_ARGS,
        environmentVariables: { API_KEY: 's3cret' },
        requiredRoles: ['team.read'],
      };
      const created = await app.request('/adapters', as('operator', json('POST', body)));
      expect(created.status).toBe(201);
      expect(((await created.json()) as { args: string[] }).args).toEqual(SECRET_ARGS);
      const tool = commandTool('scorer', { args: ['--token=s3cret'], requiredRoles: ['team.read'] });
      expect((await app.request('/tools', as('operator', json('POST', tool)))).status).toBe(201);

      const one = (await (await app.request('/adapters/keyed', as('reader'))).json()) as Record<
        string,
        unknown
      >;
      expect(one).toMatchObject({
        command: 'npx',
        args: ['***', '***', '***'],
        environmentVariables: { API_KEY: '***' },
      });
      const list = (await (await app.request('/adapters', as('reader'))).json()) as Record<string, unknown>[];
      expect(list.map((a) => a.args)).toEqual([['***', '***', '***']]);
      const tools = (await (await app.request('/tools', as('reader'))).json()) as Record<string, unknown>[];
      expect(tools.map((t) => t.args)).toEqual([['***']]);
      const status = (await (
        await app.request('/adapters/keyed/status', as('reader'))
      ).json()) as RuntimeStatus;
      expect(status.image).toBe('npx *** *** ***');

      for (const writer of ['operator', 'admin'] as const) {
        const seen = (await (await app.request('/adapters/keyed', as(writer))).json()) as { args: string[] };
        expect(seen.args).toEqual(SECRET_ARGS);
        const own = (await (await app.request('/adapters/keyed/status', as(writer))).json()) as RuntimeStatus;
        expect(own.image).toBe(running.image);
      }
      // Nothing of the body leaks into the refusal of a write either.
      const refused = await app.request('/adapters/keyed', as('reader', json('PUT', { ...body, args: [] })));
      expect(JSON.stringify(await refused.json())).not.toContain('s3cret');
    } finally {
      await close();
    }
  });
});
