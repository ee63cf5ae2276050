import { describe, expect, it } from 'vitest';
import { Hono } from 'hono';
import { createErrorHandler } from '../http/index.js';
import type { AppEnv } from '../http/index.js';
import { createSilentLogger } from '../observability/index.js';
import { devAuth } from './dev-auth.js';

const app = new Hono<AppEnv>();
app.onError(createErrorHandler({ logger: createSilentLogger() }));
app.use(devAuth());
app.get('/who', (c) => c.json(c.get('principal')));

const who = async (headers: Record<string, string>) => {
  const res = await app.request('/who', { headers });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

describe('devAuth', () => {
  it('defaults to user dev with role mcp.dev (not mcp.admin), as in the reference', async () => {
    expect(await who({})).toEqual({ status: 200, body: { userId: 'dev', roles: ['mcp.dev'] } });
  });

  it('takes X-Dev-UserId and comma-separated X-Dev-Roles', async () => {
    expect(
      await who({ 'X-Dev-UserId': 'alice', 'X-Dev-Roles': ' mcp.admin, mcp.engineer ,,mcp.admin' }),
    ).toEqual({
      status: 200,
      body: { userId: 'alice', roles: ['mcp.admin', 'mcp.engineer'] },
    });
  });

  it('an empty X-Dev-Roles means no roles; an empty user id means the default', async () => {
    expect(await who({ 'X-Dev-UserId': ' ', 'X-Dev-Roles': '' })).toEqual({
      status: 200,
      body: { userId: 'dev', roles: [] },
    });
  });

  it('400 naming the header for unusable values', async () => {
    const long = await who({ 'X-Dev-UserId': 'a'.repeat(257) });
    expect(long.status).toBe(400);
    expect(JSON.stringify(long.body)).toContain('X-Dev-UserId');
    const spaced = await who({ 'X-Dev-UserId': 'a b' });
    expect(spaced.status).toBe(400);
    const role = await who({ 'X-Dev-Roles': 'a b' });
    expect(role.status).toBe(400);
    expect(JSON.stringify(role.body)).toContain('X-Dev-Roles');
  });
});
