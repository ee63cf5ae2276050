/**
 * @module Tests of the upstream credential resolver over a real secret store and cipher: the header each type
 * makes, a value read afresh on every call (a rotation), and each refusal — missing, undecryptable, unsendable —
 * naming the secret without ever carrying a value into the error or the log.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../observability/index.js';
import { createSecretCipher, openRegistryStore, readSecretValue } from '../registry/index.js';
import type { RegistryStore, SecretCipher, UpstreamAuthSpec } from '../registry/index.js';
import {
  NO_UPSTREAM_CREDENTIALS,
  RENEWED_TOKEN_MIN_AGE_MS,
  UpstreamCredentialError,
  createUpstreamCredentials,
} from './index.js';
import type { UpstreamCredentials } from './index.js';
import { bindCallerToken } from './caller-token.js';

const VALUE = 'sk-live-0123456789';
let store: RegistryStore;
let cipher: SecretCipher;
let lines: string[];
let credentials: UpstreamCredentials;

beforeEach(async () => {
  store = await openRegistryStore(':memory:');
  cipher = await createSecretCipher('gateway-secret-for-credential-tests-0123456789');
  lines = [];
  const logger = createLogger({
    level: 'debug',
    destination: { write: (line: string) => void lines.push(line) },
  });
  credentials = createUpstreamCredentials({
    readSecret: (name) => readSecretValue(store, cipher, name),
    logger,
  });
  await store.createSecret('key', await cipher.seal('key', VALUE), 'alice');
});
afterEach(() => store.close());

const adapter = (upstreamAuth?: UpstreamAuthSpec) => ({
  kind: 'adapter' as const,
  name: 'weather',
  spec: upstreamAuth ? { upstreamAuth } : {},
});

async function refusal(promise: Promise<unknown>): Promise<UpstreamCredentialError> {
  const error = await promise.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(error).toBeInstanceOf(UpstreamCredentialError);
  return error as UpstreamCredentialError;
}

describe('createUpstreamCredentials', () => {
  it('makes Authorization: Bearer for bearer, and <name>: <prefix><value> in lower case for header', async () => {
    expect(await credentials.resolve(adapter({ type: 'bearer', secret: 'key' }))).toEqual({
      header: 'authorization',
      value: `Bearer ${VALUE}`,
    });
    expect(
      await credentials.resolve(
        adapter({ type: 'header', name: 'X-Api-Key', secret: 'key', prefix: 'Key ' }),
      ),
    ).toEqual({ header: 'x-api-key', value: `Key ${VALUE}` });
    expect(await credentials.resolve(adapter({ type: 'header', name: 'X-Api-Key', secret: 'key' }))).toEqual({
      header: 'x-api-key',
      value: VALUE,
    });
    expect(await credentials.resolve(adapter())).toBeUndefined();
  });

  it('a static secret the upstream refuses is not renewed: the refusal names the resource', async () => {
    const bearer = adapter({ type: 'bearer', secret: 'key' });
    const credential = (await credentials.resolve(bearer))!;
    const error = await refusal(credentials.renew(bearer, { userId: 'alice' }, credential));
    expect(error.message).toContain('its upstream refused the credential');
  });

  it('reads the value on every call: a rotation is used at once', async () => {
    const auth = adapter({ type: 'bearer', secret: 'key' });
    await credentials.resolve(auth);
    await store.updateSecret('key', await cipher.seal('key', 'rotated-value'));
    expect((await credentials.resolve(auth))?.value).toBe('Bearer rotated-value');
  });

  it('a missing secret: an error naming resource and secret, logged by name only', async () => {
    const error = await refusal(credentials.resolve(adapter({ type: 'bearer', secret: 'gone' })));
    expect(error.problem).toBe('missing');
    expect(error.secret).toBe('gone');
    expect(error.message).toBe(
      "Adapter 'weather' needs secret 'gone' for its upstream, and no such secret exists: create it with POST /secrets.",
    );
    expect(JSON.parse(lines.at(-1)!)).toMatchObject({
      msg: 'upstream credential unavailable',
      adapter: 'weather',
      secretName: 'gone',
      problem: 'missing',
    });
  });

  it('a secret sealed under another gateway secret: unreadable, without the ciphertext or a value', async () => {
    const other = await createSecretCipher('another-gateway-secret-abcdefghijklmnopqrstuvwxyz');
    await store.createSecret('foreign', await other.seal('foreign', VALUE), 'alice');
    const error = await refusal(credentials.resolve(adapter({ type: 'bearer', secret: 'foreign' })));
    expect(error.problem).toBe('unreadable');
    expect(error.message).toContain("cannot use secret 'foreign'");
  });

  it.each([
    ['a trailing newline', `${VALUE}\n`],
    ['a header split', `${VALUE}\r\nX-Evil: 1`],
    ['non-ASCII text', `${VALUE}é`],
  ])('a value holding %s is not sent (and not echoed)', async (_what, value) => {
    await store.updateSecret('key', await cipher.seal('key', value));
    const error = await refusal(credentials.resolve(adapter({ type: 'bearer', secret: 'key' })));
    expect(error.problem).toBe('unusable');
    expect(error.message).not.toContain(VALUE);
    for (const line of lines) expect(line).not.toContain(VALUE);
  });

  it('NO_UPSTREAM_CREDENTIALS refuses a resource that needs one and passes one that does not', async () => {
    expect(await NO_UPSTREAM_CREDENTIALS.resolve(adapter())).toBeUndefined();
    const error = await refusal(NO_UPSTREAM_CREDENTIALS.resolve(adapter({ type: 'bearer', secret: 'key' })));
    expect(error.secret).toBe('key');
  });
});

describe('the value cache (ttlMs)', () => {
  let clock: number;
  let reads: number;
  let cached: UpstreamCredentials;
  const auth = adapter({ type: 'bearer', secret: 'key' });

  beforeEach(() => {
    clock = 0;
    reads = 0;
    cached = createUpstreamCredentials({
      readSecret: (name) => {
        reads++;
        return readSecretValue(store, cipher, name);
      },
      logger: createLogger({ level: 'silent' }),
      ttlMs: 1000,
      now: () => clock,
    });
  });

  it('reuses a value within the TTL, one read for concurrent requests, and reads again after it', async () => {
    await Promise.all([cached.resolve(auth), cached.resolve(auth), cached.resolve(auth)]);
    expect(reads).toBe(1);
    await store.updateSecret('key', await cipher.seal('key', 'rotated-elsewhere'));
    clock = 999;
    expect((await cached.resolve(auth))?.value).toBe(`Bearer ${VALUE}`);
    clock = 1000;
    expect((await cached.resolve(auth))?.value).toBe('Bearer rotated-elsewhere');
    expect(reads).toBe(2);
  });

  it('forget(name) — a write on this instance — makes the next request read the new value at once', async () => {
    await cached.resolve(auth);
    await store.updateSecret('key', await cipher.seal('key', 'rotated-here'));
    cached.forget('key');
    expect((await cached.resolve(auth))?.value).toBe('Bearer rotated-here');
    await store.deleteSecret('key');
    cached.forget('key');
    expect((await refusal(cached.resolve(auth))).problem).toBe('missing');
  });

  it('a value that cannot be decrypted is not cached', async () => {
    const other = await createSecretCipher('another-gateway-secret-abcdefghijklmnopqrstuvwxyz');
    await store.createSecret('foreign', await other.seal('foreign', VALUE), 'alice');
    const foreign = adapter({ type: 'bearer', secret: 'foreign' });
    await refusal(cached.resolve(foreign));
    await refusal(cached.resolve(foreign));
    expect(reads).toBe(2);
  });
});

describe('oauth-client-credentials', () => {
  const CLIENT_SECRET = 'client-secret-value-42';
  let clock: number;
  let requests: { url: string; headers: Record<string, string>; body: string }[];
  let answer: () => Response | Promise<Response>;
  let oauth: UpstreamCredentials;
  const auth = adapter({
    type: 'oauth-client-credentials',
    tokenUrl: 'https://auth.example.com/token',
    clientId: 'gateway client',
    clientSecret: 'client',
    scopes: ['read', 'write'],
  });
  const token = (n: number, expiresIn?: number) =>
    Response.json({
      access_token: `at-${n}`,
      token_type: 'Bearer',
      ...(expiresIn && { expires_in: expiresIn }),
    });

  beforeEach(async () => {
    clock = 0;
    requests = [];
    answer = () => token(requests.length, 300);
    await store.createSecret('client', await cipher.seal('client', CLIENT_SECRET), 'alice');
    oauth = createUpstreamCredentials({
      readSecret: (name) => readSecretValue(store, cipher, name),
      logger: createLogger({
        level: 'debug',
        destination: { write: (line: string) => void lines.push(line) },
      }),
      now: () => clock,
      fetch: async (url, init) => {
        requests.push({
          url,
          headers: init.headers as Record<string, string>,
          body: String(init.body),
        });
        return answer();
      },
    });
  });

  it('asks the token endpoint with HTTP Basic client credentials and the scopes, and sends Bearer <token>', async () => {
    expect(await oauth.resolve(auth)).toEqual({ header: 'authorization', value: 'Bearer at-1' });
    expect(requests).toHaveLength(1);
    const [request] = requests;
    expect(request!.url).toBe('https://auth.example.com/token');
    expect(new URLSearchParams(request!.body).get('grant_type')).toBe('client_credentials');
    expect(new URLSearchParams(request!.body).get('scope')).toBe('read write');
    expect(request!.headers['content-type']).toBe('application/x-www-form-urlencoded');
    // RFC 6749 §2.3.1: each part form-encoded (the space becomes "+"), then Base64.
    expect(request!.headers.authorization).toBe(
      `Basic ${Buffer.from(`gateway+client:${CLIENT_SECRET}`).toString('base64')}`,
    );
  });

  it('one token request for a burst of concurrent callers, reused until shortly before it expires', async () => {
    // The token endpoint answers only once all five callers are waiting for a token.
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    answer = async () => {
      await gate;
      return token(requests.length, 300);
    };
    const burst = Promise.all(Array.from({ length: 5 }, () => oauth.resolve(auth)));
    await Promise.all(Array.from({ length: 5 }, () => readSecretValue(store, cipher, 'client')));
    await new Promise((resolve) => setImmediate(resolve));
    expect(requests).toHaveLength(1);
    release();
    const resolved = await burst;
    expect(new Set(resolved.map((r) => r?.value))).toEqual(new Set(['Bearer at-1']));
    expect(requests).toHaveLength(1);
    // expires_in 300: renewed 30 s early.
    clock = 269_999;
    expect((await oauth.resolve(auth))?.value).toBe('Bearer at-1');
    clock = 270_000;
    expect((await oauth.resolve(auth))?.value).toBe('Bearer at-2');
    expect(requests).toHaveLength(2);
  });

  it('a rotated client secret gets a token of its own at once', async () => {
    await oauth.resolve(auth);
    await store.updateSecret('client', await cipher.seal('client', 'rotated-client-secret'));
    expect((await oauth.resolve(auth))?.value).toBe('Bearer at-2');
    expect(requests.at(-1)!.headers.authorization).toBe(
      `Basic ${Buffer.from('gateway+client:rotated-client-secret').toString('base64')}`,
    );
  });

  it.each([
    [
      'the endpoint refuses the client',
      () => Response.json({ error: 'invalid_client', error_description: 'bad secret' }, { status: 401 }),
      'HTTP 401 invalid_client: bad secret',
    ],
    ['the answer is not JSON', () => new Response('<html>', { status: 200 }), 'the answer is not JSON'],
    [
      'the token type is not Bearer',
      () => Response.json({ access_token: 'x', token_type: 'mac' }),
      'the token type is "mac", not Bearer',
    ],
    [
      'the endpoint is down',
      () => Promise.reject(Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } })),
      'ECONNREFUSED',
    ],
  ])(
    '%s: a token error naming the endpoint, never the client secret, and not kept',
    async (_what, fail, reason) => {
      answer = fail;
      const error = await refusal(oauth.resolve(auth));
      expect(error.problem).toBe('token');
      expect(error.secret).toBe('client');
      expect(error.message).toContain('https://auth.example.com/token');
      expect(error.message).toContain(reason);
      expect(error.message).not.toContain(CLIENT_SECRET);
      for (const line of lines) expect(line).not.toContain(CLIENT_SECRET);
      answer = () => token(requests.length, 300);
      expect((await oauth.resolve(auth))?.value).toMatch(/^Bearer at-/);
    },
  );

  it('a token the upstream refuses is replaced once; concurrent refusals share one token request', async () => {
    const first = (await oauth.resolve(auth))!;
    const renewals = await Promise.all(
      Array.from({ length: 3 }, () => oauth.renew(auth, { userId: 'alice' }, first)),
    );
    expect(new Set(renewals.map((c) => c.value))).toEqual(new Set(['Bearer at-2']));
    expect(requests).toHaveLength(2);
    // Every later request uses the new token, until it is due.
    expect((await oauth.resolve(auth))?.value).toBe('Bearer at-2');
    // A refusal of a token already replaced (a request still in flight with it) gets the current one.
    expect((await oauth.renew(auth, { userId: 'alice' }, first)).value).toBe('Bearer at-2');
    expect(requests).toHaveLength(2);
  });

  it('a renewed token refused on its first use is not replaced for 30 s: an upstream refusing every token costs one request per 30 s', async () => {
    const first = (await oauth.resolve(auth))!;
    const second = await oauth.renew(auth, { userId: 'alice' }, first);
    // Accepted, then revoked too: replaced at once.
    const third = await oauth.renew(auth, { userId: 'alice' }, second);
    expect(third.value).toBe('Bearer at-3');
    const fourth = await oauth.renew(auth, { userId: 'alice' }, third);
    oauth.refusedRenewal(fourth);
    clock = RENEWED_TOKEN_MIN_AGE_MS - 1;
    const error = await refusal(oauth.renew(auth, { userId: 'alice' }, fourth));
    expect(error.problem).toBe('token');
    expect(error.message).toContain('just replaced a refused one');
    expect(requests).toHaveLength(4);
    clock = RENEWED_TOKEN_MIN_AGE_MS;
    expect((await oauth.renew(auth, { userId: 'alice' }, fourth)).value).toBe('Bearer at-5');
  });

  it('a token URL the SSRF guard refuses is never contacted', async () => {
    const guarded = createUpstreamCredentials({
      readSecret: (name) => readSecretValue(store, cipher, name),
      logger: createLogger({ level: 'silent' }),
      refuseUrl: (url) => (url.includes('example.com') ? 'a metadata address' : undefined),
      fetch: async () => {
        throw new Error('must not be called');
      },
    });
    const error = await refusal(guarded.resolve(auth));
    expect(error.message).toContain('the token URL is refused: a metadata address');
  });
});

describe('token-exchange', () => {
  const CLIENT_SECRET = 'exchange-client-secret-42';
  let clock: number;
  let requests: { url: string; headers: Record<string, string>; body: URLSearchParams }[];
  let answer: () => Response | Promise<Response>;
  let exchange: UpstreamCredentials;
  const spec: UpstreamAuthSpec = {
    type: 'token-exchange',
    tokenUrl: 'https://idp.example.com/token',
    clientId: 'gateway',
    clientSecret: 'client',
  };
  const withEndpoints = (upstreamAuth: UpstreamAuthSpec) => ({
    kind: 'adapter' as const,
    name: 'notes',
    spec: { upstreamAuth, endpoints: ['https://notes.example.com/mcp'] },
  });
  /** A principal as the bearer middleware makes it, bound to the token it came with. */
  const caller = (userId: string, token: string) => {
    const principal = { userId, roles: [] };
    bindCallerToken(principal, token);
    return principal;
  };
  const issued = (n: number, expiresIn = 300) =>
    Response.json({
      access_token: `exchanged-${n}`,
      issued_token_type: 'urn:ietf:params:oauth:token-type:access_token',
      token_type: 'Bearer',
      expires_in: expiresIn,
    });

  beforeEach(async () => {
    clock = 0;
    requests = [];
    answer = () => issued(requests.length);
    await store.createSecret('client', await cipher.seal('client', CLIENT_SECRET), 'alice');
    exchange = createUpstreamCredentials({
      readSecret: (name) => readSecretValue(store, cipher, name),
      logger: createLogger({
        level: 'debug',
        destination: { write: (line: string) => void lines.push(line) },
      }),
      now: () => clock,
      maxExchangedTokens: 3,
      issuerTokenEndpoint: async () => 'https://issuer.example.com/oauth/token',
      fetch: async (url, init) => {
        requests.push({
          url,
          headers: init.headers as Record<string, string>,
          body: new URLSearchParams(String(init.body)),
        });
        return answer();
      },
    });
  });

  it("sends the caller's token as subject_token (RFC 8693) with the upstream URL as default resource", async () => {
    expect(await exchange.resolve(withEndpoints(spec), caller('alice', 'alice-token'))).toEqual({
      header: 'authorization',
      value: 'Bearer exchanged-1',
    });
    const [request] = requests;
    expect(request!.url).toBe('https://idp.example.com/token');
    expect(Object.fromEntries(request!.body)).toEqual({
      grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
      subject_token: 'alice-token',
      subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
      resource: 'https://notes.example.com/mcp',
    });
    expect(request!.headers.authorization).toBe(
      `Basic ${Buffer.from(`gateway:${CLIENT_SECRET}`).toString('base64')}`,
    );
  });

  it('names audience, resource, scopes and token types as configured; no tokenUrl: the issuer’s endpoint', async () => {
    const { tokenUrl: _unused, ...withoutUrl } = spec as Extract<
      UpstreamAuthSpec,
      { type: 'token-exchange' }
    >;
    await exchange.resolve(
      withEndpoints({
        ...withoutUrl,
        audience: 'notes-api',
        scopes: ['notes:read', 'notes:write'],
        subjectTokenType: 'urn:ietf:params:oauth:token-type:jwt',
        requestedTokenType: 'urn:ietf:params:oauth:token-type:access_token',
      }),
      caller('alice', 'alice-token'),
    );
    expect(requests[0]!.url).toBe('https://issuer.example.com/oauth/token');
    expect(Object.fromEntries(requests[0]!.body)).toMatchObject({
      audience: 'notes-api',
      scope: 'notes:read notes:write',
      subject_token_type: 'urn:ietf:params:oauth:token-type:jwt',
      requested_token_type: 'urn:ietf:params:oauth:token-type:access_token',
    });
    expect(requests[0]!.body.has('resource')).toBe(false);
  });

  it('one exchange per caller token, reused until shortly before it expires; another caller gets its own', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    answer = async () => {
      await gate;
      return issued(requests.length);
    };
    const alice = caller('alice', 'alice-token');
    const burst = Promise.all(Array.from({ length: 5 }, () => exchange.resolve(withEndpoints(spec), alice)));
    // Once every caller's secret read is done, all five are waiting for the one exchange.
    await Promise.all(Array.from({ length: 5 }, () => readSecretValue(store, cipher, 'client')));
    await new Promise((resolve) => setImmediate(resolve));
    expect(requests).toHaveLength(1);
    release();
    expect(new Set((await burst).map((c) => c?.value))).toEqual(new Set(['Bearer exchanged-1']));
    expect(requests).toHaveLength(1);
    // Another principal object for the same token (another request verified it again) shares the exchange.
    expect((await exchange.resolve(withEndpoints(spec), caller('alice', 'alice-token')))?.value).toBe(
      'Bearer exchanged-1',
    );
    expect((await exchange.resolve(withEndpoints(spec), caller('bob', 'bob-token')))?.value).toBe(
      'Bearer exchanged-2',
    );
    clock = 269_999;
    expect((await exchange.resolve(withEndpoints(spec), alice))?.value).toBe('Bearer exchanged-1');
    clock = 270_000;
    expect((await exchange.resolve(withEndpoints(spec), alice))?.value).toBe('Bearer exchanged-3');
  });

  it('a refused exchanged token is exchanged anew for that caller token only', async () => {
    const alice = caller('alice', 'alice-token');
    const bob = caller('bob', 'bob-token');
    const refused = (await exchange.resolve(withEndpoints(spec), alice))!;
    await exchange.resolve(withEndpoints(spec), bob);
    expect((await exchange.renew(withEndpoints(spec), alice, refused)).value).toBe('Bearer exchanged-3');
    expect(requests.at(-1)!.body.get('subject_token')).toBe('alice-token');
    expect((await exchange.resolve(withEndpoints(spec), alice))?.value).toBe('Bearer exchanged-3');
    expect((await exchange.resolve(withEndpoints(spec), bob))?.value).toBe('Bearer exchanged-2');
    expect(requests).toHaveLength(3);
  });

  it('keeps at most maxExchangedTokens', async () => {
    for (let i = 0; i < 5; i++) await exchange.resolve(withEndpoints(spec), caller(`u${i}`, `token-${i}`));
    expect(requests).toHaveLength(5);
    // The oldest went: exchanged again.
    await exchange.resolve(withEndpoints(spec), caller('u0', 'token-0'));
    expect(requests).toHaveLength(6);
    await exchange.resolve(withEndpoints(spec), caller('u4', 'token-4'));
    expect(requests).toHaveLength(6);
  });

  it('a caller without a bearer token (dev modes) is refused, and nothing is sent', async () => {
    const error = await refusal(exchange.resolve(withEndpoints(spec), { userId: 'dev' }));
    expect(error.message).toContain('came without a bearer token');
    expect(requests).toHaveLength(0);
  });

  it('a refused exchange names the endpoint and its error, never a token, and is not kept', async () => {
    answer = () =>
      Response.json({ error: 'invalid_grant', error_description: 'subject token expired' }, { status: 400 });
    const error = await refusal(exchange.resolve(withEndpoints(spec), caller('alice', 'alice-token')));
    expect(error.problem).toBe('token');
    expect(error.message).toContain('https://idp.example.com/token');
    expect(error.message).toContain('HTTP 400 invalid_grant: subject token expired');
    for (const text of [error.message, ...lines]) {
      expect(text).not.toContain('alice-token');
      expect(text).not.toContain(CLIENT_SECRET);
    }
    answer = () => issued(requests.length);
    expect((await exchange.resolve(withEndpoints(spec), caller('alice', 'alice-token')))?.value).toBe(
      'Bearer exchanged-2',
    );
  });

  it('a token URL the SSRF guard refuses is never contacted', async () => {
    const guarded = createUpstreamCredentials({
      readSecret: (name) => readSecretValue(store, cipher, name),
      logger: createLogger({ level: 'silent' }),
      refuseUrl: (url) => (url.includes('idp.example.com') ? 'a metadata address' : undefined),
      fetch: async () => {
        throw new Error('must not be called');
      },
    });
    const error = await refusal(guarded.resolve(withEndpoints(spec), caller('alice', 'alice-token')));
    expect(error.message).toContain('the token URL is refused: a metadata address');
  });
});
