/**
 * @module SessionSeal tests: round trip, tamper resistance, binding to adapter, incarnation and principal, expiry,
 * and both formats (v2 sealed, v1 still opened).
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  createSessionSealer,
  DEFAULT_SESSION_MAX_AGE_MS,
  MAX_SEALED_ID_LENGTH,
  SEALED_ID_PREFIX,
  V1_SEALED_ID_PREFIX,
  type SessionClaims,
  type SessionSealerOptions,
} from './session-seal.js';

const SECRET = 'test-secret-0123456789-abcdefghijklmnopqrstuvwxyz';
const T0 = new Date('2026-03-01T12:00:00.000Z');
const CLAIMS: SessionClaims = {
  adapter: 'github-tools',
  incarnation: '5f0c6c1e-4d2b-4a2b-9c3d-0123456789ab',
  replica: 'github-tools-2',
  upstreamSessionId: '3f2c9d1e-8a7b-4c6d-9e0f-1a2b3c4d5e6f',
  principal: 'https://issuer.example.com|user-42',
};
/** The adapter as the registry holds it: the same incarnation, created an hour before the session. */
const EXPECT = {
  adapter: CLAIMS.adapter,
  incarnation: CLAIMS.incarnation,
  createdAt: new Date(T0.getTime() - 3_600_000),
  principal: CLAIMS.principal,
};
const OPENED = { ...CLAIMS, issuedAt: T0, format: 'v2' };
const URL_SAFE = /^[A-Za-z0-9._~-]+$/;

/** CLAIMS sealed by the v1 sealer with SECRET, IV 00 01 … 0b and clock T0. */
const FROZEN_V1 =
  'v1.AAECAwQFBgcICQoLjEqvLd6iVdKExhJ6xbJoF_VaxHqGn97sBrY4ZJDZhHLh9keXrYoeiiWxE2tyIHhnJx6Lm0th6KlQuWYuoPJPRRAT' +
  'EaN0wesMYK4NbRC1OxlZDPb8jG8uaPumPlH92ngwLnSiMB__tjpOOM5zC1TL4TSkrmxnH3UqUvM';
/** CLAIMS sealed as v2 with the same secret, IV and clock. */
const FROZEN_V2 =
  'v2.AAECAwQFBgcICQoLcWY50mzpqChYcq6Gb8h3sRMVa8tykKz_tyRi_NTmYTO5FzBES95oWBpRiIeaZ_B_dOzeKzWPH8H82jg_oZPWPGq88bS' +
  'iZhFR2d76WqXbwI0rUYmwzjsFCaYlwiTdxUPjAXYvnD5v1eijlCv-BZrpmrluoHnpwUNA0R-vAfOXn1hDt4YWpqN2TrWyMZmuIt6rqNccuSzXJjW67ZM2yBy0';

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

