/**
 * @module oidc-client: the MCP client side of a real OAuth round trip, for tests. A headless
 * `OAuthClientProvider` for the official SDK (1.x) whose "browser" follows the authorization redirects with
 * fetch (the authorization server signs the user in programmatically), and helpers that run the SDK's own
 * discovery: 401 → `WWW-Authenticate` → RFC 9728 metadata → authorization server → DCR → PKCE → token.
 */
import { auth, extractWWWAuthenticateParams } from '@modelcontextprotocol/sdk/client/auth.js';
import type { OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type {
  OAuthClientInformationMixed,
  OAuthClientMetadata,
  OAuthTokens,
} from '@modelcontextprotocol/sdk/shared/auth.js';
import { mcpPostHeaders } from './legacy-requests.js';

/** Where the headless client pretends to receive the redirect; nothing listens there. */
export const HEADLESS_REDIRECT_URL = 'http://127.0.0.1/oauth/callback';

/** Follows redirects with a cookie jar until one lands on `redirectUrl`; returns that URL. */
export async function followAuthorizationRedirects(
  authorizationUrl: URL,
  redirectUrl: string,
  fetchImpl: typeof fetch = fetch,
): Promise<URL> {
  const cookies = new Map<string, string>();
  let url = authorizationUrl;
  for (let hop = 0; hop < 20; hop++) {
    if (url.href.startsWith(redirectUrl)) return url;
    const res = await fetchImpl(url, {
      redirect: 'manual',
      headers: { cookie: [...cookies].map(([k, v]) => `${k}=${v}`).join('; ') },
    });
    for (const line of res.headers.getSetCookie()) {
      const [pair = '', ...attributes] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const expired = attributes.some(
        (a) => /^\s*max-age=0\s*$/i.test(a) || /^\s*expires=thu, 01 jan 1970/i.test(a),
      );
      if (expired) cookies.delete(name);
      else cookies.set(name, pair.slice(eq + 1).trim());
    }
    const location = res.headers.get('location');
    if (res.status < 300 || res.status >= 400 || !location) {
      throw new Error(
        `authorization stopped at ${url.pathname} with HTTP ${res.status}: ${(await res.text()).slice(0, 500)}`,
      );
    }
    await res.body?.cancel();
    url = new URL(location, url);
  }
  throw new Error('authorization did not reach the redirect URL within 20 hops');
}

/**
 * An `OAuthClientProvider` that keeps everything in memory and completes the browser step itself. After
 * `auth()` returns `REDIRECT`, {@link authorizationCode} holds the code for the second `auth()` call (or for
 * `transport.finishAuth`).
 */
export class HeadlessOAuthClientProvider implements OAuthClientProvider {
  private info: OAuthClientInformationMixed | undefined;
  private savedTokens: OAuthTokens | undefined;
  private verifier = '';
  private expectedState = '';
  /** The code from the last completed authorization. */
  authorizationCode: string | undefined;
  /** Every authorization URL visited, for assertions (e.g. that `resource` was sent). */
  readonly authorizationUrls: URL[] = [];

  constructor(private readonly fetchImpl: typeof fetch = fetch) {}

  get redirectUrl(): string {
    return HEADLESS_REDIRECT_URL;
  }

  get clientMetadata(): OAuthClientMetadata {
    return {
      client_name: 'MCP Gateway test client',
      redirect_uris: [HEADLESS_REDIRECT_URL],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    };
  }

  state(): string {
    this.expectedState = crypto.randomUUID();
    return this.expectedState;
  }

  clientInformation() {
    return this.info;
  }
  saveClientInformation(info: OAuthClientInformationMixed): void {
    this.info = info;
  }
  tokens() {
    return this.savedTokens;
  }
  saveTokens(tokens: OAuthTokens): void {
    this.savedTokens = tokens;
  }
  saveCodeVerifier(verifier: string): void {
    this.verifier = verifier;
  }
  codeVerifier(): string {
    return this.verifier;
  }
  invalidateCredentials(scope: 'all' | 'client' | 'tokens' | 'verifier' | 'discovery'): void {
    if (scope === 'all' || scope === 'tokens') this.savedTokens = undefined;
    if (scope === 'all' || scope === 'client') this.info = undefined;
  }

  async redirectToAuthorization(authorizationUrl: URL): Promise<void> {
    this.authorizationUrls.push(authorizationUrl);
    const landed = await followAuthorizationRedirects(
      authorizationUrl,
      HEADLESS_REDIRECT_URL,
      this.fetchImpl,
    );
    const error = landed.searchParams.get('error');
    if (error)
      throw new Error(`authorization failed: ${error} ${landed.searchParams.get('error_description') ?? ''}`);
    if (landed.searchParams.get('state') !== this.expectedState)
      throw new Error('authorization returned a wrong state');
    const code = landed.searchParams.get('code');
    if (!code) throw new Error('authorization returned no code');
    this.authorizationCode = code;
  }
}

/** Result of {@link signInWithMcpSdk}. */
export interface SdkSignIn {
  readonly tokens: OAuthTokens;
  readonly provider: HeadlessOAuthClientProvider;
  /** The 401's `WWW-Authenticate` parameters, as the SDK parsed them. */
  readonly challenge: ReturnType<typeof extractWWWAuthenticateParams>;
}

/**
 * Signs in to a protected MCP endpoint the way an MCP client does: POSTs without a token, takes the 401's
 * `resource_metadata`, and lets the SDK's `auth()` discover the authorization server, register, authorize
 * (PKCE + RFC 8707 `resource`) and exchange the code. Works against any MCP endpoint URL — a test route now,
 * the gateway's real `/adapters/{name}/mcp` or `/mcp` later.
 */
export async function signInWithMcpSdk(
  mcpUrl: string,
  provider = new HeadlessOAuthClientProvider(),
  fetchImpl: typeof fetch = fetch,
): Promise<SdkSignIn> {
  const probe = await fetchImpl(mcpUrl, {
    method: 'POST',
    headers: mcpPostHeaders(),
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
  });
  await probe.body?.cancel();
  if (probe.status !== 401) throw new Error(`expected 401 from ${mcpUrl}, got ${probe.status}`);
  const challenge = extractWWWAuthenticateParams(probe);
  const common = {
    serverUrl: mcpUrl,
    fetchFn: fetchImpl,
    ...(challenge.resourceMetadataUrl && { resourceMetadataUrl: challenge.resourceMetadataUrl }),
    ...(challenge.scope && { scope: challenge.scope }),
  };
  const first = await auth(provider, common);
  if (first !== 'REDIRECT' || !provider.authorizationCode)
    throw new Error(`expected REDIRECT from auth(), got ${first}`);
  const second = await auth(provider, { ...common, authorizationCode: provider.authorizationCode });
  if (second !== 'AUTHORIZED') throw new Error(`expected AUTHORIZED from auth(), got ${second}`);
  const tokens = provider.tokens();
  if (!tokens) throw new Error('auth() reported AUTHORIZED but saved no tokens');
  return { tokens, provider, challenge };
}

/**
 * Connects an SDK `Client` to a protected MCP endpoint through `StreamableHTTPClientTransport` with
 * `authProvider`: the first attempt gets 401 and runs the OAuth flow inside the transport, then the
 * connection is retried with the token — exactly what an interactive client does after its redirect.
 */
export async function connectWithOAuth(
  mcpUrl: string,
  provider = new HeadlessOAuthClientProvider(),
): Promise<{ client: Client; provider: HeadlessOAuthClientProvider }> {
  const first = new StreamableHTTPClientTransport(new URL(mcpUrl), { authProvider: provider });
  const client = new Client({ name: 'mcp-gateway-oauth-test', version: '1.0.0' });
  try {
    await client.connect(first);
    return { client, provider };
  } catch (err) {
    if (!provider.authorizationCode) throw err;
  }
  await first.finishAuth(provider.authorizationCode);
  await first.close();
  const retry = new Client({ name: 'mcp-gateway-oauth-test', version: '1.0.0' });
  await retry.connect(new StreamableHTTPClientTransport(new URL(mcpUrl), { authProvider: provider }));
  return { client: retry, provider };
}
