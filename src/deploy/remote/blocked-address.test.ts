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
  ])('allows %s', (url) => {
    expect(blockedUrlReason(url)).toBeUndefined();
  });

  it('judges resolved addresses the same way', () => {
    expect(blockedAddressReason('169.254.169.254')).toMatch(/link-local/);
    expect(blockedAddressReason('fe80::abcd')).toMatch(/link-local/);
    expect(blockedAddressReason('93.184.216.34')).toBeUndefined();
  });
});
