import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { OpenAPIHono } from '@hono/zod-openapi';
import { creationGate } from '../auth/index.js';
import type { AppEnv } from '../http/index.js';
import type { RegistryStore } from '../registry/index.js';
import { createTestApp, headerPrincipal, json } from '../../test/test-app.js';

let app: OpenAPIHono<AppEnv>;
let store: RegistryStore;

beforeEach(async () => {
  ({ app, store } = await createTestApp({
    authenticate: headerPrincipal(),
    authorize: creationGate({ creatorRoles: ['team.creator'] }),
  }));
});
afterEach(() => store.close());

const as = (user: string, roles: string[] = []) => ({
  'x-test-user': user,
  'x-test-roles': roles.join(','),
});
const ALICE = as('alice', ['team.creator']);
const BOB = as('bob', ['analyst']);
const CAROL = as('carol');
const ADMIN = as('root', ['mcp.admin']);

const toolset = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  description: 'What the analysts need',
  tools: [
    'score',
    { name: 'github__create_issue', rename: 'file_bug', description: 'File a bug' },
    'slack__*',
  ],
  requiredRoles: ['analyst'],
  ...extra,
});

async function errorOf(res: Response) {
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  return ((await res.json()) as { error: { code: string; message: string } }).error;
}

const create = (body: unknown, headers = ALICE) => app.request('/toolsets', json('POST', body, headers));

describe('POST /toolsets', () => {
  it('creates: 201, Location, ETag, the members as given, defaults filled', async () => {
    const res = await create(toolset('analysts'));
    expect(res.status).toBe(201);
    expect(res.headers.get('location')).toBe('/toolsets/analysts');
    expect(res.headers.get('etag')).toMatch(/^"1\.[0-9a-f-]{36}"$/);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      id: 'analysts',
      name: 'analysts',
      description: 'What the analysts need',
      tools: toolset('analysts').tools,
      requiredRoles: ['analyst'],
      discovery: 'list',
      endpoint: '/toolsets/analysts/mcp',
      createdBy: 'alice',
    });
    const minimal = await create({ name: 'bare', tools: [] });
    expect(await minimal.json()).toMatchObject({ description: '', tools: [], requiredRoles: [] });
  });

  it('refuses a taken name with 409, and keeps the first', async () => {
    expect((await create(toolset('analysts'))).status).toBe(201);
    const res = await create(toolset('analysts', { description: 'other' }), ADMIN);
    expect(res.status).toBe(409);
    expect((await errorOf(res)).message).toBe("Toolset 'analysts' already exists.");
    expect(await (await app.request('/toolsets/analysts', { headers: ALICE })).json()).toMatchObject({
      description: 'What the analysts need',
    });
  });

  it('refuses a caller without a creator role with 403 (the creation gate, as for adapters)', async () => {
    const res = await create(toolset('analysts'), CAROL);
    expect(res.status).toBe(403);
    expect(res.headers.get('www-authenticate')).toMatch(/insufficient_scope/);
    expect(await store.get('toolset', 'analysts')).toBeUndefined();
  });

  it.each([
    ['a name that is no DNS label', { name: 'Team!', tools: [] }, 'name: must be a DNS-1123 label'],
    ['a reserved name', { name: 'mcp', tools: [] }, 'name: is reserved by the gateway'],
    ['no tools field', { name: 't' }, 'tools: is required'],
    [
      'a member outside the tool-name alphabet',
      { name: 't', tools: ['a b'] },
      'tools.0: must be a tool name',
    ],
    ['a wildcard that is not {adapter}__*', { name: 't', tools: ['git*'] }, 'tools.0: must be a tool name'],
    ['a member twice', { name: 't', tools: ['a', 'b', 'a'] }, "tools.2: 'a' is already tools.0"],
    [
      'a rename onto another member',
      { name: 't', tools: ['a', { name: 'b', rename: 'a' }] },
      "tools.1.rename: 'a' would be listed twice: tools.0 is listed under that name too",
    ],
    [
      'two renames onto one name',
      {
        name: 't',
        tools: [
          { name: 'a', rename: 'x' },
          { name: 'b', rename: 'x' },
        ],
      },
      "tools.1.rename: 'x' would be listed twice",
    ],
    [
      'a rename of a wildcard',
      { name: 't', tools: [{ name: 'slack__*', rename: 'x' }] },
      "tools.0.rename: a wildcard member ('slack__*') stands for many tools and cannot have one rename",
    ],
    [
      'a rename outside the alphabet',
      { name: 't', tools: [{ name: 'a', rename: 'a/b' }] },
      'tools.0.rename: must be a tool name',
    ],
    [
      'an unknown member field',
      { name: 't', tools: [{ name: 'a', title: 'x' }] },
      'tools.0.title: is not a known field',
    ],
    [
      'an unknown discovery',
      { name: 't', tools: [], discovery: 'magic' },
      'discovery: must be "list" or "search"',
    ],
    [
      'a search toolset showing a member as search_tools',
      { name: 't', tools: [{ name: 'a', rename: 'search_tools' }], discovery: 'search' },
      "tools.0: 'search_tools' is one of the two tools a search toolset lists",
    ],
    ['an unknown field', { name: 't', tools: [], owner: 'x' }, 'owner: is not a known field'],
    [
      'a policy that is not a policy document',
      { name: 't', tools: [], policy: { rules: [], default: 'maybe' } },
      'policy.default: must be "allow" or "deny"',
    ],
    [
      'a policy whose CEL does not compile',
      {
        name: 't',
        tools: [],
        policy: { rules: [{ name: 'r', when: 'caller.rolez', effect: 'deny' }], default: 'allow' },
      },
      "policy: rules[0].when (rule 'r'): ",
    ],
  ])('refuses %s with a 400 naming the field', async (_what, body, message) => {
    const res = await create(body);
    expect(res.status).toBe(400);
    const error = await errorOf(res);
    expect(error.code).toBe('invalid_request');
    expect(error.message).toContain(message);
  });

  it('keeps a member that matches nothing yet (a federated tool may come later)', async () => {
    const res = await create({ name: 't', tools: ['later__tool'] });
    expect(res.status).toBe(201);
  });
});

