import { readFileSync } from 'node:fs';
import createClient from 'openapi-fetch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { paths } from '../generated/api-client/schema.js';
import {
  CLIENT_SCHEMA_PATH,
  OPENAPI_PATH,
  packageVersion,
  renderClientSchema,
  renderOpenApiDocument,
} from '../test/openapi-artifacts.js';
import { serveApp } from '../test/serve-app.js';
import type { ServedApp } from '../test/serve-app.js';
import { createTestApp } from '../test/test-app.js';

const root = new URL('../', import.meta.url);
const committed = (path: string) => readFileSync(new URL(path, root), 'utf8');

describe('OpenAPI document', () => {
  it('served at /openapi.json equals the committed openapi.json (run `npm run openapi:export` after a schema change)', async () => {
    const served = await renderOpenApiDocument(packageVersion(root));
    expect(served).toBe(committed(OPENAPI_PATH));
  });

  it('generates the committed client types (openapi-typescript)', async () => {
    expect(await renderClientSchema(committed(OPENAPI_PATH))).toBe(committed(CLIENT_SCHEMA_PATH));
  });

  it('describes every control-plane and health route', () => {
    const document = JSON.parse(committed(OPENAPI_PATH)) as {
      openapi: string;
      paths: Record<string, Record<string, unknown>>;
    };
    expect(document.openapi).toBe('3.1.0');
    const operations = Object.entries(document.paths).flatMap(([path, item]) =>
      Object.keys(item).map((m) => `${m.toUpperCase()} ${path}`),
    );
    for (const kind of ['adapters', 'tools']) {
      expect(operations).toEqual(
        expect.arrayContaining([
          `POST /${kind}`,
          `GET /${kind}`,
          `GET /${kind}/{name}`,
          `PUT /${kind}/{name}`,
          `DELETE /${kind}/{name}`,
          `GET /${kind}/{name}/status`,
          `GET /${kind}/{name}/logs`,
        ]),
      );
    }
    expect(operations).toEqual(expect.arrayContaining(['GET /healthz', 'GET /readyz', 'GET /ping']));
  });

  it('serves a docs page', async () => {
    const { app, close } = await createTestApp();
    const res = await app.request('/docs');
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('/openapi.json');
    await close();
  });
});

describe('a client generated from the document (openapi-fetch + openapi-typescript)', () => {
  let served: ServedApp;
  let closeApp: () => Promise<void>;
  beforeAll(async () => {
    const test = await createTestApp();
    closeApp = test.close;
    served = await serveApp(test.app);
  });
  afterAll(async () => {
    await served.close();
    await closeApp();
  });

  it('round-trips create, get, list, update and delete of adapters over a real socket', async () => {
    const client = createClient<paths>({ baseUrl: served.url });
    const created = await client.POST('/adapters', {
      body: {
        name: 'gen',
        imageName: 'team/server',
        imageVersion: '1.0.0',
        environmentVariables: { A: '1' },
      },
    });
    expect(created.response.status).toBe(201);
    expect(created.data?.name).toBe('gen');
    const etag = created.response.headers.get('etag')!;

    const got = await client.GET('/adapters/{name}', { params: { path: { name: 'gen' } } });
    expect(got.data).toMatchObject({ name: 'gen', environmentVariables: { A: '1' }, replicaCount: 1 });

    const listed = await client.GET('/adapters', { params: { query: { limit: 10 } } });
    expect(listed.data?.map((a) => a.name)).toEqual(['gen']);

    const updated = await client.PUT('/adapters/{name}', {
      params: { path: { name: 'gen' }, header: { 'if-match': etag } },
      body: { name: 'gen', imageName: 'team/server', imageVersion: '2.0.0' },
    });
    expect(updated.data?.imageVersion).toBe('2.0.0');
    const stale = await client.PUT('/adapters/{name}', {
      params: { path: { name: 'gen' }, header: { 'if-match': etag } },
      body: { name: 'gen', imageName: 'team/server', imageVersion: '3.0.0' },
    });
    expect(stale.response.status).toBe(412);
    expect(stale.error?.error.code).toBe('precondition_failed');

    const deleted = await client.DELETE('/adapters/{name}', { params: { path: { name: 'gen' } } });
    expect(deleted.response.status).toBe(204);
    const missing = await client.GET('/adapters/{name}', { params: { path: { name: 'gen' } } });
    expect(missing.response.status).toBe(404);
    expect(missing.error?.error.message).toBe("Adapter 'gen' does not exist.");
  });

  it('round-trips tools, status and logs', async () => {
    const client = createClient<paths>({ baseUrl: served.url });
    const tool = { name: 'score', inputSchema: { type: 'object' as const } };
    const created = await client.POST('/tools', {
      body: { name: 'score', endpoints: [`${served.url}/healthz`], toolDefinition: { tool } },
    });
    expect(created.response.status).toBe(201);
    expect(created.data?.toolDefinition.tool.name).toBe('score');
    const status = await client.GET('/tools/{name}/status', { params: { path: { name: 'score' } } });
    expect(status.data).toMatchObject({ readyReplicas: 1, replicaStatus: 'Healthy', runtime: 'endpoints' });
    const logs = await client.GET('/tools/{name}/logs', { params: { path: { name: 'score' }, query: {} } });
    expect(logs.response.status).toBe(404);
    const updated = await client.PUT('/tools/{name}', {
      params: { path: { name: 'score' } },
      body: {
        name: 'score',
        endpoints: [`${served.url}/healthz`],
        toolDefinition: { tool: { ...tool, description: 'v2' } },
      },
    });
    expect(updated.data?.toolDefinition.tool.description).toBe('v2');
    expect((await client.GET('/tools')).data).toHaveLength(1);
    expect(
      (await client.DELETE('/tools/{name}', { params: { path: { name: 'score' } } })).response.status,
    ).toBe(204);
  });
});
