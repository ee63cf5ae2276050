/** @module Tests of the SSRF guard: every blocked form, literal or resolved, and what stays allowed. */
import { describe, expect, it } from 'vitest';
import { blockedAddressReason, blockedUrlReason } from './blocked-address.js';

describe('SSRF guard', () => {
  it.each([
    'http://169.254.169.254/latest/meta-data/',
    'http://169.254.1.2:8080/mcp',
    'http://[fe80::1]/mcp',
    'http://[fd00:ec2::254]/',
    'http://[::ffff:169.254.169.254]/',
    'http://100.100.100.200/',
    'http://metadata.google.internal/computeMetadata/v1/',
    'http://0.0.0.0:8000/mcp',
    'http://224.0.0.1/',
    // Forms the URL parser normalises: decimal, hex and short IPv4, and IPv6 with a dotted tail.
    'http://2852039166/',
    'http://0xa9.0xfe.0xa9.0xfe/',
    'http://169.254.43518/',
    'http://0/',
    'http://[::169.254.169.254]/',
    'http://[::ffff:0:169.254.169.254]/',
    'http://[64:ff9b::169.254.169.254]/',
    'http://[0:0:0:0:0:ffff:a9fe:a9fe]/',
    'http://[fec0::1]/',
    'http://[::]/',
  ])('refuses %s', (url) => {
    expect(blockedUrlReason(url)).toBeDefined();
  });

  it.each([
    'http://127.0.0.1:8000/mcp',
    'http://10.0.0.5/mcp',
    'https://mcp.example.com/mcp',
    'http://[::1]:3000/mcp',
    'http://192.168.1.10/mcp',
    'http://169.255.0.1/',
    'http://[::ffff:127.0.0.1]/',
    'http://[64:ff9b::8.8.8.8]/',
    'http://[2001:db8::1]/',
    'http://[fd00::1]/',
  ])('allows %s', (url) => {
    expect(blockedUrlReason(url)).toBeUndefined();
  });

  it('sees the same address however the URL parser writes it', () => {
    expect(new URL('http://[::169.254.169.254]/').hostname).toBe('[::a9fe:a9fe]');
    expect(new URL('http://[::ffff:0:169.254.169.254]/').hostname).toBe('[::ffff:0:a9fe:a9fe]');
    expect(new URL('http://[64:ff9b::169.254.169.254]/').hostname).toBe('[64:ff9b::a9fe:a9fe]');
    expect(new URL('http://[::ffff:169.254.169.254]/').hostname).toBe('[::ffff:a9fe:a9fe]');
    expect(new URL('http://2852039166/').hostname).toBe('169.254.169.254');
  });

  // Addresses as a resolver returns them (without brackets), in every form that embeds IPv4.
  it.each<[string, RegExp]>([
    ['169.254.169.254', /link-local/],
    ['0.0.0.0', /unspecified/],
    ['::', /unspecified/],
    ['0:0:0:0:0:0:0:0', /unspecified/],
    ['fe80::abcd', /link-local/],
    ['FE80::1%eth0', /link-local/],
    ['febf:ffff::1', /link-local/],
    ['fec0::1', /site-local/],
    ['feff::1', /site-local/],
    ['ff02::1', /multicast/],
    ['fd00:ec2::254', /metadata/],
    // IPv4-mapped, ::ffff:0:0/96
    ['::ffff:169.254.169.254', /IPv4-mapped address of 169\.254\.169\.254, a link-local/],
    ['::ffff:a9fe:a9fe', /IPv4-mapped address of 169\.254\.169\.254/],
    ['::ffff:0.0.0.0', /IPv4-mapped address of 0\.0\.0\.0, an unspecified/],
    ['::ffff:6464:64c8', /IPv4-mapped address of 100\.100\.100\.200, a cloud metadata/],
    // IPv4-compatible (deprecated), ::/96
    ['::a9fe:a9fe', /IPv4-compatible address of 169\.254\.169\.254/],
    ['::169.254.169.254', /IPv4-compatible address of 169\.254\.169\.254/],
    ['0:0:0:0:0:0:a9fe:a9fe', /IPv4-compatible address of 169\.254\.169\.254/],
    ['::e000:1', /IPv4-compatible address of 224\.0\.0\.1, a multicast/],
    // IPv4-translated (RFC 2765), ::ffff:0:0:0/96
    ['::ffff:0:a9fe:a9fe', /IPv4-translated address of 169\.254\.169\.254/],
    ['::ffff:0:169.254.169.254', /IPv4-translated address of 169\.254\.169\.254/],
    // NAT64: the well-known prefix and the local-use one with a /96 prefix
    ['64:ff9b::a9fe:a9fe', /NAT64 address of 169\.254\.169\.254/],
    ['64:ff9b::169.254.169.254', /NAT64 address of 169\.254\.169\.254/],
    ['64:ff9b:1::a9fe:a9fe', /NAT64 address of 169\.254\.169\.254/],
    ['64:ff9b::0.0.0.0', /NAT64 address of 0\.0\.0\.0/],
    // 6to4 and Teredo
    ['2002:a9fe:a9fe::1', /6to4 address of 169\.254\.169\.254/],
    ['2001:0:a9fe:a9fe::1', /Teredo address \(server\) of 169\.254\.169\.254/],
    ['2001:0:4136:e378:8000:63bf:5601:5601', /Teredo address \(client\) of 169\.254\.169\.254/],
  ])('refuses the resolved address %s', (address, reason) => {
    expect(blockedAddressReason(address)).toMatch(reason);
  });

  it.each([
    '93.184.216.34',
    '127.0.0.1',
    '::1',
    '0:0:0:0:0:0:0:1',
    '::ffff:127.0.0.1',
    '::ffff:7f00:1',
    '::ffff:10.1.2.3',
    '::7f00:1',
    '64:ff9b::808:808',
    '2002:c000:204::1',
    '2001:0:4136:e378:8000:63bf:3fff:fdd2',
    '2001:db8::1',
    'fd00::1',
    'fe00::1',
    '2606:4700:4700::1111',
  ])('allows the resolved address %s', (address) => {
    expect(blockedAddressReason(address)).toBeUndefined();
  });

  it('never throws on text that is not an address', () => {
    for (const text of [
      '',
      ':',
      ':::',
      '1::2::3',
      '1:2:3:4:5:6:7:8:9',
      'g::1',
      '::1.2.3',
      '::256.0.0.1',
      'host',
    ]) {
      expect(() => blockedAddressReason(text)).not.toThrow();
    }
    expect(blockedAddressReason('::256.0.0.1')).toBeUndefined();
  });
});
