/**
 * @module auth-config: the authentication part of the configuration (`MCP_GATEWAY_AUTH` and friends), parsed
 * from environment variables; fails fast naming the variable, like `parseConfig`.
 */
import { z } from 'zod';
import { ConfigError, describeValue, integerVar, parseEnv } from './env.js';

/** How callers are authenticated. */
export const AUTH_MODES = ['dev', 'dev-insecure', 'oidc', 'jwt'] as const;
export type AuthMode = (typeof AUTH_MODES)[number];

/**
 * Signature algorithms accepted by default: every asymmetric JWS algorithm jose verifies. HMAC is absent on
 * purpose — every key source here is a public key, and an HMAC "secret" made of a public key is the classic
 * algorithm-confusion attack.
 */
export const DEFAULT_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
] as const;

/** Where verification keys come from. */
export type KeySource =
  /** `oidc` mode: the issuer's discovery document names its `jwks_uri`. */
  | { readonly kind: 'discovery' }
  | { readonly kind: 'jwks-url'; readonly url: string }
  /** Read by the entry point (core code does no file I/O). */
  | { readonly kind: 'jwks-file'; readonly path: string }
  /** SPKI public key or X.509 certificate, PEM. */
  | { readonly kind: 'pem'; readonly pem: string };

interface AuthConfigBase {
  /** The gateway's public URL without a trailing slash; base of every protected resource URL. */
  readonly publicUrl: string;
  /** When non-empty, only holders of one of these roles (or `mcp.admin`) may create adapters and tools. */
  readonly creatorRoles: readonly string[];
  /** Sign an `X-Mcp-Identity` JWT for upstreams. */
  readonly identityJwt: boolean;
  /**
   * Roles that may use the process runtime (`command`, `args`, `transport`), which runs code on the gateway
   * host: `MCP_GATEWAY_COMMAND_ROLES`, default `mcp.admin` (which always qualifies).
   */
  readonly commandRoles: readonly string[];
  /** `MCP_GATEWAY_COMMAND_ALLOW`: the only programs a `command` may name; absent, any. */
  readonly commandAllow?: readonly string[];
  /**
   * Roles that may manage secrets (`/secrets`): `MCP_GATEWAY_SECRET_ROLES`, default `mcp.admin` (which always
   * qualifies).
   */
  readonly secretRoles: readonly string[];
}

/** `dev` (loopback only) and `dev-insecure`: identity from trusted `X-Dev-*` headers. */
export interface DevAuthConfig extends AuthConfigBase {
  readonly mode: 'dev' | 'dev-insecure';
}

/** `oidc` and `jwt`: bearer tokens verified with jose. */
export interface TokenAuthConfig extends AuthConfigBase {
  readonly mode: 'oidc' | 'jwt';
  /** Expected `iss`, compared exactly (Auth0's trailing slash is significant). */
  readonly issuer: string;
  readonly keys: KeySource;
  /** Accepted `aud` values (any one suffices); the MCP endpoint's own URL is accepted as well. */
  readonly audiences: readonly string[];
  readonly algorithms: readonly string[];
  readonly clockToleranceSeconds: number;
  /** Claim holding the roles: a top-level name or a dotted path such as `realm_access.roles`. */
  readonly rolesClaim: string;
  /** Claim holding the user id: `sub` by default, `oid` for a tenant-wide Entra id. */
  readonly userClaim: string;
  /** Advertised in protected-resource metadata. */
  readonly authorizationServers: readonly string[];
  /** Advertised in protected-resource metadata and challenges; empty to leave it out. */
  readonly scopesSupported: readonly string[];
}

/** The authentication configuration. */
export type AuthConfig = DevAuthConfig | TokenAuthConfig;

/** What {@link parseAuthConfig} needs from the main configuration. */
export interface AuthConfigContext {
  /** The listen address (`MCP_GATEWAY_HOST`). */
  readonly host: string;
  /** The gateway's public URL, without a trailing slash. */
  readonly publicUrl: string;
}

