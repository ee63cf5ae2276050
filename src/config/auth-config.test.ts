import { describe, expect, it } from 'vitest';
import { DEFAULT_ALGORITHMS, isLoopbackHost, parseAuthConfig } from './auth-config.js';
import { ConfigError } from './config.js';

const LOCAL = { host: '127.0.0.1', publicUrl: 'http://127.0.0.1:3000' };
const EXPOSED = { host: '0.0.0.0', publicUrl: 'https://gw.example.com' };
const OIDC = { MCP_GATEWAY_AUTH: 'oidc', MCP_GATEWAY_OIDC_ISSUER: 'https://login.example.com/realms/x' };
const PEM = '-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----';

function problemsOf(env: Record<string, string>, context = LOCAL): string {
  try {
    parseAuthConfig(env, context);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).message;
  }
  throw new Error('expected a ConfigError');
}

describe('parseAuthConfig: modes', () => {
  it('defaults to dev on a loopback host', () => {
    expect(parseAuthConfig({}, LOCAL)).toEqual({
      mode: 'dev',
      publicUrl: LOCAL.publicUrl,
      creatorRoles: [],
      identityJwt: false,
      commandRoles: ['mcp.admin'],
      secretRoles: ['mcp.admin'],
    });
    for (const host of ['localhost', '::1', '[::1]', '127.1.2.3']) {
      expect(parseAuthConfig({}, { ...LOCAL, host }).mode).toBe('dev');
    }
  });

  it('refuses to start on a non-loopback host without an explicit mode', () => {
    const message = problemsOf({}, EXPOSED);
    expect(message).toContain(
      'MCP_GATEWAY_AUTH must be set when the gateway listens on a non-loopback address',
    );
    expect(message).toContain('"0.0.0.0"');
  });

  it('refuses dev on a non-loopback host and points at dev-insecure, oidc and jwt', () => {
    const message = problemsOf({ MCP_GATEWAY_AUTH: 'dev' }, EXPOSED);
    expect(message).toContain(
      'MCP_GATEWAY_AUTH is refused because MCP_GATEWAY_HOST ("0.0.0.0") is not a loopback',
    );
    expect(message).toMatch(/oidc or jwt, or dev-insecure/);
  });

  it('refuses dev (unset or explicit) with a public URL that is not loopback, pointing at dev-insecure, oidc and jwt', () => {
    const proxied = { host: '127.0.0.1', publicUrl: 'https://gw.example.com' };
    const envs: Record<string, string>[] = [{}, { MCP_GATEWAY_AUTH: 'dev' }];
    for (const env of envs) {
      const message = problemsOf(env, proxied);
      expect(message).toContain(
        'MCP_GATEWAY_PUBLIC_URL ("https://gw.example.com") is not a loopback URL, and dev mode',
      );
      expect(message).toMatch(/MCP_GATEWAY_AUTH=oidc or jwt, or dev-insecure/);
    }
    // A loopback public URL (another port, a *.localhost name) keeps dev mode.
    for (const publicUrl of ['http://localhost:8080', 'http://[::1]:3000', 'http://gw.localhost']) {
      expect(parseAuthConfig({}, { host: '127.0.0.1', publicUrl }).mode).toBe('dev');
    }
    expect(parseAuthConfig({ MCP_GATEWAY_AUTH: 'dev-insecure' }, proxied).mode).toBe('dev-insecure');
    expect(parseAuthConfig(OIDC, proxied).mode).toBe('oidc');
  });

  it('allows dev-insecure anywhere', () => {
    expect(parseAuthConfig({ MCP_GATEWAY_AUTH: 'DEV-INSECURE' }, EXPOSED).mode).toBe('dev-insecure');
  });

  it('names an unknown mode', () => {
    expect(problemsOf({ MCP_GATEWAY_AUTH: 'basic' })).toContain(
      'MCP_GATEWAY_AUTH must be one of dev, dev-insecure, oidc, jwt (got "basic")',
    );
  });

  it('does not fall back to dev when token variables are set but the mode is not', () => {
    expect(problemsOf({ MCP_GATEWAY_OIDC_ISSUER: 'https://login.example.com' })).toContain(
      'MCP_GATEWAY_AUTH is not set although MCP_GATEWAY_OIDC_ISSUER is; set MCP_GATEWAY_AUTH=oidc',
    );
  });

  it('refuses key variables of another mode', () => {
    expect(
      problemsOf({ MCP_GATEWAY_AUTH: 'dev', MCP_GATEWAY_JWKS_URL: 'https://k.example.com/jwks' }),
    ).toContain('MCP_GATEWAY_JWKS_URL applies only to MCP_GATEWAY_AUTH=jwt (MCP_GATEWAY_AUTH is dev)');
    expect(problemsOf({ ...OIDC, MCP_GATEWAY_JWT_ISSUER: 'x' })).toContain(
      'MCP_GATEWAY_JWT_ISSUER applies only to MCP_GATEWAY_AUTH=jwt',
    );
  });
});

