/**
 * @module oidc-discovery: finds an issuer's `jwks_uri` from OpenID Connect Discovery
 * (`/.well-known/openid-configuration`), falling back to RFC 8414 (`/.well-known/oauth-authorization-server`).
 */
import { TokenVerifierUnavailableError } from './token-verifier.js';

/** What the gateway needs from an issuer's metadata. */
export interface DiscoveredIssuer {
  readonly issuer: string;
  readonly jwksUri: string;
  /** The document itself, as published. */
  readonly metadata: Readonly<Record<string, unknown>>;
  /** Where it was found. */
  readonly url: string;
}

/** Options for {@link discoverIssuer}. */
export interface DiscoverIssuerOptions {
  readonly fetch?: typeof fetch;
  readonly timeoutMs?: number;
}

/** The two well-known locations of an issuer's metadata, in the order they are tried. */
export function discoveryUrls(issuer: string): string[] {
  const url = new URL(issuer);
  const path = url.pathname.replace(/\/+$/, '');
  return [
    // OIDC Discovery §4: appended to the issuer, path included.
    `${url.origin}${path}/.well-known/openid-configuration`,
    // RFC 8414 §3: inserted between the host and the issuer's path.
    `${url.origin}/.well-known/oauth-authorization-server${path}`,
  ];
}

function isLoopback(hostname: string): boolean {
  const h = hostname.replace(/^\[(.*)\]$/, '$1');
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h);
}

/** https, or http to a loopback host: keys fetched over plain http elsewhere could be swapped in transit. */
export function isSecureKeyUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || (url.protocol === 'http:' && isLoopback(url.hostname));
  } catch {
    return false;
  }
}

/**
 * Fetches the issuer's metadata and checks that it names the same issuer (OIDC Discovery §4.3, RFC 8414 §3.3)
 * and a usable `jwks_uri`. Rejects with {@link TokenVerifierUnavailableError} describing each attempt.
 */
export async function discoverIssuer(
  issuer: string,
  options: DiscoverIssuerOptions = {},
): Promise<DiscoveredIssuer> {
  const fetchImpl = options.fetch ?? fetch;
  const timeoutMs = options.timeoutMs ?? 5000;
  const attempts: string[] = [];
  for (const url of discoveryUrls(issuer)) {
    let response: Response;
    try {
      response = await fetchImpl(url, {
        headers: { accept: 'application/json' },
        redirect: 'manual',
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      attempts.push(`${url}: ${err instanceof Error ? err.message : String(err)}`);
      continue;
    }
    if (response.status !== 200) {
      await response.body?.cancel();
      attempts.push(`${url}: HTTP ${response.status}`);
      continue;
    }
    let metadata: unknown;
    try {
      metadata = await response.json();
    } catch {
      attempts.push(`${url}: not JSON`);
      continue;
    }
    if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) {
      attempts.push(`${url}: not a JSON object`);
      continue;
    }
    const doc = metadata as Record<string, unknown>;
    // A document for another issuer is a misconfiguration or an impersonation attempt; never fall back past it.
    if (doc['issuer'] !== issuer) {
      throw new TokenVerifierUnavailableError(
        `The metadata at ${url} names the issuer ${JSON.stringify(doc['issuer'])}, not ${JSON.stringify(issuer)}.`,
      );
    }
    const jwksUri = doc['jwks_uri'];
    if (typeof jwksUri !== 'string' || !isSecureKeyUrl(jwksUri)) {
      throw new TokenVerifierUnavailableError(
        `The metadata at ${url} has no usable jwks_uri (an https URL is required; got ${JSON.stringify(jwksUri)}).`,
      );
    }
    return { issuer, jwksUri, metadata: doc, url };
  }
  throw new TokenVerifierUnavailableError(`Cannot discover the issuer ${issuer}: ${attempts.join('; ')}.`);
}
