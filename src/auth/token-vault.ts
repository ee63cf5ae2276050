/**
 * @module token-vault: per-user OAuth grants for remote MCP servers (`upstreamAuth: {"type":"oauth-user"}`).
 * The gateway is an OAuth client of the upstream's authorization server (found by `oauth-user-discovery.ts`):
 * `/connect/{adapter}` starts authorization code + PKCE (S256) with `resource` = the upstream URL (RFC 8707) and
 * a `state` sealed to the caller, the adapter, a browser cookie and a short expiry; `/connect/callback` exchanges
 * the code and stores the grant for (caller, adapter), the tokens sealed like a secret's value. On the data plane
 * the caller's access token is read from here, refreshed shortly before it expires (one refresh per (caller,
 * adapter) at a time, rotated refresh tokens stored), and a caller without a usable grant gets
 * {@link ConnectionRequiredError}, which names the `/connect` URL.
 *
 * The client is the adapter's configured `clientId` (and `clientSecret`, a stored secret), else, at an
 * authorization server that takes Client ID Metadata Documents, the URL of the gateway's own document (a public
 * client), else one registered dynamically (RFC 7591) once per adapter and kept as a sealed setting. Tokens live in memory only while a
 * request uses them; no token is logged, returned by an API, or stored in the clear.
 */
import type { Principal } from '../core/index.js';
import { createSecretMatcher } from '../http/index.js';
import type { Logger } from '../observability/index.js';
import { base64Url, fromBase64Url } from '../registry/index.js';
import type { RegistryStore, SecretCipher, SettingsCipher, StoredGrant } from '../registry/index.js';
import { OAuthDiscoveryError, discoverAuthorizationServer, guardedFetch } from './oauth-user-discovery.js';
import type { AuthorizationServer, OAuthHttp } from './oauth-user-discovery.js';
import { UpstreamCredentialError } from './upstream-credentials.js';
import type { OAuthUserAdapter, PerUserTokens } from './upstream-credentials.js';

/** The caller has no usable grant for the adapter: they must open {@link connectUrl} first. */
export class ConnectionRequiredError extends UpstreamCredentialError {
  constructor(
    readonly adapter: string,
    readonly connectUrl: string,
    why: string,
  ) {
    super(
      `Adapter '${adapter}' needs your authorization at its upstream (${why}): open ${connectUrl} to connect your account, then retry.`,
      '',
      'connect',
    );
    this.name = 'ConnectionRequiredError';
  }
}

/** A step of the connect flow failed in a way the caller should see (a 4xx with this message). */
export class ConnectFlowError extends Error {
  constructor(
    readonly status: 400 | 403 | 404 | 502,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ConnectFlowError';
  }
}

/** Options for {@link createTokenVault}. */
export interface TokenVaultOptions {
  readonly store: RegistryStore;
  /** Seals grants and connect states (the secrets' key). */
  readonly cipher: SecretCipher;
  /** Seals dynamically registered clients (the settings' key). */
  readonly settings: SettingsCipher;
  /** The decrypted value of a stored secret (`clientSecret`). */
  readonly readSecret: (name: string) => Promise<string | undefined>;
  /** The gateway's public URL, without a trailing slash: `/connect` URLs and the redirect URI are under it. */
  readonly publicUrl: string;
  readonly logger: Logger;
  readonly fetch?: (url: string, init: RequestInit) => Promise<Response>;
  /** The SSRF guard, asked before every metadata, registration, token and revocation request. */
  readonly refuseUrl?: (url: string) => string | undefined;
  readonly now?: () => number;
  /** Longest wait for any request to the upstream's authorization server; default 10 s. */
  readonly timeoutMs?: number;
  /** How long a connect flow may take from `/connect/{adapter}` to the callback; default 10 min. */
  readonly stateTtlMs?: number;
  /**
   * Where the gateway's Client ID Metadata Document is served, the `client_id` it uses at authorization servers
   * that take one; default `{publicUrl}/oauth/client-metadata.json` when the public URL is https, else none
   * (such a `client_id` must be an https URL; tests inject a loopback http one).
   */
  readonly clientMetadataUrl?: string;
}

