/**
 * @module cursor: the tool router's own opaque `tools/list` cursors over the merged list. A cursor carries the
 * last name of the page it ends (keyset paging over the name-ordered list), so any gateway instance can
 * continue a listing another began, and tools added or removed meanwhile never make a page repeat or skip the
 * others. Upstream cursors never reach the client (MCP: cursors are opaque to the receiver). The merged resource
 * lists page the same way by URI ({@link encodeKeyCursor}).
 */
import { TOOL_NAME_ALPHABET } from '../config/index.js';

const PREFIX = 't1.';

function toBase64Url(text: string): string {
  return btoa(text).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function fromBase64Url(text: string): string | undefined {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) return undefined;
  try {
    return atob(text.replace(/-/g, '+').replace(/_/g, '/'));
  } catch {
    return undefined;
  }
}

/** The cursor of the page after the one ending with `lastName` (an exposed tool name, ASCII by construction). */
export function encodeCursor(lastName: string): string {
  return PREFIX + toBase64Url(lastName);
}

/** The name a cursor continues after, or undefined when the cursor is not one of ours (an Invalid Params). */
export function decodeCursor(cursor: string): string | undefined {
  if (!cursor.startsWith(PREFIX) || cursor.length > 512) return undefined;
  const name = fromBase64Url(cursor.slice(PREFIX.length));
  return name !== undefined && TOOL_NAME_ALPHABET.test(name) ? name : undefined;
}

/** The longest resource cursor accepted: URIs can be long, but not without bound. */
const MAX_KEY_CURSOR = 8192;

/**
 * A cursor of a list ordered by another key (a resource's URI, a template's URI template): `prefix` tells the
 * lists apart, so a cursor of one is refused by another. The key is carried as UTF-8.
 */
export function encodeKeyCursor(prefix: string, key: string): string {
  let binary = '';
  for (const byte of new TextEncoder().encode(key)) binary += String.fromCharCode(byte);
  return prefix + toBase64Url(binary);
}

/** The key a cursor of {@link encodeKeyCursor} continues after, or undefined when it is not one of `prefix`'s. */
export function decodeKeyCursor(prefix: string, cursor: string): string | undefined {
  if (!cursor.startsWith(prefix) || cursor.length > MAX_KEY_CURSOR) return undefined;
  const binary = fromBase64Url(cursor.slice(prefix.length));
  if (binary === undefined) return undefined;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(binary, (c) => c.charCodeAt(0)));
  } catch {
    return undefined;
  }
}
