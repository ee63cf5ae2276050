/**
 * @module oauth-user-discovery: how the gateway, as an OAuth client of a remote MCP server, finds that server's
 * authorization server — the MCP way (authorization spec 2025-11-25): a request without a token gets 401 with
 * `WWW-Authenticate: Bearer resource_metadata="…"`; that RFC 9728 protected-resource metadata names the
 * authorization server; its RFC 8414 (or OpenID discovery) metadata gives the endpoints. Every URL is put to the
 * SSRF guard before it is contacted, no redirect is followed, and every answer is bounded in time and size.
 */

/** The endpoints of an upstream's authorization server the token vault uses. */
export interface AuthorizationServer {
  readonly issuer: string;
  readonly authorizationEndpoint: string;
  readonly tokenEndpoint: string;
  readonly registrationEndpoint: string | undefined;
  readonly revocationEndpoint: string | undefined;
  /** The resource indicator (RFC 8707) to ask tokens for: the upstream MCP URL. */
  readonly resource: string;
  /** `scopes_supported` of the protected resource, asked for when the adapter names no scopes. */
  readonly scopesSupported: readonly string[];
  /** The server takes an HTTPS URL of a Client ID Metadata Document as `client_id` (`client_id_metadata_document_supported`). */
  readonly clientIdMetadataDocuments: boolean;
}

/** Discovery failed; the message says which step and why (never a token or secret). */
export class OAuthDiscoveryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OAuthDiscoveryError';
  }
}

/** What discovery and the other outbound OAuth requests share. */
export interface OAuthHttp {
  readonly fetch: (url: string, init: RequestInit) => Promise<Response>;
  /** Why a URL must not be contacted (the SSRF guard), or undefined. */
  readonly refuseUrl?: (url: string) => string | undefined;
  readonly timeoutMs: number;
}

/** Largest metadata document read. */
const MAX_DOCUMENT_BYTES = 256 * 1024;

/** Sends one request under the guard: refused URLs are not contacted, redirects are not followed. */
export async function guardedFetch(http: OAuthHttp, url: string, init: RequestInit = {}): Promise<Response> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new OAuthDiscoveryError(`${JSON.stringify(url.slice(0, 200))} is not a URL`);
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:')
    throw new OAuthDiscoveryError(`${parsed.origin} is not an http(s) URL`);
  const refusal = http.refuseUrl?.(url);
  if (refusal) throw new OAuthDiscoveryError(`${parsed.origin} is refused: ${refusal}`);
  try {
    return await http.fetch(url, {
      ...init,
      redirect: 'manual',
      signal: AbortSignal.timeout(http.timeoutMs),
    });
  } catch (err) {
    const name = (err as { name?: unknown }).name;
    if (name === 'TimeoutError')
      throw new OAuthDiscoveryError(`${parsed.origin} did not answer within ${http.timeoutMs} ms`);
    const cause = (err as { cause?: { code?: unknown } }).cause;
    throw new OAuthDiscoveryError(`${parsed.origin} is unreachable (${String(cause?.code ?? 'error')})`);
  }
}

/** A JSON object from `url`, or undefined on 404 (a well-known path the server does not serve). */
async function jsonDocument(http: OAuthHttp, url: string): Promise<Record<string, unknown> | undefined> {
  const response = await guardedFetch(http, url, { headers: { accept: 'application/json' } });
  if (response.status === 404 || response.status === 405) {
    await response.body?.cancel();
    return undefined;
  }
  if (!response.ok) {
    await response.body?.cancel();
    throw new OAuthDiscoveryError(`${url} answered HTTP ${response.status}`);
  }
  const text = await response.text();
  if (text.length > MAX_DOCUMENT_BYTES) throw new OAuthDiscoveryError(`${url} is larger than 256 KiB`);
  try {
    const body = JSON.parse(text) as unknown;
    if (typeof body === 'object' && body !== null && !Array.isArray(body))
      return body as Record<string, unknown>;
  } catch {
    // Falls through to the error below.
  }
  throw new OAuthDiscoveryError(`${url} is not a JSON object`);
}