/** Where the gateway serves its Client ID Metadata Document, below its public URL. */
export const CLIENT_METADATA_PATH = '/oauth/client-metadata.json';

/** What `/connect/{adapter}` answers: where to send the browser, and the cookie that binds the flow to it. */
export interface ConnectStart {
  readonly location: string;
  /** Value of the `connect` cookie (checked at the callback against the state). */
  readonly binding: string;
}

/** The per-user OAuth store and client. */
export interface TokenVault extends PerUserTokens {
  /** Absolute `/connect/{adapter}` URL of this gateway. */
  connectUrl(adapter: string): string;
  /** The redirect URI registered with authorization servers. */
  readonly callbackUrl: string;
  /** The gateway's Client ID Metadata Document (served at its `client_id` URL), or undefined when it has none. */
  readonly clientMetadata: Readonly<Record<string, unknown>> | undefined;
  begin(principal: Principal, adapter: OAuthUserAdapter): Promise<ConnectStart>;
  /** Completes the flow from the callback's query and the browser's binding cookie; resolves the adapter name. */
  complete(query: Record<string, string | undefined>, binding: string | undefined): Promise<string>;
  /** The caller's access token for the adapter, refreshed when due; rejects with {@link ConnectionRequiredError}. */
  accessToken(userId: string, adapter: OAuthUserAdapter): Promise<string>;
  /** The upstream refused `rejected`: refresh once (or use a token refreshed meanwhile), else connection required. */
  renew(userId: string, adapter: OAuthUserAdapter, rejected: string): Promise<string>;
  list(userId: string): Promise<StoredGrant[]>;
  /** Deletes the grant and revokes its tokens at the authorization server when it has a revocation endpoint. */
  disconnect(userId: string, adapter: string, spec?: OAuthUserAdapter): Promise<boolean>;
}

/** The sealed content of a grant row. */
interface GrantTokens {
  readonly access_token: string;
  readonly refresh_token?: string;
}

/** The sealed content of a connect `state`. */
interface ConnectState {
  /** userId */
  readonly u: string;
  /** adapter name and uid */
  readonly a: string;
  readonly i: string;
  /** PKCE code verifier */
  readonly v: string;
  /** nonce, also the browser binding */
  readonly n: string;
  /** expiry, ms */
  readonly e: number;
}

/** A client of an authorization server: configured, or registered by the gateway. */
interface OAuthClient {
  readonly clientId: string;
  readonly clientSecret: string | undefined;
}

/** A dynamically registered client as the sealed setting holds it. */
interface RegisteredClient extends OAuthClient {
  readonly issuer: string;
  readonly redirectUri: string;
}

const STATE_SEAL_NAME = 'connect-state';
/** Tokens are refreshed this long before they expire. */
const REFRESH_EARLY_MS = 30_000;
/** Discovery is reused this long per adapter incarnation. */
const DISCOVERY_TTL_MS = 10 * 60_000;
const HEADER_VALUE = /^[\t\x20-\x7e]+$/;

/** The name a grant is sealed under: the additional data binds the ciphertext to its caller and adapter. */
export function grantSealName(userId: string, adapter: string): string {
  return `grant\0${userId}\0${adapter}`;
}

const clientSetting = (adapter: OAuthUserAdapter) => `oauth-client:${adapter.name}:${adapter.uid}`;

const oauthUser = (adapter: OAuthUserAdapter) => {
  const auth = adapter.spec.upstreamAuth;
  return auth?.type === 'oauth-user' ? auth : undefined;
};

/** S256 code challenge of a verifier (RFC 7636 §4.2). */
async function codeChallenge(verifier: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
  return base64Url(new Uint8Array(digest));
}

