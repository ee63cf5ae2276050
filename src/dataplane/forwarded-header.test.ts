import parseForwarded from 'forwarded-parse';
import { describe, expect, it } from 'vitest';
import { forwardedHeader } from './forwarded-header.js';

describe('the Forwarded header (RFC 7239)', () => {
  it('names the client, the scheme and the host the client asked for, as a strict parser reads them', () => {
    const cases: [string | undefined, string, string, Record<string, string>][] = [
      [
        '203.0.113.7',
        'https',
        'gateway.example.com',
        { for: '203.0.113.7', proto: 'https', host: 'gateway.example.com' },
      ],
      ['::1', 'http', '127.0.0.1:3000', { for: '[::1]', proto: 'http', host: '127.0.0.1:3000' }],
      [
        '::ffff:10.0.0.1',
        'http',
        '[2001:db8::1]:8443',
        { for: '[::ffff:10.0.0.1]', proto: 'http', host: '[2001:db8::1]:8443' },
      ],
      [undefined, 'http', 'localhost', { for: 'unknown', proto: 'http', host: 'localhost' }],
    ];
    for (const [remote, proto, host, expected] of cases) {
      expect(parseForwarded(forwardedHeader(remote, proto, host))).toEqual([expected]);
    }
  });

  it('quotes IPv6 and host:port as RFC 7239 §6 and §4 ask, and leaves tokens bare', () => {
    expect(forwardedHeader('::1', 'http', '127.0.0.1:3000')).toBe(
      'for="[::1]";proto=http;host="127.0.0.1:3000"',
    );
    expect(forwardedHeader('192.0.2.60', 'https', 'example.com')).toBe(
      'for=192.0.2.60;proto=https;host=example.com',
    );
  });

  it('escapes quotes and backslashes, so a strange Host cannot add a pair of its own', () => {
    const header = forwardedHeader('192.0.2.1', 'http', 'a";by=evil\\');
    expect(parseForwarded(header)).toEqual([{ for: '192.0.2.1', proto: 'http', host: 'a";by=evil\\' }]);
  });
});
