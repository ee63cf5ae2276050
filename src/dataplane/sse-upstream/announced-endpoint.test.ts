import { describe, expect, it } from 'vitest';
import { blockedUrlReason } from '../../deploy/index.js';
import { judgeAnnouncedEndpoint } from './announced-endpoint.js';

const SSE = 'http://mcp.example:8080/sse?tenant=a';

describe('judgeAnnouncedEndpoint', () => {
  it('takes a path or a URL on the SSE stream’s own origin, resolved against the SSE URL', () => {
    expect(judgeAnnouncedEndpoint('/messages?sessionId=abc', SSE)).toEqual({
      ok: true,
      url: 'http://mcp.example:8080/messages?sessionId=abc',
    });
    expect(judgeAnnouncedEndpoint('messages?sessionId=1', 'http://mcp.example:8080/v1/sse')).toEqual({
      ok: true,
      url: 'http://mcp.example:8080/v1/messages?sessionId=1',
    });
    expect(judgeAnnouncedEndpoint(' http://MCP.example:8080/m \n', SSE)).toMatchObject({ ok: true });
  });

  it.each([
    ['another host', 'http://attacker.example:8080/steal'],
    ['another port', 'http://mcp.example:9090/messages'],
    ['another scheme', 'https://mcp.example:8080/messages'],
    ['a scheme-relative URL', '//169.254.169.254/latest/meta-data'],
    ['the default port of the scheme instead of the SSE port', 'http://mcp.example/messages'],
  ])('refuses %s', (_case, data) => {
    const verdict = judgeAnnouncedEndpoint(data, SSE);
    expect(verdict.ok).toBe(false);
    expect(!verdict.ok && verdict.reason).toContain(
      "is not on the SSE stream's origin http://mcp.example:8080",
    );
  });

  it('refuses user info and what the SSRF rules refuse, even on the same origin', () => {
    expect(judgeAnnouncedEndpoint('http://u:p@mcp.example:8080/m', SSE)).toEqual({
      ok: false,
      reason: 'the announced message endpoint carries user info',
    });
    const metadata = 'http://169.254.169.254/sse';
    expect(judgeAnnouncedEndpoint('/latest/meta-data', metadata, blockedUrlReason)).toMatchObject({
      ok: false,
      reason: expect.stringContaining('link-local'),
    });
    expect(judgeAnnouncedEndpoint('http://[', SSE)).toMatchObject({ ok: false });
  });
});