const list = z
  .string()
  .transform((value) => value.split(/[\s,]+/).filter(Boolean))
  .pipe(z.array(z.string()).min(1, 'must list at least one value'));

const claimPath = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .regex(/^[^.\s]+(\.[^.\s]+)*$/, 'must be a claim name or a dotted path such as realm_access.roles');

const BOOLEANS: Record<string, boolean> = { on: true, true: true, '1': true, yes: true };
for (const off of ['off', 'false', '0', 'no']) BOOLEANS[off] = false;

const AuthEnvSchema = z.object({
  MCP_GATEWAY_AUTH: z
    .string()
    .trim()
    .toLowerCase()
    .pipe(z.enum(AUTH_MODES, { error: `must be one of ${AUTH_MODES.join(', ')}` }))
    .optional(),
  MCP_GATEWAY_OIDC_ISSUER: z.string().trim().optional(),
  MCP_GATEWAY_JWKS_URL: z.string().trim().optional(),
  MCP_GATEWAY_JWKS_FILE: z.string().trim().min(1).optional(),
  MCP_GATEWAY_JWT_PUBLIC_KEY: z.string().optional(),
  MCP_GATEWAY_JWT_ISSUER: z.string().trim().optional(),
  MCP_GATEWAY_AUDIENCE: list.optional(),
  MCP_GATEWAY_ALGORITHMS: list.optional(),
  MCP_GATEWAY_CLOCK_TOLERANCE_SECONDS: integerVar(0, 600, 30),
  MCP_GATEWAY_ROLES_CLAIM: claimPath.default('roles'),
  MCP_GATEWAY_USER_CLAIM: claimPath.default('sub'),
  MCP_GATEWAY_AUTHORIZATION_SERVERS: list.optional(),
  MCP_GATEWAY_SCOPES_SUPPORTED: list.optional(),
  MCP_GATEWAY_CREATOR_ROLES: list.optional(),
  MCP_GATEWAY_COMMAND_ROLES: list.default(['mcp.admin']),
  MCP_GATEWAY_COMMAND_ALLOW: list.optional(),
  MCP_GATEWAY_SECRET_ROLES: list.default(['mcp.admin']),
  MCP_GATEWAY_IDENTITY_JWT: z
    .string()
    .trim()
    .toLowerCase()
    .refine((v) => v in BOOLEANS, 'must be on or off (true/false, 1/0, yes/no)')
    .transform((v) => BOOLEANS[v] === true)
    .default(false),
});
type AuthEnv = z.infer<typeof AuthEnvSchema>;
type AuthVariable = keyof AuthEnv;

/** Variables that choose where keys come from; each belongs to one token mode. */
const KEY_SOURCE_VARIABLES: Record<string, 'oidc' | 'jwt'> = {
  MCP_GATEWAY_OIDC_ISSUER: 'oidc',
  MCP_GATEWAY_JWKS_URL: 'jwt',
  MCP_GATEWAY_JWKS_FILE: 'jwt',
  MCP_GATEWAY_JWT_PUBLIC_KEY: 'jwt',
  MCP_GATEWAY_JWT_ISSUER: 'jwt',
};

/** Variables whose values are never echoed in messages (a PEM is long and may be a private key by mistake). */
const UNECHOED = new Set(['MCP_GATEWAY_JWT_PUBLIC_KEY']);

const HMAC = /^HS\d+$/i;

/**
 * Why an entry of `MCP_GATEWAY_COMMAND_ALLOW` cannot be matched exactly, or undefined: entries are bare program
 * names (looked up on `PATH`) or normalised absolute paths; a relative path means something else in every
 * working directory.
 */
