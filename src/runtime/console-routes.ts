/**
 * @module console-routes: the web console at `/ui/`, a single-page app built by Vite into hashed files
 * (`dist/ui/`) and served by the gateway itself, like `/docs`: nothing from a CDN, under a Content-Security-Policy
 * that lets the page load scripts, styles and data only from the gateway (no inline script, no frames). Hashed
 * assets never change under their name, so browsers keep them for a year; `index.html` names the current ones
 * and is revalidated on every load. Every other path under `/ui/` is a client route and gets `index.html`.
 */
import { Hono } from 'hono';
import type { Context } from 'hono';
import { HttpError } from '../http/index.js';
import type { AppEnv } from '../http/index.js';

/** Where the console is served. */
export const CONSOLE_PATH = '/ui/';

/** Reads the built console's files by their path inside the build folder (`index.html`, `assets/…`). */
export interface ConsoleAssets {
  /** The file's bytes, or undefined when the build has no such file. */
  read(path: string): Promise<Uint8Array | undefined>;
}

/**
 * How the console signs in on a gateway that needs tokens: OAuth 2.0 authorization code with PKCE, in the
 * browser, as a public client; the tokens stay in the page's memory. Served to the page as `/ui/config.json`.
 */
export interface ConsoleSignIn {
  /** The authorization server (its OpenID discovery document names the endpoints). */
  readonly issuer: string;
  readonly clientId: string;
  readonly scopes: readonly string[];
  /** RFC 8707 resource indicator: the gateway, which its tokens' `aud` must name. */
  readonly resource: string;
}

/** How the console identifies its user to the gateway. */
export interface ConsoleAccess {
  /** Sign in for a token (`oidc`/`jwt` gateways with a console client id); absent, the console sends none. */
  readonly signIn?: ConsoleSignIn;
}

/** What `/ui/config.json` answers: how to sign in, or null when the gateway needs no token from the console. */
export interface ConsoleConfig {
  readonly signIn: ConsoleSignIn | null;
}

/**
 * Only the gateway itself, for everything: the console's own scripts and styles (no inline script or style
 * element), `fetch` to the control plane and the MCP endpoints of this origin, and `data:` images (an icon).
 * No frames either way, no plugins, no `<base>`, forms post only here.
 */
export const CONSOLE_CSP = consolePolicy([]);

/** The policy, with `connect` the origins the page may also `fetch` from (the authorization server's). */
function consolePolicy(connect: readonly string[]): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    ['connect-src', "'self'", ...connect].join(' '),
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** What a hashed asset may be; anything else under `assets/` is not a file of the build (and no `..`). */
const ASSET_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  svg: 'image/svg+xml',
  png: 'image/png',
  woff2: 'font/woff2',
  json: 'application/json',
  map: 'application/json',
};

const NOT_BUILT = `<!doctype html>
<html lang="en">
  <head><meta charset="utf-8" /><title>MCP Gateway console</title></head>
  <body>
    <p>The web console has not been built. Run <code>npm run build</code> (or <code>npm start</code>, which builds it when it is missing), then reload.</p>
  </body>
</html>
`;

function securityHeaders(c: Context<AppEnv>, policy: string): void {
  c.header('Content-Security-Policy', policy);
  c.header('X-Content-Type-Options', 'nosniff');
  c.header('Referrer-Policy', 'no-referrer');
  c.header('X-Frame-Options', 'DENY');
  c.header('Cross-Origin-Opener-Policy', 'same-origin');
}

/**
 * `/ui/`, its hashed assets under `/ui/assets/`, `/ui/config.json`, and `index.html` for every client route under
 * `/ui/`; with `access.signIn` the authorization server's origin is the only other one the page may call (its
 * discovery document and token endpoint).
 */
export function createConsoleRoutes(assets: ConsoleAssets, access: ConsoleAccess = {}): Hono<AppEnv> {
  const { signIn } = access;
  const policy = signIn ? consolePolicy([new URL(signIn.issuer).origin]) : CONSOLE_CSP;
  const routes = new Hono<AppEnv>();
  const config: ConsoleConfig = { signIn: signIn ?? null };
  routes.get('/ui', (c) => c.redirect(CONSOLE_PATH, 301));
  routes.get('/ui/config.json', (c) => {
    securityHeaders(c, policy);
    c.header('Cache-Control', 'no-cache');
    return c.json(config);
  });
  routes.get('/ui/assets/:file', async (c) => {
    const file = c.req.param('file');
    const body = ASSET_NAME.test(file) ? await assets.read(`assets/${file}`) : undefined;
    if (!body) throw new HttpError(404, 'not_found', `The console has no asset ${JSON.stringify(file)}.`);
    securityHeaders(c, policy);
    c.header('Content-Type', CONTENT_TYPES[file.split('.').pop() ?? ''] ?? 'application/octet-stream');
    // The name carries a hash of the content: a new build has new names, so this one never changes.
    c.header('Cache-Control', 'public, max-age=31536000, immutable');
    return c.body(body as Uint8Array<ArrayBuffer>);
  });
  routes.get('/ui/*', async (c) => {
    securityHeaders(c, policy);
    // Revalidated on every load, so a new build's asset names are picked up at once.
    c.header('Cache-Control', 'no-cache');
    const index = await assets.read('index.html');
    if (!index) return c.html(NOT_BUILT, 503);
    c.header('Content-Type', 'text/html; charset=utf-8');
    return c.body(index as Uint8Array<ArrayBuffer>);
  });
  return routes;
}
