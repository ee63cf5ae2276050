/** @module SessionSeal tests: round trip, tamper resistance, binding to adapter and principal, expiry, format. */
import { describe, expect, it } from 'vitest';
import {
  createSessionSealer,
  DEFAULT_SESSION_MAX_AGE_MS,
  MAX_SEALED_ID_LENGTH,
  SEALED_ID_PREFIX,
  type SessionClaims,
  type SessionSealerOptions,
} from './session-seal.js';

const SECRET = 'test-secret-0123456789-abcdefghijklmnopqrstuvwxyz';
const T0 = new Date('2026-03-01T12:00:00.000Z');
const CLAIMS: SessionClaims = {
  adapter: 'github-tools',
  replica: 'github-tools-2',
  upstreamSessionId: '3f2c9d1e-8a7b-4c6d-9e0f-1a2b3c4d5e6f',
  principal: 'https://issuer.example.com|user-42',
};
const EXPECT = { adapter: CLAIMS.adapter, principal: CLAIMS.principal };
const URL_SAFE = /^[A-Za-z0-9._~-]+$/;

/** A clock the test moves by hand. */
function manualClock(start: Date = T0) {
  let now = start.getTime();
  return { clock: () => new Date(now), advance: (ms: number) => void (now += ms) };
}

const counterRandom = (): ((length: number) => Uint8Array) => {
  let n = 0;
  return (length) => Uint8Array.from({ length }, () => n++ & 0xff);
};

async function sealer(options: Partial<SessionSealerOptions> = {}) {
  return createSessionSealer({ secret: SECRET, clock: () => T0, ...options });
}

/** Replaces the character at `index` by another one of the base64url alphabet (or of the prefix). */
function flip(text: string, index: number): string {
  const c = text[index];
  const replacement = c === 'A' ? 'B' : c === '.' ? '_' : 'A';
  return text.slice(0, index) + replacement + text.slice(index + 1);
}

const base64Url = (bytes: Uint8Array): string =>
  btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');

