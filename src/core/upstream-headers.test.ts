import { describe, expect, it } from 'vitest';
import { connectionTokens, isDroppedRequestHeader } from './upstream-headers.js';

describe('which caller headers travel upstream', () => {
  it.each([
    ['authorization', true],
    ['proxy-authorization', true],
    ['cookie', true],
    ['x-gateway-secret', true],
    ['x-mcp-userid', true],
    ['x-mcp-roles', true],
    ['x-mcp-identity', true],
    ['x-dev-userid', true],
    ['x-dev-roles', true],
    ['x-forwarded-for', true],
    ['forwarded', true],
    ['host', true],
    ['transfer-encoding', true],
    // The gateway's sealed id: the upstream gets its own session id instead.
    ['mcp-session-id', true],
    ['mcp-protocol-version', false],
    ['mcp-method', false],
    ['mcp-name', false],
    ['content-type', false],
    ['accept', false],
    ['last-event-id', false],
    ['traceparent', false],
    ['x-tenant', false],
  ])('%s dropped: %s', (name, dropped) => {
    expect(isDroppedRequestHeader(name)).toBe(dropped);
  });

  it('drops the names a Connection header lists, which are hop-by-hop', () => {
    const tokens = connectionTokens('Upgrade, X-Hop');
    expect(isDroppedRequestHeader('x-hop', tokens)).toBe(true);
    expect(isDroppedRequestHeader('x-hop')).toBe(false);
    expect(connectionTokens('keep-alive').size).toBe(0);
  });
});
