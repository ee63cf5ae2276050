/**
 * @module oidc-authorization-server: a real OAuth 2.1 / OpenID authorization server for tests — oidc-provider on
 * 127.0.0.1 with dynamic client registration, PKCE, RFC 8707 resource indicators (JWT access tokens whose
 * `aud` is the requested resource, carrying the account's `roles`) and a programmatic login and consent:
 * whoever follows the authorization URL is signed in as the configured account and consents to everything.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLocalJWKSet, exportJWK, generateKeyPair, jwtVerify } from 'jose';
import Provider, { errors } from 'oidc-provider';

/** Options for {@link startOidcAuthorizationServer}. */
export interface OidcAuthorizationServerOptions {
  /** Accounts by id, with the roles their access tokens carry. */
  readonly accounts: Readonly<Record<string, { readonly roles: readonly string[] }>>;
  /** Account the programmatic login signs in as; the first account by default. */
  readonly loginAs?: string;
  /** Scopes of every resource server (what `scopes_supported` of the gateway should list). */
  readonly resourceScopes?: readonly string[];
  /** Access-token lifetime; default 300 s. */
  readonly accessTokenTtlSeconds?: number;
  /** Accepts a resource indicator; by default any http(s) URL. */
  readonly acceptResource?: (resource: string) => boolean;
  /** Access-token lifetime per resource; `accessTokenTtlSeconds` when absent or undefined. */
  readonly accessTokenTtlFor?: (resource: string) => number | undefined;
  /** Issue refresh tokens to every client allowed the refresh_token grant (no `offline_access` needed). */
  readonly refreshTokens?: boolean;
  /** Serve the RFC 7009 revocation endpoint (a client may revoke its own tokens). */
  readonly revocation?: boolean;
  /**
   * Serve RFC 8693 token exchange to one confidential client (HTTP Basic): a subject token this server issued
   * (signature, issuer, expiry checked) becomes a JWT access token for the requested `resource` or `audience`,
   * same account, lifetime {@link accessTokenTtlSeconds}.
   */
  readonly tokenExchange?: { readonly clientId: string; readonly clientSecret: string };
  /**
   * Take Client ID Metadata Documents: a `client_id` that is an http(s) URL names the client whose metadata that
   * URL serves (fetched when the client is looked up; http allowed here, loopback only in these tests), and the
   * metadata says `client_id_metadata_document_supported: true`.
   */
  readonly clientIdMetadataDocuments?: boolean;
}

/** One token exchange served. */
export interface ServedExchange {
  readonly subjectToken: string;
  readonly subjectTokenType: string | undefined;
  readonly resource: string | undefined;
  readonly audience: string | undefined;
  readonly scope: string | undefined;
  readonly issued: string;
}

/** A running authorization server. */
export interface OidcAuthorizationServer {
  readonly issuer: string;
  /** Signs the next logins in as this account. */
  loginAs(accountId: string): void;
  /** Counts of interactions completed, for assertions. */
  readonly logins: number;
  /** Every refresh token value issued, in order (for leak checks). */
  readonly refreshTokens: readonly string[];
  /** Refresh token values destroyed by a revocation request or a rotation. */
  readonly destroyedRefreshTokens: readonly string[];
  /** Counts of refresh_token grants served. */
  readonly refreshes: number;
  /**
   * An access token for `accountId` whose audience is `resource`, as a client signed in through this server
   * would hold (same signing key, claims and lifetime), without the browser round trip.
   */
  mintAccessToken(accountId: string, resource: string): Promise<string>;
  /** Token exchanges served, in order (`tokenExchange`). */
  readonly exchanges: readonly ServedExchange[];
  /** Token exchanges refused, with the `error_description` given. */
  readonly refusedExchanges: readonly string[];
  /** Client ID Metadata Document URLs fetched (`clientIdMetadataDocuments`), in order. */
  readonly fetchedClients: readonly string[];
  /** While set, every token exchange is refused with `invalid_grant` and this description. */
  refuseExchanges(description: string | undefined): void;
  close(): Promise<void>;
}

/** RFC 8693 identifiers. */
const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';