describe('createSessionSealer', () => {
  it('round-trips the claims and stamps issuedAt from the clock', async () => {
    const s = await sealer();
    const id = await s.seal(CLAIMS);
    expect(await s.open(id, EXPECT)).toEqual({ ok: true, claims: { ...CLAIMS, issuedAt: T0 } });
  });

  it('round-trips non-ASCII and long claims', async () => {
    const s = await sealer();
    const claims = { ...CLAIMS, principal: 'ユーザー|müller', upstreamSessionId: 'x'.repeat(300) };
    const opened = await s.open(await s.seal(claims), {
      adapter: claims.adapter,
      principal: claims.principal,
    });
    expect(opened).toEqual({ ok: true, claims: { ...claims, issuedAt: T0 } });
  });

  it('outputs only visible, URL-safe ASCII and stays short for typical claims', async () => {
    const s = await createSessionSealer({ secret: SECRET });
    for (let i = 0; i < 50; i++) {
      const id = await s.seal({ ...CLAIMS, upstreamSessionId: crypto.randomUUID() });
      expect(id.startsWith(SEALED_ID_PREFIX)).toBe(true);
      expect(id).toMatch(URL_SAFE);
      for (const ch of id) expect(ch.charCodeAt(0)).toBeGreaterThanOrEqual(0x21);
      for (const ch of id) expect(ch.charCodeAt(0)).toBeLessThanOrEqual(0x7e);
      expect(id.length).toBeLessThanOrEqual(512);
      expect(encodeURIComponent(id)).toBe(id);
    }
  });

  it('gives two different ids for the same claims (random IV)', async () => {
    const s = await createSessionSealer({ secret: SECRET, clock: () => T0 });
    const a = await s.seal(CLAIMS);
    const b = await s.seal(CLAIMS);
    expect(a).not.toBe(b);
    expect((await s.open(a, EXPECT)).ok).toBe(true);
    expect((await s.open(b, EXPECT)).ok).toBe(true);
  });

  it('refuses an id with any one character changed', async () => {
    const s = await sealer();
    const id = await s.seal(CLAIMS);
    for (let i = 0; i < id.length; i++) {
      const result = await s.open(flip(id, i), EXPECT);
      expect(result.ok, `character ${i} changed`).toBe(false);
      if (!result.ok) expect(['malformed', 'tampered']).toContain(result.reason);
    }
  });

  it('reports a truncated id as malformed (too short) or tampered (tag cut)', async () => {
    const s = await sealer();
    const id = await s.seal(CLAIMS);
    for (const length of [0, 1, 3, SEALED_ID_PREFIX.length, SEALED_ID_PREFIX.length + 10, 40]) {
      expect(await s.open(id.slice(0, length), EXPECT)).toEqual({ ok: false, reason: 'malformed' });
    }
    const cut = await s.open(id.slice(0, -4), EXPECT);
    expect(cut.ok).toBe(false);
  });

  it.each<[string, unknown]>([
    ['empty', ''],
    ['no prefix', 'abcdef'],
    ['another version', 'v2.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'],
    ['standard base64', 'v1.AAAA+AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA/'],
    ['padding', 'v1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=='],
    ['impossible length', 'v1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'],
    ['non-ASCII', 'v1.ÄÄÄÄAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'],
    ['far too long', `v1.${'A'.repeat(MAX_SEALED_ID_LENGTH)}`],
    ['not a string', 12345],
    ['undefined', undefined],
  ])('never throws on garbage: %s → malformed', async (_label, input) => {
    const s = await sealer();
    expect(await s.open(input as string, EXPECT)).toEqual({ ok: false, reason: 'malformed' });
  });

  it('refuses an id of another adapter (authentication fails on the additional data)', async () => {
    const s = await sealer();
    const id = await s.seal(CLAIMS);
    const result = await s.open(id, { adapter: 'other-adapter', principal: CLAIMS.principal });
    expect(result).toEqual({ ok: false, reason: 'tampered' });
  });

  it("refuses another principal's id as wrong-principal", async () => {
    const s = await sealer();
    const id = await s.seal(CLAIMS);
    expect(await s.open(id, { adapter: CLAIMS.adapter, principal: 'user-43' })).toEqual({
      ok: false,
      reason: 'wrong-principal',
    });
  });

  it('expires after maxAgeMs by the injected clock', async () => {
    const { clock, advance } = manualClock();
    const s = await createSessionSealer({ secret: SECRET, clock });
    const id = await s.seal(CLAIMS);
    advance(DEFAULT_SESSION_MAX_AGE_MS);
    expect((await s.open(id, EXPECT)).ok).toBe(true);
    advance(1);
    expect(await s.open(id, EXPECT)).toEqual({ ok: false, reason: 'expired' });
  });

  it('honours a configured maxAgeMs', async () => {
    const { clock, advance } = manualClock();
    const s = await createSessionSealer({ secret: SECRET, clock, maxAgeMs: 60_000 });
    const id = await s.seal(CLAIMS);
    advance(60_001);
    expect(await s.open(id, EXPECT)).toEqual({ ok: false, reason: 'expired' });
  });

  it('refuses ids issued further in the future than the clock skew', async () => {
    const { clock, advance } = manualClock();
    const ahead = await createSessionSealer({ secret: SECRET, clock: () => new Date(T0.getTime() + 30_000) });
    const farAhead = await createSessionSealer({
      secret: SECRET,
      clock: () => new Date(T0.getTime() + 120_000),
    });
    const s = await createSessionSealer({ secret: SECRET, clock, clockSkewMs: 60_000 });
    expect((await s.open(await ahead.seal(CLAIMS), EXPECT)).ok).toBe(true);
    const future = await farAhead.seal(CLAIMS);
    expect(await s.open(future, EXPECT)).toEqual({ ok: false, reason: 'not-yet-valid' });
    advance(60_000);
    expect((await s.open(future, EXPECT)).ok).toBe(true);
  });

  it('cannot open an id sealed with another secret', async () => {
    const a = await sealer();
    const b = await sealer({ secret: `${SECRET}-rotated` });
    expect(await b.open(await a.seal(CLAIMS), EXPECT)).toEqual({ ok: false, reason: 'tampered' });
  });

  it('validates its options when built', async () => {
    await expect(createSessionSealer({ secret: 'short' })).rejects.toThrow(RangeError);
    await expect(createSessionSealer({ secret: SECRET, maxAgeMs: 0 })).rejects.toThrow(RangeError);
    await expect(createSessionSealer({ secret: SECRET, clockSkewMs: -1 })).rejects.toThrow(RangeError);
  });

  it('refuses to seal claims that would exceed the maximum length', async () => {
    const s = await sealer();
    await expect(s.seal({ ...CLAIMS, upstreamSessionId: 'x'.repeat(4000) })).rejects.toThrow(RangeError);
  });

  it('refuses a random source that returns the wrong number of bytes', async () => {
    const s = await sealer({ random: () => new Uint8Array(8) });
    await expect(s.seal(CLAIMS)).rejects.toThrow(TypeError);
  });

  // Frozen format: these exact bytes are what every live session id looks like. If this test fails, the format
  // changed, and every session id in clients' hands will fail to open (404, re-initialise). Change the format only
  // with a new prefix and HKDF label, never in place.
  it('keeps the v1 format frozen (fixed secret, IV and clock)', async () => {
    const s = await sealer({ random: counterRandom() });
    const id = await s.seal(CLAIMS);
    // Cross-checked once against an independent implementation (Python `cryptography`: HKDF, AESGCM).
    expect(id).toBe(
      'v1.AAECAwQFBgcICQoLjEqvLd6iVdKExhJ6xbJoF_VaxHqGn97sBrY4ZJDZhHLh9keXrYoeiiWxE2tyIHhnJx6Lm0th6KlQuWYuoPJPRRAT' +
        'EaN0wesMYK4NbRC1OxlZDPb8jG8uaPumPlH92ngwLnSiMB__tjpOOM5zC1TL4TSkrmxnH3UqUvM',
    );
    expect((await s.open(id, EXPECT)).ok).toBe(true);
  });

  it('derives the key with HKDF-SHA256 and the documented layout (independent implementation)', async () => {
    const encoder = new TextEncoder();
    const ikm = await crypto.subtle.importKey('raw', encoder.encode(SECRET), 'HKDF', false, ['deriveKey']);
    const key = await crypto.subtle.deriveKey(
      {
        name: 'HKDF',
        hash: 'SHA-256',
        salt: new Uint8Array(0),
        info: encoder.encode('mcp-gateway session-id v1'),
      },
      ikm,
      { name: 'AES-GCM', length: 256 },
      false,
      ['encrypt'],
    );
    const issuedAt = T0.getTime() - 5_000;
    const strings = ['hand-adapter', 'r-1', 'upstream-xyz', 'alice'].map((s) => encoder.encode(s));
    const plaintext = new Uint8Array(6 + strings.reduce((n, s) => n + 1 + s.length, 0));
    new DataView(plaintext.buffer).setUint16(0, Math.floor(issuedAt / 2 ** 32));
    new DataView(plaintext.buffer).setUint32(2, issuedAt % 2 ** 32);
    let at = 6;
    for (const s of strings) {
      plaintext[at++] = s.length;
      plaintext.set(s, at);
      at += s.length;
    }
    const iv = crypto.getRandomValues(new Uint8Array(12));
    const ciphertext = new Uint8Array(
      await crypto.subtle.encrypt(
        { name: 'AES-GCM', iv, additionalData: encoder.encode('hand-adapter') },
        key,
        plaintext,
      ),
    );
    const token = SEALED_ID_PREFIX + base64Url(new Uint8Array([...iv, ...ciphertext]));

    const s = await sealer();
    expect(await s.open(token, { adapter: 'hand-adapter', principal: 'alice' })).toEqual({
      ok: true,
      claims: {
        adapter: 'hand-adapter',
        replica: 'r-1',
        upstreamSessionId: 'upstream-xyz',
        principal: 'alice',
        issuedAt: new Date(issuedAt),
      },
    });
  });
});