describe('parseAuthConfig: oidc', () => {
  it('fills the defaults: audience = public URL, authorization server = issuer, asymmetric algorithms', () => {
    expect(parseAuthConfig(OIDC, EXPOSED)).toEqual({
      mode: 'oidc',
      publicUrl: 'https://gw.example.com',
      creatorRoles: [],
      identityJwt: false,
      commandRoles: ['mcp.admin'],
      secretRoles: ['mcp.admin'],
      issuer: 'https://login.example.com/realms/x',
      keys: { kind: 'discovery' },
      audiences: ['https://gw.example.com'],
      algorithms: [...DEFAULT_ALGORITHMS],
      clockToleranceSeconds: 30,
      rolesClaim: 'roles',
      userClaim: 'sub',
      authorizationServers: ['https://login.example.com/realms/x'],
      scopesSupported: [],
    });
  });

  it('reads every variable', () => {
    const config = parseAuthConfig(
      {
        ...OIDC,
        MCP_GATEWAY_OIDC_ISSUER: 'https://tenant.auth0.com/',
        MCP_GATEWAY_AUDIENCE: 'api://gateway, https://gw.example.com',
        MCP_GATEWAY_ALGORITHMS: 'RS256,ES256',
        MCP_GATEWAY_CLOCK_TOLERANCE_SECONDS: '5',
        MCP_GATEWAY_ROLES_CLAIM: 'realm_access.roles',
        MCP_GATEWAY_USER_CLAIM: 'oid',
        MCP_GATEWAY_AUTHORIZATION_SERVERS: 'https://a.example.com https://b.example.com',
        MCP_GATEWAY_SCOPES_SUPPORTED: 'mcp.read mcp.write',
        MCP_GATEWAY_CREATOR_ROLES: 'mcp.engineer,mcp.ops',
        MCP_GATEWAY_IDENTITY_JWT: 'on',
        MCP_GATEWAY_COMMAND_ROLES: 'team.ops, mcp.admin',
        MCP_GATEWAY_COMMAND_ALLOW: 'npx,uvx /usr/local/bin/server',
      },
      EXPOSED,
    );
    expect(config).toMatchObject({
      issuer: 'https://tenant.auth0.com/',
      audiences: ['api://gateway', 'https://gw.example.com'],
      algorithms: ['RS256', 'ES256'],
      clockToleranceSeconds: 5,
      rolesClaim: 'realm_access.roles',
      userClaim: 'oid',
      authorizationServers: ['https://a.example.com', 'https://b.example.com'],
      scopesSupported: ['mcp.read', 'mcp.write'],
      creatorRoles: ['mcp.engineer', 'mcp.ops'],
      identityJwt: true,
      commandRoles: ['team.ops', 'mcp.admin'],
      secretRoles: ['mcp.admin'],
      commandAllow: ['npx', 'uvx', '/usr/local/bin/server'],
    });
  });

  it('treats empty variables as unset', () => {
    expect(
      parseAuthConfig({ ...OIDC, MCP_GATEWAY_AUDIENCE: '', MCP_GATEWAY_ROLES_CLAIM: ' ' }, EXPOSED),
    ).toMatchObject({ audiences: ['https://gw.example.com'], rolesClaim: 'roles' });
  });

  it('requires the issuer, over https unless on loopback', () => {
    expect(problemsOf({ MCP_GATEWAY_AUTH: 'oidc' })).toContain('MCP_GATEWAY_OIDC_ISSUER is required');
    expect(problemsOf({ ...OIDC, MCP_GATEWAY_OIDC_ISSUER: 'http://idp.internal' })).toContain(
      'MCP_GATEWAY_OIDC_ISSUER must be an https URL (http is accepted only for loopback hosts) (got "http://idp.internal")',
    );
    expect(parseAuthConfig({ ...OIDC, MCP_GATEWAY_OIDC_ISSUER: 'http://127.0.0.1:8080' }, LOCAL).mode).toBe(
      'oidc',
    );
    expect(problemsOf({ ...OIDC, MCP_GATEWAY_OIDC_ISSUER: 'not a url' })).toContain(
      'must be an absolute https URL',
    );
  });

  it('never accepts none, refuses HMAC, names unknown algorithms', () => {
    expect(problemsOf({ ...OIDC, MCP_GATEWAY_ALGORITHMS: 'none' })).toContain(
      'MCP_GATEWAY_ALGORITHMS must not contain "none"',
    );
    expect(problemsOf({ ...OIDC, MCP_GATEWAY_ALGORITHMS: 'RS256,HS256' })).toMatch(
      /MCP_GATEWAY_ALGORITHMS must not contain HS256: HMAC needs a shared secret/,
    );
    expect(problemsOf({ ...OIDC, MCP_GATEWAY_ALGORITHMS: 'RS257' })).toContain('unknown algorithm "RS257"');
  });

  it('validates the tolerance, claims and identity switch', () => {
    const message = problemsOf({
      ...OIDC,
      MCP_GATEWAY_CLOCK_TOLERANCE_SECONDS: '601',
      MCP_GATEWAY_ROLES_CLAIM: 'a..b',
      MCP_GATEWAY_IDENTITY_JWT: 'maybe',
    });
    expect(message).toContain('MCP_GATEWAY_CLOCK_TOLERANCE_SECONDS must be at most 600 (got "601")');
    expect(message).toContain('MCP_GATEWAY_ROLES_CLAIM must be a claim name or a dotted path');
    expect(message).toContain('MCP_GATEWAY_IDENTITY_JWT must be on or off');
    expect(problemsOf({ ...OIDC, MCP_GATEWAY_CLOCK_TOLERANCE_SECONDS: '-1' })).toContain(
      'must be an integer from 0 to 600',
    );
  });

  it('checks advertised authorization servers', () => {
    expect(problemsOf({ ...OIDC, MCP_GATEWAY_AUTHORIZATION_SERVERS: 'ftp://x' }, EXPOSED)).toContain(
      'MCP_GATEWAY_AUTHORIZATION_SERVERS entry "ftp://x"',
    );
  });
});