/** The `resource_metadata` parameter of a `WWW-Authenticate: Bearer …` challenge, if any. */
export function resourceMetadataOf(challenge: string | null): string | undefined {
  if (!challenge) return undefined;
  const match = /(?:^|[\s,])resource_metadata\s*=\s*(?:"([^"]*)"|([^\s,]+))/i.exec(challenge);
  return match ? (match[1] ?? match[2]) : undefined;
}

const stringOf = (value: unknown) => (typeof value === 'string' && value !== '' ? value : undefined);

/** RFC 9728 §3.1: the metadata path inserted between the host and the resource's path. */
function wellKnown(base: string, suffix: string): string[] {
  const url = new URL(base);
  const path = url.pathname.replace(/\/+$/, '');
  const origin = url.origin;
  return path
    ? [`${origin}/.well-known/${suffix}${path}`, `${origin}/.well-known/${suffix}`]
    : [`${origin}/.well-known/${suffix}`];
}

/**
 * Discovers the authorization server of the MCP server at `upstreamUrl`: the 401's `resource_metadata` (or the
 * well-known paths when the challenge names none), then the server's metadata (RFC 8414 first, then OpenID
 * discovery, each with the issuer's path inserted and then appended). The issuer in the metadata must be the one
 * named, and the server must offer PKCE with S256 (MCP requires it).
 */
export async function discoverAuthorizationServer(
  http: OAuthHttp,
  upstreamUrl: string,
): Promise<AuthorizationServer> {
  const probe = await guardedFetch(http, upstreamUrl, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': '2025-11-25',
    },
    body: JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'ping' }),
  });
  await probe.body?.cancel();
  const named = probe.status === 401 ? resourceMetadataOf(probe.headers.get('www-authenticate')) : undefined;
  let metadata: Record<string, unknown> | undefined;
  for (const url of named ? [named] : wellKnown(upstreamUrl, 'oauth-protected-resource')) {
    metadata = await jsonDocument(http, url);
    if (metadata) break;
  }
  if (!metadata)
    throw new OAuthDiscoveryError(
      `${new URL(upstreamUrl).origin} publishes no protected-resource metadata (RFC 9728): its 401 names no resource_metadata`,
    );
  const servers = metadata.authorization_servers;
  const issuer = Array.isArray(servers) ? stringOf(servers[0]) : undefined;
  if (!issuer) throw new OAuthDiscoveryError('the protected-resource metadata names no authorization server');
  const scopesSupported = Array.isArray(metadata.scopes_supported)
    ? metadata.scopes_supported.filter((s): s is string => typeof s === 'string')
    : [];

  const issuerUrl = new URL(issuer);
  const issuerPath = issuerUrl.pathname.replace(/\/+$/, '');
  const candidates = [
    `${issuerUrl.origin}/.well-known/oauth-authorization-server${issuerPath}`,
    `${issuerUrl.origin}/.well-known/openid-configuration${issuerPath}`,
    ...(issuerPath ? [`${issuerUrl.origin}${issuerPath}/.well-known/openid-configuration`] : []),
  ];
  let server: Record<string, unknown> | undefined;
  for (const url of candidates) {
    server = await jsonDocument(http, url);
    if (server) break;
  }
  if (!server) throw new OAuthDiscoveryError(`${issuer} publishes no authorization server metadata`);
  if (stringOf(server.issuer)?.replace(/\/+$/, '') !== issuer.replace(/\/+$/, ''))
    throw new OAuthDiscoveryError(`the metadata of ${issuer} names another issuer`);
  const authorizationEndpoint = stringOf(server.authorization_endpoint);
  const tokenEndpoint = stringOf(server.token_endpoint);
  if (!authorizationEndpoint || !tokenEndpoint)
    throw new OAuthDiscoveryError(`${issuer} names no authorization or token endpoint`);
  const methods = server.code_challenge_methods_supported;
  if (!Array.isArray(methods) || !methods.includes('S256'))
    throw new OAuthDiscoveryError(`${issuer} does not offer PKCE with S256`);
  return {
    issuer,
    authorizationEndpoint,
    tokenEndpoint,
    registrationEndpoint: stringOf(server.registration_endpoint),
    revocationEndpoint: stringOf(server.revocation_endpoint),
    resource: upstreamUrl,
    scopesSupported,
    clientIdMetadataDocuments: server.client_id_metadata_document_supported === true,
  };
}
