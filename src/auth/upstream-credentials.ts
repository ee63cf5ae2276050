/**
 * @module upstream-credentials: the gateway's own credential for an upstream (`upstreamAuth` on an adapter or a
 * tool), as a header to add to a request after the caller's headers were filtered. The secret named by the spec
 * is read from the secret store and decrypted when a request is sent, and reused for at most `ttlMs` (the
 * registry cache's TTL, as adapters are): a read and a decryption cost about twice the adapter row read that
 * cache saves (`scripts/bench/upstream-credentials.ts`). A write to `/secrets` on this instance drops the value at
 * once ({@link UpstreamCredentials.forget}), so a rotation counts from the next request here and within the TTL
 * on other replicas. Decrypted values are kept in this process's memory only.
 * The caller never sets this header (the forwarders write it last, over anything of the same name) and never
 * reads it (the response header allow-list, `dataplane/proxy-headers.ts`).
 */
import type { Logger } from '../observability/index.js';
import { SecretDecryptionError, upstreamAuthSecretName } from '../registry/index.js';
import { callerTokenOf } from './caller-token.js';
import type { CommonSpec, Registered, ResourceKind, UpstreamAuthSpec } from '../registry/index.js';

/** One header to send upstream. */
export interface UpstreamCredential {
  /** Lower case, as the forwarders key headers (so it replaces a caller's header of the same name). */
  readonly header: string;
  readonly value: string;
}

/**
 * Why a credential could not be made; the message names the resource and the secret, never a value. `token`:
 * the token endpoint of `oauth-client-credentials` refused or failed; `connect`: an `oauth-user` adapter and a
 * caller without a usable grant (`ConnectionRequiredError`, which names the `/connect` URL).
 */
export type UpstreamCredentialProblem = 'missing' | 'unreadable' | 'unusable' | 'token' | 'connect';

/** The credential of a resource could not be made: nothing is sent upstream without it. */
export class UpstreamCredentialError extends Error {
  constructor(
    message: string,
    readonly secret: string,
    readonly problem: UpstreamCredentialProblem,
  ) {
    super(message);
    this.name = 'UpstreamCredentialError';
  }
}

/** What the resolver needs of a resource. */
export interface CredentialedResource {
  readonly kind: ResourceKind;
  readonly name: string;
  readonly spec: Pick<CommonSpec, 'upstreamAuth' | 'endpoints'>;
}

/** The adapter fields per-user tokens are kept by. */
export type OAuthUserAdapter = Pick<Registered<'adapter'>, 'name' | 'uid' | 'spec'>;

/** Per-user access tokens (the token vault, `token-vault.ts`) as the resolver uses them. */
export interface PerUserTokens {
  accessToken(userId: string, adapter: OAuthUserAdapter): Promise<string>;
  renew(userId: string, adapter: OAuthUserAdapter, rejected: string): Promise<string>;
}

/**
 * Who a request is sent for: an `oauth-user` adapter's upstream gets this caller's own token; `token-exchange`
 * exchanges the bearer token this caller (a principal the bearer middleware made) came with.
 */
export interface CredentialCaller {
  readonly userId: string;
}

/** Makes the header a resource's upstream gets. */
export interface UpstreamCredentials {
  /**
   * The header to add for `resource`, or undefined when it has no `upstreamAuth`. Rejects with
   * {@link UpstreamCredentialError} when the secret is missing, cannot be decrypted, or cannot travel in a header,
   * and (`oauth-user`) with `ConnectionRequiredError` when `caller` has no usable grant.
   */
  resolve(resource: CredentialedResource, caller?: CredentialCaller): Promise<UpstreamCredential | undefined>;
  /**
   * The upstream answered 401 to `rejected`. An `oauth-user` credential: the caller's token refreshed once, or
   * `ConnectionRequiredError`. A token the gateway got itself (`oauth-client-credentials`, `token-exchange`): that
   * token dropped and a new one requested — unless the refused token was itself such a renewal, refused on its
   * first use ({@link refusedRenewal}) less than {@link RENEWED_TOKEN_MIN_AGE_MS} ago, so an upstream that refuses
   * every token costs one token request per that time, not one per call. Static secrets are not renewed.
   * Refusals reject with {@link UpstreamCredentialError}.
   */
  renew(
    resource: CredentialedResource,
    caller: CredentialCaller,
    rejected: UpstreamCredential,
  ): Promise<UpstreamCredential>;
  /** The request sent again with a token {@link renew} just got was refused too: that token is not renewed soon. */
  refusedRenewal(credential: UpstreamCredential): void;
  /** The secret was written or deleted on this instance: its value is read afresh by the next request. */
  forget(secret: string): void;
}