/** What a custom grant handler reads of oidc-provider's request context. */
interface ExchangeContext {
  oidc: {
    params: Partial<
      Record<'subject_token' | 'subject_token_type' | 'audience' | 'resource' | 'scope', string>
    >;
    client: unknown;
  };
  body?: unknown;
}

type Payload = Record<string, unknown> & {
  grantId?: string;
  userCode?: string;
  uid?: string;
  consumed?: number;
};

/** oidc-provider's storage port, in memory and per server (its own default prints a warning on every start). */
function memoryAdapter(fetchedClients: string[] | undefined) {
  const store = new Map<string, { payload: Payload; expiresAt: number | undefined }>();
  return class MemoryAdapter {
    constructor(private readonly model: string) {}
    private key(id: string): string {
      return `${this.model}:${id}`;
    }
    async upsert(id: string, payload: Payload, expiresIn?: number): Promise<void> {
      store.set(this.key(id), { payload, expiresAt: expiresIn ? Date.now() + expiresIn * 1000 : undefined });
    }
    async find(id: string): Promise<Payload | undefined> {
      if (fetchedClients && this.model === 'Client' && /^http:\/\/127\.0\.0\.1:\d+\//.test(id)) {
        fetchedClients.push(id);
        const res = await fetch(id, { redirect: 'error' });
        if (!res.ok) return undefined;
        const document = (await res.json()) as Payload;
        return document['client_id'] === id ? document : undefined;
      }
      const entry = store.get(this.key(id));
      if (!entry) return undefined;
      if (entry.expiresAt !== undefined && entry.expiresAt < Date.now()) {
        store.delete(this.key(id));
        return undefined;
      }
      return entry.payload;
    }
    private async findBy(field: 'uid' | 'userCode', value: string): Promise<Payload | undefined> {
      for (const [key, entry] of store) {
        if (key.startsWith(`${this.model}:`) && entry.payload[field] === value) return entry.payload;
      }
      return undefined;
    }
    findByUid(uid: string) {
      return this.findBy('uid', uid);
    }
    findByUserCode(userCode: string) {
      return this.findBy('userCode', userCode);
    }
    async consume(id: string): Promise<void> {
      const entry = store.get(this.key(id));
      if (entry) entry.payload.consumed = Math.floor(Date.now() / 1000);
    }
    async destroy(id: string): Promise<void> {
      store.delete(this.key(id));
    }
    async revokeByGrantId(grantId: string): Promise<void> {
      for (const [key, entry] of store) if (entry.payload.grantId === grantId) store.delete(key);
    }
  };
}

