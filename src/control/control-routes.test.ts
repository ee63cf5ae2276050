import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../http/index.js';
import { openRegistryStore } from '../registry/index.js';
import type { RegistryStore } from '../registry/index.js';
import { createTestApp, headerPrincipal, imageAdapter, imageTool, json } from '../../test/test-app.js';

let app: OpenAPIHono<AppEnv>;
let store: RegistryStore;

beforeEach(async () => {
  ({ app, store } = await createTestApp({ authenticate: headerPrincipal(), bodyLimitBytes: 64 * 1024 }));
});
afterEach(() => store.close());

async function errorOf(res: Response) {
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  const body = (await res.json()) as {
    error: { code: string; message: string; details?: { path: string }[] };
  };
  return body.error;
}

describe('a body that names no runtime', () => {
  const NO_RUNTIME =
    'no runtime: one of imageName (with imageVersion), command (with args) or endpoints is required';
  const toolWithoutRuntime = (name: string) => {
    const { imageName: _n, imageVersion: _v, ...tool } = imageTool(name);
    return tool;
  };

  it.each([
    ['an adapter with a name only', '/adapters', { name: 'a' }],
    ['an adapter with only a port', '/adapters', { name: 'a', port: 8000, environmentVariables: { K: 'v' } }],
    ['a tool with its definition only', '/tools', toolWithoutRuntime('t')],
  ])('%s is a 400 about the resource, not about imageName', async (_what, path, body) => {
    const res = await app.request(path, json('POST', body));
    expect(res.status).toBe(400);
    const error = await errorOf(res);
    expect(error.message).toBe(`(body): ${NO_RUNTIME}`);
    expect(error.details).toEqual([{ path: '(body)', message: NO_RUNTIME }]);
  });

  it('is the same 400 on replace', async () => {
    expect((await app.request('/adapters', json('POST', imageAdapter('a')))).status).toBe(201);
    const res = await app.request('/adapters/a', json('PUT', { name: 'a' }));
    expect(res.status).toBe(400);
    expect((await errorOf(res)).details).toEqual([{ path: '(body)', message: NO_RUNTIME }]);
  });
});