describe('reading toolsets', () => {
  beforeEach(async () => {
    expect((await create(toolset('analysts'))).status).toBe(201);
    expect((await create(toolset('private', { requiredRoles: [] }))).status).toBe(201);
  });

  it('the creator, an admin and a holder of a required role read it; anyone else gets 404', async () => {
    for (const headers of [ALICE, ADMIN, BOB]) {
      expect((await app.request('/toolsets/analysts', { headers })).status).toBe(200);
    }
    const res = await app.request('/toolsets/analysts', { headers: CAROL });
    expect(res.status).toBe(404);
    expect((await errorOf(res)).message).toBe("Toolset 'analysts' does not exist.");
    expect((await app.request('/toolsets/private', { headers: BOB })).status).toBe(404);
    expect((await app.request('/toolsets/nothing', { headers: ADMIN })).status).toBe(404);
  });

  it('lists only what the caller may read, by name', async () => {
    const names = async (headers: Record<string, string>) =>
      ((await (await app.request('/toolsets', { headers })).json()) as { name: string }[]).map((t) => t.name);
    expect(await names(ALICE)).toEqual(['analysts', 'private']);
    expect(await names(BOB)).toEqual(['analysts']);
    expect(await names(CAROL)).toEqual([]);
  });

  it('pages with a Link header, as adapters do', async () => {
    for (const name of ['b1', 'b2', 'b3']) expect((await create({ name, tools: [] })).status).toBe(201);
    const first = await app.request('/toolsets?limit=2', { headers: ALICE });
    expect(((await first.json()) as { name: string }[]).map((t) => t.name)).toEqual(['analysts', 'b1']);
    const next = /<([^>]+)>; rel="next"/.exec(first.headers.get('link') ?? '')?.[1];
    expect(next).toBeDefined();
    const second = await app.request(next!, { headers: ALICE });
    expect(((await second.json()) as { name: string }[]).map((t) => t.name)).toEqual(['b2', 'b3']);
    const third = await app.request(/<([^>]+)>/.exec(second.headers.get('link')!)![1]!, { headers: ALICE });
    expect(((await third.json()) as { name: string }[]).map((t) => t.name)).toEqual(['private']);
    expect(third.headers.get('link')).toBeNull();
    expect((await app.request('/toolsets?limit=0', { headers: ALICE })).status).toBe(400);
  });

  it('answers If-None-Match with 304', async () => {
    const etag = (await app.request('/toolsets/analysts', { headers: ALICE })).headers.get('etag')!;
    const res = await app.request('/toolsets/analysts', { headers: { ...ALICE, 'if-none-match': etag } });
    expect(res.status).toBe(304);
  });
});

