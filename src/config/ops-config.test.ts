import { describe, expect, it } from 'vitest';
import { ConfigError } from './env.js';
import { parseOpsConfig } from './ops-config.js';

const LOCAL = { host: '127.0.0.1', port: 3000 };
const EXPOSED = { host: '0.0.0.0', port: 3000 };
const TOKEN = 'metrics-token-0123456789abcdef-0123456789';

function problemsOf(env: Record<string, string>, context = LOCAL): string {
  try {
    parseOpsConfig(env, context);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).message;
  }
  throw new Error('expected a ConfigError');
}

describe('parseOpsConfig', () => {
  it('defaults: metrics and audit on, 30 s drain, no rate limits', () => {
    expect(parseOpsConfig({}, LOCAL)).toEqual({
      metrics: true,
      metricsServing: { token: undefined, listener: undefined, onMainPort: true },
      auditLog: true,
      drainMs: 30_000,
      drainAcceptMs: 0,
      perPrincipal: undefined,
      perAdapter: undefined,
      perTool: undefined,
      redisUrl: undefined,
      redisTimeoutMs: 50,
      redisKeyPrefix: 'mcp-gateway:rl:',
    });
  });

  it('reads every variable', () => {
    expect(
      parseOpsConfig(
        {
          MCP_GATEWAY_METRICS: 'false',
          MCP_GATEWAY_AUDIT_LOG: '0',
          MCP_GATEWAY_DRAIN_SECONDS: '45',
          MCP_GATEWAY_DRAIN_ACCEPT_SECONDS: '5',
          MCP_GATEWAY_RATE_LIMIT_PER_PRINCIPAL: '20',
          MCP_GATEWAY_RATE_LIMIT_PER_PRINCIPAL_BURST: '100',
          MCP_GATEWAY_RATE_LIMIT_PER_ADAPTER: '0.5',
          MCP_GATEWAY_RATE_LIMIT_PER_TOOL: '2',
          MCP_GATEWAY_RATE_LIMIT_PER_TOOL_BURST: '3',
          MCP_GATEWAY_REDIS_URL: 'rediss://:pw@redis.internal:6380/2',
          MCP_GATEWAY_REDIS_TIMEOUT_MS: '20',
          MCP_GATEWAY_REDIS_KEY_PREFIX: 'team-a:rl:',
        },
        LOCAL,
      ),
    ).toEqual({
      metrics: false,
      metricsServing: { token: undefined, listener: undefined, onMainPort: false },
      auditLog: false,
      drainMs: 45_000,
      drainAcceptMs: 5000,
      perPrincipal: { perSecond: 20, burst: 100 },
      // Burst defaults to twice the rate, at least 1.
      perAdapter: { perSecond: 0.5, burst: 1 },
      perTool: { perSecond: 2, burst: 3 },
      redisUrl: 'rediss://:pw@redis.internal:6380/2',
      redisTimeoutMs: 20,
      redisKeyPrefix: 'team-a:rl:',
    });
    expect(parseOpsConfig({ MCP_GATEWAY_RATE_LIMIT_PER_ADAPTER: '7' }, LOCAL).perAdapter).toEqual({
      perSecond: 7,
      burst: 14,
    });
  });

  it('treats a rate of 0 as no limit, even with a burst', () => {
    expect(
      parseOpsConfig(
        {
          MCP_GATEWAY_RATE_LIMIT_PER_PRINCIPAL: '0',
          MCP_GATEWAY_RATE_LIMIT_PER_PRINCIPAL_BURST: '10',
        },
        LOCAL,
      ).perPrincipal,
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

  it('refuses a Redis URL of another scheme or without a host, and never echoes it (it may hold a password)', () => {
    for (const url of [
      'http://:secret-pw@127.0.0.1:6379',
      'redis://',
      '127.0.0.1:6379',
      'rediss:secret-pw@',
    ]) {
      const message = problemsOf({ MCP_GATEWAY_REDIS_URL: url });
      expect(message).toContain('MCP_GATEWAY_REDIS_URL must be a redis:// or rediss:// URL with a host');
      expect(message).not.toContain('secret-pw');
    }
    expect(problemsOf({ MCP_GATEWAY_REDIS_TIMEOUT_MS: '20' })).toContain(
      'MCP_GATEWAY_REDIS_TIMEOUT_MS applies only with MCP_GATEWAY_REDIS_URL',
    );
  });

  it('refuses an accept window longer than the drain', () => {
    expect(problemsOf({ MCP_GATEWAY_DRAIN_SECONDS: '5', MCP_GATEWAY_DRAIN_ACCEPT_SECONDS: '10' })).toContain(
      'MCP_GATEWAY_DRAIN_ACCEPT_SECONDS must not exceed MCP_GATEWAY_DRAIN_SECONDS (5)',
    );
  });
});

describe('parseOpsConfig: where /metrics is served', () => {
  const serving = (env: Record<string, string>, context = LOCAL) =>
    parseOpsConfig(env, context).metricsServing;

  it('serves it on the main port of a loopback gateway, and nowhere on an exposed one without a token or port', () => {
    expect(serving({}, LOCAL).onMainPort).toBe(true);
    expect(serving({}, { host: 'localhost', port: 3000 }).onMainPort).toBe(true);
    expect(serving({}, EXPOSED)).toEqual({ token: undefined, listener: undefined, onMainPort: false });
  });

  it('serves it on the main port of an exposed gateway with a token', () => {
    expect(serving({ MCP_GATEWAY_METRICS_TOKEN: TOKEN }, EXPOSED)).toEqual({
      token: TOKEN,
      listener: undefined,
      onMainPort: true,
    });
  });

  it('moves it to a listener of its own, on the gateway host unless told otherwise', () => {
    expect(serving({ MCP_GATEWAY_METRICS_PORT: '9464' }, EXPOSED)).toEqual({
      token: undefined,
      listener: { port: 9464, host: '0.0.0.0' },
      onMainPort: false,
    });
    expect(
      serving({ MCP_GATEWAY_METRICS_PORT: '0', MCP_GATEWAY_METRICS_HOST: '127.0.0.1' }, EXPOSED).listener,
    ).toEqual({ port: 0, host: '127.0.0.1' });
    // Moved, not copied: even a loopback gateway with a token then serves it only there.
    expect(serving({ MCP_GATEWAY_METRICS_PORT: '9464', MCP_GATEWAY_METRICS_TOKEN: TOKEN }, LOCAL)).toEqual({
      token: TOKEN,
      listener: { port: 9464, host: '127.0.0.1' },
      onMainPort: false,
    });
  });

  it('refuses a short or spaced token without echoing it', () => {
    const short = 'short-but-secret';
    const message = problemsOf({ MCP_GATEWAY_METRICS_TOKEN: short });
    expect(message).toContain('MCP_GATEWAY_METRICS_TOKEN must be at least 32 characters');
    expect(message).not.toContain(short);
    const spaced = `${TOKEN} ${TOKEN}`;
    expect(problemsOf({ MCP_GATEWAY_METRICS_TOKEN: spaced })).not.toContain(TOKEN);
    expect(problemsOf({ MCP_GATEWAY_METRICS_TOKEN: spaced })).toContain(
      'must be visible ASCII without spaces',
    );
  });

  it('refuses settings that cannot apply', () => {
    expect(problemsOf({ MCP_GATEWAY_METRICS_PORT: '3000' })).toContain(
      'MCP_GATEWAY_METRICS_PORT must differ from PORT (3000)',
    );
    expect(problemsOf({ MCP_GATEWAY_METRICS_PORT: '70000' })).toContain(
      'MCP_GATEWAY_METRICS_PORT must be at most 65535',
    );
    expect(problemsOf({ MCP_GATEWAY_METRICS_HOST: '127.0.0.1' })).toContain(
      'MCP_GATEWAY_METRICS_HOST applies only with MCP_GATEWAY_METRICS_PORT',
    );
    const off = problemsOf({
      MCP_GATEWAY_METRICS: 'false',
      MCP_GATEWAY_METRICS_TOKEN: TOKEN,
      MCP_GATEWAY_METRICS_PORT: '9464',
    });
    expect(off).toContain('MCP_GATEWAY_METRICS_TOKEN applies only when MCP_GATEWAY_METRICS is on');
    expect(off).toContain('MCP_GATEWAY_METRICS_PORT applies only when MCP_GATEWAY_METRICS is on');
    expect(off).not.toContain(TOKEN);
  });
});
