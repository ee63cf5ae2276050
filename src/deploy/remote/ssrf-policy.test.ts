import { describe, expect, it } from 'vitest';
import { ssrfPolicy } from './ssrf-policy.js';

describe('ssrfPolicy', () => {
  it('guards addresses and URLs by default: metadata and link-local are refused, the rest allowed', () => {
    const policy = ssrfPolicy({ allowLinkLocal: false });
    expect(policy.refuseAddress?.('169.254.169.254')).toMatch(/link-local/);
    expect(policy.refuseUrl?.('http://metadata.google.internal/computeMetadata/v1/')).toBeDefined();
    expect(policy.refuseUrl?.('http://[fe80::1]:8080/mcp')).toBeDefined();
    expect(policy.refuseAddress?.('10.0.0.7')).toBeUndefined();
    expect(policy.refuseUrl?.('https://mcp.example.com/mcp')).toBeUndefined();
  });

  it('has no guard at all when MCP_GATEWAY_ALLOW_LINK_LOCAL is set', () => {
    expect(ssrfPolicy({ allowLinkLocal: true })).toEqual({});
  });
});