describe('replacing and deleting toolsets', () => {
  let etag: string;
  beforeEach(async () => {
    const res = await create(toolset('analysts'));
    etag = res.headers.get('etag')!;
  });
  const put = (body: unknown, headers: Record<string, string>) =>
    app.request('/toolsets/analysts', json('PUT', body, headers));

  it('the creator replaces it with If-Match; a stale ETag is a 412 and changes nothing', async () => {
    const res = await put(toolset('analysts', { tools: ['score'] }), { ...ALICE, 'if-match': etag });
    expect(res.status).toBe(200);
    expect(res.headers.get('etag')).toMatch(/^"2\./);
    expect(await res.json()).toMatchObject({ tools: ['score'] });
    const stale = await put(toolset('analysts', { tools: [] }), { ...ALICE, 'if-match': etag });
    expect(stale.status).toBe(412);
    expect((await store.get('toolset', 'analysts'))?.spec).toMatchObject({ tools: ['score'] });
  });

  it('a reader who is not the creator gets 403; a stranger 404; an admin may', async () => {
    expect((await put(toolset('analysts'), BOB)).status).toBe(403);
    expect((await put(toolset('analysts'), CAROL)).status).toBe(404);
    expect((await put(toolset('analysts', { tools: [] }), ADMIN)).status).toBe(200);
    expect((await app.request('/toolsets/analysts', { method: 'DELETE', headers: BOB })).status).toBe(403);
  });

  it('refuses a body whose name differs from the URL, and an unknown toolset is 404', async () => {
    const res = await put(toolset('other'), ALICE);
    expect(res.status).toBe(400);
    expect((await errorOf(res)).message).toContain("does not match 'analysts'");
    const missing = await app.request('/toolsets/nothing', json('PUT', toolset('nothing'), ALICE));
    expect(missing.status).toBe(404);
  });

  it('deletes: a stale If-Match is 412, then 204, then 404', async () => {
    const fresh = (
      await app.request('/toolsets/analysts', json('PUT', toolset('analysts'), ALICE))
    ).headers.get('etag')!;
    const stale = await app.request('/toolsets/analysts', {
      method: 'DELETE',
      headers: { ...ALICE, 'if-match': etag },
    });
    expect(stale.status).toBe(412);
    const res = await app.request('/toolsets/analysts', {
      method: 'DELETE',
      headers: { ...ALICE, 'if-match': fresh },
    });
    expect(res.status).toBe(204);
    expect((await app.request('/toolsets/analysts', { method: 'DELETE', headers: ALICE })).status).toBe(404);
  });
});

it('the OpenAPI document describes /toolsets and /toolsets/{name}', async () => {
  const doc = (await (await app.request('/openapi.json')).json()) as { paths: Record<string, object> };
  expect(Object.keys(doc.paths['/toolsets']!)).toEqual(['post', 'get']);
  expect(Object.keys(doc.paths['/toolsets/{name}']!)).toEqual(['get', 'put', 'delete']);
});

it('audits toolset writes as kind "toolset", a refused one too', async () => {
  const lines: unknown[] = [];
  const audited = await createTestApp({
    authenticate: headerPrincipal(),
    audit: { enabled: () => true, write: (entry) => void lines.push(entry) },
  });
  try {
    const post = (body: unknown) => audited.app.request('/toolsets', json('POST', body, ALICE));
    expect((await post({ name: 'team', tools: [] })).status).toBe(201);
    expect((await post({ name: 'team', tools: [] })).status).toBe(409);
    const del = await audited.app.request('/toolsets/team', { method: 'DELETE', headers: BOB });
    expect(del.status).toBe(404);
    expect(lines).toEqual([
      expect.objectContaining({
        action: 'create',
        kind: 'toolset',
        name: 'team',
        principal: 'alice',
        status: 201,
      }),
      expect.objectContaining({ action: 'create', kind: 'toolset', name: 'team', status: 409 }),
      expect.objectContaining({
        action: 'delete',
        kind: 'toolset',
        name: 'team',
        principal: 'bob',
        status: 404,
      }),
    ]);
  } finally {
    await audited.store.close();
  }
});
