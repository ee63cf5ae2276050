/**
 * @module Tests of secret references (`secretEnvironmentVariables`) in the control plane, through the real app on
 * SQLite: who may name a secret (the attack: a user without a secret role naming someone's secret), a missing
 * secret and a name in both maps refused by field, `usedBy` on `/secrets`, the 409 of a delete while referenced
 * and `?force=true`, and the deploy side told of every user when a secret rotates.
 */
import type { OpenAPIHono } from '@hono/zod-openapi';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { secretGate, secretReferenceGate } from '../auth/index.js';
import type { AppEnv } from '../http/index.js';
import type { RegistryStore } from '../registry/index.js';
import { createTestApp, headerPrincipal, imageAdapter, imageTool, json } from '../../test/test-app.js';
import { secretReferencesOf } from './secret-references.js';

const VALUE = 'ghp_ReferencedSecretValue_41c9d0';
const ADMIN = { 'x-test-user': 'alice', 'x-test-roles': 'mcp.admin' };
const KEEPER = { 'x-test-user': 'kim', 'x-test-roles': 'team.secrets' };
const STRANGER = { 'x-test-user': 'mallory', 'x-test-roles': 'mcp.dev' };
const OAUTH_CLIENT = {
  type: 'oauth-client-credentials',
  tokenUrl: 'https://auth.example.com/token',
  clientId: 'gateway',
  scopes: [],
};

let app: OpenAPIHono<AppEnv>;
let store: RegistryStore;
let close: () => Promise<void>;
let changes: string[];

async function errorOf(res: Response) {
  return ((await res.json()) as { error: { code: string; message: string; details?: unknown[] } }).error;
}

beforeEach(async () => {
  changes = [];
  ({ app, store, close } = await createTestApp({
    authenticate: headerPrincipal(),
    authorizeSecrets: secretGate({ secretRoles: ['team.secrets'] }),
    secretReferenceGate: secretReferenceGate({ secretRoles: ['team.secrets'] }),
    onResourceChange: (ref) => changes.push(`${ref.kind}/${ref.name}`),
  }));
  const created = await app.request('/secrets', json('POST', { name: 'github-token', value: VALUE }, ADMIN));
  expect(created.status).toBe(201);
});
afterEach(async () => {
  await close();
});

const referencing = (name: string, extra: Record<string, unknown> = {}) =>
  imageAdapter(name, { secretEnvironmentVariables: { GITHUB_TOKEN: 'github-token' }, ...extra });