describe('parseAuthConfig: jwt', () => {
  const JWT = { MCP_GATEWAY_AUTH: 'jwt', MCP_GATEWAY_JWT_ISSUER: 'https://issuer.example.com' };

  it('takes exactly one key source', () => {
    expect(
      parseAuthConfig({ ...JWT, MCP_GATEWAY_JWKS_URL: 'https://issuer.example.com/jwks' }, EXPOSED),
    ).toMatchObject({ keys: { kind: 'jwks-url', url: 'https://issuer.example.com/jwks' } });
    expect(parseAuthConfig({ ...JWT, MCP_GATEWAY_JWKS_FILE: '/etc/gw/jwks.json' }, EXPOSED)).toMatchObject({
      keys: { kind: 'jwks-file', path: '/etc/gw/jwks.json' },
    });
    expect(problemsOf(JWT)).toContain(
      'needs exactly one key source: MCP_GATEWAY_JWKS_URL, MCP_GATEWAY_JWKS_FILE',
    );
    expect(
      problemsOf({ ...JWT, MCP_GATEWAY_JWKS_URL: 'https://k/jwks', MCP_GATEWAY_JWKS_FILE: '/k.json' }),
    ).toContain('needs exactly one key source, got MCP_GATEWAY_JWKS_URL and MCP_GATEWAY_JWKS_FILE');
  });

  it('requires the issuer', () => {
    expect(problemsOf({ MCP_GATEWAY_AUTH: 'jwt', MCP_GATEWAY_JWKS_FILE: '/k.json' })).toContain(
      'MCP_GATEWAY_JWT_ISSUER is required with MCP_GATEWAY_AUTH=jwt',
    );
  });

  it('reads a PEM with literal \\n sequences, refuses a private key without echoing it', () => {
    const oneLine = PEM.replace(/\n/g, '\\n');
    const config = parseAuthConfig({ ...JWT, MCP_GATEWAY_JWT_PUBLIC_KEY: oneLine }, EXPOSED);
    expect(config.mode === 'jwt' && config.keys).toEqual({ kind: 'pem', pem: PEM });

    const secret = '-----BEGIN PRIVATE KEY-----\nc2VjcmV0\n-----END PRIVATE KEY-----';
    const message = problemsOf({ ...JWT, MCP_GATEWAY_JWT_PUBLIC_KEY: secret });
    expect(message).toContain('MCP_GATEWAY_JWT_PUBLIC_KEY holds a private key');
    expect(message).not.toContain('c2VjcmV0');
    expect(problemsOf({ ...JWT, MCP_GATEWAY_JWT_PUBLIC_KEY: 'abc' })).toContain('must be a PEM public key');
  });

  it('needs https authorization servers when the issuer is not a URL clients can use', () => {
    expect(
      problemsOf({ ...JWT, MCP_GATEWAY_JWKS_FILE: '/k.json', MCP_GATEWAY_JWT_ISSUER: 'my-issuer' }),
    ).toContain(
      'MCP_GATEWAY_AUTHORIZATION_SERVERS is required because MCP_GATEWAY_JWT_ISSUER ("my-issuer") is not an https URL',
    );
    const config = parseAuthConfig(
      {
        ...JWT,
        MCP_GATEWAY_JWKS_FILE: '/k.json',
        MCP_GATEWAY_JWT_ISSUER: 'my-issuer',
        MCP_GATEWAY_AUTHORIZATION_SERVERS: 'https://login.example.com',
      },
      EXPOSED,
    );
    expect(config).toMatchObject({
      issuer: 'my-issuer',
      authorizationServers: ['https://login.example.com'],
    });
  });

  it('refuses a JWKS URL over plain http to a remote host', () => {
    expect(problemsOf({ ...JWT, MCP_GATEWAY_JWKS_URL: 'http://idp.internal/jwks' })).toContain(
      'MCP_GATEWAY_JWKS_URL must be an https URL',
    );
  });
});

