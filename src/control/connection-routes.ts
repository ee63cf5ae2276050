/**
 * @module connection-routes: the token vault's routes (`upstreamAuth: {"type":"oauth-user"}`).
 * - `GET /connect/{adapter}` (authenticated like the gateway): 302 to the upstream's authorization server, with
 *   a cookie binding the flow to this browser. In `jwt`/`oidc` modes with console sign-in, a request without
 *   credentials (a browser opening the URL elicitation's link) is sent to the console's Connections page instead,
 *   which signs the user in and starts the flow with `POST`.
 * - `POST /connect/{adapter}` (authenticated): the same start, answered as JSON `{ authorizationUrl }` with the
 *   cookie, for the console (a same-origin fetch with its token stores the cookie; the tab then navigates there).
 * - `GET /connect/callback` (the redirect URI; authenticated by the sealed `state` and that cookie): exchanges
 *   the code, stores the grant for (caller, adapter), answers a small HTML page.
 * - `GET /oauth/client-metadata.json` (public): the gateway's Client ID Metadata Document, its `client_id` at
 *   authorization servers that support them.
 * - `GET /connections`, `DELETE /connections/{adapter}` (authenticated): the caller's own grants — adapter,
 *   scopes and times, never a token — and disconnecting (the upstream's revocation endpoint is called).
 */
import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi';
import type { Context, MiddlewareHandler } from 'hono';
import { getCookie, setCookie, deleteCookie } from 'hono/cookie';
import { CLIENT_METADATA_PATH, ConnectFlowError, canRead } from '../auth/index.js';
import type { OAuthUserAdapter, TokenVault } from '../auth/index.js';
import type { AppEnv } from '../http/index.js';
import { notFound } from '../http/index.js';
import { registeredOf } from '../registry/index.js';
import type { RegistryStore } from '../registry/index.js';
import { ErrorBodySchema } from './schemas.js';
import { validationHook } from './validation.js';

/** Dependencies of the connection routes. */
export interface ConnectionRoutesOptions {
  readonly store: RegistryStore;
  readonly vault: TokenVault;
  /** The gateway's authentication (the same as every other route). */
  readonly authenticate: MiddlewareHandler<AppEnv>;
  /**
   * The console page that signs a browser in and connects (`/ui/connections`), when the console can sign in
   * (`jwt`/`oidc` with a console client id): `GET /connect/{adapter}` without credentials is sent there with
   * `?connect={adapter}` instead of being answered 401.
   */
  readonly consoleConnectPage?: string;
}

/** The browser binding of a connect flow: set by `/connect/{adapter}`, sent only to the callback. */
const BINDING_COOKIE = 'mcpgw_connect';
const CALLBACK_PATH = '/connect/callback';
const tags = ['connections'];

const Connection = z
  .object({
    adapter: z.string().openapi({ example: 'linear' }),
    scopes: z.array(z.string()).openapi({ example: ['read', 'write'] }),
    createdAt: z.string().openapi({ description: 'When you connected (ISO 8601)' }),
    expiresAt: z
      .string()
      .nullable()
      .openapi({ description: 'When the current access token expires; null when the server did not say' }),
  })
  .openapi('Connection', {
    description: "One of your OAuth grants for an adapter's upstream. Tokens are never shown.",
  });

const AdapterParam = z.object({
  adapter: z.string().openapi({ param: { name: 'adapter', in: 'path' }, example: 'linear' }),
});