const randomToken = (bytes: number) => base64Url(crypto.getRandomValues(new Uint8Array(bytes)));

/** `error` and a bounded `error_description` of an OAuth error answer, or the status. */
async function oauthErrorOf(response: Response): Promise<{ error: string | undefined; text: string }> {
  const status = `HTTP ${response.status}`;
  try {
    const body = (await response.json()) as { error?: unknown; error_description?: unknown };
    if (typeof body.error !== 'string') return { error: undefined, text: status };
    const description =
      typeof body.error_description === 'string' ? `: ${body.error_description.slice(0, 200)}` : '';
    return { error: body.error, text: `${status} ${body.error.slice(0, 100)}${description}` };
  } catch {
    return { error: undefined, text: status };
  }
}

/** `application/x-www-form-urlencoded` of one value, as RFC 6749 §2.3.1 asks for the Basic credentials. */
const formEncoded = (value: string) => new URLSearchParams({ v: value }).toString().slice(2);

function basic(clientId: string, clientSecret: string): string {
  const bytes = new TextEncoder().encode(`${formEncoded(clientId)}:${formEncoded(clientSecret)}`);
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return `Basic ${btoa(binary)}`;
}

/** A token answer the vault can use. */
interface TokenAnswer {
  readonly accessToken: string;
  readonly refreshToken: string | undefined;
  readonly expiresInSeconds: number | undefined;
  readonly scope: string | undefined;
}

/** A token endpoint refused the grant (`invalid_grant` and the like): the user must connect again. */
class GrantRefused extends Error {}