/** For runtimes without a secret store (tests of other parts): a resource with `upstreamAuth` is refused. */
export const NO_UPSTREAM_CREDENTIALS: UpstreamCredentials = Object.freeze({
  async resolve(resource: CredentialedResource) {
    if (resource.spec.upstreamAuth?.type === 'oauth-user') throw noVault(resource);
    const secret = upstreamAuthSecretName(resource.spec);
    if (secret === undefined) return undefined;
    throw new UpstreamCredentialError(
      `${label(resource)} needs secret '${secret}' for its upstream, and this gateway has no secret store.`,
      secret,
      'missing',
    );
  },
  async renew(resource: CredentialedResource): Promise<UpstreamCredential> {
    throw noVault(resource);
  },
  refusedRenewal() {},
  forget() {},
});

function noVault(resource: CredentialedResource): UpstreamCredentialError {
  return new UpstreamCredentialError(
    `${label(resource)} needs per-user OAuth grants, and this gateway has no token vault.`,
    '',
    'missing',
  );
}

/** Options for {@link createUpstreamCredentials}. */
export interface UpstreamCredentialsOptions {
  /** The decrypted value of a stored secret, or undefined when there is none (`readSecretValue`). */
  readonly readSecret: (name: string) => Promise<string | undefined>;
  readonly logger: Logger;
  /** How long a value read (or found missing) is reused; 0, the default, reads on every request. */
  readonly ttlMs?: number;
  readonly now?: () => number;
  /** Sends token requests (`oauth-client-credentials`, `token-exchange`); the runtime's `fetch` by default. */
  readonly fetch?: (url: string, init: RequestInit) => Promise<Response>;
  /** Why a token URL must not be contacted (the SSRF guard), or undefined; asked before every token request. */
  readonly refuseUrl?: (url: string) => string | undefined;
  /** Longest wait for a token endpoint; default 10 s. */
  readonly tokenTimeoutMs?: number;
  /** Per-user grants (`oauth-user`); without it such a resource is refused. */
  readonly vault?: PerUserTokens;
  /**
   * The token endpoint a `token-exchange` without `tokenUrl` uses (the gateway's OIDC issuer's), or rejects
   * when it cannot be found; without it such a resource is refused.
   */
  readonly issuerTokenEndpoint?: () => Promise<string>;
  /** Most exchanged tokens kept (one per caller token and resource); default 10 000. */
  readonly maxExchangedTokens?: number;
}

type ClientCredentialsAuth = Extract<UpstreamAuthSpec, { type: 'oauth-client-credentials' }>;
type TokenExchangeAuth = Extract<UpstreamAuthSpec, { type: 'token-exchange' }>;

/** RFC 8693 §2.1. */
const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';

/** An access token and when the gateway stops using it (shortly before it expires). */
interface Token {
  readonly value: string;
  readonly renewAt: number;
}

/**
 * A token of the caches below: in flight until `settled`; `renewedAt` when it replaced one an upstream refused,
 * `refusedAtOnce` when the request sent again with it was refused too.
 */
interface HeldToken {
  readonly token: Promise<Token>;
  settled?: Token;
  readonly renewedAt?: number;
  refusedAtOnce?: boolean;
}

/**
 * A token that replaced a refused one and was refused on its first use is not replaced again before this age:
 * an upstream that refuses every token (a wrong audience, a client it no longer knows) costs one token request
 * per this time, not one per call.
 */
export const RENEWED_TOKEN_MIN_AGE_MS = 30_000;

/** A token endpoint's failure, worded for the caller (never holding the client secret or a token). */
class TokenRequestError extends Error {}

