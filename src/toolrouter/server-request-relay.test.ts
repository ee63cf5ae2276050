import { describe, expect, it } from 'vitest';
import { NO_RELAY, createServerRequestRelay, relayCapabilitiesOf } from './server-request-relay.js';

const withSession = (id: string) => new Request('http://gw/mcp', { headers: { 'mcp-session-id': id } });

describe('server-request-relay', () => {
  it('reads what a client declared as MCP says: a bare elicitation is form mode, URL-only is not form', () => {
    expect(relayCapabilitiesOf(undefined)).toEqual(NO_RELAY);
    expect(relayCapabilitiesOf({ elicitation: {} })).toMatchObject({ elicitation: true, sampling: false });
    expect(relayCapabilitiesOf({ elicitation: { form: {} } }).elicitation).toBe(true);
    expect(relayCapabilitiesOf({ elicitation: { url: {} } }).elicitation).toBe(false);
    expect(relayCapabilitiesOf({ sampling: { tools: {} } })).toEqual({
      elicitation: false,
      sampling: true,
      samplingTools: true,
    });
  });

  it('mints a session only for a client that can be asked something, and reads back what it declared', () => {
    const relay = createServerRequestRelay();
    expect(relay.mint(NO_RELAY)).toBeUndefined();
    const id = relay.mint({ elicitation: true, sampling: true, samplingTools: false })!;
    expect(id).toMatch(/^mcpgw1\.es\.[A-Za-z0-9_-]{22}$/);
    expect(relay.sessionOf(withSession(id))?.capabilities).toEqual({
      elicitation: true,
      sampling: true,
      samplingTools: false,
    });
  });

  it('ignores session ids it did not make (another server’s, or edited out of shape)', () => {
    const relay = createServerRequestRelay();
    expect(relay.sessionOf(withSession('3f1c2a4e-0000-4000-8000-000000000000'))).toBeUndefined();
    expect(relay.sessionOf(withSession('mcpgw1.ex.AAAAAAAAAAAAAAAAAAAAAA'))).toBeUndefined();
    expect(relay.sessionOf(withSession('mcpgw1.e.short'))).toBeUndefined();
    expect(relay.sessionOf(undefined)).toBeUndefined();
  });

  it('takes nothing that is not an answer to one of its own waiting requests', () => {
    const relay = createServerRequestRelay();
    const session = relay.sessionOf(withSession(relay.mint({ ...NO_RELAY, elicitation: true })!))!;
    expect(relay.waiting).toBe(false);
    expect(relay.answer({ jsonrpc: '2.0', id: 'mcp-gateway-x', result: {} }, session, 'alice')).toBe(false);
    expect(relay.answer([], session, 'alice')).toBe(false);
    expect(relay.answer({ jsonrpc: '2.0', id: 1, method: 'tools/list' }, session, 'alice')).toBe(false);
  });
});
