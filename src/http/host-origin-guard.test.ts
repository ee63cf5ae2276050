/**
 * The Host and Origin rules of every route outside the MCP endpoints, through the real app (`app.request`):
 * DNS rebinding on a loopback gateway, and browser pages of foreign origins writing to the control plane.
 * The same rules through a real socket and the MCP endpoints are in `host-origin-guard.e2e.test.ts`.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createTestApp, imageAdapter, json, LOOPBACK_ORIGINS } from '../../test/test-app.js';
import type { AuditLog } from '../observability/index.js';
import type { OriginPolicy } from './origin-check.js';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

async function appWith(origins: OriginPolicy = LOOPBACK_ORIGINS, audit?: AuditLog) {
  const test = await createTestApp({ origins, audit });
  closers.push(test.close);
  return test;
}

interface ErrorAnswer {
  error: { code: string; message: string };
}

/** A command adapter: what a rebinding page would register to run code on the host. */
const SHELL = { name: 'pwned', command: 'sh', args: ['-c', 'id'], transport: 'stdio' };

describe('DNS rebinding on a loopback gateway', () => {
  it('refuses a foreign Host on every route with 403 and a JSON error, and creates nothing', async () => {
    const { app, store } = await appWith();
    const host = { host: 'evil.example:3000', origin: 'http://evil.example:3000' };
    const requests: [string, RequestInit][] = [
      ['/adapters', json('POST', SHELL, host)],
      ['/adapters', { headers: host }],
      ['/adapters/pwned', json('PUT', SHELL, host)],
      ['/adapters/pwned', { method: 'DELETE', headers: host }],
      ['/tools', { headers: host }],
      ['/healthz', { headers: host }],
      ['/readyz', { headers: host }],
      ['/metrics', { headers: host }],
      ['/openapi.json', { headers: host }],
      ['/docs', { headers: host }],
      ['/.well-known/oauth-protected-resource', { headers: host }],
      ['/no/such/path', { headers: host }],
    ];
    for (const [path, init] of requests) {
      const res = await app.request(path, init);
      expect(res.status, `${init.method ?? 'GET'} ${path}`).toBe(403);
      const body = (await res.json()) as ErrorAnswer;
      expect(body.error.code).toBe('host_not_allowed');
      expect(body.error.message).toMatch(/^Host 'evil\.example' is not allowed \(DNS rebinding protection\)/);
    }
    expect(await store.count('adapter')).toBe(0);
  });

  it('audits the refused writes, as denied and by nobody', async () => {
    const lines: unknown[] = [];
    const audit: AuditLog = { enabled: () => true, write: (entry) => lines.push(entry) };
    const { app } = await appWith(LOOPBACK_ORIGINS, audit);
    const host = { host: 'evil.example:3000' };
    await app.request('/adapters', json('POST', SHELL, host));
    await app.request('/tools/score', { method: 'DELETE', headers: host });
    expect(lines).toEqual([
      expect.objectContaining({ action: 'create', kind: 'adapter', principal: null, status: 403 }),
      expect.objectContaining({
        action: 'delete',
        kind: 'tool',
        name: 'score',
        principal: null,
        status: 403,
      }),
    ]);
  });

  it('accepts loopback names and addresses with any port, and the public URL host', async () => {
    const { app } = await appWith({ ...LOOPBACK_ORIGINS, publicUrl: 'https://gw.example.com' });
    for (const host of [
      'localhost',
      'localhost:3000',
      'LOCALHOST:8080',
      '127.0.0.1',
      '127.0.0.1:3000',
      '127.1.2.3:9',
      '[::1]',
      '[::1]:3000',
      'gw.example.com',
      'gw.example.com:443',
    ]) {
      expect((await app.request('/healthz', { headers: { host } })).status, host).toBe(200);
    }
    const created = await app.request(
      '/adapters',
      json('POST', imageAdapter('via-proxy'), { host: 'gw.example.com', origin: 'https://gw.example.com' }),
    );
    expect(created.status).toBe(201);
  });

  it('refuses look-alikes and a Host that does not parse', async () => {
    const { app } = await appWith();
    for (const host of [
      'localhost.evil.example',
      '127.0.0.1.evil.example',
      'evil.example',
      '0.0.0.0:3000',
      '[::2]:3000',
      'localhost:3000:80',
      'local host',
      '',
    ]) {
      expect((await app.request('/healthz', { headers: { host } })).status, JSON.stringify(host)).toBe(403);
    }
  });

  it('lets a request without Host pass (no browser sends one; the Node listener answers it 400)', async () => {
    const { app } = await appWith();
    expect((await app.request('/healthz')).status).toBe(200);
  });

  it('checks no Host on a gateway bound to a non-loopback address (its auth mode is explicit)', async () => {
    const { app } = await appWith({ ...LOOPBACK_ORIGINS, loopback: false });
    expect((await app.request('/healthz', { headers: { host: 'gw.internal:3000' } })).status).toBe(200);
  });
});

