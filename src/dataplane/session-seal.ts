/**
 * @module SessionSeal: the `Mcp-Session-Id` a legacy client sees — the upstream's session id and the routing facts,
 * sealed with AES-256-GCM so any gateway replica can route it and no client can read or forge it
 * (ARCHITECTURE §3, "Affinity without a session store").
 *
 * Format v2, frozen (changing any of it invalidates every live session, so a change needs a new version):
 * - key = HKDF-SHA256(ikm = UTF-8(secret), salt = empty, info = UTF-8("mcp-gateway session-id v2")), 256 bits;
 * - plaintext = issuedAt (ms since the epoch, 6 bytes big-endian) ‖ adapter ‖ incarnation ‖ replica ‖
 *   upstreamSessionId ‖ principal, each string as UTF-8 prefixed by its byte length (1 byte below 128, else
 *   2 bytes `0x8000 | n`);
 * - additional data = UTF-8(adapter), so another adapter's id fails authentication outright;
 * - sealed id = "v2." ‖ base64url-without-padding(IV (12 random bytes) ‖ ciphertext ‖ tag (16 bytes)).
 * The incarnation is the adapter's registry `uid` (new on every create), so an id issued for an adapter that was
 * deleted and created again under the same name does not reach the new one.
 *
 * Format v1 (before the incarnation) is still opened, never sealed: the same layout without the incarnation,
 * prefix "v1." and HKDF label "mcp-gateway session-id v1". A v1 id cannot name its adapter's incarnation, so it
 * is refused when it was issued before the adapter's creation time; v1 ids die out within the session maximum age.
 *
 * The result is visible ASCII (0x21–0x7E) and URL-safe, as `Mcp-Session-Id` requires (rules §1.4); about
 * 230 characters for typical names, a UUID session id and a UUID incarnation (v1: about 180).
 *
 * Only Web APIs are used (WebCrypto, TextEncoder/TextDecoder) so the edge build shares this code.
 */

/** The claims a sealed id carries, as the proxy supplies them when a session is created. */
export interface SessionClaims {
  /** Adapter name; also the GCM additional data. */
  readonly adapter: string;
  /** The adapter's incarnation (its registry `uid`): which adapter of that name the session belongs to. */
  readonly incarnation: string;
  /** Replica id the session lives on. */
  readonly replica: string;
  /** The upstream's own `Mcp-Session-Id`, never shown to the client. */
  readonly upstreamSessionId: string;
  /** Stable id of the principal that opened the session; only that principal may use it. */
  readonly principal: string;
}

/** Claims recovered from a valid sealed id. */
export interface OpenedSessionClaims extends Omit<SessionClaims, 'incarnation'> {
  /** The incarnation sealed in; undefined for a v1 id, which has none. */
  readonly incarnation: string | undefined;
  /** When the id was sealed, by the sealer's clock (millisecond precision). */
  readonly issuedAt: Date;
  /** The format of the id: `v2`, or `v1` for one sealed by an older gateway. */
  readonly format: 'v1' | 'v2';
}

/** What an opened id must belong to: the adapter as the registry holds it now, and the caller. */
export interface SessionExpectation {
  readonly adapter: string;
  /** The adapter's current incarnation (registry `uid`). */
  readonly incarnation: string;
  /** When the adapter's current incarnation was created: a v1 id issued before it is refused. */
  readonly createdAt: Date;
  readonly principal: string;
}

/**
 * Why an id was refused — for logs only. Every reason is answered to the client the same way (404, so it
 * re-initialises); telling the client which check failed would help an attacker.
 * - `malformed`: not a v1 sealed id (wrong prefix, bad base64url, too short or too long);
 * - `tampered`: authentication failed — altered, sealed with another secret, or sealed for another adapter
 *   (the adapter is the additional data, so that case is indistinguishable from tampering by design);
 * - `wrong-adapter`: authenticated but names another adapter (defence in depth; not expected to happen);
 * - `wrong-incarnation`: issued for an earlier adapter of the same name (deleted and created again since);
 * - `wrong-principal`: a valid id of another principal;
 * - `expired`: older than `maxAgeMs`;
 * - `not-yet-valid`: issued further in the future than the allowed clock skew (replica clocks disagree).
 */
export type OpenFailureReason =
  | 'malformed'
  | 'tampered'
  | 'wrong-adapter'
  | 'wrong-incarnation'
  | 'wrong-principal'
  | 'expired'
  | 'not-yet-valid';

/** Outcome of {@link SessionSealer.open}. */
export type OpenResult =
  | { readonly ok: true; readonly claims: OpenedSessionClaims }
  | { readonly ok: false; readonly reason: OpenFailureReason };