function commandAllowEntryProblem(entry: string): string | undefined {
  if (!entry.includes('/')) return entry === '.' || entry === '..' ? 'is not a program name' : undefined;
  if (!entry.startsWith('/')) {
    return 'is a relative path; give a program name (found on PATH) or an absolute path';
  }
  const segments = entry.slice(1).split('/');
  if (segments.some((s) => s === '' || s === '.' || s === '..')) {
    return 'must be a normalised absolute path (no ".", "..", repeated or trailing "/"): it is matched exactly';
  }
  return undefined;
}

/** True for addresses that only this machine can reach: 127.0.0.0/8, ::1, localhost. */
export function isLoopbackHost(host: string): boolean {
  const h = host
    .trim()
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1');
  if (h === 'localhost' || h.endsWith('.localhost') || h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
  const v4 = h.startsWith('::ffff:') ? h.slice('::ffff:'.length) : h;
  return /^127(\.\d{1,3}){3}$/.test(v4);
}

/**
 * An absolute URL usable for fetching keys or naming an issuer: https, or http on a loopback host (local
 * issuers in development and tests). Plain http elsewhere would let anyone on the path swap the keys.
 */
function secureUrlProblem(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'must be an absolute https URL';
  }
  if (url.username || url.password) return 'must not contain credentials';
  if (url.hash) return 'must not contain a fragment';
  if (url.protocol === 'https:') return undefined;
  if (url.protocol === 'http:' && isLoopbackHost(url.hostname)) return undefined;
  return 'must be an https URL (http is accepted only for loopback hosts)';
}

// An empty variable means "unset", as in parseConfig.
// Environment files often carry a PEM on one line with literal "\n" sequences.
function normalisePem(value: string): string {
  return value.replace(/\\n/g, '\n').trim();
}

function pemProblem(pem: string): string | undefined {
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem)) {
    return 'holds a private key; give the issuer’s public key (PEM "PUBLIC KEY" or "CERTIFICATE") and keep the private key secret';
  }
  if (!/^-----BEGIN (PUBLIC KEY|CERTIFICATE)-----[\s\S]+-----END (PUBLIC KEY|CERTIFICATE)-----$/.test(pem)) {
    return 'must be a PEM public key (-----BEGIN PUBLIC KEY-----) or certificate (-----BEGIN CERTIFICATE-----)';
  }
  return undefined;
}

function algorithmProblems(algorithms: readonly string[]): string[] {
  const known = new Set<string>(DEFAULT_ALGORITHMS);
  const problems: string[] = [];
  for (const alg of algorithms) {
    if (alg.toLowerCase() === 'none')
      problems.push('must not contain "none": unsigned tokens are never accepted');
    else if (HMAC.test(alg)) {
      problems.push(
        `must not contain ${alg}: HMAC needs a shared secret, and the gateway verifies with public keys only (an HMAC check keyed with a public key is forgeable)`,
      );
    } else if (!known.has(alg)) {
      problems.push(`contains an unknown algorithm "${alg}"; allowed: ${DEFAULT_ALGORITHMS.join(', ')}`);
    }
  }
  return problems;
}

/**
 * Parses the authentication variables; throws {@link ConfigError} listing every problem. The mode defaults to
 * `dev` on a loopback host; elsewhere it must be given explicitly, because a default that trusts headers would
 * make an exposed gateway wide open and a default token mode cannot work without an issuer anyway.
 */