/** Lifetime assumed when a token endpoint gives no `expires_in` (RFC 6749 §5.1 only recommends it). */
const DEFAULT_TOKEN_SECONDS = 60;
/** Tokens are renewed this long before they expire, and at most a tenth of their lifetime before. */
const RENEW_BEFORE_SECONDS = 30;

/** `application/x-www-form-urlencoded` of one value, as RFC 6749 §2.3.1 asks for the Basic credentials. */
const formEncoded = (value: string) => new URLSearchParams({ v: value }).toString().slice(2);

function basicCredentials(clientId: string, clientSecret: string): string {
  const bytes = new TextEncoder().encode(`${formEncoded(clientId)}:${formEncoded(clientSecret)}`);
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return `Basic ${btoa(binary)}`;
}

/** What the token endpoint said went wrong: its `error` and a bounded `error_description`, or the status. */
async function tokenErrorOf(response: Response): Promise<string> {
  const status = `HTTP ${response.status}`;
  try {
    const body = (await response.json()) as { error?: unknown; error_description?: unknown };
    if (typeof body.error !== 'string') return status;
    const description =
      typeof body.error_description === 'string' ? `: ${body.error_description.slice(0, 200)}` : '';
    return `${status} ${body.error.slice(0, 100)}${description}`;
  } catch {
    return status;
  }
}

const label = (resource: CredentialedResource) =>
  `${resource.kind === 'adapter' ? 'Adapter' : 'Tool'} '${resource.name}'`;

/**
 * What a header value may hold (RFC 9110 §5.5 without obs-text): visible ASCII, spaces and tabs. A CR or LF
 * would split the request, and the forwarders refuse anything else with an error that could echo the value.
 */
const HEADER_VALUE = /^[\t\x20-\x7e]*$/;