/** Options for {@link createSessionSealer}. */
export interface SessionSealerOptions {
  /** The gateway secret, at least 32 characters; every replica must share it. */
  readonly secret: string;
  /**
   * Previous gateway secrets (`MCP_GATEWAY_PREVIOUS_SECRETS`, a rotation under way): ids sealed under them still
   * open, new ids are sealed with {@link secret} only. A session id names no key (the format is frozen), so a
   * failed open under the current key tries these in order: a handful of keys, only while a rotation lasts.
   */
  readonly previousSecrets?: readonly string[];
  /** Current time; default `() => new Date()`. */
  readonly clock?: () => Date;
  /** Returns `length` random bytes; default `crypto.getRandomValues`. Must be a CSPRNG outside tests. */
  readonly random?: (length: number) => Uint8Array;
  /** Age after which an id is refused, in ms; default 24 h. */
  readonly maxAgeMs?: number;
  /** How far in the future an `issuedAt` may lie (clock skew between replicas), in ms; default 60 s. */
  readonly clockSkewMs?: number;
}

/** Seals and opens session ids with one derived key. */
export interface SessionSealer {
  /**
   * Seals `claims`, stamped with the clock's current time. Throws a RangeError only on server-side misuse
   * (a claim too long to fit {@link MAX_SEALED_ID_LENGTH}); never on client input.
   */
  seal(claims: SessionClaims): Promise<string>;
  /** Opens a client-supplied id. Never throws; any unusable input is a `{ ok: false, reason }`. */
  open(sealed: string, expect: SessionExpectation): Promise<OpenResult>;
}

/** Prefix of every sealed id `seal` makes (v2); a new format gets a new prefix and a new HKDF label. */
export const SEALED_ID_PREFIX = 'v2.';

/** Prefix of the ids older gateways sealed (v1), which are still opened. */
export const V1_SEALED_ID_PREFIX = 'v1.';

/** Longest sealed id `seal` produces and `open` reads; longer input is refused before any crypto. */
export const MAX_SEALED_ID_LENGTH = 4096;

/** Default `maxAgeMs`: one day. */
export const DEFAULT_SESSION_MAX_AGE_MS = 24 * 60 * 60 * 1000;

/** Default `clockSkewMs`: one minute. */
export const DEFAULT_SESSION_CLOCK_SKEW_MS = 60 * 1000;

/** Shortest secret accepted, in characters. */
export const MIN_SECRET_LENGTH = 32;

const IV_BYTES = 12; // 96 bits: the GCM nonce size that needs no extra hashing
const TAG_BYTES = 16;
const TIME_BYTES = 6; // ms since the epoch fit 48 bits until the year 10889
const MAX_FIELD_BYTES = 0x7fff;
// Both prefixes are three characters, so one bound serves both formats.
const MAX_BYTES = Math.floor(((MAX_SEALED_ID_LENGTH - SEALED_ID_PREFIX.length) * 3) / 4);

/** What differs between the formats: the prefix, the HKDF label and the number of strings sealed. */
interface Format {
  readonly name: 'v1' | 'v2';
  readonly prefix: string;
  readonly info: string;
  readonly fields: number;
}
const V2: Format = { name: 'v2', prefix: SEALED_ID_PREFIX, info: 'mcp-gateway session-id v2', fields: 5 };
const V1: Format = { name: 'v1', prefix: V1_SEALED_ID_PREFIX, info: 'mcp-gateway session-id v1', fields: 4 };

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

const refused = (reason: OpenFailureReason): OpenResult => Object.freeze({ ok: false, reason });
const MALFORMED = refused('malformed');
const TAMPERED = refused('tampered');
const WRONG_ADAPTER = refused('wrong-adapter');
const WRONG_INCARNATION = refused('wrong-incarnation');
const WRONG_PRINCIPAL = refused('wrong-principal');
const EXPIRED = refused('expired');
const NOT_YET_VALID = refused('not-yet-valid');

/**
 * Derives the sealing key from `options.secret` once and returns a sealer bound to it.
 * Throws (a TypeError or RangeError) when the options are unusable, so a bad configuration fails at start.
 */
