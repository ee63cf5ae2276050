/** Tests of the tool router's cursors. */
import { describe, expect, it } from 'vitest';
import { decodeCursor, decodeKeyCursor, encodeCursor, encodeKeyCursor } from './cursor.js';

describe('cursor', () => {
  it('round-trips a tool name and looks opaque', () => {
    for (const name of ['a', 'score', 'weather__get_forecast', 'x.y-z_0', 'z'.repeat(128)]) {
      const cursor = encodeCursor(name);
      expect(cursor).not.toContain(name);
      expect(cursor).toMatch(/^[A-Za-z0-9_.-]+$/);
      expect(decodeCursor(cursor)).toBe(name);
    }
  });

  it('refuses cursors it did not make', () => {
    for (const bad of [
      '',
      'abc',
      't1.',
      't1.!!!',
      't1.' + btoa('has space'),
      't2.' + btoa('score'),
      't1.' + 'A'.repeat(600),
    ]) {
      expect(decodeCursor(bad)).toBeUndefined();
    }
  });

  it('round-trips a URI key under its own prefix only', () => {
    for (const key of ['memo://notes/notes/1', 'ui://w/ünï/çødé.html', 'urn://a:/x?y#z']) {
      const cursor = encodeKeyCursor('r1.', key);
      expect(cursor).toMatch(/^[A-Za-z0-9_.-]+$/);
      expect(decodeKeyCursor('r1.', cursor)).toBe(key);
      expect(decodeKeyCursor('rt1.', cursor)).toBeUndefined();
      expect(decodeCursor(cursor)).toBeUndefined();
    }
    expect(decodeKeyCursor('r1.', 'r1.' + '_'.repeat(9000))).toBeUndefined();
    // Not UTF-8.
    expect(decodeKeyCursor('r1.', 'r1.' + btoa('\xff\xfe').replace(/=+$/, ''))).toBeUndefined();
  });
});