describe('secretEnvironmentVariables on create and replace', () => {
  it('stores the reference (never the value) and shows it on the resource', async () => {
    const res = await app.request('/adapters', json('POST', referencing('gh'), KEEPER));
    expect(res.status).toBe(201);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body['secretEnvironmentVariables']).toEqual({ GITHUB_TOKEN: 'github-token' });
    expect(JSON.stringify(body)).not.toContain(VALUE);
    expect((await store.get('adapter', 'gh'))?.spec['secretEnvironmentVariables']).toEqual({
      GITHUB_TOKEN: 'github-token',
    });
    const tool = await app.request(
      '/tools',
      json('POST', imageTool('scorer', { secretEnvironmentVariables: { KEY: 'github-token' } }), ADMIN),
    );
    expect(tool.status).toBe(201);
  });

  it('refuses a user without a secret role who names another user’s secret (403), storing nothing', async () => {
    // The attack: mallory may register adapters, and an image she controls would print whatever it is given.
    const res = await app.request('/adapters', json('POST', referencing('exfil'), STRANGER));
    expect(res.status).toBe(403);
    expect(res.headers.get('www-authenticate')).toMatch(/insufficient_scope/);
    expect((await errorOf(res)).message).toMatch(
      /^secretEnvironmentVariables\.GITHUB_TOKEN: .*MCP_GATEWAY_SECRET_ROLES: mcp\.admin, team\.secrets/,
    );
    expect(await store.get('adapter', 'exfil')).toBeUndefined();
    // No probing either: a missing secret gets the same 403, not the 400 that would say it does not exist.
    const probe = await app.request(
      '/adapters',
      json('POST', imageAdapter('probe', { secretEnvironmentVariables: { X: 'nope' } }), STRANGER),
    );
    expect(probe.status).toBe(403);
    // Without references the same user registers as before.
    expect((await app.request('/adapters', json('POST', imageAdapter('plain'), STRANGER))).status).toBe(201);
  });

  it('refuses a replace that keeps a reference when its owner holds no secret role', async () => {
    // mallory owns the adapter; an admin added the reference. She may not now swap the image under it.
    expect((await app.request('/adapters', json('POST', imageAdapter('owned'), STRANGER))).status).toBe(201);
    const spec = (await store.get('adapter', 'owned'))!.spec;
    await store.update('adapter', 'owned', {
      ...spec,
      secretEnvironmentVariables: { GITHUB_TOKEN: 'github-token' },
    });
    const swap = await app.request(
      '/adapters/owned',
      json('PUT', referencing('owned', { imageName: 'mallory/printenv' }), STRANGER),
    );
    expect(swap.status).toBe(403);
    expect((await store.get('adapter', 'owned'))?.spec['imageName']).toBe('team/server');
    // Dropping the reference is allowed: it gives nothing away.
    const dropped = await app.request('/adapters/owned', json('PUT', imageAdapter('owned'), STRANGER));
    expect(dropped.status).toBe(200);
  });

  it('answers 400 naming the field when the secret does not exist', async () => {
    const res = await app.request(
      '/adapters',
      json(
        'POST',
        imageAdapter('gh', { secretEnvironmentVariables: { A: 'github-token', B: 'missing' } }),
        KEEPER,
      ),
    );
    expect(res.status).toBe(400);
    const error = await errorOf(res);
    expect(error.message).toMatch(
      /^secretEnvironmentVariables\.B: names secret 'missing', which does not exist/,
    );
    expect(error.details).toEqual([{ path: 'secretEnvironmentVariables.B', message: expect.any(String) }]);
    expect(await store.get('adapter', 'gh')).toBeUndefined();
    const replaced = await app.request('/adapters', json('POST', imageAdapter('gh'), KEEPER));
    expect(replaced.status).toBe(201);
    const put = await app.request(
      '/adapters/gh',
      json('PUT', imageAdapter('gh', { secretEnvironmentVariables: { C: 'gone' } }), KEEPER),
    );
    expect(put.status).toBe(400);
    expect((await errorOf(put)).message).toMatch(/^secretEnvironmentVariables\.C: /);
  });

  it('answers 400 naming the key when a variable is in both maps', async () => {
    const res = await app.request(
      '/adapters',
      json(
        'POST',
        referencing('both', { environmentVariables: { GITHUB_TOKEN: 'plain', OTHER: '1' } }),
        ADMIN,
      ),
    );
    expect(res.status).toBe(400);
    expect((await errorOf(res)).details).toEqual([
      {
        path: 'secretEnvironmentVariables.GITHUB_TOKEN',
        message: expect.stringMatching(/environmentVariables/),
      },
    ]);
  });

  it('refuses references on the endpoints runtime, which runs no process to give them to', async () => {
    const res = await app.request(
      '/adapters',
      json(
        'POST',
        {
          name: 'remote',
          endpoints: ['http://127.0.0.1:9/mcp'],
          secretEnvironmentVariables: { GITHUB_TOKEN: 'github-token' },
        },
        ADMIN,
      ),
    );
    expect(res.status).toBe(400);
    expect((await errorOf(res)).details).toEqual([
      { path: 'secretEnvironmentVariables', message: expect.stringMatching(/image and command runtimes/) },
    ]);
  });

  it.each([
    ['a name with "="', { 'A=B': 'github-token' }, 'secretEnvironmentVariables.A=B'],
    ['a secret name that is not a DNS label', { A: 'Not_A_Name' }, 'secretEnvironmentVariables.A'],
    ['a value that is not a string', { A: 7 }, 'secretEnvironmentVariables.A'],
  ])('refuses %s with a 400 naming it', async (_what, map, path) => {
    const res = await app.request(
      '/adapters',
      json('POST', imageAdapter('bad', { secretEnvironmentVariables: map }), ADMIN),
    );
    expect(res.status).toBe(400);
    expect((await errorOf(res)).details).toEqual([expect.objectContaining({ path })]);
  });
});