describe('createSessionSealer', () => {
  it('round-trips the claims and stamps issuedAt from the clock', async () => {
    const s = await sealer();
    const id = await s.seal(CLAIMS);
    expect(await s.open(id, EXPECT)).toEqual({ ok: true, claims: OPENED });
  });

  it('round-trips non-ASCII and long claims', async () => {
    const s = await sealer();
    const claims = { ...CLAIMS, principal: 'ユーザー|müller', upstreamSessionId: 'x'.repeat(300) };
    const opened = await s.open(await s.seal(claims), { ...EXPECT, principal: claims.principal });
    expect(opened).toEqual({ ok: true, claims: { ...OPENED, ...claims } });
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
    ['another version', 'v3.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'],
    ['v2 standard base64', 'v2.AAAA+AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA/'],
    ['v2 too short', `v2.${'A'.repeat(50)}`],
    ['standard base64', 'v1.AAAA+AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA/'],
    ['padding', 'v1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=='],
    ['impossible length', 'v1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'],
    ['non-ASCII', 'v1.ÄÄÄÄAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'],
    ['far too long', `v1.${'A'.repeat(MAX_SEALED_ID_LENGTH)}`],
    ['far too long (v2)', `v2.${'A'.repeat(MAX_SEALED_ID_LENGTH)}`],
    ['not a string', 12345],
    ['undefined', undefined],
  ])('never throws on garbage: %s → malformed', async (_label, input) => {
    const s = await sealer();
    expect(await s.open(input as string, EXPECT)).toEqual({ ok: false, reason: 'malformed' });
  });

  it('refuses an id of another adapter (authentication fails on the additional data)', async () => {
    const s = await sealer();
    const id = await s.seal(CLAIMS);
    const result = await s.open(id, { ...EXPECT, adapter: 'other-adapter' });
    expect(result).toEqual({ ok: false, reason: 'tampered' });
  });

  it('refuses an id issued for an earlier adapter of the same name (deleted and created again)', async () => {
    const s = await sealer();
    const id = await s.seal(CLAIMS);
    // Same name, created later than the id was issued: only the incarnation tells them apart for v2 ids, even
    // when the new adapter was created within the same millisecond.
    const recreated = { ...EXPECT, incarnation: 'a0b1c2d3-0000-4000-8000-000000000000', createdAt: T0 };
    expect(await s.open(id, recreated)).toEqual({ ok: false, reason: 'wrong-incarnation' });
    expect(await s.open(id, { ...recreated, createdAt: EXPECT.createdAt })).toEqual({
      ok: false,
      reason: 'wrong-incarnation',
    });
  });

  it("refuses another principal's id as wrong-principal", async () => {
    const s = await sealer();
    const id = await s.seal(CLAIMS);
    expect(await s.open(id, { ...EXPECT, principal: 'user-43' })).toEqual({
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

  // Frozen formats: these exact bytes are what live session ids look like. If one of these tests fails, the format
  // changed, and every session id in clients' hands will fail to open (404, re-initialise). Change a format only
  // with a new prefix and HKDF label, never in place.
  it('keeps the v2 format frozen (fixed secret, IV and clock)', async () => {
    const s = await sealer({ random: counterRandom() });
    const id = await s.seal(CLAIMS);
    // Cross-checked by the independent implementation below (node:crypto's HKDF and AES-GCM).
    expect(id).toBe(FROZEN_V2);
    expect(await s.open(id, EXPECT)).toEqual({ ok: true, claims: OPENED });
  });

  it('still opens a v1 id of an older gateway, unless it was issued before the adapter was created', async () => {
    const s = await sealer();
    // Sealed by the v1 sealer (fixed secret, IV and clock T0); cross-checked once against Python `cryptography`.
    const { incarnation: _none, ...v1Claims } = CLAIMS;
    expect(await s.open(FROZEN_V1, EXPECT)).toEqual({
      ok: true,
      claims: { ...v1Claims, incarnation: undefined, issuedAt: T0, format: 'v1' },
    });
    // Whatever the incarnation now is: a v1 id cannot name one.
    expect((await s.open(FROZEN_V1, { ...EXPECT, incarnation: 'other' })).ok).toBe(true);
    expect((await s.open(FROZEN_V1, { ...EXPECT, createdAt: T0 })).ok).toBe(true);
    expect(await s.open(FROZEN_V1, { ...EXPECT, createdAt: new Date(T0.getTime() + 1) })).toEqual({
      ok: false,
      reason: 'wrong-incarnation',
    });
    expect(await s.open(FROZEN_V1, { ...EXPECT, adapter: 'other-adapter' })).toEqual({
      ok: false,
      reason: 'tampered',
    });
  });

  it.each([
    [
      'v2',
      SEALED_ID_PREFIX,
      'mcp-gateway session-id v2',
      ['hand-adapter', 'uid-1', 'r-1', 'upstream-xyz', 'alice'],
    ],
    [
      'v1',
      V1_SEALED_ID_PREFIX,
      'mcp-gateway session-id v1',
      ['hand-adapter', 'r-1', 'upstream-xyz', 'alice'],
    ],
  ] as const)(
    'opens %s ids built by an independent implementation of the documented layout (node:crypto)',
    async (format, prefix, info, strings) => {
      const issuedAt = T0.getTime() - 5_000;
      const key = Buffer.from(hkdfSync('sha256', SECRET, '', info, 32));
      const fields = strings.map((field) => Buffer.from(field, 'utf8'));
      const time = Buffer.alloc(6);
      time.writeUIntBE(issuedAt, 0, 6);
      const plaintext = Buffer.concat([time, ...fields.flatMap((f) => [Buffer.from([f.length]), f])]);
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      cipher.setAAD(Buffer.from('hand-adapter', 'utf8'));
      const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
      const token = prefix + Buffer.concat([iv, ciphertext]).toString('base64url');

      const s = await sealer();
      const opened = await s.open(token, {
        adapter: 'hand-adapter',
        incarnation: 'uid-1',
        createdAt: new Date(issuedAt - 1),
        principal: 'alice',
      });
      expect(opened).toEqual({
        ok: true,
        claims: {
          adapter: 'hand-adapter',
          incarnation: format === 'v2' ? 'uid-1' : undefined,
          replica: 'r-1',
          upstreamSessionId: 'upstream-xyz',
          principal: 'alice',
          issuedAt: new Date(issuedAt),
          format,
        },
      });
      if (format === 'v2') {
        // And the frozen vector decrypts by the same hand.
        const bytes = Buffer.from(FROZEN_V2.slice(3), 'base64url');
        const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, 12));
        decipher.setAAD(Buffer.from(CLAIMS.adapter, 'utf8'));
        decipher.setAuthTag(bytes.subarray(-16));
        const plain = Buffer.concat([decipher.update(bytes.subarray(12, -16)), decipher.final()]);
        expect(plain.readUIntBE(0, 6)).toBe(T0.getTime());
        expect(plain.subarray(6).toString('latin1')).toContain(CLAIMS.incarnation);
      }
    },
  );
});

describe('session ids across a change of the gateway secret', () => {
  const NEW_SECRET = 'rotated-secret-0123456789-abcdefghijklmnopqrstu';

  it('opens an id sealed under a previous secret while it is in the ring, and seals new ids with the current one', async () => {
    const old = await sealer();
    const id = await old.seal(CLAIMS);
    const rotated = await sealer({ secret: NEW_SECRET, previousSecrets: [SECRET] });
    expect(await rotated.open(id, EXPECT)).toEqual({ ok: true, claims: OPENED });
    // Without the previous secret the old id is refused; an id sealed now does not open under the old secret.
    expect(await (await sealer({ secret: NEW_SECRET })).open(id, EXPECT)).toEqual({
      ok: false,
      reason: 'tampered',
    });
    expect(await old.open(await rotated.seal(CLAIMS), EXPECT)).toEqual({ ok: false, reason: 'tampered' });
  });
});
