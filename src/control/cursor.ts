/** @module cursor: opaque list cursors (keyset pagination by name). */
import { badRequest } from '../http/index.js';

const PREFIX = 'n1.';

/** Encodes the last name of a page as an opaque cursor. */
export function encodeCursor(lastName: string): string {
  const bytes = new TextEncoder().encode(lastName);
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return PREFIX + btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** Decodes a cursor; throws a 400 when it was not made by {@link encodeCursor}. */
export function decodeCursor(cursor: string): string {
  const invalid = () =>
    badRequest('cursor: is not a cursor this gateway issued; start again without it', [
      { path: 'cursor', message: 'is not valid' },
    ]);
  if (!cursor.startsWith(PREFIX)) throw invalid();
  const body = cursor.slice(PREFIX.length);
  if (!/^[A-Za-z0-9_-]*$/.test(body)) throw invalid();
  try {
    const binary = atob(body.replace(/-/g, '+').replace(/_/g, '/'));
    const bytes = Uint8Array.from(binary, (ch) => ch.charCodeAt(0));
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw invalid();
  }
}
