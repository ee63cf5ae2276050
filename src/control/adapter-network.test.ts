/**
 * @module Tests of the adapter field `network` (process runtime): stored and returned as given, and refused
 * with a 400 naming it where it cannot work.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createTestApp } from '../../test/test-app.js';

const post = (body: unknown) => ({
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});

describe('adapter network', () => {
  let close: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await close?.();
  });
  const app = async () => {
    const made = await createTestApp();
    close = made.close;
    return made.app;
  };

  it('keeps network "none" on a stdio command adapter, and leaves it out when not given', async () => {
    const a = await app();
    const created = await a.request('/adapters', post({ name: 'offline', command: 'npx', network: 'none' }));
    expect(created.status).toBe(201);
    expect(await created.json()).toMatchObject({ transport: 'stdio', network: 'none' });
    const plain = await a.request('/adapters', post({ name: 'plain', command: 'npx' }));
    expect(await plain.json()).not.toHaveProperty('network');
  });

  it.each([
    [
      'with streamable-http (the gateway could not reach it)',
      { name: 'x', command: 'srv', transport: 'streamable-http', network: 'none' },
      /network: "none" needs transport "stdio"/,
    ],
    [
      'without a command',
      { name: 'x', endpoints: ['http://127.0.0.1:9/mcp'], network: 'host' },
      /network: applies only with command/,
    ],
    ['with another value', { name: 'x', command: 'srv', network: 'bridge' }, /must be "host" or "none"/],
  ])('answers 400 naming network %s', async (_case, body, message) => {
    const res = await (await app()).request('/adapters', post(body));
    expect(res.status).toBe(400);
    const { error } = (await res.json()) as { error: { message: string; details?: { path: string }[] } };
    expect(error.message).toMatch(message);
    expect(error.details?.map((d) => d.path)).toContain('network');
  });
});
