import { describe, expect, it } from 'vitest';
import { ConfigError } from './env.js';
import { parseOpsConfig } from './ops-config.js';

function problemsOf(env: Record<string, string>): string {
  try {
    parseOpsConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).message;
  }
  throw new Error('expected a ConfigError');
}

describe('parseOpsConfig', () => {
  it('defaults: metrics and audit on, 30 s drain, no rate limits', () => {
    expect(parseOpsConfig({})).toEqual({
      metrics: true,
      auditLog: true,
      drainMs: 30_000,
      drainAcceptMs: 0,
      perPrincipal: undefined,
      perAdapter: undefined,
    });
  });

  it('reads every variable', () => {
    expect(
      parseOpsConfig({
        MCP_GATEWAY_METRICS: 'false',
        MCP_GATEWAY_AUDIT_LOG: '0',
        MCP_GATEWAY_DRAIN_SECONDS: '45',
        MCP_GATEWAY_DRAIN_ACCEPT_SECONDS: '5',
        MCP_GATEWAY_RATE_LIMIT_PER_PRINCIPAL: '20',
        MCP_GATEWAY_RATE_LIMIT_PER_PRINCIPAL_BURST: '100',
        MCP_GATEWAY_RATE_LIMIT_PER_ADAPTER: '0.5',
      }),
    ).toEqual({
      metrics: false,
      auditLog: false,
      drainMs: 45_000,
      drainAcceptMs: 5000,
      perPrincipal: { perSecond: 20, burst: 100 },
      // Burst defaults to twice the rate, at least 1.
      perAdapter: { perSecond: 0.5, burst: 1 },
    });
    expect(parseOpsConfig({ MCP_GATEWAY_RATE_LIMIT_PER_ADAPTER: '7' }).perAdapter).toEqual({
      perSecond: 7,
      burst: 14,
    });
  });

  it('treats a rate of 0 as no limit, even with a burst', () => {
    expect(
      parseOpsConfig({
        MCP_GATEWAY_RATE_LIMIT_PER_PRINCIPAL: '0',
        MCP_GATEWAY_RATE_LIMIT_PER_PRINCIPAL_BURST: '10',
      }).perPrincipal,
    ).toBeUndefined();
  });

  it('names every bad variable', () => {
    const message = problemsOf({
      MCP_GATEWAY_METRICS: 'yes',
      MCP_GATEWAY_DRAIN_SECONDS: '-1',
      MCP_GATEWAY_RATE_LIMIT_PER_PRINCIPAL: 'fast',
      MCP_GATEWAY_RATE_LIMIT_PER_ADAPTER_BURST: '0',
    });
    expect(message).toContain('MCP_GATEWAY_METRICS must be true or false');
    expect(message).toContain('MCP_GATEWAY_DRAIN_SECONDS must be an integer from 0 to 3600');
    expect(message).toContain('MCP_GATEWAY_RATE_LIMIT_PER_PRINCIPAL must be a number of requests per second');
    expect(message).toContain('MCP_GATEWAY_RATE_LIMIT_PER_ADAPTER_BURST must be at least 1');
  });

  it('refuses an accept window longer than the drain', () => {
    expect(problemsOf({ MCP_GATEWAY_DRAIN_SECONDS: '5', MCP_GATEWAY_DRAIN_ACCEPT_SECONDS: '10' })).toContain(
      'MCP_GATEWAY_DRAIN_ACCEPT_SECONDS must not exceed MCP_GATEWAY_DRAIN_SECONDS (5)',
    );
  });
});