describe('POST /adapters', () => {
  it('creates an image adapter: 201, Location, ETag, the reference fields in order, defaults filled', async () => {
    const res = await app.request(
      '/adapters',
      json('POST', imageAdapter('weather', { environmentVariables: { A: '1' } })),
    );
    expect(res.status).toBe(201);
    expect(res.headers.get('location')).toBe('/adapters/weather');
    expect(res.headers.get('etag')).toMatch(
      /^"1\.[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"$/,
    );
    const body = (await res.json()) as Record<string, unknown>;
    expect(Object.keys(body)).toEqual([
      'id',
      'name',
      'imageName',
      'imageVersion',
      'environmentVariables',
      'replicaCount',
      'description',
      'useWorkloadIdentity',
      'requiredRoles',
      'port',
      'path',
      'createdBy',
      'createdAt',
      'lastUpdatedAt',
    ]);
    expect(body).toMatchObject({
      id: 'weather',
      name: 'weather',
      replicaCount: 1,
      description: '',
      useWorkloadIdentity: false,
      requiredRoles: [],
      environmentVariables: { A: '1' },
      port: 8000,
      path: '/mcp',
      createdBy: 'dev',
    });
    expect(new Date(body.createdAt as string).toISOString()).toBe(body.createdAt);
  });

  it('takes transport "sse" on every runtime: stored, /sse the default path where there is one', async () => {
    const remote = await app.request(
      '/adapters',
      json('POST', { name: 'legacy-remote', endpoints: ['http://127.0.0.1:9/sse'], transport: 'sse' }),
    );
    expect(remote.status).toBe(201);
    const body = (await remote.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ endpoints: ['http://127.0.0.1:9/sse'], transport: 'sse' });
    expect(body).not.toHaveProperty('path');
    const cmd = await app.request(
      '/adapters',
      json('POST', { name: 'legacy-cmd', command: 'node', args: ['s.js'], transport: 'sse' }),
    );
    expect(await cmd.json()).toMatchObject({ transport: 'sse', port: 8000, path: '/sse' });
    const image = await app.request(
      '/adapters',
      json('POST', imageAdapter('legacy-image', { transport: 'sse' })),
    );
    expect(await image.json()).toMatchObject({ transport: 'sse', path: '/sse' });
    // Without it, an endpoints adapter stores no transport: Streamable HTTP, as before.
    const plain = await app.request(
      '/adapters',
      json('POST', { name: 'plain', endpoints: ['http://127.0.0.1:9/mcp'] }),
    );
    expect(await plain.json()).not.toHaveProperty('transport');
  });

  it('creates a command adapter with stdio by default and an endpoints adapter without port/path', async () => {
    const cmd = await app.request(
      '/adapters',
      json('POST', { name: 'everything', command: 'npx', args: ['-y', 'x'] }),
    );
    expect(cmd.status).toBe(201);
    const created = (await cmd.json()) as Record<string, unknown>;
    expect(created).toMatchObject({
      command: 'npx',
      args: ['-y', 'x'],
      transport: 'stdio',
      port: 8000,
      path: '/mcp',
    });
    expect(created).not.toHaveProperty('warmSessions');
    const warm = await app.request(
      '/adapters',
      json('POST', { name: 'warm', command: 'npx', args: ['-y', 'x'], warmSessions: 0 }),
    );
    expect(await warm.json()).toMatchObject({ warmSessions: 0 });
    const remote = await app.request(
      '/adapters',
      json('POST', { name: 'remote', endpoints: ['http://127.0.0.1:9/mcp'] }),
    );
    expect(remote.status).toBe(201);
    const body = (await remote.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ endpoints: ['http://127.0.0.1:9/mcp'], replicaCount: 1 });
    expect(body).not.toHaveProperty('port');
    expect(body).not.toHaveProperty('imageName');
  });

  it('accepts the read-only fields a client echoes back from a GET, and ignores them', async () => {
    const res = await app.request(
      '/adapters',
      json(
        'POST',
        imageAdapter('echo', { id: 'other', createdBy: 'mallory', createdAt: '2000-01-01T00:00:00.000Z' }),
      ),
    );
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({ id: 'echo', createdBy: 'dev' });
  });

  const bad: [string, Record<string, unknown>, string, RegExp][] = [
    ['an upper-case name', imageAdapter('Weather'), 'name', /DNS-1123/],
    ['a name with a trailing dash', imageAdapter('weather-'), 'name', /DNS-1123/],
    ['a 53-character name', imageAdapter('a'.repeat(53)), 'name', /at most 52/],
    ['a reserved name', imageAdapter('toolgateway'), 'name', /reserved/],
    ['a kube- prefixed name', imageAdapter('kube-proxy'), 'name', /reserved/],
    ['replicaCount 51', imageAdapter('a', { replicaCount: 51 }), 'replicaCount', /between 0 and 50/],
    ['replicaCount -1', imageAdapter('a', { replicaCount: -1 }), 'replicaCount', /between 0 and 50/],
    ['replicaCount 1.5', imageAdapter('a', { replicaCount: 1.5 }), 'replicaCount', /integer/],
    [
      'an environment variable name with "="',
      imageAdapter('a', { environmentVariables: { 'A=B': 'v' } }),
      'environmentVariables.A=B',
      /variable name: 1 to 256 printable ASCII characters other than "="/,
    ],
    [
      'an environment variable name outside printable ASCII',
      imageAdapter('a', { environmentVariables: { CAFÉ: 'v' } }),
      'environmentVariables.CAFÉ',
      /variable name/,
    ],
    [
      'an empty environment variable name',
      imageAdapter('a', { environmentVariables: { '': 'v' } }),
      'environmentVariables.',
      /variable name/,
    ],
    [
      'a non-string environment value',
      imageAdapter('a', { environmentVariables: { X: 1 } }),
      'environmentVariables.X',
      /string/,
    ],
    ['port 0', imageAdapter('a', { port: 0 }), 'port', /between 1 and 65535/],
    ['port 70000', imageAdapter('a', { port: 70000 }), 'port', /between 1 and 65535/],
    ['a path without a leading slash', imageAdapter('a', { path: 'mcp' }), 'path', /start with "\/"/],
    ['no runtime', { name: 'a' }, '(body)', /no runtime/],
    [
      'two runtimes',
      imageAdapter('a', { endpoints: ['http://127.0.0.1:1/mcp'] }),
      'endpoints',
      /cannot be combined with imageName/,
    ],
    [
      'imageName without imageVersion',
      { name: 'a', imageName: 'x' },
      'imageVersion',
      /required with imageName/,
    ],
    ['an image name with ..', imageAdapter('a', { imageName: 'a..b' }), 'imageName', /repository path/],
    ['an unknown field', imageAdapter('a', { replicas: 2 }), 'replicas', /not a known field/],
    ['a missing name', { imageName: 'x', imageVersion: '1' }, 'name', /required/],
    ['args without command', imageAdapter('a', { args: ['x'] }), 'args', /only with command/],
    [
      'transport without command',
      imageAdapter('a', { transport: 'stdio' }),
      'transport',
      /only with command/,
    ],
    ['a bad transport', { name: 'a', command: 'x', transport: 'websocket' }, 'transport', /"stdio" or "sse"/],
    [
      'federation of an sse adapter',
      { name: 'a', endpoints: ['http://127.0.0.1:1/sse'], transport: 'sse', federate: true },
      'federate',
      /not available with transport "sse" yet/,
    ],
    [
      'per-user OAuth on an sse adapter',
      {
        name: 'a',
        endpoints: ['http://127.0.0.1:1/sse'],
        transport: 'sse',
        upstreamAuth: { type: 'oauth-user' },
      },
      'upstreamAuth.type',
      /"oauth-user" is not available with transport "sse" yet/,
    ],
    [
      'stdio on the endpoints runtime',
      { name: 'a', endpoints: ['http://127.0.0.1:1/sse'], transport: 'stdio' },
      'transport',
      /"stdio" applies only with command; endpoints and images take "sse"/,
    ],
    [
      'port with endpoints',
      { name: 'a', endpoints: ['http://127.0.0.1:1/mcp'], port: 8000 },
      'port',
      /own port and path/,
    ],
    [
      'replicaCount that differs from the endpoints',
      { name: 'a', endpoints: ['http://127.0.0.1:1/mcp'], replicaCount: 2 },
      'replicaCount',
      /number of endpoints/,
    ],
    [
      'an endpoint with credentials',
      { name: 'a', endpoints: ['http://u:p@127.0.0.1:1/mcp'] },
      'endpoints.0',
      /without credentials/,
    ],
    [
      'a non-http endpoint',
      { name: 'a', endpoints: ['ftp://127.0.0.1/mcp'] },
      'endpoints.0',
      /http\(s\) URL/,
    ],
    [
      'a duplicate endpoint',
      { name: 'a', endpoints: ['http://127.0.0.1:1/mcp', 'http://127.0.0.1:1/mcp'] },
      'endpoints',
      /twice/,
    ],
    ['an idle timeout below 1 s', imageAdapter('a', { idleTimeoutMs: 10 }), 'idleTimeoutMs', /between 1000/],
    [
      'a fractional connect timeout',
      imageAdapter('a', { connectTimeoutMs: 1.5 }),
      'connectTimeoutMs',
      /integer/,
    ],
    [
      'a cloud metadata endpoint (SSRF)',
      { name: 'a', endpoints: ['http://169.254.169.254/latest/meta-data'] },
      'endpoints.0',
      /is refused: a link-local address/,
    ],
    [
      'a metadata host name (SSRF)',
      { name: 'a', endpoints: ['http://metadata.google.internal/'] },
      'endpoints.0',
      /cloud metadata host.*MCP_GATEWAY_ALLOW_LINK_LOCAL/,
    ],
    [
      'useWorkloadIdentity as a string',
      imageAdapter('a', { useWorkloadIdentity: 'yes' }),
      'useWorkloadIdentity',
      /boolean/,
    ],
    ['an unknown affinity', imageAdapter('a', { affinity: 'sticky' }), 'affinity', /"none", "principal"/],
    [
      'a header affinity without a name',
      imageAdapter('a', { affinity: 'header:' }),
      'affinity',
      /header name/,
    ],
    [
      'a header affinity with a space in the name',
      imageAdapter('a', { affinity: 'header:x conv' }),
      'affinity',
      /header name/,
    ],
    ['an affinity that is not a string', imageAdapter('a', { affinity: 1 }), 'affinity', /"none"/],
    [
      'a session cap of 0',
      imageAdapter('a', { maxSessionsPerReplica: 0 }),
      'maxSessionsPerReplica',
      /between 1 and 100000/,
    ],
    [
      'a fractional session idle timeout',
      imageAdapter('a', { sessionIdleTimeoutSeconds: 1.5 }),
      'sessionIdleTimeoutSeconds',
      /integer/,
    ],
    [
      'a session idle timeout below 10 s',
      imageAdapter('a', { sessionIdleTimeoutSeconds: 5 }),
      'sessionIdleTimeoutSeconds',
      /between 10 and 604800/,
    ],
    [
      'more warm sessions than 16',
      { name: 'a', command: 'npx', args: ['-y', 'x'], warmSessions: 17 },
      'warmSessions',
      /between 0 and 16/,
    ],
    [
      'warm sessions on an image adapter',
      imageAdapter('a', { warmSessions: 1 }),
      'warmSessions',
      /applies only to command adapters with transport "stdio"/,
    ],
    [
      'warm sessions on a streamable-http command adapter',
      { name: 'a', command: 'node', args: ['s.js'], transport: 'streamable-http', warmSessions: 1 },
      'warmSessions',
      /applies only to command adapters/,
    ],
    [
      'more warm sessions than the session cap',
      { name: 'a', command: 'npx', args: ['-y', 'x'], warmSessions: 3, maxSessionsPerReplica: 2 },
      'warmSessions',
      /must not exceed maxSessionsPerReplica/,
    ],
    [
      'minReplicas on an image (Kubernetes does not scale on demand)',
      imageAdapter('a', { minReplicas: 0 }),
      'minReplicas',
      /applies only with command .*images \(Kubernetes\) and endpoints always run replicaCount/,
    ],
    [
      'minReplicas on endpoints',
      { name: 'a', endpoints: ['http://127.0.0.1:9/mcp'], minReplicas: 0 },
      'minReplicas',
      /applies only with command/,
    ],
    [
      'idleSeconds on an image',
      imageAdapter('a', { idleSeconds: 60 }),
      'idleSeconds',
      /applies only with command/,
    ],
    [
      'minReplicas above replicaCount',
      { name: 'a', command: 'npx', args: ['x'], replicaCount: 2, minReplicas: 3 },
      'minReplicas',
      /at most replicaCount \(2\)/,
    ],
    [
      'a negative minReplicas',
      { name: 'a', command: 'npx', args: ['x'], minReplicas: -1 },
      'minReplicas',
      /between 0 and 50/,
    ],
    [
      'an idleSeconds of 0',
      { name: 'a', command: 'npx', args: ['x'], minReplicas: 0, idleSeconds: 0 },
      'idleSeconds',
      /between 1 and 86400/,
    ],
    [
      'minReplicas 0 on a federated adapter',
      { name: 'a', command: 'npx', args: ['x'], minReplicas: 0, federate: true },
      'federate',
      /not available with minReplicas below replicaCount yet/,
    ],
  ];
  it('registers a federated per-user OAuth adapter (the tool router lists it per caller)', async () => {
    const res = await app.request(
      '/adapters',
      json('POST', {
        name: 'a',
        endpoints: ['http://127.0.0.1:1/mcp'],
        upstreamAuth: { type: 'oauth-user' },
        federate: true,
      }),
    );
    expect(res.status, await res.clone().text()).toBe(201);
    expect(await store.count('adapter')).toBe(1);
  });

  it.each(bad)('answers 400 naming the field for %s', async (_case, body, path, message) => {
    const res = await app.request('/adapters', json('POST', body));
    expect(res.status).toBe(400);
    const error = await errorOf(res);
    expect(error.code).toBe('invalid_request');
    expect(error.message).toContain(path);
    expect(error.message).toMatch(message);
    expect(error.details?.map((d) => d.path)).toContain(path);
    expect(await store.count('adapter')).toBe(0);
  });

  it('keeps minReplicas and idleSeconds of a command adapter, and leaves them out when not given', async () => {
    const lazy = await app.request(
      '/adapters',
      json('POST', {
        name: 'lazy',
        command: 'npx',
        args: ['x'],
        replicaCount: 2,
        minReplicas: 0,
        idleSeconds: 30,
      }),
    );
    expect(lazy.status).toBe(201);
    expect(await lazy.json()).toMatchObject({ minReplicas: 0, idleSeconds: 30, replicaCount: 2 });
    const read = await app.request('/adapters/lazy');
    expect(await read.json()).toMatchObject({ minReplicas: 0, idleSeconds: 30 });
    const plain = await (
      await app.request('/adapters', json('POST', { name: 'eager', command: 'npx' }))
    ).json();
    expect(plain).not.toHaveProperty('minReplicas');
    expect(plain).not.toHaveProperty('idleSeconds');
  });

  it('keeps the affinity, with the header name in lower case, and leaves it out when not given', async () => {
    const created = await app.request(
      '/adapters',
      json('POST', imageAdapter('conv', { affinity: 'header:X-Conversation-Id' })),
    );
    expect(created.status).toBe(201);
    expect(((await created.json()) as { affinity?: string }).affinity).toBe('header:x-conversation-id');
    const read = await app.request('/adapters/conv');
    expect(((await read.json()) as { affinity?: string }).affinity).toBe('header:x-conversation-id');
    const plain = await app.request('/adapters', json('POST', imageAdapter('plain')));
    const plainBody = await plain.json();
    for (const field of ['affinity', 'maxSessionsPerReplica', 'sessionIdleTimeoutSeconds'])
      expect(plainBody).not.toHaveProperty(field);
    const capped = await app.request(
      '/adapters',
      json('POST', imageAdapter('capped', { maxSessionsPerReplica: 4, sessionIdleTimeoutSeconds: 60 })),
    );
    expect(await capped.json()).toMatchObject({ maxSessionsPerReplica: 4, sessionIdleTimeoutSeconds: 60 });
    for (const affinity of ['none', 'principal']) {
      const res = await app.request('/adapters', json('POST', imageAdapter(`a-${affinity}`, { affinity })));
      expect(((await res.json()) as { affinity?: string }).affinity).toBe(affinity);
    }
  });

  it('answers 400 for malformed JSON and for a body that is not an object', async () => {
    const malformed = await app.request('/adapters', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"name":',
    });
    expect(malformed.status).toBe(400);
    expect((await errorOf(malformed)).message).toMatch(/Malformed JSON/i);
    const array = await app.request('/adapters', json('POST', [1, 2]));
    expect(array.status).toBe(400);
  });

  it('answers 409 for a duplicate name, and kinds are separate name spaces', async () => {
    expect((await app.request('/adapters', json('POST', imageAdapter('dup')))).status).toBe(201);
    const again = await app.request('/adapters', json('POST', imageAdapter('dup')));
    expect(again.status).toBe(409);
    expect((await errorOf(again)).message).toBe("Adapter 'dup' already exists.");
    expect((await app.request('/tools', json('POST', imageTool('dup')))).status).toBe(201);
  });

  it('gives one 201 and one 409 to two concurrent creates of one name', async () => {
    const [a, b] = await Promise.all([
      app.request('/adapters', json('POST', imageAdapter('race', { description: 'a' }))),
      app.request('/adapters', json('POST', imageAdapter('race', { description: 'b' }))),
    ]);
    expect([a!.status, b!.status].sort()).toEqual([201, 409]);
  });

  it('answers 415 for a body that is not JSON, naming what it got', async () => {
    const res = await app.request('/adapters', {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'name=a',
    });
    expect(res.status).toBe(415);
    expect((await errorOf(res)).message).toContain("got 'text/plain'");
    const none = await app.request('/adapters', { method: 'POST', body: '{}' });
    expect(none.status).toBe(415);
  });

  it('answers 413 above the body limit, by Content-Length and for a chunked body', async () => {
    const big = JSON.stringify(imageAdapter('big', { description: 'x'.repeat(70 * 1024) }));
    const res = await app.request('/adapters', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: big,
    });
    expect(res.status).toBe(413);
    expect((await errorOf(res)).message).toMatch(/limit of 65536 bytes/);
    const stream = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(big));
        controller.close();
      },
    });
    const chunked = await app.request('/adapters', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: stream,
      duplex: 'half',
    } as RequestInit);
    expect(chunked.status).toBe(413);
  });

  it('answers 403 when a non-admin asks for workload identity', async () => {
    const res = await app.request(
      '/adapters',
      json('POST', imageAdapter('wi', { useWorkloadIdentity: true }), { 'x-test-user': 'alice' }),
    );
    expect(res.status).toBe(403);
    expect((await errorOf(res)).message).toMatch(/mcp\.admin/);
  });
});

