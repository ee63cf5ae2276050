/**
 * @module Tests of the upstream credential resolver over a real secret store and cipher: the header each type
 * makes, a value read afresh on every call (a rotation), and each refusal — missing, undecryptable, unsendable —
 * naming the secret without ever carrying a value into the error or the log.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../observability/index.js';
import { createSecretCipher, openRegistryStore, readSecretValue } from '../registry/index.js';
import type { RegistryStore, SecretCipher, UpstreamAuthSpec } from '../registry/index.js';
import { NO_UPSTREAM_CREDENTIALS, UpstreamCredentialError, createUpstreamCredentials } from './index.js';
import type { UpstreamCredentials } from './index.js';

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