describe('parseAuthConfig: secrets', () => {
  it('lets only mcp.admin manage secrets by default, in every mode', () => {
    for (const config of [parseAuthConfig({}, LOCAL), parseAuthConfig(OIDC, EXPOSED)]) {
      expect(config.secretRoles).toEqual(['mcp.admin']);
    }
  });

  it('reads MCP_GATEWAY_SECRET_ROLES as a comma- or space-separated list', () => {
    expect(
      parseAuthConfig({ MCP_GATEWAY_SECRET_ROLES: 'team.secrets, ops  platform' }, LOCAL).secretRoles,
    ).toEqual(['team.secrets', 'ops', 'platform']);
    expect(parseAuthConfig({ ...OIDC, MCP_GATEWAY_SECRET_ROLES: 'vault' }, EXPOSED).secretRoles).toEqual([
      'vault',
    ]);
  });
});

describe('parseAuthConfig: the process runtime', () => {
  it('lets only mcp.admin register commands by default, in every mode, with no allow list', () => {
    for (const config of [parseAuthConfig({}, LOCAL), parseAuthConfig(OIDC, EXPOSED)]) {
      expect(config.commandRoles).toEqual(['mcp.admin']);
      expect(config.commandAllow).toBeUndefined();
    }
    expect(parseAuthConfig({ MCP_GATEWAY_COMMAND_ROLES: ' ' }, LOCAL).commandRoles).toEqual(['mcp.admin']);
  });

  it('takes bare program names and normalised absolute paths in MCP_GATEWAY_COMMAND_ALLOW', () => {
    expect(
      parseAuthConfig({ MCP_GATEWAY_COMMAND_ALLOW: 'npx, uvx,node,/opt/mcp/bin/server' }, LOCAL).commandAllow,
    ).toEqual(['npx', 'uvx', 'node', '/opt/mcp/bin/server']);
  });

  it.each([
    ['./server', 'is a relative path; give a program name (found on PATH) or an absolute path'],
    ['bin/server', 'is a relative path'],
    ['/usr/bin/../bin/npx', 'must be a normalised absolute path'],
    ['/usr//bin/npx', 'must be a normalised absolute path'],
    ['/usr/bin/', 'must be a normalised absolute path'],
    ['..', 'is not a program name'],
  ])('refuses the allow-list entry %j at start, naming the variable', (entry, message) => {
    expect(problemsOf({ MCP_GATEWAY_COMMAND_ALLOW: `npx,${entry}` })).toContain(
      `MCP_GATEWAY_COMMAND_ALLOW entry ${JSON.stringify(entry)} ${message}`,
    );
  });
});

describe('isLoopbackHost', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.255.0.9', true],
    ['localhost', true],
    ['::1', true],
    ['::ffff:127.0.0.1', true],
    ['0.0.0.0', false],
    ['::', false],
    ['10.0.0.1', false],
    ['gw.example.com', false],
    ['128.0.0.1', false],
  ])('%s → %s', (host, loopback) => {
    expect(isLoopbackHost(host)).toBe(loopback);
  });
});