/** Builds the resolver over the secret store. */
export function createUpstreamCredentials(options: UpstreamCredentialsOptions): UpstreamCredentials {
  const { readSecret, logger } = options;
  const ttlMs = options.ttlMs ?? 0;
  const now = options.now ?? Date.now;
  // Concurrent misses share one read; a forgotten entry's read still settles, into an entry no longer listed.
  const values = new Map<string, { readonly value: Promise<string | undefined>; readonly expires: number }>();

  function read(secret: string): Promise<string | undefined> {
    if (ttlMs === 0) return readSecret(secret);
    const hit = values.get(secret);
    if (hit && hit.expires > now()) return hit.value;
    const entry = { value: readSecret(secret), expires: now() + ttlMs };
    values.set(secret, entry);
    // A failed read (an undecryptable value) is not reused.
    entry.value.catch(() => {
      if (values.get(secret) === entry) values.delete(secret);
    });
    return entry.value;
  }

  const sendToken = options.fetch ?? ((url: string, init: RequestInit) => fetch(url, init));
  const tokenTimeoutMs = options.tokenTimeoutMs ?? 10_000;
  // By client and client secret: a rotated client secret gets a token of its own. A request in flight is shared
  // by every caller that needs the token meanwhile (one token request for a burst); a failed one is not kept.
  const tokens = new Map<string, HeldToken>();

  /** One token request (client authenticated with HTTP Basic), its answer checked; never echoes a secret. */
  async function postToken(
    tokenUrl: string,
    clientId: string,
    clientSecret: string,
    body: URLSearchParams,
  ): Promise<Token> {
    const refusal = options.refuseUrl?.(tokenUrl);
    if (refusal) throw new TokenRequestError(`the token URL is refused: ${refusal}`);
    let response: Response;
    try {
      response = await sendToken(tokenUrl, {
        method: 'POST',
        headers: {
          authorization: basicCredentials(clientId, clientSecret),
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
        },
        body: body.toString(),
        redirect: 'manual',
        signal: AbortSignal.timeout(tokenTimeoutMs),
      });
    } catch (err) {
      const name = (err as { name?: unknown }).name;
      if (name === 'TimeoutError') throw new TokenRequestError(`no answer within ${tokenTimeoutMs} ms`);
      const cause = (err as { cause?: { code?: unknown; message?: unknown } }).cause;
      throw new TokenRequestError(String(cause?.code ?? cause?.message ?? (err as Error).message));
    }
    if (!response.ok) throw new TokenRequestError(await tokenErrorOf(response));
    let answer: { access_token?: unknown; token_type?: unknown; expires_in?: unknown };
    try {
      answer = (await response.json()) as typeof answer;
    } catch {
      throw new TokenRequestError('the answer is not JSON');
    }
    const { access_token: value, token_type: type, expires_in: expiresIn } = answer;
    if (typeof value !== 'string' || value === '' || !HEADER_VALUE.test(value))
      throw new TokenRequestError('the answer holds no usable access_token');
    if (typeof type !== 'string' || type.toLowerCase() !== 'bearer')
      throw new TokenRequestError(`the token type is ${JSON.stringify(type)}, not Bearer`);
    const seconds =
      typeof expiresIn === 'number' && Number.isFinite(expiresIn) && expiresIn > 0
        ? expiresIn
        : DEFAULT_TOKEN_SECONDS;
    const early = Math.min(RENEW_BEFORE_SECONDS, seconds / 10);
    return { value, renewAt: now() + (seconds - early) * 1000 };
  }

  // Keys whose token an upstream refused and which are being requested again: the new entry says it is a renewal.
  const renewing = new Set<string>();
  const renewal = (key: string): Pick<HeldToken, 'renewedAt'> =>
    renewing.delete(key) ? { renewedAt: now() } : {};

  /** The cache entry holding the token `value`, if one still does. */
  function heldWith(value: string) {
    for (const cache of [tokens, exchanged])
      for (const [key, entry] of cache) if (entry.settled?.value === value) return { cache, key, entry };
    return undefined;
  }

  function requestToken(auth: ClientCredentialsAuth, clientSecret: string): Promise<Token> {
    const body = new URLSearchParams({ grant_type: 'client_credentials' });
    if (auth.scopes?.length) body.set('scope', auth.scopes.join(' '));
    return postToken(auth.tokenUrl, auth.clientId, clientSecret, body);
  }

  function tokenFor(auth: ClientCredentialsAuth, clientSecret: string): Promise<Token> {
    const key = [auth.tokenUrl, auth.clientId, (auth.scopes ?? []).join(' '), clientSecret].join('\0');
    const held = tokens.get(key);
    if (held && (held.settled === undefined || held.settled.renewAt > now())) return held.token;
    const entry: HeldToken = { token: requestToken(auth, clientSecret), ...renewal(key) };
    tokens.set(key, entry);
    entry.token.then(
      (token) => {
        entry.settled = token;
        // Tokens of clients no longer used (a rotated client secret) go once they are due for renewal.
        for (const [other, e] of tokens) if (e.settled && e.settled.renewAt <= now()) tokens.delete(other);
      },
      () => {
        if (tokens.get(key) === entry) tokens.delete(key);
      },
    );
    return entry.token;
  }

  // Exchanged tokens by (caller token, exchange settings, client secret), in this process's memory only; a burst
  // of one caller's requests shares one exchange, a failed one is not kept. Bounded: expired entries go first,
  // then the oldest.
  const maxExchanged = options.maxExchangedTokens ?? 10_000;
  const exchanged = new Map<string, HeldToken>();

  function makeRoom() {
    if (exchanged.size < maxExchanged) return;
    for (const [key, e] of exchanged) if (e.settled && e.settled.renewAt <= now()) exchanged.delete(key);
    for (const key of exchanged.keys()) {
      if (exchanged.size < maxExchanged) break;
      exchanged.delete(key);
    }
  }

  function exchangeFor(
    auth: TokenExchangeAuth,
    tokenUrl: string,
    target: { audience?: string; resource?: string },
    clientSecret: string,
    subjectToken: string,
  ): Promise<Token> {
    const key = JSON.stringify([
      subjectToken,
      tokenUrl,
      auth.clientId,
      clientSecret,
      target.audience ?? '',
      target.resource ?? '',
      auth.scopes ?? [],
      auth.subjectTokenType ?? '',
      auth.requestedTokenType ?? '',
    ]);
    const held = exchanged.get(key);
    if (held && (held.settled === undefined || held.settled.renewAt > now())) return held.token;
    if (held) exchanged.delete(key);
    const body = new URLSearchParams({
      grant_type: TOKEN_EXCHANGE_GRANT,
      subject_token: subjectToken,
      subject_token_type: auth.subjectTokenType ?? ACCESS_TOKEN_TYPE,
    });
    if (target.resource !== undefined) body.set('resource', target.resource);
    if (target.audience !== undefined) body.set('audience', target.audience);
    if (auth.scopes?.length) body.set('scope', auth.scopes.join(' '));
    if (auth.requestedTokenType) body.set('requested_token_type', auth.requestedTokenType);
    makeRoom();
    const entry: HeldToken = {
      token: postToken(tokenUrl, auth.clientId, clientSecret, body),
      ...renewal(key),
    };
    exchanged.set(key, entry);
    entry.token.then(
      (token) => {
        entry.settled = token;
      },
      () => {
        if (exchanged.get(key) === entry) exchanged.delete(key);
      },
    );
    return entry.token;
  }

  /** Where a token exchange goes: its own `tokenUrl`, or the gateway's issuer's token endpoint. */
  async function exchangeUrl(auth: TokenExchangeAuth): Promise<string> {
    if (auth.tokenUrl !== undefined) return auth.tokenUrl;
    if (!options.issuerTokenEndpoint)
      throw new TokenRequestError(
        'no tokenUrl is set and this gateway has no OIDC issuer whose token endpoint could be used',
      );
    try {
      return await options.issuerTokenEndpoint();
    } catch (err) {
      throw new TokenRequestError(`the OIDC issuer's token endpoint is unknown (${(err as Error).message})`);
    }
  }

  async function exchangedCredential(
    resource: CredentialedResource,
    auth: TokenExchangeAuth,
    secret: string,
    clientSecret: string,
    caller: CredentialCaller | undefined,
  ): Promise<UpstreamCredential> {
    const subjectToken = caller && callerTokenOf(caller);
    if (subjectToken === undefined) {
      return refuse(
        resource,
        secret,
        'missing',
        "exchanges the caller's token for its upstream, and this caller came without a bearer token (token-exchange needs MCP_GATEWAY_AUTH=oidc or jwt).",
      );
    }
    const target =
      auth.audience === undefined && auth.resource === undefined
        ? { resource: resource.spec.endpoints?.[0] }
        : { audience: auth.audience, resource: auth.resource };
    let tokenUrl = auth.tokenUrl ?? 'the OIDC issuer';
    try {
      tokenUrl = await exchangeUrl(auth);
      const token = await exchangeFor(auth, tokenUrl, target, clientSecret, subjectToken);
      return bearer(token.value);
    } catch (err) {
      if (!(err instanceof TokenRequestError)) throw err;
      return refuse(
        resource,
        secret,
        'token',
        `could not exchange your token for one for its upstream at ${tokenUrl} (client '${auth.clientId}'): ${err.message}.`,
      );
    }
  }

  function refuse(
    resource: CredentialedResource,
    secret: string,
    problem: UpstreamCredentialProblem,
    why: string,
  ): never {
    // The resource and the secret's name only: the value, if there was one, stays out of the log.
    logger.warn(
      { [resource.kind]: resource.name, secretName: secret, problem },
      'upstream credential unavailable',
    );
    throw new UpstreamCredentialError(`${label(resource)} ${why}`, secret, problem);
  }

  const { vault } = options;
  const bearer = (token: string): UpstreamCredential => ({
    header: 'authorization',
    value: `Bearer ${token}`,
  });
  const vaultOf = (resource: CredentialedResource, caller: CredentialCaller | undefined) => {
    if (!vault || resource.kind !== 'adapter') throw noVault(resource);
    if (!caller)
      throw new UpstreamCredentialError(
        `${label(resource)} sends each caller's own token; no caller here.`,
        '',
        'missing',
      );
    return vault;
  };
  // The vault reads the adapter's name, uid and spec; a tool never gets here (refused above).
  const asAdapter = (resource: CredentialedResource) => resource as unknown as OAuthUserAdapter;

  /** A token the gateway got itself, refused upstream: dropped, and the next one requested (see `renew`). */
  async function renewMinted(
    resource: CredentialedResource,
    caller: CredentialCaller,
    rejected: string,
  ): Promise<UpstreamCredential> {
    const held = heldWith(rejected);
    const renewedAt = held?.entry.refusedAtOnce ? held.entry.renewedAt : undefined;
    if (renewedAt !== undefined && now() - renewedAt < RENEWED_TOKEN_MIN_AGE_MS) {
      throw new UpstreamCredentialError(
        `${label(resource)}: its upstream refused the access token the gateway got for it, which had just replaced a refused one.`,
        upstreamAuthSecretName(resource.spec) ?? '',
        'token',
      );
    }
    // Not held any more: another request renewed it meanwhile (its token, perhaps still in flight, is used).
    if (held) {
      held.cache.delete(held.key);
      renewing.add(held.key);
      logger.info(
        { [resource.kind]: resource.name },
        'upstream refused a token the gateway got; renewing it',
      );
    }
    try {
      const credential = await resolve(resource, caller);
      if (!credential)
        throw new UpstreamCredentialError(`${label(resource)} has no upstreamAuth.`, '', 'token');
      return credential;
    } finally {
      if (held) renewing.delete(held.key);
    }
  }

  async function resolve(
    resource: CredentialedResource,
    caller: CredentialCaller | undefined,
  ): Promise<UpstreamCredential | undefined> {
    const auth = resource.spec.upstreamAuth;
    if (auth?.type === 'oauth-user') {
      const userId = caller?.userId;
      const v = vaultOf(resource, caller);
      return bearer(await v.accessToken(userId!, asAdapter(resource)));
    }
    const secret = upstreamAuthSecretName(resource.spec);
    if (!auth || secret === undefined) return undefined;
    let value: string | undefined;
    try {
      value = await read(secret);
    } catch (err) {
      if (!(err instanceof SecretDecryptionError)) throw err;
      return refuse(
        resource,
        secret,
        'unreadable',
        `cannot use secret '${secret}' for its upstream: this gateway cannot decrypt it (${err.message}).`,
      );
    }
    if (value === undefined) {
      return refuse(
        resource,
        secret,
        'missing',
        `needs secret '${secret}' for its upstream, and no such secret exists: create it with POST /secrets.`,
      );
    }
    if (auth.type === 'token-exchange') return exchangedCredential(resource, auth, secret, value, caller);
    if (auth.type === 'oauth-client-credentials') {
      try {
        return { header: 'authorization', value: `Bearer ${(await tokenFor(auth, value)).value}` };
      } catch (err) {
        if (!(err instanceof TokenRequestError)) throw err;
        return refuse(
          resource,
          secret,
          'token',
          `could not get an access token for its upstream from ${auth.tokenUrl} (client '${auth.clientId}'): ${err.message}.`,
        );
      }
    }
    if (!HEADER_VALUE.test(value)) {
      return refuse(
        resource,
        secret,
        'unusable',
        `cannot send secret '${secret}' upstream: its value holds characters an HTTP header cannot carry (a line break, a control character or non-ASCII text); rotate it with PUT /secrets/${secret}.`,
      );
    }
    if (auth.type === 'bearer') return { header: 'authorization', value: `Bearer ${value}` };
    return { header: auth.name.toLowerCase(), value: `${auth.prefix ?? ''}${value}` };
  }

  return {
    async renew(resource, caller, rejected) {
      const type = resource.spec.upstreamAuth?.type;
      const token = rejected.value.slice('Bearer '.length);
      if (type === 'oauth-client-credentials' || type === 'token-exchange')
        return renewMinted(resource, caller, token);
      if (type !== 'oauth-user')
        throw new UpstreamCredentialError(
          `${label(resource)}: its upstream refused the credential.`,
          '',
          'token',
        );
      return bearer(await vaultOf(resource, caller).renew(caller.userId, asAdapter(resource), token));
    },
    resolve,
    refusedRenewal(credential) {
      const held = heldWith(credential.value.slice('Bearer '.length));
      if (held) held.entry.refusedAtOnce = true;
    },
    forget(secret) {
      values.delete(secret);
    },
  };
}