describe('GET, PUT, DELETE /adapters/{name}', () => {
  it('reads back what was written, and 404s a missing name', async () => {
    await app.request('/adapters', json('POST', imageAdapter('one')));
    const res = await app.request('/adapters/one');
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ name: 'one', imageName: 'team/server' });
    const missing = await app.request('/adapters/nope');
    expect(missing.status).toBe(404);
    expect((await errorOf(missing)).message).toBe("Adapter 'nope' does not exist.");
  });

  it('answers 304 to If-None-Match with the current ETag', async () => {
    const created = await app.request('/adapters', json('POST', imageAdapter('cached')));
    const etag = created.headers.get('etag')!;
    const res = await app.request('/adapters/cached', { headers: { 'if-none-match': etag } });
    expect(res.status).toBe(304);
  });

  it('replaces the whole object on PUT, keeps createdBy/createdAt, and bumps the ETag', async () => {
    const created = await app.request(
      '/adapters',
      json('POST', imageAdapter('upd', { environmentVariables: { A: '1', B: '2' } })),
    );
    const before = (await created.json()) as Record<string, string>;
    const res = await app.request(
      '/adapters/upd',
      json('PUT', imageAdapter('upd', { environmentVariables: { A: '3' }, replicaCount: 3 })),
    );
    expect(res.status).toBe(200);
    const after = (await res.json()) as Record<string, unknown>;
    expect(after).toMatchObject({
      environmentVariables: { A: '3' },
      replicaCount: 3,
      createdBy: before.createdBy,
      createdAt: before.createdAt,
    });
    expect(res.headers.get('etag')).not.toBe(created.headers.get('etag'));
  });

  it('honours If-Match: 200 with the current ETag, 412 with a stale one, and the stale write is not applied', async () => {
    const created = await app.request('/adapters', json('POST', imageAdapter('cond')));
    const etag = created.headers.get('etag')!;
    const first = await app.request(
      '/adapters/cond',
      json('PUT', imageAdapter('cond', { description: 'first' }), { 'if-match': etag }),
    );
    expect(first.status).toBe(200);
    const stale = await app.request(
      '/adapters/cond',
      json('PUT', imageAdapter('cond', { description: 'second' }), { 'if-match': etag }),
    );
    expect(stale.status).toBe(412);
    expect((await errorOf(stale)).message).toMatch(/has changed/);
    expect(await (await app.request('/adapters/cond')).json()).toMatchObject({ description: 'first' });
    const del = await app.request('/adapters/cond', { method: 'DELETE', headers: { 'if-match': etag } });
    expect(del.status).toBe(412);
    expect(
      (await app.request('/adapters/cond', { method: 'DELETE', headers: { 'if-match': '*' } })).status,
    ).toBe(204);
  });

  it('gives one 200 and one 412 to two concurrent PUTs with the same If-Match', async () => {
    const created = await app.request('/adapters', json('POST', imageAdapter('pp')));
    const etag = created.headers.get('etag')!;
    const [a, b] = await Promise.all(
      ['a', 'b'].map((d) =>
        app.request(
          '/adapters/pp',
          json('PUT', imageAdapter('pp', { description: d }), { 'if-match': etag }),
        ),
      ),
    );
    expect([a!.status, b!.status].sort()).toEqual([200, 412]);
  });

  it('does not resurrect a deleted-and-recreated name with an old ETag', async () => {
    const old = (await app.request('/adapters', json('POST', imageAdapter('again')))).headers.get('etag')!;
    await app.request('/adapters/again', { method: 'DELETE' });
    await app.request('/adapters', json('POST', imageAdapter('again')));
    const res = await app.request('/adapters/again', json('PUT', imageAdapter('again'), { 'if-match': old }));
    expect(res.status).toBe(412);
  });

  it('tells a re-created resource from its predecessor even within the same millisecond', async () => {
    // A clock that never moves: both incarnations have the same version and the same creation time.
    const instant = new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 678));
    const frozen = await createTestApp({
      store: await openRegistryStore(':memory:', { clock: () => instant }),
    });
    try {
      const first = await frozen.app.request('/adapters', json('POST', imageAdapter('same-ms')));
      const old = first.headers.get('etag')!;
      expect((await frozen.app.request('/adapters/same-ms', { method: 'DELETE' })).status).toBe(204);
      const again = await frozen.app.request('/adapters', json('POST', imageAdapter('same-ms')));
      expect(again.headers.get('etag')).not.toBe(old);
      expect(((await again.json()) as { createdAt: string }).createdAt).toBe(instant.toISOString());

      const put = await frozen.app.request(
        '/adapters/same-ms',
        json('PUT', imageAdapter('same-ms'), { 'if-match': old }),
      );
      expect(put.status).toBe(412);
      const del = await frozen.app.request('/adapters/same-ms', {
        method: 'DELETE',
        headers: { 'if-match': old },
      });
      expect(del.status).toBe(412);
      const read = await frozen.app.request('/adapters/same-ms', { headers: { 'if-none-match': old } });
      expect(read.status).toBe(200);
    } finally {
      await frozen.close();
    }
  });

  it('answers 400 when the body names another resource or changes useWorkloadIdentity', async () => {
    await app.request('/adapters', json('POST', imageAdapter('fixed')));
    const other = await app.request('/adapters/fixed', json('PUT', imageAdapter('other')));
    expect(other.status).toBe(400);
    expect((await errorOf(other)).message).toMatch(/does not match 'fixed' in the URL/);
    const wi = await app.request(
      '/adapters/fixed',
      json('PUT', imageAdapter('fixed', { useWorkloadIdentity: true })),
    );
    expect(wi.status).toBe(400);
    expect((await errorOf(wi)).message).toMatch(/useWorkloadIdentity: cannot be changed/);
  });

  it('answers 404 for PUT and DELETE of a missing name (the reference wrongly says 400)', async () => {
    const put = await app.request('/adapters/ghost', json('PUT', imageAdapter('ghost')));
    expect(put.status).toBe(404);
    const del = await app.request('/adapters/ghost', { method: 'DELETE' });
    expect(del.status).toBe(404);
    expect((await errorOf(del)).message).toBe("Adapter 'ghost' does not exist.");
  });

  it('deletes with 204, after which the name is gone and free again', async () => {
    await app.request('/adapters', json('POST', imageAdapter('gone')));
    const del = await app.request('/adapters/gone', { method: 'DELETE' });
    expect(del.status).toBe(204);
    expect(await del.text()).toBe('');
    expect((await app.request('/adapters/gone')).status).toBe(404);
    expect((await app.request('/adapters', json('POST', imageAdapter('gone')))).status).toBe(201);
  });

  it('lets only the creator or an admin write, and only permitted readers see a resource', async () => {
    const alice = { 'x-test-user': 'alice' };
    await app.request(
      '/adapters',
      json('POST', imageAdapter('mine', { requiredRoles: ['team.read'] }), alice),
    );
    const stranger = { 'x-test-user': 'bob' };
    expect((await app.request('/adapters/mine', { headers: stranger })).status).toBe(404);
    expect(await (await app.request('/adapters', { headers: stranger })).json()).toEqual([]);
    const reader = { 'x-test-user': 'carol', 'x-test-roles': 'team.read' };
    expect((await app.request('/adapters/mine', { headers: reader })).status).toBe(200);
    const put = await app.request('/adapters/mine', json('PUT', imageAdapter('mine'), reader));
    expect(put.status).toBe(403);
    expect((await app.request('/adapters/mine', { method: 'DELETE', headers: reader })).status).toBe(403);
    const admin = { 'x-test-user': 'root', 'x-test-roles': 'mcp.admin' };
    expect((await app.request('/adapters/mine', json('PUT', imageAdapter('mine'), admin))).status).toBe(200);
    expect((await app.request('/adapters/mine', { method: 'DELETE', headers: alice })).status).toBe(204);
  });
});