const routes = {
  list: createRoute({
    method: 'get',
    path: '/connections',
    operationId: 'listConnections',
    tags,
    summary: 'List your OAuth connections to upstreams (oauth-user adapters)',
    responses: {
      200: {
        description: 'Your grants, by adapter name',
        content: { 'application/json': { schema: z.array(Connection) } },
      },
      401: { description: 'Not authenticated', content: { 'application/json': { schema: ErrorBodySchema } } },
    },
  }),
  remove: createRoute({
    method: 'delete',
    path: '/connections/{adapter}',
    operationId: 'deleteConnection',
    tags,
    summary: 'Disconnect: delete your grant and revoke it at the upstream',
    description:
      "The grant is deleted here, then its refresh and access tokens are revoked at the upstream's revocation endpoint (RFC 7009) when its authorization server advertises one. The next request to the adapter gets the URL elicitation error again.",
    request: { params: AdapterParam },
    responses: {
      204: { description: 'Disconnected' },
      401: { description: 'Not authenticated', content: { 'application/json': { schema: ErrorBodySchema } } },
      404: {
        description: 'You have no grant for that adapter',
        content: { 'application/json': { schema: ErrorBodySchema } },
      },
    },
  }),
  start: createRoute({
    method: 'post',
    path: '/connect/{adapter}',
    operationId: 'startConnection',
    tags,
    summary: "Start connecting: the upstream authorization server's URL for this browser",
    description:
      "What `GET /connect/{adapter}` does, for a page that holds the caller's token (the web console): the flow is started for the caller (sealed state, PKCE) and the answer sets the cookie that binds it to this browser (a same-origin `fetch` stores it), then the page navigates to `authorizationUrl`; the upstream sends the browser back to `/connect/callback`, which checks that cookie. No body.",
    request: { params: AdapterParam },
    responses: {
      200: {
        description: 'The flow is started; navigate the browser to `authorizationUrl`',
        headers: {
          'Set-Cookie': {
            description: 'The browser binding of the flow (HttpOnly, path `/connect/callback`, 10 minutes)',
            schema: { type: 'string' },
          },
        },
        content: {
          'application/json': {
            schema: z
              .object({
                authorizationUrl: z.string().openapi({
                  description: "The upstream authorization server's authorization request",
                  example: 'https://auth.example.com/authorize?response_type=code&client_id=…',
                }),
              })
              .openapi('ConnectionStart'),
          },
        },
      },
      400: {
        description: 'The adapter is not an `oauth-user` adapter',
        content: { 'application/json': { schema: ErrorBodySchema } },
      },
      401: { description: 'Not authenticated', content: { 'application/json': { schema: ErrorBodySchema } } },
      404: {
        description: 'No such adapter, or you may not read it',
        content: { 'application/json': { schema: ErrorBodySchema } },
      },
      502: {
        description: "The upstream's authorization server could not be discovered or registered with",
        content: { 'application/json': { schema: ErrorBodySchema } },
      },
    },
  }),
};

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