describe('upstreamAuth references', () => {
  const remote = (name: string, upstreamAuth: Record<string, unknown>) => ({
    name,
    endpoints: ['https://mcp.example.com/mcp'],
    upstreamAuth,
  });

  it('gates them like environment references: the writer picks the URL the value is sent to', async () => {
    // The attack: an endpoint mallory runs would receive alice's key in its Authorization header.
    const res = await app.request(
      '/adapters',
      json('POST', remote('exfil', { type: 'bearer', secret: 'github-token' }), STRANGER),
    );
    expect(res.status).toBe(403);
    expect((await errorOf(res)).message).toMatch(/^upstreamAuth\.secret: /);
    expect(await store.get('adapter', 'exfil')).toBeUndefined();
  });

  it('answers 400 for a missing secret, lists the user in usedBy and blocks the delete', async () => {
    const missing = await app.request(
      '/adapters',
      json('POST', remote('acme', { ...OAUTH_CLIENT, clientSecret: 'nope' }), KEEPER),
    );
    expect(missing.status).toBe(400);
    expect((await errorOf(missing)).message).toMatch(/^upstreamAuth\.clientSecret: names secret 'nope'/);
    const created = await app.request(
      '/adapters',
      json('POST', remote('acme', { ...OAUTH_CLIENT, clientSecret: 'github-token' }), KEEPER),
    );
    expect(created.status).toBe(201);
    const secret = (await (await app.request('/secrets/github-token', { headers: KEEPER })).json()) as {
      usedBy: unknown;
    };
    expect(secret.usedBy).toEqual([{ kind: 'adapter', name: 'acme' }]);
    expect((await app.request('/secrets/github-token', { method: 'DELETE', headers: KEEPER })).status).toBe(
      409,
    );
  });
});

describe('/secrets and the resources that reference a secret', () => {
  beforeEach(async () => {
    expect((await app.request('/adapters', json('POST', referencing('gh'), KEEPER))).status).toBe(201);
    const tool = imageTool('scorer', {
      secretEnvironmentVariables: { A: 'github-token', B: 'github-token' },
    });
    expect((await app.request('/tools', json('POST', tool, ADMIN))).status).toBe(201);
    changes = [];
  });

  it('shows usedBy on GET /secrets and GET /secrets/{name}', async () => {
    const usedBy = [
      { kind: 'adapter', name: 'gh' },
      { kind: 'tool', name: 'scorer' },
    ];
    const one = (await (await app.request('/secrets/github-token', { headers: KEEPER })).json()) as {
      usedBy: unknown;
    };
    expect(one.usedBy).toEqual(usedBy);
    const list = (await (await app.request('/secrets', { headers: KEEPER })).json()) as { usedBy: unknown }[];
    expect(list.map((s) => s.usedBy)).toEqual([usedBy]);
  });

  it('refuses to delete a referenced secret (409 naming the users) unless ?force=true', async () => {
    const refused = await app.request('/secrets/github-token', { method: 'DELETE', headers: KEEPER });
    expect(refused.status).toBe(409);
    const error = await errorOf(refused);
    expect(error.code).toBe('conflict');
    expect(error.message).toContain("adapter 'gh', tool 'scorer'");
    expect(await store.getSecret('github-token')).toBeDefined();
    expect(changes).toEqual([]);

    const forced = await app.request('/secrets/github-token?force=true', {
      method: 'DELETE',
      headers: KEEPER,
    });
    expect(forced.status).toBe(204);
    expect(await store.getSecret('github-token')).toBeUndefined();
    // Their deployers learn that the secret is gone (new replicas cannot start; status says why).
    expect(changes).toEqual(['adapter/gh', 'tool/scorer']);
  });

  it('deletes a secret once nothing references it any more', async () => {
    await app.request('/adapters/gh', { method: 'DELETE', headers: KEEPER });
    await app.request('/tools/scorer', { method: 'DELETE', headers: ADMIN });
    const res = await app.request('/secrets/github-token', { method: 'DELETE', headers: KEEPER });
    expect(res.status).toBe(204);
  });

  it('tells the deploy side of every user when the secret rotates', async () => {
    const res = await app.request('/secrets/github-token', json('PUT', { value: 'rotated-value' }, KEEPER));
    expect(res.status).toBe(200);
    expect(changes).toEqual(['adapter/gh', 'tool/scorer']);
  });
});

describe('secretReferencesOf', () => {
  it('lists each reference with the field that makes it', () => {
    const spec = {
      environmentVariables: {},
      secretEnvironmentVariables: { A: 'one', B: 'two' },
      replicaCount: 1,
      description: '',
      useWorkloadIdentity: false,
      requiredRoles: [],
    };
    expect(secretReferencesOf(spec)).toEqual([
      { field: 'secretEnvironmentVariables.A', secret: 'one' },
      { field: 'secretEnvironmentVariables.B', secret: 'two' },
    ]);
    expect(secretReferencesOf({ ...spec, secretEnvironmentVariables: undefined })).toEqual([]);
  });
});