/** Starts the authorization server on an ephemeral loopback port. */
export async function startOidcAuthorizationServer(
  options: OidcAuthorizationServerOptions,
): Promise<OidcAuthorizationServer> {
  const accountIds = Object.keys(options.accounts);
  let loginAs = options.loginAs ?? accountIds[0];
  if (!loginAs) throw new TypeError('startOidcAuthorizationServer: at least one account is required');
  const resourceScopes = options.resourceScopes ?? ['mcp'];
  const acceptResource =
    options.acceptResource ??
    ((resource: string) => /^https?:\/\//.test(resource) && !resource.includes('#'));
  let logins = 0;
  let refreshes = 0;
  const refreshTokens: string[] = [];
  const destroyedRefreshTokens: string[] = [];
  const ttlFor = (resource: string) =>
    options.accessTokenTtlFor?.(resource) ?? options.accessTokenTtlSeconds ?? 300;

  // The issuer URL needs the port, so listen first and attach the provider afterwards.
  let handle: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => {
    res.statusCode = 503;
    res.end();
  };
  const server: Server = createServer((req, res) => handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const rsa = await generateKeyPair('RS256', { extractable: true });
  const ec = await generateKeyPair('ES256', { extractable: true });
  const jwks = {
    keys: [
      { ...(await exportJWK(rsa.privateKey)), kid: 'rs', alg: 'RS256', use: 'sig' },
      { ...(await exportJWK(ec.privateKey)), kid: 'es', alg: 'ES256', use: 'sig' },
    ],
  };

  const exchange = options.tokenExchange;
  const fetchedClients = options.clientIdMetadataDocuments ? ([] as string[]) : undefined;
  // The client tokens are minted for (mintAccessToken) and, with token exchange, the gateway's own client.
  const clients: Record<string, unknown>[] = [
    {
      client_id: 'minting-client',
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code'],
      response_types: ['code'],
      redirect_uris: ['http://127.0.0.1/callback'],
    },
  ];
  if (exchange) {
    clients.push({
      client_id: exchange.clientId,
      client_secret: exchange.clientSecret,
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: [TOKEN_EXCHANGE_GRANT],
      response_types: [],
      redirect_uris: [],
    });
  }
  const provider = new Provider(issuer, {
    adapter: memoryAdapter(fetchedClients),
    ...(options.clientIdMetadataDocuments && {
      discovery: { client_id_metadata_document_supported: true },
    }),
    clients,
    jwks,
    cookies: { keys: [crypto.randomUUID()] },
    scopes: ['openid', 'offline_access', ...resourceScopes],
    pkce: { required: () => true },
    clientBasedCORS: () => true,
    // Explicit lifetimes (oidc-provider prints a notice for each default it uses).
    ttl: {
      AccessToken: (_ctx: unknown, token: { resourceServer?: { accessTokenTTL?: number } }) =>
        token.resourceServer?.accessTokenTTL ?? options.accessTokenTtlSeconds ?? 300,
      AuthorizationCode: 60,
      IdToken: 300,
      RefreshToken: 3600,
      Grant: 3600,
      Interaction: 600,
      Session: 3600,
    },
    ...(options.refreshTokens && {
      issueRefreshToken: async (_ctx: unknown, client: { grantTypeAllowed(type: string): boolean }) =>
        client.grantTypeAllowed('refresh_token'),
    }),
    findAccount: async (_ctx: unknown, sub: string) =>
      options.accounts[sub] ? { accountId: sub, claims: async () => ({ sub }) } : undefined,
    // Roles travel in the access token, where the gateway reads them (MCP_GATEWAY_ROLES_CLAIM=roles).
    extraTokenClaims: async (_ctx: unknown, token: { kind?: string; accountId?: string }) =>
      token.kind === 'AccessToken' && token.accountId
        ? { roles: [...(options.accounts[token.accountId]?.roles ?? [])] }
        : undefined,
    interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
    features: {
      devInteractions: { enabled: false },
      registration: { enabled: true },
      revocation: {
        enabled: options.revocation ?? false,
        allowedPolicy: async (_ctx: unknown, client: { clientId: string }, token: { clientId?: string }) =>
          token.clientId === client.clientId,
      },
      resourceIndicators: {
        enabled: true,
        defaultResource: async (_ctx: unknown, _client: unknown, oneOf?: string) => oneOf,
        useGrantedResource: async () => true,
        getResourceServerInfo: async (_ctx: unknown, resource: string) => {
          if (!acceptResource(resource)) throw new Error(`resource ${resource} is not accepted`);
          return {
            scope: resourceScopes.join(' '),
            audience: resource,
            accessTokenTTL: ttlFor(resource),
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: 'ES256' } },
          };
        },
      },
    },
  });

  const exchanges: ServedExchange[] = [];
  const refusedExchanges: string[] = [];
  let refusal: string | undefined;
  const publicKeys = createLocalJWKSet({
    keys: [
      { ...(await exportJWK(rsa.publicKey)), kid: 'rs', alg: 'RS256' },
      { ...(await exportJWK(ec.publicKey)), kid: 'es', alg: 'ES256' },
    ],
  });
  const tokenFor = async (
    accountId: string,
    client: unknown,
    target: string,
    extra: Record<string, unknown> = {},
  ): Promise<string> => {
    const token = new provider.AccessToken({ accountId, client, scope: resourceScopes.join(' '), ...extra });
    token.resourceServer = new provider.ResourceServer(target, {
      scope: resourceScopes.join(' '),
      audience: target,
      accessTokenTTL: ttlFor(target),
      accessTokenFormat: 'jwt',
      jwt: { sign: { alg: 'ES256' } },
    });
    return token.save();
  };
  if (exchange) {
    // Client authentication, the grant being allowed to the client and the error rendering are oidc-provider's.
    provider.registerGrantType(
      TOKEN_EXCHANGE_GRANT,
      async (ctx: ExchangeContext) => {
        const params = ctx.oidc.params;
        const refuse = (description: string) => {
          refusedExchanges.push(description);
          return new errors.CustomOIDCProviderError('invalid_grant', description);
        };
        if (refusal) throw refuse(refusal);
        if (params.subject_token_type !== ACCESS_TOKEN_TYPE) throw refuse('unsupported subject_token_type');
        const target = params.resource ?? params.audience;
        if (!target || !acceptResource(target)) throw refuse('no acceptable resource or audience');
        let accountId: string;
        try {
          const { payload } = await jwtVerify(params.subject_token ?? '', publicKeys, { issuer });
          accountId = String(payload.sub);
        } catch (err) {
          throw refuse(`subject_token is not valid: ${(err as Error).message}`);
        }
        const issued = await tokenFor(accountId, ctx.oidc.client, target, { gty: 'token-exchange' });
        exchanges.push({
          subjectToken: params.subject_token!,
          subjectTokenType: params.subject_token_type,
          resource: params.resource,
          audience: params.audience,
          scope: params.scope,
          issued,
        });
        ctx.body = {
          access_token: issued,
          issued_token_type: ACCESS_TOKEN_TYPE,
          token_type: 'Bearer',
          expires_in: ttlFor(target),
        };
      },
      ['subject_token', 'subject_token_type', 'audience', 'resource', 'scope', 'requested_token_type'],
    );
  }

  // The programmatic user: signs in as `loginAs`, then consents to everything the client asked for.
  async function interact(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const details = await provider.interactionDetails(req, res);
    if (details.prompt.name === 'login') {
      logins++;
      await provider.interactionFinished(
        req,
        res,
        { login: { accountId: loginAs } },
        { mergeWithLastSubmission: false },
      );
      return;
    }
    if (details.prompt.name !== 'consent') throw new Error(`unexpected prompt ${details.prompt.name}`);
    const accountId = details.session?.accountId ?? loginAs!;
    const grant =
      (details.grantId ? await provider.Grant.find(details.grantId) : undefined) ??
      new provider.Grant({ accountId, clientId: String(details.params['client_id']) });
    const missing = details.prompt.details as {
      missingOIDCScope?: string[];
      missingOIDCClaims?: string[];
      missingResourceScopes?: Record<string, string[]>;
    };
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
    for (const [resource, scopes] of Object.entries(missing.missingResourceScopes ?? {})) {
      grant.addResourceScope(resource, scopes.join(' '));
    }
    await provider.interactionFinished(
      req,
      res,
      { consent: { grantId: await grant.save() } },
      { mergeWithLastSubmission: true },
    );
  }

  const events = provider as unknown as { on(event: string, listener: (subject: never) => void): void };
  events.on('refresh_token.saved', (token: { jti: string }) => {
    if (!refreshTokens.includes(token.jti)) refreshTokens.push(token.jti);
  });
  events.on('refresh_token.destroyed', (token: { jti: string }) => destroyedRefreshTokens.push(token.jti));
  events.on('grant.success', (ctx: { oidc: { params?: { grant_type?: unknown } } }) => {
    if (ctx.oidc.params?.grant_type === 'refresh_token') refreshes++;
  });
  const callback = provider.callback();
  handle = (req, res) => {
    if (req.url?.startsWith('/interaction/')) {
      interact(req, res).catch((err: unknown) => {
        res.statusCode = 500;
        res.end(String(err));
      });
      return;
    }
    callback(req, res);
  };

  return {
    issuer,
    loginAs: (accountId) => {
      loginAs = accountId;
    },
    get logins() {
      return logins;
    },
    refreshTokens,
    destroyedRefreshTokens,
    get refreshes() {
      return refreshes;
    },
    mintAccessToken: async (accountId, resource) =>
      tokenFor(accountId, await provider.Client.find('minting-client'), resource),
    exchanges,
    refusedExchanges,
    fetchedClients: fetchedClients ?? [],
    refuseExchanges: (description) => {
      refusal = description;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
