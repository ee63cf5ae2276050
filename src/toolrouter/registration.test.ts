/**
 * The control-plane fields the tool router reads: `federate` on adapters and `toolDefinition.timeoutMs` on
 * tools — accepted, validated, stored and returned, on every runtime.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../http/index.js';
import type { RegistryStore } from '../registry/index.js';
import { createTestApp, imageAdapter, imageTool, json } from '../../test/test-app.js';

let app: OpenAPIHono<AppEnv>;
let store: RegistryStore;

beforeEach(async () => {
  ({ app, store } = await createTestApp());
});
afterEach(() => store.close());

describe('adapter federate', () => {
  it('is optional, stored when given and returned', async () => {
    const plain = await app.request('/adapters', json('POST', imageAdapter('plain')));
    expect(await plain.json()).not.toHaveProperty('federate');
    const res = await app.request(
      '/adapters',
      json('POST', { name: 'remote', endpoints: ['http://127.0.0.1:9/mcp'], federate: true }),
    );
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({ federate: true });
    expect((await store.get('adapter', 'remote'))?.spec).toMatchObject({ federate: true });
    const off = await app.request(
      '/adapters/remote',
      json('PUT', { name: 'remote', endpoints: ['http://127.0.0.1:9/mcp'], federate: false }),
    );
    expect(await off.json()).toMatchObject({ federate: false });
  });

  it('must be a boolean', async () => {
    const res = await app.request('/adapters', json('POST', imageAdapter('bad', { federate: 'yes' })));
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/federate/);
  });
});

describe('tool toolDefinition.timeoutMs', () => {
  it('is stored and returned with the image and endpoints runtimes alike', async () => {
    const image = imageTool('slowish');
    const res = await app.request(
      '/tools',
      json('POST', { ...image, toolDefinition: { ...image.toolDefinition, timeoutMs: 90_000 } }),
    );
    expect(res.status).toBe(201);
    expect(((await res.json()) as { toolDefinition: object }).toolDefinition).toEqual({
      tool: image.toolDefinition.tool,
      port: 8000,
      path: '/score',
      timeoutMs: 90_000,
    });
    const remote = await app.request(
      '/tools',
      json('POST', {
        name: 'remote',
        endpoints: ['http://127.0.0.1:9/score'],
        toolDefinition: { tool: { name: 'remote', inputSchema: { type: 'object' } }, timeoutMs: 500 },
      }),
    );
    expect(remote.status).toBe(201);
    expect((await store.get('tool', 'remote'))?.spec).toMatchObject({ toolDefinition: { timeoutMs: 500 } });
  });

  it('is bounded', async () => {
    for (const timeoutMs of [50, 900_001, 1.5]) {
      const image = imageTool(`t${String(timeoutMs).replace('.', '')}`);
      const res = await app.request(
        '/tools',
        json('POST', { ...image, toolDefinition: { ...image.toolDefinition, timeoutMs } }),
      );
      expect(res.status).toBe(400);
    }
  });
});