export async function createSessionSealer(options: SessionSealerOptions): Promise<SessionSealer> {
  const { secret } = options;
  if (typeof secret !== 'string' || secret.length < MIN_SECRET_LENGTH) {
    throw new RangeError(
      `createSessionSealer: secret must be a string of at least ${MIN_SECRET_LENGTH} characters`,
    );
  }
  const maxAgeMs = options.maxAgeMs ?? DEFAULT_SESSION_MAX_AGE_MS;
  if (!Number.isFinite(maxAgeMs) || maxAgeMs <= 0) {
    throw new RangeError('createSessionSealer: maxAgeMs must be a positive number');
  }
  const clockSkewMs = options.clockSkewMs ?? DEFAULT_SESSION_CLOCK_SKEW_MS;
  if (!Number.isFinite(clockSkewMs) || clockSkewMs < 0) {
    throw new RangeError('createSessionSealer: clockSkewMs must be a number ≥ 0');
  }
  const clock = options.clock ?? (() => new Date());
  const random = options.random ?? ((length: number) => crypto.getRandomValues(new Uint8Array(length)));
  const keys = { v2: await deriveSessionKey(secret, V2), v1: await deriveSessionKey(secret, V1) };
  const ring = [keys];
  for (const previous of options.previousSecrets ?? []) {
    if (previous.length === 0 || previous === secret) continue;
    ring.push({ v2: await deriveSessionKey(previous, V2), v1: await deriveSessionKey(previous, V1) });
  }

  async function seal(claims: SessionClaims): Promise<string> {
    const fields = [
      claims.adapter,
      claims.incarnation,
      claims.replica,
      claims.upstreamSessionId,
      claims.principal,
    ];
    const plaintext = encodeClaims(fields, nowMs(clock));
    if (IV_BYTES + plaintext.length + TAG_BYTES > MAX_BYTES) {
      throw new RangeError(`session claims too long to seal within ${MAX_SEALED_ID_LENGTH} characters`);
    }
    const iv = random(IV_BYTES);
    if (!(iv instanceof Uint8Array) || iv.length !== IV_BYTES) {
      throw new TypeError(`createSessionSealer: random(${IV_BYTES}) must return ${IV_BYTES} bytes`);
    }
    const sealed = new Uint8Array(
      await crypto.subtle.encrypt(
        { name: 'AES-GCM', iv: toBufferSource(iv), additionalData: encoder.encode(claims.adapter) },
        keys.v2,
        plaintext,
      ),
    );
    const out = new Uint8Array(IV_BYTES + sealed.length);
    out.set(iv, 0);
    out.set(sealed, IV_BYTES);
    return SEALED_ID_PREFIX + encodeBase64Url(out);
  }

  async function open(sealed: string, expect: SessionExpectation): Promise<OpenResult> {
    if (typeof sealed !== 'string' || sealed.length > MAX_SEALED_ID_LENGTH) return MALFORMED;
    const format = sealed.startsWith(V2.prefix) ? V2 : sealed.startsWith(V1.prefix) ? V1 : undefined;
    if (format === undefined) return MALFORMED;
    const bytes = decodeBase64Url(sealed, format.prefix.length);
    // The shortest plaintext: the time and an empty string per field, each one length byte.
    if (bytes === undefined || bytes.length < IV_BYTES + TIME_BYTES + format.fields + TAG_BYTES)
      return MALFORMED;

    let plaintext: Uint8Array | undefined;
    for (const ringKeys of ring) {
      try {
        plaintext = new Uint8Array(
          await crypto.subtle.decrypt(
            {
              name: 'AES-GCM',
              iv: bytes.subarray(0, IV_BYTES),
              additionalData: encoder.encode(expect.adapter),
            },
            ringKeys[format.name],
            bytes.subarray(IV_BYTES),
          ),
        );
        break;
      } catch {
        // Not this key: the next one of the ring, if any.
      }
    }
    if (plaintext === undefined) return TAMPERED;
    const claims = decodeClaims(plaintext, format);
    // Authentic but unreadable can only be a format bug or a reused key with another format.
    if (claims === undefined) return MALFORMED;
    if (claims.adapter !== expect.adapter) return WRONG_ADAPTER;
    // A v1 id names no incarnation: one issued before this adapter was created belongs to an earlier one.
    if (
      claims.incarnation === undefined
        ? claims.issuedAt.getTime() < expect.createdAt.getTime()
        : claims.incarnation !== expect.incarnation
    ) {
      return WRONG_INCARNATION;
    }
    if (claims.principal !== expect.principal) return WRONG_PRINCIPAL;
    const age = nowMs(clock) - claims.issuedAt.getTime();
    if (age < -clockSkewMs) return NOT_YET_VALID;
    if (age > maxAgeMs) return EXPIRED;
    return { ok: true, claims };
  }

  return { seal, open };
}

/** HKDF-SHA256 from the secret to a non-extractable AES-256-GCM key, labelled per format (see the module header). */
async function deriveSessionKey(secret: string, format: Format): Promise<CryptoKey> {
  const ikm = await crypto.subtle.importKey('raw', encoder.encode(secret), 'HKDF', false, ['deriveKey']);
  return crypto.subtle.deriveKey(
    { name: 'HKDF', hash: 'SHA-256', salt: new Uint8Array(0), info: encoder.encode(format.info) },
    ikm,
    { name: 'AES-GCM', length: 256 },
    false,
    format === V2 ? ['encrypt', 'decrypt'] : ['decrypt'],
  );
}

