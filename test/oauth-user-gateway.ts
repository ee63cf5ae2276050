/**
 * @module oauth-user-gateway: the setting of the `oauth-user` end-to-end tests (token vault, federation). A real
 * authorization server (oidc-provider: accounts alice and bob, scope `mcp`, refresh tokens, revocation) for the
 * upstreams, a test issuer of the gateway's own tokens (alice and bob with role `team`, root `mcp.admin`) and the
 * real gateway (`main.ts`, a SQLite file, jwt mode). `send` and `connect` keep every gateway answer, as text, for
 * the leak checks; `elicitationOf` reads the URL elicitation error a client gets before it has connected.
 */
import { join } from 'node:path';
import { freePort } from './console-oidc.js';
import { startGatewayProcess } from './gateway-process.js';
import type { GatewayProcess } from './gateway-process.js';
import { connectInBrowser } from './oauth-protected-upstream.js';
import type { ConnectBinding, ConnectFlow } from './oauth-protected-upstream.js';
import { startOidcAuthorizationServer } from './oidc-authorization-server.js';
import type { OidcAuthorizationServer, OidcAuthorizationServerOptions } from './oidc-authorization-server.js';
import { startTokenIssuer } from './token-issuer.js';
import type { TokenIssuer } from './token-issuer.js';

/** A running setting. */
export interface OAuthUserGateway {
  readonly as: OidcAuthorizationServer;
  readonly issuer: TokenIssuer;
  readonly gateway: GatewayProcess;
  /** The gateway's tokens of alice, bob (role `team`) and root (`mcp.admin`). */
  readonly tokens: { readonly alice: string; readonly bob: string; readonly root: string };
  /** Every gateway answer read, as text. */
  readonly answers: string[];
  /** Sends `path` to the gateway with `token` as bearer and keeps the answer. */
  send(path: string, token: string, init?: RequestInit): Promise<Response>;
  /**
   * The browser's connect flow at `connectUrl` (`/connect/{adapter}`) as `token`'s caller, signing in at the
   * authorization server as `account`; `binding` as {@link connectInBrowser} takes it.
   */
  connect(
    token: string,
    connectUrl: string,
    account: string,
    binding?: ConnectBinding,
    start?: 'get' | 'post',
  ): Promise<ConnectFlow>;
  /** Stops the gateway (SIGKILL), the authorization server and the issuer. */
  close(): Promise<void>;
}

export interface OAuthUserGatewayOptions {
  /** Where the registry file goes. */
  readonly dir: string;
  /** Access-token lifetime per resource at the authorization server. */
  readonly accessTokenTtlFor?: OidcAuthorizationServerOptions['accessTokenTtlFor'];
  /** Starts what the gateway will point at, once the authorization server runs. */
  readonly beforeGateway?: (as: OidcAuthorizationServer) => Promise<void>;
  /** More gateway environment. */
  readonly env?: Readonly<Record<string, string>>;
}

export async function startOAuthUserGateway(options: OAuthUserGatewayOptions): Promise<OAuthUserGateway> {
  const answers: string[] = [];
  const record = async (res: Response): Promise<void> => {
    answers.push(`${res.status} ${JSON.stringify([...res.headers])} ${await res.clone().text()}`);
  };
  const as = await startOidcAuthorizationServer({
    accounts: { alice: { roles: [] }, bob: { roles: [] } },
    resourceScopes: ['mcp'],
    refreshTokens: true,
    revocation: true,
    accessTokenTtlFor: options.accessTokenTtlFor,
  });
  let issuer: TokenIssuer | undefined;
  try {
    await options.beforeGateway?.(as);
    const port = await freePort();
    const publicUrl = `http://127.0.0.1:${port}`;
    issuer = await startTokenIssuer({ audience: publicUrl });
    const tokens = {
      alice: await issuer.mint({ sub: 'alice', roles: ['team'] }, { expiresIn: 3600 }),
      bob: await issuer.mint({ sub: 'bob', roles: ['team'] }, { expiresIn: 3600 }),
      root: await issuer.mint({ sub: 'root', roles: ['mcp.admin'] }, { expiresIn: 3600 }),
    };
    const gateway = await startGatewayProcess({
      PORT: String(port),
      MCP_GATEWAY_PUBLIC_URL: publicUrl,
      DATABASE_URL: join(options.dir, 'registry.db'),
      MCP_GATEWAY_LOG_LEVEL: 'debug',
      MCP_GATEWAY_AUTH: 'jwt',
      MCP_GATEWAY_JWKS_URL: issuer.jwksUri,
      MCP_GATEWAY_JWT_ISSUER: issuer.issuer,
      ...options.env,
    });
    const started = issuer;
    return {
      as,
      issuer,
      gateway,
      tokens,
      answers,
      async send(path, token, init = {}) {
        const res = await fetch(`${gateway.url}${path}`, {
          ...init,
          headers: { authorization: `Bearer ${token}`, ...(init.headers as Record<string, string>) },
        });
        await record(res);
        return res;
      },
      connect(token, connectUrl, account, binding = 'own', start = 'get') {
        as.loginAs(account);
        return connectInBrowser(connectUrl, token, { binding, onGatewayAnswer: record, start });
      },
      async close() {
        await gateway.stop('SIGKILL');
        await Promise.all([as.close(), started.close()]);
      },
    };
  } catch (err) {
    await Promise.all([as.close(), issuer?.close()]);
    throw err;
  }
}

/** What a client gets when it must connect first: the -32042 error (or the rejection it was not) and its URL. */
export async function elicitationOf(attempt: Promise<unknown>): Promise<{ code: number; url: string }> {
  const err = (await attempt.then(
    () => {
      throw new Error('expected the URL elicitation error, and the request succeeded');
    },
    (e: unknown) => e,
  )) as { code?: number; data?: { elicitations?: { mode: string; url: string }[] } };
  const elicitation = err.data?.elicitations?.[0];
  if (elicitation?.mode !== 'url')
    throw new Error(`expected a URL elicitation, got ${String(err)} ${JSON.stringify(err.data)}`);
  return { code: err.code ?? 0, url: elicitation.url };
}