/** Builds the vault. */
export function createTokenVault(options: TokenVaultOptions): TokenVault {
  const { store, cipher, logger } = options;
  const now = options.now ?? Date.now;
  const stateTtlMs = options.stateTtlMs ?? 10 * 60_000;
  const http: OAuthHttp = {
    fetch: options.fetch ?? ((url, init) => fetch(url, init)),
    refuseUrl: options.refuseUrl,
    timeoutMs: options.timeoutMs ?? 10_000,
  };
  const publicUrl = options.publicUrl.replace(/\/+$/, '');
  const callbackUrl = `${publicUrl}/connect/callback`;
  const clientMetadataUrl =
    options.clientMetadataUrl ??
    (publicUrl.startsWith('https://') ? `${publicUrl}${CLIENT_METADATA_PATH}` : undefined);
  // A public client (PKCE, no secret): the document is public, so it can hold no secret to authenticate with.
  const clientMetadata = clientMetadataUrl && {
    client_id: clientMetadataUrl,
    client_name: 'MCP Gateway',
    client_uri: publicUrl,
    redirect_uris: [callbackUrl],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
  };
  const connectUrl = (adapter: string) => `${publicUrl}/connect/${encodeURIComponent(adapter)}`;
  const discoveries = new Map<
    string,
    { readonly server: Promise<AuthorizationServer>; readonly until: number }
  >();
  /** Nonces of states already used here (single use; kept until their state would have expired anyway). */
  const usedStates = new Map<string, number>();
  /** Refreshes in flight per (caller, adapter): concurrent requests share one. */
  const refreshes = new Map<string, Promise<string>>();

  function discover(adapter: OAuthUserAdapter): Promise<AuthorizationServer> {
    const key = `${adapter.name}\0${adapter.uid}`;
    const held = discoveries.get(key);
    if (held && held.until > now()) return held.server;
    const url = adapter.spec.endpoints?.[0];
    const server = url
      ? discoverAuthorizationServer(http, url)
      : Promise.reject(new OAuthDiscoveryError('the adapter has no endpoint URL'));
    const entry = { server, until: now() + DISCOVERY_TTL_MS };
    discoveries.set(key, entry);
    server.catch(() => {
      if (discoveries.get(key) === entry) discoveries.delete(key);
    });
    return server;
  }

  async function register(adapter: OAuthUserAdapter, server: AuthorizationServer): Promise<RegisteredClient> {
    if (!server.registrationEndpoint)
      throw new ConnectFlowError(
        502,
        'upstream_oauth',
        `${server.issuer} offers no dynamic client registration: set upstreamAuth.clientId (and clientSecret) on adapter '${adapter.name}'.`,
      );
    const response = await guardedFetch(http, server.registrationEndpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({
        client_name: `MCP Gateway (${adapter.name})`,
        redirect_uris: [callbackUrl],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
      }),
    });
    if (!response.ok)
      throw new ConnectFlowError(
        502,
        'upstream_oauth',
        `client registration at ${server.issuer} failed: ${(await oauthErrorOf(response)).text}.`,
      );
    const body = (await response.json()) as { client_id?: unknown; client_secret?: unknown };
    if (typeof body.client_id !== 'string' || body.client_id === '')
      throw new ConnectFlowError(
        502,
        'upstream_oauth',
        `client registration at ${server.issuer} gave no client_id.`,
      );
    return {
      issuer: server.issuer,
      redirectUri: callbackUrl,
      clientId: body.client_id,
      clientSecret: typeof body.client_secret === 'string' ? body.client_secret : undefined,
    };
  }

  /** The client to use at `server`: configured, stored from an earlier registration, or registered now. */
  async function clientFor(adapter: OAuthUserAdapter, server: AuthorizationServer): Promise<OAuthClient> {
    const auth = oauthUser(adapter);
    if (auth?.clientId) {
      let clientSecret: string | undefined;
      if (auth.clientSecret) {
        clientSecret = await options.readSecret(auth.clientSecret);
        if (clientSecret === undefined)
          throw new ConnectFlowError(
            502,
            'upstream_oauth',
            `adapter '${adapter.name}' names client secret '${auth.clientSecret}', and no such secret exists.`,
          );
      }
      return { clientId: auth.clientId, clientSecret };
    }
    // Client ID Metadata Documents before registration: nothing to register or store, the same id everywhere.
    if (clientMetadataUrl && server.clientIdMetadataDocuments)
      return { clientId: clientMetadataUrl, clientSecret: undefined };
    const key = clientSetting(adapter);
    const stored = await store.getSetting(key);
    if (stored !== undefined) {
      const client = JSON.parse(await options.settings.open(key, stored)) as RegisteredClient;
      if (client.issuer === server.issuer && client.redirectUri === callbackUrl) return client;
      // Another authorization server, or a new public URL: register again and replace the old one.
      const fresh = await register(adapter, server);
      await store.replaceSetting(key, stored, await options.settings.seal(key, JSON.stringify(fresh)));
      return fresh;
    }
    const fresh = await register(adapter, server);
    // Replicas registering at once keep the first stored; the others' registrations go unused.
    const kept = await store.getOrCreateSetting(key, await options.settings.seal(key, JSON.stringify(fresh)));
    return JSON.parse(await options.settings.open(key, kept)) as RegisteredClient;
  }

  async function tokenRequest(
    server: AuthorizationServer,
    client: OAuthClient,
    form: Record<string, string>,
  ): Promise<TokenAnswer> {
    const body = new URLSearchParams(form);
    const headers: Record<string, string> = {
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
    };
    if (client.clientSecret !== undefined)
      headers.authorization = basic(client.clientId, client.clientSecret);
    else body.set('client_id', client.clientId);
    const response = await guardedFetch(http, server.tokenEndpoint, {
      method: 'POST',
      headers,
      body: body.toString(),
    });
    if (!response.ok) {
      const { error, text } = await oauthErrorOf(response);
      if (error === 'invalid_grant' || error === 'unauthorized_client' || error === 'invalid_client')
        throw new GrantRefused(text);
      throw new OAuthDiscoveryError(`the token endpoint of ${server.issuer} answered ${text}`);
    }
    const answer = (await response.json()) as Record<string, unknown>;
    const accessToken = answer.access_token;
    if (typeof accessToken !== 'string' || !HEADER_VALUE.test(accessToken))
      throw new OAuthDiscoveryError(`the token endpoint of ${server.issuer} gave no usable access_token`);
    if (typeof answer.token_type !== 'string' || answer.token_type.toLowerCase() !== 'bearer')
      throw new OAuthDiscoveryError(`the token endpoint of ${server.issuer} gave a token that is not Bearer`);
    const expiresIn = answer.expires_in;
    return {
      accessToken,
      refreshToken: typeof answer.refresh_token === 'string' ? answer.refresh_token : undefined,
      expiresInSeconds: typeof expiresIn === 'number' && expiresIn > 0 ? expiresIn : undefined,
      scope: typeof answer.scope === 'string' ? answer.scope : undefined,
    };
  }

  async function saveGrant(
    userId: string,
    adapter: OAuthUserAdapter,
    answer: TokenAnswer,
    previous: { grant: StoredGrant; tokens: GrantTokens } | undefined,
  ): Promise<void> {
    const tokens: GrantTokens = {
      access_token: answer.accessToken,
      // A server that does not rotate the refresh token keeps the old one valid.
      ...((answer.refreshToken ?? previous?.tokens.refresh_token) !== undefined && {
        refresh_token: answer.refreshToken ?? previous?.tokens.refresh_token,
      }),
    };
    const at = new Date(now());
    await store.saveGrant({
      userId,
      adapter: adapter.name,
      adapterUid: adapter.uid,
      scopes: answer.scope ?? previous?.grant.scopes ?? '',
      ...(await cipher.seal(grantSealName(userId, adapter.name), JSON.stringify(tokens))),
      createdAt: previous?.grant.createdAt ?? at,
      expiresAt:
        answer.expiresInSeconds === undefined
          ? undefined
          : new Date(at.getTime() + answer.expiresInSeconds * 1000),
      lastUpdatedAt: at,
    });
  }

  /** The stored grant of (caller, adapter) and its tokens, or undefined (none, another incarnation, unreadable). */
  async function load(userId: string, adapter: OAuthUserAdapter) {
    const grant = await store.getGrant(userId, adapter.name);
    if (!grant || grant.adapterUid !== adapter.uid) return undefined;
    try {
      const tokens = JSON.parse(await cipher.open(grantSealName(userId, adapter.name), grant)) as GrantTokens;
      return { grant, tokens };
    } catch (err) {
      logger.warn({ adapter: adapter.name, err: (err as Error).message }, 'stored OAuth grant unreadable');
      return undefined;
    }
  }

  const required = (adapter: OAuthUserAdapter, why: string) =>
    new ConnectionRequiredError(adapter.name, connectUrl(adapter.name), why);

  /** Refreshes (caller, adapter)'s grant; one at a time per pair, later callers share the one in flight. */
  function refresh(userId: string, adapter: OAuthUserAdapter): Promise<string> {
    const key = `${userId}\0${adapter.name}`;
    const running = refreshes.get(key);
    if (running) return running;
    const run = (async () => {
      const held = await load(userId, adapter);
      if (!held) throw required(adapter, 'you have not connected');
      const refreshToken = held.tokens.refresh_token;
      if (!refreshToken) {
        await store.deleteGrant(userId, adapter.name);
        throw required(adapter, 'your access expired and cannot be renewed');
      }
      const server = await discover(adapter);
      const client = await clientFor(adapter, server);
      let answer: TokenAnswer;
      try {
        answer = await tokenRequest(server, client, {
          grant_type: 'refresh_token',
          refresh_token: refreshToken,
          resource: server.resource,
        });
      } catch (err) {
        if (!(err instanceof GrantRefused)) throw err;
        logger.info({ adapter: adapter.name, problem: err.message }, 'OAuth refresh refused; grant dropped');
        await store.deleteGrant(userId, adapter.name);
        throw required(adapter, 'your authorization was withdrawn or expired');
      }
      await saveGrant(userId, adapter, answer, held);
      logger.debug({ adapter: adapter.name }, 'OAuth grant refreshed');
      return answer.accessToken;
    })();
    refreshes.set(key, run);
    void run.finally(() => refreshes.delete(key)).catch(() => undefined);
    return run.catch((err: unknown) => {
      if (err instanceof OAuthDiscoveryError || err instanceof ConnectFlowError)
        throw new UpstreamCredentialError(
          `Adapter '${adapter.name}' could not renew your access token at its authorization server: ${err.message}`,
          '',
          'token',
        );
      throw err;
    });
  }

  async function openState(text: string): Promise<ConnectState> {
    const [iv, ciphertext, extra] = text.split('.');
    if (!iv || !ciphertext || extra !== undefined || !fromBase64Url(iv) || !fromBase64Url(ciphertext))
      throw new ConnectFlowError(400, 'invalid_state', 'The connect state is not one this gateway issued.');
    try {
      return JSON.parse(
        await cipher.open(STATE_SEAL_NAME, { keyId: cipher.keyId, iv, ciphertext }),
      ) as ConnectState;
    } catch {
      throw new ConnectFlowError(400, 'invalid_state', 'The connect state is not one this gateway issued.');
    }
  }

  return {
    connectUrl,
    callbackUrl,
    clientMetadata: clientMetadata || undefined,

    async begin(principal, adapter) {
      const auth = oauthUser(adapter);
      if (!auth)
        throw new ConnectFlowError(
          400,
          'not_oauth_user',
          `Adapter '${adapter.name}' does not use per-user OAuth.`,
        );
      let server: AuthorizationServer;
      let client: OAuthClient;
      try {
        server = await discover(adapter);
        client = await clientFor(adapter, server);
      } catch (err) {
        if (err instanceof OAuthDiscoveryError)
          throw new ConnectFlowError(502, 'upstream_oauth', err.message);
        throw err;
      }
      const verifier = randomToken(32);
      const nonce = randomToken(18);
      const state: ConnectState = {
        u: principal.userId,
        a: adapter.name,
        i: adapter.uid,
        v: verifier,
        n: nonce,
        e: now() + stateTtlMs,
      };
      const sealed = await cipher.seal(STATE_SEAL_NAME, JSON.stringify(state));
      const url = new URL(server.authorizationEndpoint);
      const scopes = auth.scopes?.length ? auth.scopes : server.scopesSupported;
      url.searchParams.set('response_type', 'code');
      url.searchParams.set('client_id', client.clientId);
      url.searchParams.set('redirect_uri', callbackUrl);
      url.searchParams.set('state', `${sealed.iv}.${sealed.ciphertext}`);
      url.searchParams.set('code_challenge', await codeChallenge(verifier));
      url.searchParams.set('code_challenge_method', 'S256');
      url.searchParams.set('resource', server.resource);
      if (scopes.length) url.searchParams.set('scope', scopes.join(' '));
      // `offline_access` asks OpenID providers for a refresh token; they need the consent prompt for it.
      if (scopes.includes('offline_access')) url.searchParams.set('prompt', 'consent');
      return { location: url.href, binding: nonce };
    },

    async complete(query, binding) {
      if (!query.state) throw new ConnectFlowError(400, 'invalid_state', 'The callback carries no state.');
      const state = await openState(query.state);
      const at = now();
      for (const [nonce, until] of usedStates) if (until < at) usedStates.delete(nonce);
      if (state.e < at)
        throw new ConnectFlowError(400, 'invalid_state', 'The connect flow took too long: start it again.');
      if (usedStates.has(state.n))
        throw new ConnectFlowError(400, 'invalid_state', 'This connect flow was already completed.');
      // The browser that finishes must be the one that started: a link of someone else's flow does not bind here.
      // Compared in constant time: the binding is a bearer value.
      if (binding === undefined || !(await createSecretMatcher(state.n)(binding)))
        throw new ConnectFlowError(
          403,
          'invalid_state',
          'This connect flow was started in another browser: start it again from this one.',
        );
      usedStates.set(state.n, state.e);
      if (query.error)
        throw new ConnectFlowError(
          403,
          'access_denied',
          `The authorization server refused: ${query.error.slice(0, 100)} ${(query.error_description ?? '').slice(0, 200)}`.trim(),
        );
      if (!query.code) throw new ConnectFlowError(400, 'invalid_request', 'The callback carries no code.');
      const found = await store.get('adapter', state.a);
      if (!found || found.uid !== state.i)
        throw new ConnectFlowError(404, 'not_found', `Adapter '${state.a}' no longer exists.`);
      const adapter = found as unknown as OAuthUserAdapter;
      if (!oauthUser(adapter))
        throw new ConnectFlowError(
          400,
          'not_oauth_user',
          `Adapter '${state.a}' no longer uses per-user OAuth.`,
        );
      try {
        const server = await discover(adapter);
        const client = await clientFor(adapter, server);
        const answer = await tokenRequest(server, client, {
          grant_type: 'authorization_code',
          code: query.code,
          redirect_uri: callbackUrl,
          code_verifier: state.v,
          resource: server.resource,
        });
        await saveGrant(state.u, adapter, answer, undefined);
      } catch (err) {
        if (err instanceof OAuthDiscoveryError || err instanceof GrantRefused)
          throw new ConnectFlowError(502, 'upstream_oauth', `The code exchange failed: ${err.message}`);
        throw err;
      }
      logger.info({ adapter: adapter.name }, 'OAuth grant stored');
      return adapter.name;
    },

    async accessToken(userId, adapter) {
      const held = await load(userId, adapter);
      if (!held) throw required(adapter, 'you have not connected');
      const expires = held.grant.expiresAt?.getTime();
      if (expires !== undefined && expires - REFRESH_EARLY_MS <= now()) return refresh(userId, adapter);
      return held.tokens.access_token;
    },

    async renew(userId, adapter, rejected) {
      const held = await load(userId, adapter);
      if (!held) throw required(adapter, 'you have not connected');
      // Refreshed by another request meanwhile: use that token rather than refreshing again.
      if (held.tokens.access_token !== rejected) return held.tokens.access_token;
      return refresh(userId, adapter);
    },

    list: (userId) => store.listGrants(userId),

    async disconnect(userId, adapterName, adapter) {
      const held = adapter ? await load(userId, adapter) : undefined;
      const deleted = await store.deleteGrant(userId, adapterName);
      if (!deleted || !held || !adapter) return deleted;
      try {
        const server = await discover(adapter);
        if (!server.revocationEndpoint) return true;
        const client = await clientFor(adapter, server);
        // RFC 7009: the refresh token first (revoking it ends the grant at most servers), then the access token.
        const tokens = [
          ...(held.tokens.refresh_token ? [['refresh_token', held.tokens.refresh_token] as const] : []),
          ['access_token', held.tokens.access_token] as const,
        ];
        for (const [hint, token] of tokens) {
          const body = new URLSearchParams({ token, token_type_hint: hint });
          const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
          if (client.clientSecret !== undefined)
            headers.authorization = basic(client.clientId, client.clientSecret);
          else body.set('client_id', client.clientId);
          const response = await guardedFetch(http, server.revocationEndpoint, {
            method: 'POST',
            headers,
            body: body.toString(),
          });
          await response.body?.cancel();
          if (!response.ok)
            logger.warn({ adapter: adapterName, status: response.status, hint }, 'OAuth revocation refused');
        }
      } catch (err) {
        // The grant is gone here either way; the upstream's copy expires on its own.
        logger.warn({ adapter: adapterName, err: (err as Error).message }, 'OAuth revocation failed');
      }
      return true;
    },
  };
}
