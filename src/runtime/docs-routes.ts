/**
 * @module docs-routes: `/docs`, Swagger UI over `/openapi.json`, served entirely by the gateway: the page, its
 * stylesheet and script (from the pinned `swagger-ui-dist` package, read by the runtime that has a filesystem)
 * and the few lines that start it. Nothing comes from a CDN, so the page works offline, and its
 * Content-Security-Policy lets it load and call only the gateway itself. Without the files (the edge build) the
 * page says where the OpenAPI document is instead.
 */
import { Hono } from 'hono';
import type { Context } from 'hono';
import type { AppEnv } from '../http/index.js';

/** A Swagger UI file `/docs` serves. */
export type SwaggerUiFile = 'swagger-ui.css' | 'swagger-ui-bundle.js';

/** The files `/docs` serves, with their content types. */
const SWAGGER_UI_FILES: readonly (readonly [SwaggerUiFile, string])[] = [
  ['swagger-ui.css', 'text/css; charset=utf-8'],
  ['swagger-ui-bundle.js', 'text/javascript; charset=utf-8'],
];

/** Reads the bundled Swagger UI files; the Node runtime's reads `swagger-ui-dist` from the installed package. */
export interface SwaggerUiAssets {
  /** The package version, part of the asset URLs so a browser never mixes two versions. */
  readonly version: string;
  read(file: SwaggerUiFile): Promise<string>;
}

/**
 * Only the gateway itself: scripts, styles, fonts and `fetch` (the OpenAPI document, "Try it out"). Images
 * may also be `data:` URLs, which is how the stylesheet carries its icons; no frames, no plugins, no `<base>`.
 */
export const DOCS_CSP =
  "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

// The page's own script, as a file: the policy allows no inline script. No validator badge (it would call
// validator.swagger.io), and the document is read from this gateway.
const INIT_SCRIPT = `window.addEventListener('load', function () {
  window.ui = SwaggerUIBundle({
    url: '/openapi.json',
    dom_id: '#swagger-ui',
    validatorUrl: null,
    deepLinking: true,
  });
});
`;

const page = (body: string, head = '') => `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>MCP Gateway API</title>
${head}  </head>
  <body>
${body}
  </body>
</html>
`;

function securityHeaders(c: Context<AppEnv>): void {
  c.header('Content-Security-Policy', DOCS_CSP);
  c.header('X-Content-Type-Options', 'nosniff');
  c.header('Referrer-Policy', 'no-referrer');
}

/** `/docs` and its assets under `/docs/assets/{version}/`; `assets` absent, a page linking the document. */
export function createDocsRoutes(assets: SwaggerUiAssets | undefined): Hono<AppEnv> {
  const routes = new Hono<AppEnv>();
  if (!assets) {
    routes.get('/docs', (c) => {
      securityHeaders(c);
      return c.html(
        page(
          '    <p>This build does not bundle Swagger UI. The API is described by <a href="/openapi.json">/openapi.json</a>.</p>',
        ),
      );
    });
    return routes;
  }
  const base = `/docs/assets/${encodeURIComponent(assets.version)}`;
  const html = page(
    '    <div id="swagger-ui"></div>',
    `    <link rel="stylesheet" href="${base}/swagger-ui.css" />
    <script src="${base}/swagger-ui-bundle.js" defer></script>
    <script src="${base}/init.js" defer></script>
`,
  );
  routes.get('/docs', (c) => {
    securityHeaders(c);
    return c.html(html);
  });
  // The version is in the path: what is served under it never changes.
  const immutable = (c: Context<AppEnv>, type: string, body: string) => {
    securityHeaders(c);
    c.header('Content-Type', type);
    c.header('Cache-Control', 'public, max-age=31536000, immutable');
    return c.body(body);
  };
  routes.get(`${base}/init.js`, (c) => immutable(c, 'text/javascript; charset=utf-8', INIT_SCRIPT));
  for (const [file, type] of SWAGGER_UI_FILES) {
    // Read once, on first use: the bundle is 1.7 MB and most gateways never serve it.
    let content: Promise<string> | undefined;
    routes.get(`${base}/${file}`, async (c) => {
      content ??= assets.read(file).catch((err: unknown) => {
        content = undefined;
        throw err;
      });
      return immutable(c, type, await content);
    });
  }
  return routes;
}
