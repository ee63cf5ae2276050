/**
 * `/ui/`, the web console, as the gateway serves it: the app for every client route, its hashed assets cached
 * for good and `index.html` revalidated, all under a Content-Security-Policy that allows only the gateway itself
 * (no inline script, no frames), and nothing outside the build folder readable through it.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { consoleFiles } from './node/console-files.js';
import { createTestApp } from '../../test/test-app.js';

const build = mkdtempSync(join(tmpdir(), 'mcp-gateway-console-'));
const INDEX = '<!doctype html><script type="module" src="/ui/assets/index-AbC123.js"></script>';
mkdirSync(join(build, 'ui', 'assets'), { recursive: true });
writeFileSync(join(build, 'ui', 'index.html'), INDEX);
writeFileSync(join(build, 'ui', 'assets', 'index-AbC123.js'), 'console.log(1);');
writeFileSync(join(build, 'ui', 'assets', 'index-AbC123.css'), 'body{}');
// Beside the build folder: what a path escaping it would reach.
writeFileSync(join(build, 'secret.txt'), 'not for the browser');
afterAll(() => rmSync(build, { recursive: true, force: true }));

let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});

async function app(folder: string | null = join(build, 'ui')) {
  const test = await createTestApp(folder ? { consoleUi: consoleFiles(folder) } : {});
  close = test.close;
  return test.app;
}

const HOST = { host: '127.0.0.1:3000' };

function expectStrictPolicy(res: Response) {
  const csp = res.headers.get('content-security-policy') ?? '';
  expect(csp.split('; ')).toEqual(
    expect.arrayContaining([
      "default-src 'self'",
      "script-src 'self'",
      "object-src 'none'",
      "base-uri 'none'",
      "frame-ancestors 'none'",
    ]),
  );
  // Nothing but the gateway's own origin (and data: images): no CDN, no inline script, no eval.
  expect(csp).not.toMatch(/https?:|\*|'unsafe-|'nonce-|'sha/);
  expect(res.headers.get('x-content-type-options')).toBe('nosniff');
}

describe('/ui/', () => {
  it('is where / leads when the console is bundled; /docs otherwise (the edge build)', async () => {
    const withConsole = await (await app()).request('/', { headers: HOST });
    expect(withConsole.status).toBe(302);
    expect(withConsole.headers.get('location')).toBe('/ui/');
    await close?.();
    const without = await (await app(null)).request('/', { headers: HOST });
    expect(without.headers.get('location')).toBe('/docs');
    expect((await (await app(null)).request('/ui/', { headers: HOST })).status).toBe(404);
  });

  it('serves the app at /ui/ and at every client route under it, revalidated on each load, under a strict policy', async () => {
    const gateway = await app();
    for (const path of ['/ui/', '/ui/adapters', '/ui/adapters/weather/edit', '/ui/console?target=x']) {
      const res = await gateway.request(path, { headers: HOST });
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(res.headers.get('cache-control')).toBe('no-cache');
      expectStrictPolicy(res);
      expect(await res.text()).toBe(INDEX);
    }
    const bare = await gateway.request('/ui', { headers: HOST });
    expect(bare.status).toBe(301);
    expect(bare.headers.get('location')).toBe('/ui/');
  });

  it('serves hashed assets with their content type, cached for a year as immutable', async () => {
    const gateway = await app();
    const js = await gateway.request('/ui/assets/index-AbC123.js', { headers: HOST });
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(js.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expectStrictPolicy(js);
    expect(await js.text()).toBe('console.log(1);');
    const css = await gateway.request('/ui/assets/index-AbC123.css', { headers: HOST });
    expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8');
  });

  it('answers a missing asset with a 404 (not the app), and reads nothing outside the build folder', async () => {
    const gateway = await app();
    for (const path of [
      '/ui/assets/index-gone.js',
      '/ui/assets/..%2F..%2Fsecret.txt',
      '/ui/assets/%2E%2E%2F%2E%2E%2Fsecret.txt',
      '/ui/assets/.hidden',
    ]) {
      const res = await gateway.request(path, { headers: HOST });
      expect(res.status, path).toBe(404);
      expect(await res.json()).toMatchObject({ error: { code: 'not_found' } });
    }
    expect(await consoleFiles(join(build, 'ui')).read('../secret.txt')).toBeUndefined();
  });

  it('says how to build the console when it has not been built', async () => {
    const res = await (await app(join(build, 'nowhere'))).request('/ui/adapters', { headers: HOST });
    expect(res.status).toBe(503);
    expectStrictPolicy(res);
    expect(await res.text()).toContain('npm run build');
  });

  it('tells the page how to sign in, and lets it call that authorization server only', async () => {
    const open = await (await app()).request('/ui/config.json', { headers: HOST });
    expect(await open.json()).toEqual({ signIn: null });
    expect(open.headers.get('content-security-policy')).toContain("connect-src 'self';");
    await close?.();
    const signIn = {
      issuer: 'https://login.example.com/realms/mcp',
      clientId: 'console',
      scopes: ['openid', 'mcp'],
      resource: 'http://127.0.0.1:3000',
    };
    const test = await createTestApp({
      consoleUi: consoleFiles(join(build, 'ui')),
      consoleAccess: { signIn },
    });
    close = test.close;
    const res = await test.app.request('/ui/config.json', { headers: HOST });
    expect(res.headers.get('cache-control')).toBe('no-cache');
    expect(await res.json()).toEqual({ signIn });
    for (const path of ['/ui/config.json', '/ui/adapters', '/ui/assets/index-AbC123.js']) {
      const csp = (await test.app.request(path, { headers: HOST })).headers.get('content-security-policy');
      expect(csp).toContain("connect-src 'self' https://login.example.com;");
      expect(csp).toContain("script-src 'self';");
    }
  });

  it('keeps the Host check of a loopback gateway (DNS rebinding)', async () => {
    const res = await (await app()).request('/ui/', { headers: { host: 'rebind.example:3000' } });
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ error: { code: 'host_not_allowed' } });
  });
});