describe('browser origins on state-changing requests', () => {
  const FOREIGN = 'https://evil.example';

  it('refuses a foreign Origin on POST, PUT, PATCH and DELETE of any collection, and lets GET pass', async () => {
    const { app, store } = await appWith();
    const origin = { origin: FOREIGN };
    const writes: [string, RequestInit][] = [
      ['/adapters', json('POST', imageAdapter('a'), origin)],
      ['/tools', json('POST', imageAdapter('t'), origin)],
      ['/adapters/a', json('PUT', imageAdapter('a'), origin)],
      ['/adapters/a', json('PATCH', {}, origin)],
      ['/adapters/a', { method: 'DELETE', headers: origin }],
      // A collection that does not exist yet is covered by the same rule.
      ['/secrets', json('POST', { name: 's' }, origin)],
    ];
    for (const [path, init] of writes) {
      const res = await app.request(path, init);
      expect(res.status, `${init.method} ${path}`).toBe(403);
      expect(((await res.json()) as ErrorAnswer).error).toEqual({
        code: 'origin_not_allowed',
        message: "Origin 'https://evil.example' is not allowed.",
      });
    }
    expect(await store.count('adapter')).toBe(0);
    expect((await app.request('/adapters', { headers: origin })).status).toBe(200);
    expect((await app.request('/healthz', { headers: origin })).status).toBe(200);
  });

  it("allows the public URL's origin, listed origins and, on a loopback gateway, loopback pages", async () => {
    const { app } = await appWith({
      publicUrl: 'https://gw.example.com',
      allowedOrigins: ['https://console.example.com'],
      loopback: true,
    });
    let n = 0;
    for (const origin of [
      'https://gw.example.com',
      'https://console.example.com',
      'http://localhost:5173',
      'http://127.0.0.1:3000',
      'http://[::1]:8080',
    ]) {
      const res = await app.request('/adapters', json('POST', imageAdapter(`a${n++}`), { origin }));
      expect(res.status, origin).toBe(201);
    }
  });

  it('refuses loopback pages on a gateway that is not loopback', async () => {
    const { app } = await appWith({ ...LOOPBACK_ORIGINS, loopback: false });
    const res = await app.request(
      '/adapters',
      json('POST', imageAdapter('a'), { origin: 'http://localhost:5173' }),
    );
    expect(res.status).toBe(403);
  });

  it('refuses Origin: null and a cross-site request stripped of its Origin', async () => {
    const { app } = await appWith();
    expect((await app.request('/adapters', json('POST', imageAdapter('a'), { origin: 'null' }))).status).toBe(
      403,
    );
    for (const site of ['cross-site', 'same-site']) {
      const res = await app.request('/adapters', json('POST', imageAdapter('a'), { 'sec-fetch-site': site }));
      expect(res.status, site).toBe(403);
      expect(((await res.json()) as ErrorAnswer).error.code).toBe('origin_not_allowed');
    }
    // The gateway's own pages and non-browser clients (no Sec-Fetch-Site) write as before.
    const own = json('POST', imageAdapter('a'), { 'sec-fetch-site': 'same-origin' });
    expect((await app.request('/adapters', own)).status).toBe(201);
    expect((await app.request('/adapters', json('POST', imageAdapter('b')))).status).toBe(201);
  });

  it('does not let the MCP wildcard (*) open the control plane to every site', async () => {
    const { app } = await appWith({ ...LOOPBACK_ORIGINS, allowedOrigins: ['*'] });
    const res = await app.request('/adapters', json('POST', imageAdapter('a'), { origin: FOREIGN }));
    expect(res.status).toBe(403);
  });
});
