import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TOOL_ROUTER_DEFAULTS } from '../toolrouter/index.js';
import { ConfigError, parseConfig } from './index.js';

function problemsOf(env: Record<string, string>): string {
  try {
    parseConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).message;
  }
  throw new Error('expected a ConfigError');
}

describe('parseConfig', () => {
  it('gives the embedded defaults for an empty environment', () => {
    expect(parseConfig({})).toEqual({
      port: 3000,
      host: '127.0.0.1',
      logLevel: 'info',
      databaseUrl: './data/mcp-gateway.db',
      secret: undefined,
      secretFile: undefined,
      previousSecrets: [],
      publicUrl: 'http://127.0.0.1:3000',
      bodyLimitBytes: 1048576,
      probeTimeoutMs: 2000,
      healthIntervalMs: 10_000,
      probeConcurrency: 64,
      allowedOrigins: [],
      upstreamConnectTimeoutMs: 5000,
      upstreamIdleTimeoutMs: 300_000,
      mcpBodyLimitBytes: 4 * 1024 * 1024,
      loadEpsilon: 0.25,
      sessionMaxAgeMs: 86_400_000,
      registryCacheMs: 1000,
      allowLinkLocal: false,
      auth: {
        mode: 'dev',
        publicUrl: 'http://127.0.0.1:3000',
        creatorRoles: [],
        identityJwt: false,
        commandRoles: ['mcp.admin'],
        secretRoles: ['mcp.admin'],
      },
      deploy: {
        deployer: 'process',
        reconcileIntervalMs: 30_000,
        process: {
          stdioMaxSessions: 16,
          stdioIdleTimeoutMs: 900_000,
          startTimeoutMs: 30_000,
          stopGraceMs: 5000,
          sandbox: {
            mode: 'auto',
            readPaths: [],
            uid: 65534,
            gid: 65534,
            protectedPaths: [
              { path: resolve('data'), what: "the registry's data directory" },
              { path: resolve('data'), what: 'the state directory (MCP_GATEWAY_STATE_DIR)' },
            ],
            workingDirectory: process.cwd(),
          },
          stateDirectory: resolve('data'),
        },
      },
      ops: {
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
      },
      toolRouter: { enabled: true, settings: TOOL_ROUTER_DEFAULTS },
      // No exporter configured: no spans.
      tracing: {
        exporter: { kind: 'none' },
        serviceName: 'mcp-gateway',
        resourceAttributes: {},
        sampler: { name: 'parentbased_always_on', ratio: 1 },
      },
      configFile: undefined,
    });
  });

  it('reads MCP_GATEWAY_CONFIG as the path of the file applied at start', () => {
    expect(parseConfig({ MCP_GATEWAY_CONFIG: ' /etc/mcp-gateway/gateway.yaml ' }).configFile).toBe(
      '/etc/mcp-gateway/gateway.yaml',
    );
    expect(parseConfig({ MCP_GATEWAY_CONFIG: '' }).configFile).toBeUndefined();
  });

  it('reads every variable and treats an empty one as unset', () => {
    const config = parseConfig({
      PORT: '8080',
      MCP_GATEWAY_HOST: '0.0.0.0',
      MCP_GATEWAY_AUTH: 'dev-insecure',
      MCP_GATEWAY_LOG_LEVEL: 'DEBUG',
      DATABASE_URL: 'postgres://u@db:5432/gw',
      MCP_GATEWAY_SECRET: 's'.repeat(32),
      MCP_GATEWAY_PUBLIC_URL: 'https://gw.example.com/',
      MCP_GATEWAY_BODY_LIMIT_BYTES: '2048',
      MCP_GATEWAY_PROBE_TIMEOUT_MS: '',
    });
    expect(config).toMatchObject({
      port: 8080,
      host: '0.0.0.0',
      logLevel: 'debug',
      databaseUrl: 'postgres://u@db:5432/gw',
      publicUrl: 'https://gw.example.com',
      bodyLimitBytes: 2048,
      probeTimeoutMs: 2000,
    });
  });

  it('derives a reachable public URL from a wildcard or IPv6 host', () => {
    expect(
      parseConfig({ MCP_GATEWAY_HOST: '0.0.0.0', PORT: '1', MCP_GATEWAY_AUTH: 'dev-insecure' }).publicUrl,
    ).toBe('http://127.0.0.1:1');
    expect(parseConfig({ MCP_GATEWAY_HOST: '::1', PORT: '1' }).publicUrl).toBe('http://[::1]:1');
  });

  it('names each bad variable and what it got', () => {
    const message = problemsOf({
      PORT: 'abc',
      MCP_GATEWAY_LOG_LEVEL: 'loud',
      MCP_GATEWAY_PUBLIC_URL: 'ftp://x',
    });
    expect(message).toContain('PORT must be an integer from 0 to 65535 (got "abc")');
    expect(message).toContain(
      'MCP_GATEWAY_LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent (got "loud")',
    );
    expect(message).toContain(
      'MCP_GATEWAY_PUBLIC_URL must be an absolute http(s) URL without credentials (got "ftp://x")',
    );
    expect(problemsOf({ PORT: '70000' })).toContain('PORT must be at most 65535');
  });

  it('reads allowed origins and refuses what is not an origin', () => {
    expect(
      parseConfig({ MCP_GATEWAY_ALLOWED_ORIGINS: 'https://a.example.com, http://localhost:6274' })
        .allowedOrigins,
    ).toEqual(['https://a.example.com', 'http://localhost:6274']);
    expect(problemsOf({ MCP_GATEWAY_ALLOWED_ORIGINS: 'https://a.example.com/path' })).toContain(
      'MCP_GATEWAY_ALLOWED_ORIGINS must be',
    );
    expect(problemsOf({ MCP_GATEWAY_LOAD_EPSILON: '-1' })).toContain(
      'MCP_GATEWAY_LOAD_EPSILON must be a number',
    );
  });

  it('refuses a short secret without echoing it', () => {
    const message = problemsOf({ MCP_GATEWAY_SECRET: 'hunter2' });
    expect(message).toContain('MCP_GATEWAY_SECRET must be at least 32 characters');
    expect(message).not.toContain('hunter2');
  });

  it('reads MCP_GATEWAY_PREVIOUS_SECRETS as a comma-separated list, never both it and the file, never echoed', () => {
    expect(parseConfig({ MCP_GATEWAY_PREVIOUS_SECRETS: ' old-one , old-two,' }).previousSecrets).toEqual([
      'old-one',
      'old-two',
    ]);
    expect(parseConfig({ MCP_GATEWAY_PREVIOUS_SECRETS_FILE: '/run/old' }).previousSecretsFile).toBe(
      '/run/old',
    );
    const message = problemsOf({
      MCP_GATEWAY_PREVIOUS_SECRETS: 'old-one-value',
      MCP_GATEWAY_PREVIOUS_SECRETS_FILE: '/run/old',
    });
    expect(message).toContain('set only one of them');
    expect(message).not.toContain('old-one-value');
  });

  it('takes the secret from MCP_GATEWAY_SECRET_FILE, but not from both it and MCP_GATEWAY_SECRET', () => {
    expect(parseConfig({ MCP_GATEWAY_SECRET_FILE: '/run/secrets/gateway' }).secretFile).toBe(
      '/run/secrets/gateway',
    );
    const both = problemsOf({ MCP_GATEWAY_SECRET: 's'.repeat(32), MCP_GATEWAY_SECRET_FILE: '/x' });
    expect(both).toContain('MCP_GATEWAY_SECRET and MCP_GATEWAY_SECRET_FILE are both set');
    expect(both).not.toContain('s'.repeat(32));
  });

  it('refuses Postgres without a secret: replicas share it, and the database is not the place for it', () => {
    for (const url of ['postgres://db/x', 'postgresql://db/x']) {
      const message = problemsOf({ DATABASE_URL: url });
      expect(message).toContain(
        'MCP_GATEWAY_SECRET must be set (or MCP_GATEWAY_SECRET_FILE) when DATABASE_URL is Postgres',
      );
      expect(message).not.toContain('db/x');
    }
    expect(parseConfig({ DATABASE_URL: 'postgres://db/x', MCP_GATEWAY_SECRET: 's'.repeat(32) }).secret).toBe(
      's'.repeat(32),
    );
    expect(parseConfig({ DATABASE_URL: 'postgres://db/x', MCP_GATEWAY_SECRET_FILE: '/s' }).secretFile).toBe(
      '/s',
    );
    // SQLite generates one and keeps it in a file of its own.
    expect(parseConfig({ DATABASE_URL: '/data/mcp-gateway.db' }).secret).toBeUndefined();
  });

  it('includes the auth configuration and its problems', () => {
    expect(() => parseConfig({ MCP_GATEWAY_HOST: '0.0.0.0' })).toThrow(/MCP_GATEWAY_AUTH must be set/);
    expect(
      parseConfig({ MCP_GATEWAY_AUTH: 'oidc', MCP_GATEWAY_OIDC_ISSUER: 'https://idp.example.com' }).auth,
    ).toMatchObject({
      mode: 'oidc',
      audiences: ['http://127.0.0.1:3000'],
    });
  });

  it('selects the Kubernetes deployer, which needs an image registry', () => {
    expect(problemsOf({ MCP_GATEWAY_DEPLOYER: 'kubernetes' })).toContain(
      'MCP_GATEWAY_IMAGE_REGISTRY must be set',
    );
    expect(problemsOf({ MCP_GATEWAY_DEPLOYER: 'docker' })).toContain(
      'MCP_GATEWAY_DEPLOYER must be one of process, kubernetes',
    );
    const config = parseConfig({
      MCP_GATEWAY_DEPLOYER: 'kubernetes',
      MCP_GATEWAY_IMAGE_REGISTRY: 'ghcr.io/acme',
      MCP_GATEWAY_IMAGE_PULL_SECRETS: 'regcred, other',
      MCP_GATEWAY_K8S_NAMESPACE: 'mcp',
    });
    expect(config.deploy).toMatchObject({
      deployer: 'kubernetes',
      kubernetes: {
        imageRegistry: 'ghcr.io/acme',
        imagePullSecrets: ['regcred', 'other'],
        namespace: 'mcp',
        clusterDomain: 'cluster.local',
      },
    });
  });
});