export function parseAuthConfig(
  env: Record<string, string | undefined>,
  context: AuthConfigContext,
): AuthConfig {
  const e = parseEnv(AuthEnvSchema, env, UNECHOED);
  const problems: string[] = [];
  const problem = (key: AuthVariable, message: string) =>
    problems.push(`${key} ${message}${describeValue(key, env, UNECHOED)}`);

  const loopback = isLoopbackHost(context.host);
  const keyVariablesSet = Object.keys(KEY_SOURCE_VARIABLES).filter((key) => (env[key] ?? '').trim() !== '');
  let mode = e.MCP_GATEWAY_AUTH;
  if (mode === undefined) {
    if (keyVariablesSet.length > 0) {
      // Silently falling back to dev mode here would leave the operator believing tokens are checked.
      const suggested = KEY_SOURCE_VARIABLES[keyVariablesSet[0]!]!;
      problems.push(
        `MCP_GATEWAY_AUTH is not set although ${keyVariablesSet.join(', ')} is; set MCP_GATEWAY_AUTH=${suggested}`,
      );
    } else if (!loopback) {
      problems.push(
        `MCP_GATEWAY_AUTH must be set when the gateway listens on a non-loopback address (MCP_GATEWAY_HOST is ${JSON.stringify(context.host)}): use oidc or jwt, or dev-insecure to trust X-Dev-* headers from anyone who can reach it`,
      );
    }
    mode = 'dev';
  }
  if (mode === 'dev' && e.MCP_GATEWAY_AUTH === 'dev' && !loopback) {
    problem(
      'MCP_GATEWAY_AUTH',
      `is refused because MCP_GATEWAY_HOST (${JSON.stringify(context.host)}) is not a loopback address: dev mode trusts X-Dev-* headers from any caller. Use oidc or jwt, or dev-insecure if every caller that can reach the gateway is trusted`,
    );
  }
  const publicHost = new URL(context.publicUrl).hostname;
  if (mode === 'dev' && loopback && !isLoopbackHost(publicHost)) {
    // A reverse proxy on this host forwards anyone's X-Dev-* headers: every caller would be whoever they claim.
    problems.push(
      `MCP_GATEWAY_PUBLIC_URL (${JSON.stringify(context.publicUrl)}) is not a loopback URL, and dev mode (MCP_GATEWAY_AUTH ${e.MCP_GATEWAY_AUTH === undefined ? 'unset' : 'dev'}) trusts X-Dev-* headers: behind a proxy that publishes the gateway, anyone could claim any identity. Use MCP_GATEWAY_AUTH=oidc or jwt, or dev-insecure if every caller that can reach the public URL is trusted`,
    );
  }
  for (const key of keyVariablesSet) {
    const belongs = KEY_SOURCE_VARIABLES[key]!;
    if (mode !== belongs && e.MCP_GATEWAY_AUTH !== undefined) {
      problems.push(`${key} applies only to MCP_GATEWAY_AUTH=${belongs} (MCP_GATEWAY_AUTH is ${mode})`);
    }
  }

  for (const entry of e.MCP_GATEWAY_COMMAND_ALLOW ?? []) {
    const bad = commandAllowEntryProblem(entry);
    if (bad) problems.push(`MCP_GATEWAY_COMMAND_ALLOW entry ${JSON.stringify(entry)} ${bad}`);
  }
  const base: AuthConfigBase = {
    publicUrl: context.publicUrl,
    creatorRoles: e.MCP_GATEWAY_CREATOR_ROLES ?? [],
    identityJwt: e.MCP_GATEWAY_IDENTITY_JWT,
    commandRoles: e.MCP_GATEWAY_COMMAND_ROLES,
    ...(e.MCP_GATEWAY_COMMAND_ALLOW && { commandAllow: e.MCP_GATEWAY_COMMAND_ALLOW }),
    secretRoles: e.MCP_GATEWAY_SECRET_ROLES,
  };
  if (mode === 'dev' || mode === 'dev-insecure') {
    if (problems.length > 0) throw new ConfigError(problems);
    return { mode, ...base };
  }

  let issuer = '';
  let keys: KeySource = { kind: 'discovery' };
  if (mode === 'oidc') {
    if (e.MCP_GATEWAY_OIDC_ISSUER === undefined) {
      problems.push('MCP_GATEWAY_OIDC_ISSUER is required with MCP_GATEWAY_AUTH=oidc (the issuer URL)');
    } else {
      issuer = e.MCP_GATEWAY_OIDC_ISSUER;
      const bad = secureUrlProblem(issuer);
      if (bad) problem('MCP_GATEWAY_OIDC_ISSUER', bad);
    }
  } else {
    const sources = (
      ['MCP_GATEWAY_JWKS_URL', 'MCP_GATEWAY_JWKS_FILE', 'MCP_GATEWAY_JWT_PUBLIC_KEY'] as const
    ).filter((key) => e[key] !== undefined);
    if (sources.length !== 1) {
      problems.push(
        sources.length === 0
          ? 'MCP_GATEWAY_AUTH=jwt needs exactly one key source: MCP_GATEWAY_JWKS_URL, MCP_GATEWAY_JWKS_FILE or MCP_GATEWAY_JWT_PUBLIC_KEY'
          : `MCP_GATEWAY_AUTH=jwt needs exactly one key source, got ${sources.join(' and ')}`,
      );
    }
    if (e.MCP_GATEWAY_JWKS_URL !== undefined) {
      const bad = secureUrlProblem(e.MCP_GATEWAY_JWKS_URL);
      if (bad) problem('MCP_GATEWAY_JWKS_URL', bad);
      keys = { kind: 'jwks-url', url: e.MCP_GATEWAY_JWKS_URL };
    } else if (e.MCP_GATEWAY_JWKS_FILE !== undefined) {
      keys = { kind: 'jwks-file', path: e.MCP_GATEWAY_JWKS_FILE };
    } else if (e.MCP_GATEWAY_JWT_PUBLIC_KEY !== undefined) {
      const pem = normalisePem(e.MCP_GATEWAY_JWT_PUBLIC_KEY);
      const bad = pemProblem(pem);
      if (bad) problem('MCP_GATEWAY_JWT_PUBLIC_KEY', bad);
      keys = { kind: 'pem', pem };
    }
    if (e.MCP_GATEWAY_JWT_ISSUER === undefined) {
      problems.push(
        'MCP_GATEWAY_JWT_ISSUER is required with MCP_GATEWAY_AUTH=jwt: tokens are accepted only from a named issuer (the exact "iss" value)',
      );
    } else {
      issuer = e.MCP_GATEWAY_JWT_ISSUER;
    }
  }

  const algorithms = e.MCP_GATEWAY_ALGORITHMS ?? [...DEFAULT_ALGORITHMS];
  for (const message of algorithmProblems(algorithms)) problem('MCP_GATEWAY_ALGORITHMS', message);

  const authorizationServers = e.MCP_GATEWAY_AUTHORIZATION_SERVERS ?? (issuer ? [issuer] : []);
  for (const server of e.MCP_GATEWAY_AUTHORIZATION_SERVERS ?? []) {
    const bad = secureUrlProblem(server);
    if (bad) problems.push(`MCP_GATEWAY_AUTHORIZATION_SERVERS entry ${JSON.stringify(server)} ${bad}`);
  }
  if (
    mode === 'jwt' &&
    issuer &&
    e.MCP_GATEWAY_AUTHORIZATION_SERVERS === undefined &&
    secureUrlProblem(issuer)
  ) {
    // MCP clients discover where to sign in from this list, which must hold real https URLs.
    problems.push(
      `MCP_GATEWAY_AUTHORIZATION_SERVERS is required because MCP_GATEWAY_JWT_ISSUER (${JSON.stringify(issuer)}) is not an https URL clients could sign in at`,
    );
  }

  if (problems.length > 0) throw new ConfigError(problems);
  return {
    mode,
    ...base,
    issuer,
    keys,
    audiences: e.MCP_GATEWAY_AUDIENCE ?? [context.publicUrl],
    algorithms,
    clockToleranceSeconds: e.MCP_GATEWAY_CLOCK_TOLERANCE_SECONDS,
    rolesClaim: e.MCP_GATEWAY_ROLES_CLAIM,
    userClaim: e.MCP_GATEWAY_USER_CLAIM,
    authorizationServers,
    scopesSupported: e.MCP_GATEWAY_SCOPES_SUPPORTED ?? [],
  };
}