/** The small page a browser lands on at the end of the flow. */
function page(title: string, message: string, back?: { href: string; text: string }): string {
  const link = back ? `<p><a href="${escapeHtml(back.href)}">${escapeHtml(back.text)}</a></p>` : '';
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head><body style="font-family:sans-serif;max-width:40em;margin:4em auto"><h1>${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p>${link}</body></html>`;
}

/** Builds the routes; mount at `/`. */
export function createConnectionRoutes(options: ConnectionRoutesOptions): OpenAPIHono<AppEnv> {
  const { store, vault, authenticate, consoleConnectPage } = options;
  const router = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
  const secure = vault.callbackUrl.startsWith('https:');

  const htmlHeaders = {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    // The page shows text only: nothing on it may run or be framed.
    'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
    'referrer-policy': 'no-referrer',
  };

  // Public: authorization servers fetch it to learn the client whose id is its URL (Client ID Metadata Documents).
  router.get(CLIENT_METADATA_PATH, (c) => {
    if (!vault.clientMetadata)
      throw notFound('This gateway publishes no client metadata (its public URL is not https).');
    return c.json(vault.clientMetadata, 200, { 'cache-control': 'public, max-age=300' });
  });

  // First: `/connect/{adapter}` below would match it too.
  router.get(CALLBACK_PATH, async (c) => {
    const query = c.req.query();
    const binding = getCookie(c, BINDING_COOKIE);
    deleteCookie(c, BINDING_COOKIE, { path: CALLBACK_PATH, secure });
    try {
      const adapter = await vault.complete(query, binding);
      return c.body(
        page(
          'Connected',
          `Your account is connected to adapter '${adapter}'. You can close this page and return to your MCP client.`,
          consoleConnectPage
            ? { href: consoleConnectPage, text: 'Your connections in the console' }
            : undefined,
        ),
        200,
        htmlHeaders,
      );
    } catch (err) {
      if (!(err instanceof ConnectFlowError)) throw err;
      return c.body(page('Not connected', err.message), err.status, htmlHeaders);
    }
  });

  /** Starts the flow for the caller: the authorization server's URL, with the binding cookie set on `c`. */
  const begin = async (c: Context<AppEnv>, name: string): Promise<string> => {
    const principal = c.get('principal');
    const row = await store.get('adapter', name);
    const adapter = row && registeredOf('adapter', row);
    if (!adapter || !canRead(principal, adapter)) throw notFound(`Adapter '${name}' does not exist.`);
    const start = await vault.begin(principal, adapter as OAuthUserAdapter);
    setCookie(c, BINDING_COOKIE, start.binding, {
      path: CALLBACK_PATH,
      httpOnly: true,
      // Lax: the authorization server's redirect back is a top-level navigation, which Lax lets through.
      sameSite: 'Lax',
      secure,
      maxAge: 600,
    });
    c.header('cache-control', 'no-store');
    return start.location;
  };
  const flowError = (c: Context<AppEnv>, err: unknown) => {
    if (!(err instanceof ConnectFlowError)) throw err;
    return c.json({ error: { code: err.code, message: err.message } }, err.status);
  };

  // A browser opening the elicitation's link cannot send a bearer token: the console signs it in and connects.
  // Only a request with no credentials at all (a bad token is still a 401). The link names the adapter only:
  // whoever signs in at the console gets a flow of their own (POST below), so it binds nobody else's account.
  const toConsole: MiddlewareHandler<AppEnv> = async (c, next) => {
    if (!consoleConnectPage || c.req.header('authorization') !== undefined) return next();
    const target = `${consoleConnectPage}?connect=${encodeURIComponent(c.req.param('adapter') ?? '')}`;
    c.header('cache-control', 'no-store');
    c.header('referrer-policy', 'no-referrer');
    return c.redirect(target, 302);
  };

  router.get('/connect/:adapter', toConsole, authenticate, async (c) => {
    try {
      return c.redirect(await begin(c, c.req.param('adapter')), 302);
    } catch (err) {
      return flowError(c, err);
    }
  });

  router.use('/connect/:adapter', async (c, next) =>
    c.req.method === 'POST' ? authenticate(c, next) : next(),
  );
  router.openapi(routes.start, async (c) => {
    const { adapter: name } = c.req.valid('param');
    try {
      return c.json({ authorizationUrl: await begin(c, name) }, 200);
    } catch (err) {
      return flowError(c, err) as never;
    }
  });

  router.use('/connections', authenticate);
  router.use('/connections/*', authenticate);
  router.openapi(routes.list, async (c) => {
    const grants = await vault.list(c.get('principal').userId);
    c.header('cache-control', 'no-store');
    return c.json(
      grants.map((g) => ({
        adapter: g.adapter,
        scopes: g.scopes.split(' ').filter((s) => s !== ''),
        createdAt: g.createdAt.toISOString(),
        expiresAt: g.expiresAt?.toISOString() ?? null,
      })),
      200,
    );
  });
  router.openapi(routes.remove, async (c) => {
    const { adapter: name } = c.req.valid('param');
    const row = await store.get('adapter', name);
    const adapter = row ? (registeredOf('adapter', row) as OAuthUserAdapter) : undefined;
    const deleted = await vault.disconnect(c.get('principal').userId, name, adapter);
    if (!deleted) throw notFound(`You have no connection to adapter '${name}'.`);
    return c.body(null, 204);
  });
  return router;
}