function nowMs(clock: () => Date): number {
  const ms = clock().getTime();
  if (!Number.isInteger(ms) || ms < 0 || ms >= 2 ** (8 * TIME_BYTES)) {
    throw new RangeError('session sealer: the clock returned a time outside 1970 … 10889');
  }
  return ms;
}

// A copy typed as ArrayBuffer-backed, as the WebCrypto typings want, whatever buffer an injected random used.
const toBufferSource = (bytes: Uint8Array): Uint8Array<ArrayBuffer> => new Uint8Array(bytes);

function encodeClaims(values: readonly unknown[], issuedAtMs: number): Uint8Array<ArrayBuffer> {
  const fields = values.map((value) => {
    if (typeof value !== 'string') throw new TypeError('session claims must be strings');
    const bytes = encoder.encode(value);
    if (bytes.length > MAX_FIELD_BYTES) throw new RangeError('a session claim is longer than 32767 bytes');
    return bytes;
  });
  let size = TIME_BYTES;
  for (const field of fields) size += (field.length < 0x80 ? 1 : 2) + field.length;
  const out = new Uint8Array(size);
  // 48-bit big-endian without BigInt: high 16 bits, then low 32 bits.
  const view = new DataView(out.buffer);
  view.setUint16(0, Math.floor(issuedAtMs / 2 ** 32));
  view.setUint32(2, issuedAtMs % 2 ** 32);
  let at = TIME_BYTES;
  for (const field of fields) {
    if (field.length < 0x80) {
      out[at++] = field.length;
    } else {
      view.setUint16(at, 0x8000 | field.length);
      at += 2;
    }
    out.set(field, at);
    at += field.length;
  }
  return out;
}

function decodeClaims(bytes: Uint8Array, format: Format): OpenedSessionClaims | undefined {
  if (bytes.length < TIME_BYTES + format.fields) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const issuedAtMs = view.getUint16(0) * 2 ** 32 + view.getUint32(2);
  let at = TIME_BYTES;
  const next = (): string | undefined => {
    const first = bytes[at];
    if (first === undefined) return undefined;
    let length = first;
    at += 1;
    if (first >= 0x80) {
      const second = bytes[at];
      if (second === undefined) return undefined;
      length = ((first & 0x7f) << 8) | second;
      at += 1;
      if (length < 0x80) return undefined; // only the shortest form is valid
    }
    if (at + length > bytes.length) return undefined;
    const slice = bytes.subarray(at, at + length);
    at += length;
    try {
      return decoder.decode(slice);
    } catch {
      return undefined;
    }
  };
  const adapter = next();
  const incarnation = format === V2 ? next() : undefined;
  const replica = next();
  const upstreamSessionId = next();
  const principal = next();
  if (
    adapter === undefined ||
    (format === V2 && incarnation === undefined) ||
    replica === undefined ||
    upstreamSessionId === undefined ||
    principal === undefined ||
    at !== bytes.length
  ) {
    return undefined;
  }
  return {
    adapter,
    incarnation,
    replica,
    upstreamSessionId,
    principal,
    issuedAt: new Date(issuedAtMs),
    format: format.name,
  };
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const DECODE = new Int8Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) DECODE[ALPHABET.charCodeAt(i)] = i;

/** RFC 4648 §5 base64url without padding. */
function encodeBase64Url(bytes: Uint8Array): string {
  let out = '';
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out += ALPHABET[n >> 18]! + ALPHABET[(n >> 12) & 63]! + ALPHABET[(n >> 6) & 63]! + ALPHABET[n & 63]!;
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = bytes[i]! << 16;
    out += ALPHABET[n >> 18]! + ALPHABET[(n >> 12) & 63]!;
  } else if (rest === 2) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8);
    out += ALPHABET[n >> 18]! + ALPHABET[(n >> 12) & 63]! + ALPHABET[(n >> 6) & 63]!;
  }
  return out;
}

/**
 * Strict base64url decoding of `text` from `start`: only the URL-safe alphabet, no padding, and the unused low
 * bits of the last character must be zero — otherwise several strings would decode to the same bytes and a
 * changed character could go unnoticed. Returns undefined for anything else.
 */
function decodeBase64Url(text: string, start: number): Uint8Array<ArrayBuffer> | undefined {
  const chars = text.length - start;
  if (chars % 4 === 1) return undefined;
  const out = new Uint8Array(Math.floor((chars * 3) / 4));
  let buffer = 0;
  let bits = 0;
  let at = 0;
  for (let i = start; i < text.length; i++) {
    const code = text.charCodeAt(i);
    const value = code < 128 ? DECODE[code]! : -1;
    if (value < 0) return undefined;
    buffer = ((buffer << 6) | value) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[at++] = (buffer >> bits) & 0xff;
    }
  }
  if ((buffer & ((1 << bits) - 1)) !== 0) return undefined;
  return out;
}
