/**
 * @module key-derivation: the WebCrypto primitives the registry's encrypted values share (sealed settings,
 * secrets): HKDF-SHA256 from the gateway secret, and base64url without padding. No Node API, so the edge build
 * shares it.
 */

const encoder = new TextEncoder();

/** `bytes` bytes of HKDF-SHA256(ikm = UTF-8(secret), salt = empty, info = UTF-8(info)). */
export async function hkdf(secret: string, info: string, bytes: number): Promise<Uint8Array<ArrayBuffer>> {
  const ikm = await crypto.subtle.importKey('raw', encoder.encode(secret), 'HKDF', false, ['deriveBits']);
  const bits = await crypto.subtle.deriveBits(
    { name: 'HKDF', hash: 'SHA-256', salt: new Uint8Array(0), info: encoder.encode(info) },
    ikm,
    bytes * 8,
  );
  return new Uint8Array(bits);
}

/** base64url (RFC 4648 §5) without padding. A loop, not a spread: a spread of a large value overflows the stack. */
export function base64Url(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

const BASE64URL = /^[A-Za-z0-9_-]*$/;

/** Decodes {@link base64Url} text; undefined when it is not base64url. */
export function fromBase64Url(text: string): Uint8Array<ArrayBuffer> | undefined {
  if (!BASE64URL.test(text) || text.length % 4 === 1) return undefined;
  try {
    const binary = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
    return Uint8Array.from(binary, (ch) => ch.charCodeAt(0));
  } catch {
    return undefined;
  }
}