describe('GET /adapters (list)', () => {
  /** Every name visible to `user` over the Link chain from `first`, and the size of each page. */
  async function walk(first: string, user: string) {
    const seen: string[] = [];
    const sizes: number[] = [];
    for (let next: string | undefined = first; next;) {
      const res = await app.request(next, { headers: { 'x-test-user': user } });
      expect(res.status).toBe(200);
      const page = ((await res.json()) as { name: string }[]).map((a) => a.name);
      seen.push(...page);
      sizes.push(page.length);
      next = res.headers.get('link')?.match(/^<([^>]+)>; rel="next"$/)?.[1];
    }
    return { seen, sizes };
  }

  const createAs = (name: string, createdBy: string) =>
    store.create(
      'adapter',
      name,
      {
        imageName: 'x',
        imageVersion: '1',
        environmentVariables: {},
        replicaCount: 1,
        description: '',
        useWorkloadIdentity: false,
        requiredRoles: [],
      },
      createdBy,
    );

  it('pages 10,000 adapters by name with Link: rel="next", every one exactly once', async () => {
    const names = Array.from({ length: 10_000 }, (_, i) => `a-${String(i).padStart(5, '0')}`);
    for (const name of names) await createAs(name, 'dev');
    const { seen, sizes } = await walk('/adapters?limit=1000', 'dev');
    expect(seen).toEqual(names);
    expect(sizes.length).toBeLessThanOrEqual(11);
    const bare = await app.request('/adapters');
    expect(((await bare.json()) as unknown[]).length).toBe(1000);
    expect(bare.headers.get('link')).toMatch(/rel="next"/);
  });

  it('fills pages with what the caller may read, skipping what it may not', async () => {
    const names = Array.from({ length: 12 }, (_, i) => `a-${String(i).padStart(2, '0')}`);
    for (const [i, name] of names.entries()) await createAs(name, i % 3 === 0 ? 'alice' : 'bob');
    const { seen, sizes } = await walk('/adapters?limit=2', 'alice');
    expect(seen).toEqual(['a-00', 'a-03', 'a-06', 'a-09']);
    expect(sizes.slice(0, 2)).toEqual([2, 2]);
  });

  it('answers a short page with a link after a bounded scan of resources the caller may not read', async () => {
    for (let i = 0; i < 25; i++) await createAs(`b-${String(i).padStart(2, '0')}`, 'bob');
    await createAs('c-00', 'alice');
    const reads = vi.spyOn(store, 'list');
    const first = await app.request('/adapters?limit=2', { headers: { 'x-test-user': 'alice' } });
    // Ten pages of two, and one read to learn that more follow.
    expect(reads).toHaveBeenCalledTimes(11);
    reads.mockRestore();
    expect(await first.json()).toEqual([]);
    expect(first.headers.get('link')).toMatch(/rel="next"/);
    expect((await walk('/adapters?limit=2', 'alice')).seen).toEqual(['c-00']);
  });

  it('returns a plain array with no Link header when everything fits', async () => {
    await app.request('/adapters', json('POST', imageAdapter('b')));
    await app.request('/adapters', json('POST', imageAdapter('a')));
    const res = await app.request('/adapters');
    expect(((await res.json()) as { name: string }[]).map((a) => a.name)).toEqual(['a', 'b']);
    expect(res.headers.get('link')).toBeNull();
  });

  it('answers 400 for a bad limit or a cursor it did not issue', async () => {
    for (const q of ['limit=0', 'limit=1001', 'limit=abc']) {
      const res = await app.request(`/adapters?${q}`);
      expect(res.status).toBe(400);
      expect((await errorOf(res)).message).toContain('limit');
    }
    const res = await app.request('/adapters?cursor=garbage');
    expect(res.status).toBe(400);
    expect((await errorOf(res)).message).toMatch(/cursor/);
  });
});

