/**
 * Concurrent writers through the HTTP API, on every registry dialect: no lost update, one winner per race.
 * Postgres runs only when TEST_DATABASE_URL names a server (CI sets it).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { openRegistryStore } from '../registry/index.js';
import type { RegistryStore } from '../registry/index.js';
import { TestDatabases } from '../../test/postgres-databases.js';
import { createTestApp, imageAdapter, json } from '../../test/test-app.js';

const serverUrl = process.env.TEST_DATABASE_URL;
const databases = serverUrl ? new TestDatabases(serverUrl) : undefined;
afterAll(() => databases?.dropAll());

const statusOf = async (res: Response | Promise<Response>) => (await res).status;

const dialects: [string, (() => Promise<RegistryStore>) | undefined][] = [
  ['sqlite', () => openRegistryStore(':memory:')],
  ['postgres', databases && (async () => openRegistryStore(await databases.create()))],
];

describe.each(dialects)('concurrent writes on %s', (dialect, open) => {
  const run = open ? it : it.skip;
  if (!open) process.stderr.write(`${dialect} HTTP concurrency tests skipped: set TEST_DATABASE_URL\n`);

  run('10 concurrent creates of one name give exactly one 201 and nine 409s', async () => {
    const { app, close } = await createTestApp({ store: await open!() });
    const statuses = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        statusOf(app.request('/adapters', json('POST', imageAdapter('race', { description: String(i) })))),
      ),
    );
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(statuses.filter((s) => s === 409)).toHaveLength(9);
    await close();
  });

  run(
    '10 concurrent PUTs with one If-Match give one 200 and nine 412s, and the winner is what is stored',
    async () => {
      const { app, close } = await createTestApp({ store: await open!() });
      const etag = (await app.request('/adapters', json('POST', imageAdapter('cas')))).headers.get('etag')!;
      const results = await Promise.all(
        Array.from({ length: 10 }, async (_, i) => {
          const res = await app.request(
            '/adapters/cas',
            json('PUT', imageAdapter('cas', { description: `w${i}` }), { 'if-match': etag }),
          );
          return {
            status: res.status,
            description:
              res.status === 200 ? ((await res.json()) as { description: string }).description : undefined,
          };
        }),
      );
      const winners = results.filter((r) => r.status === 200);
      expect(winners).toHaveLength(1);
      expect(results.filter((r) => r.status === 412)).toHaveLength(9);
      const stored = (await (await app.request('/adapters/cas')).json()) as { description: string };
      expect(stored.description).toBe(winners[0]!.description);
      await close();
    },
  );

  run('unconditional PUTs racing each other all succeed, each on the version it read', async () => {
    const { app, store, close } = await createTestApp({ store: await open!() });
    await app.request('/adapters', json('POST', imageAdapter('lww')));
    const statuses = await Promise.all(
      Array.from({ length: 5 }, (_, i) =>
        statusOf(app.request('/adapters/lww', json('PUT', imageAdapter('lww', { description: `v${i}` })))),
      ),
    );
    expect(statuses).toEqual([200, 200, 200, 200, 200]);
    expect((await store.get('adapter', 'lww'))?.version).toBe(6);
    await close();
  });
});
