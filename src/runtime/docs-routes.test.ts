/**
 * `/docs` works offline: the page loads Swagger UI from the gateway itself (the pinned `swagger-ui-dist`), never
 * from a CDN, under a Content-Security-Policy that allows only the gateway's own origin.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { swaggerUiFiles } from './node/swagger-ui-files.js';
import { createTestApp } from '../../test/test-app.js';

const DIST = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
const packageJson = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  dependencies: Record<string, string>;
};

let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});

async function app(withSwaggerUi = true) {
  const test = await createTestApp(withSwaggerUi ? { swaggerUi: swaggerUiFiles() } : {});
  close = test.close;
  return test.app;
}

/** Every URL the page refers to (src, href). */
const referencesOf = (html: string) => [...html.matchAll(/\b(?:src|href)="([^"]*)"/g)].map((m) => m[1]!);

describe('/docs', () => {
  it('pins swagger-ui-dist to one exact version', () => {
    expect(packageJson.dependencies['swagger-ui-dist']).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('is a page that refers only to the gateway itself, with no inline script, under a self-only policy', async () => {
    const res = await (await app()).request('/docs');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=UTF-8');
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp.split('; ')).toEqual(
      expect.arrayContaining(["default-src 'self'", "img-src 'self' data:", "object-src 'none'"]),
    );
    // No source but the page's own origin (and data: images) anywhere in the policy.
    expect(csp).not.toMatch(/https?:|\*|'unsafe-/);
    const html = await res.text();
    expect(html).not.toMatch(/https?:\/\//);
    const references = referencesOf(html);
    expect(references.length).toBeGreaterThanOrEqual(3);
    for (const url of references) expect(url).toMatch(/^\/(?!\/)/);
    for (const script of html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)) {
      expect(script[1]).toMatch(/\bsrc="/);
      expect(script[2]).toBe('');
    }
  });

  it('serves every asset the page loads, with its content type, as the pinned package ships it', async () => {
    const gateway = await app();
    const html = await (await gateway.request('/docs')).text();
    const version = packageJson.dependencies['swagger-ui-dist']!;
    const expected: Record<string, { type: string; body?: string }> = {
      [`/docs/assets/${version}/swagger-ui.css`]: {
        type: 'text/css; charset=utf-8',
        body: readFileSync(join(DIST, 'swagger-ui.css'), 'utf8'),
      },
      [`/docs/assets/${version}/swagger-ui-bundle.js`]: {
        type: 'text/javascript; charset=utf-8',
        body: readFileSync(join(DIST, 'swagger-ui-bundle.js'), 'utf8'),
      },
      [`/docs/assets/${version}/init.js`]: { type: 'text/javascript; charset=utf-8' },
    };
    expect(referencesOf(html).sort()).toEqual(Object.keys(expected).sort());
    for (const [url, { type, body }] of Object.entries(expected)) {
      const asset = await gateway.request(url);
      expect(asset.status, url).toBe(200);
      expect(asset.headers.get('content-type'), url).toBe(type);
      expect(asset.headers.get('x-content-type-options'), url).toBe('nosniff');
      const text = await asset.text();
      if (body !== undefined) expect(text === body, `${url} is the package's file`).toBe(true);
    }
    // The starter reads this gateway's document and turns off the validator badge (validator.swagger.io).
    const init = await (await gateway.request(`/docs/assets/${version}/init.js`)).text();
    expect(init).toContain("url: '/openapi.json'");
    expect(init).toContain('validatorUrl: null');
    expect((await gateway.request(`/docs/assets/${version}/swagger-ui.js`)).status).toBe(404);
  });

  it('without the bundled files (the edge build) points at the OpenAPI document and loads nothing', async () => {
    const res = await (await app(false)).request('/docs');
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(referencesOf(html)).toEqual(['/openapi.json']);
    expect(html).not.toContain('<script');
  });
});