describe('/tools', () => {
  it('creates a tool with toolDefinition defaults and reads it back', async () => {
    const res = await app.request('/tools', json('POST', imageTool('score')));
    expect(res.status).toBe(201);
    expect(res.headers.get('location')).toBe('/tools/score');
    const body = (await res.json()) as Record<string, unknown>;
    expect(body.toolDefinition).toEqual({
      tool: { name: 'score', description: 'Scores text', inputSchema: { type: 'object' } },
      port: 8000,
      path: '/score',
    });
    expect(Object.keys(body).indexOf('toolDefinition')).toBe(Object.keys(body).indexOf('requiredRoles') + 1);
  });

  const bad: [string, Record<string, unknown>, string, RegExp][] = [
    [
      'a tool name that differs from the resource name',
      imageTool('score', { toolDefinition: { tool: { name: 'other', inputSchema: { type: 'object' } } } }),
      'toolDefinition.tool.name',
      /must equal name/,
    ],
    [
      'a missing toolDefinition',
      { name: 'score', imageName: 'a', imageVersion: '1' },
      'toolDefinition',
      /required/,
    ],
    [
      'an inputSchema that is not an object schema',
      imageTool('score', { toolDefinition: { tool: { name: 'score', inputSchema: { type: 'string' } } } }),
      'toolDefinition.tool.inputSchema.type',
      /"type": "object"/,
    ],
    [
      'port 0',
      imageTool('score', {
        toolDefinition: { tool: { name: 'score', inputSchema: { type: 'object' } }, port: 0 },
      }),
      'toolDefinition.port',
      /between 1 and 65535/,
    ],
    [
      'a path with a space',
      imageTool('score', {
        toolDefinition: { tool: { name: 'score', inputSchema: { type: 'object' } }, path: '/a b' },
      }),
      'toolDefinition.path',
      /start with/,
    ],
    [
      'transport, which tools do not have',
      imageTool('score', { transport: 'stdio' }),
      'transport',
      /not a known field/,
    ],
  ];
  it.each(bad)('answers 400 naming the field for %s', async (_case, body, path, message) => {
    const res = await app.request('/tools', json('POST', body));
    expect(res.status).toBe(400);
    const error = await errorOf(res);
    expect(error.message).toContain(path);
    expect(error.message).toMatch(message);
  });

  it('runs PUT, DELETE and 404 like adapters', async () => {
    await app.request('/tools', json('POST', imageTool('t')));
    const put = await app.request('/tools/t', json('PUT', imageTool('t', { description: 'new' })));
    expect(put.status).toBe(200);
    expect((await app.request('/tools/t', { method: 'DELETE' })).status).toBe(204);
    const missing = await app.request('/tools/t');
    expect(missing.status).toBe(404);
    expect((await errorOf(missing)).message).toBe("Tool 't' does not exist.");
  });
});

describe('errors', () => {
  it('answers unknown routes with a JSON 404', async () => {
    const res = await app.request('/nowhere');
    expect(res.status).toBe(404);
    expect((await errorOf(res)).message).toBe('No route for GET /nowhere.');
  });
});
