/**
 * @module upstream-auth-schemas: `upstreamAuth` on adapters and tools — which stored secret the gateway sends to
 * the upstream, and in which header. Only the secret's name is written here; the value stays in `/secrets`.
 */
import { z } from '@hono/zod-openapi';
import { credentialHeaderRefusal } from '../core/index.js';

/** RFC 9110 §5.6.2 `token`: the characters a field name may have. */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const MAX_HEADER_NAME_LENGTH = 128;
const MAX_PREFIX_LENGTH = 256;

// The shape of a secret's name (`ResourceName`); whether that secret exists is checked on the write and again
// on every request sent. Not imported from schemas.ts, which imports this module.
const SecretReference = z
  .string()
  .min(1, 'must not be empty')
  .max(52, 'must be at most 52 characters')
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be the name of a secret (a DNS-1123 label)')
  .openapi({
    description: 'Name of a secret stored under `/secrets`; its value is read when a request is sent.',
    example: 'weather-api-key',
  });

const HeaderName = z
  .string()
  .min(1, 'must not be empty')
  .max(MAX_HEADER_NAME_LENGTH, `must be at most ${MAX_HEADER_NAME_LENGTH} characters`)
  .regex(TOKEN, "must be an HTTP field name (letters, digits and !#$%&'*+-.^_`|~)")
  .superRefine((name, ctx) => {
    const refusal = TOKEN.test(name) ? credentialHeaderRefusal(name.toLowerCase()) : undefined;
    if (refusal) ctx.addIssue({ code: 'custom', message: refusal });
  })
  .openapi({ example: 'X-Api-Key' });

// Visible ASCII and spaces: what a header value can carry without being mangled or refused on the way.
const Prefix = z
  .string()
  .max(MAX_PREFIX_LENGTH, `must be at most ${MAX_PREFIX_LENGTH} characters`)
  .regex(/^[\x20-\x7e]*$/, 'must be printable ASCII (no control characters or line breaks)')
  .openapi({ example: 'Token ', description: 'Written before the value, e.g. `Token `; default none.' });

const Bearer = z
  .strictObject({
    type: z.literal('bearer'),
    secret: SecretReference,
  })
  .openapi('UpstreamAuthBearer', {
    description: 'Sends `Authorization: Bearer <value of secret>`.',
  });

const Header = z
  .strictObject({
    type: z.literal('header'),
    name: HeaderName,
    secret: SecretReference,
    prefix: Prefix.optional(),
  })
  .openapi('UpstreamAuthHeader', {
    description: 'Sends `<name>: <prefix><value of secret>`.',
  });

const TokenUrl = z
  .string()
  .max(2048, 'must be at most 2048 characters')
  .refine((value) => {
    try {
      const url = new URL(value);
      return (
        (url.protocol === 'https:' || url.protocol === 'http:') && !url.username && !url.password && !url.hash
      );
    } catch {
      return false;
    }
  }, 'must be an absolute http(s) URL without credentials or fragment')
  .openapi({ example: 'https://auth.example.com/oauth/token' });

// RFC 6749 §3.3 scope-token: printable ASCII without space, `"` and `\`.
const Scope = z
  .string()
  .min(1, 'must not be empty')
  .max(256, 'must be at most 256 characters')
  .regex(
    /^[\x21\x23-\x5b\x5d-\x7e]+$/,
    'must be an OAuth scope token (printable ASCII without space, " or \\)',
  );

const OAuthClientCredentials = z
  .strictObject({
    type: z.literal('oauth-client-credentials'),
    tokenUrl: TokenUrl,
    clientId: z
      .string()
      .min(1, 'must not be empty')
      .max(256, 'must be at most 256 characters')
      .regex(/^[\x20-\x7e]+$/, 'must be printable ASCII'),
    clientSecret: SecretReference,
    scopes: z.array(Scope).max(64, 'must list at most 64 scopes').optional(),
  })
  .openapi('UpstreamAuthOAuthClientCredentials', {
    description:
      'Sends `Authorization: Bearer <access token>`, the token obtained with the OAuth 2.0 client credentials grant at `tokenUrl` (client authenticated with HTTP Basic: `clientId` and the value of secret `clientSecret`), reused until shortly before it expires.',
  });

const OAuthUser = z
  .strictObject({
    type: z.literal('oauth-user'),
    clientId: z
      .string()
      .min(1, 'must not be empty')
      .max(256, 'must be at most 256 characters')
      .regex(/^[\x20-\x7e]+$/, 'must be printable ASCII')
      .optional()
      .openapi({
        description:
          "The gateway's client id at the upstream's authorization server; absent, the gateway registers itself there (RFC 7591) once per adapter.",
      }),
    clientSecret: SecretReference.optional().openapi({
      description: "Name of the secret holding `clientId`'s client secret; absent for a public client.",
    }),
    scopes: z.array(Scope).max(64, 'must list at most 64 scopes').optional(),
  })
  .openapi('UpstreamAuthOAuthUser', {
    description:
      "Sends `Authorization: Bearer <the caller's own access token>` for this upstream: each user connects once at `/connect/{adapter}` (authorization code + PKCE at the authorization server the upstream's protected-resource metadata names, `resource` = the upstream URL); the grant is stored encrypted per (caller, adapter) and refreshed. A caller without a grant gets the MCP URL elicitation error (-32042) naming that URL (through the tool router on 2026-07-28: a URL-mode elicitation, or a tool error naming it). With `federate: true` the tool router lists the adapter's tools to each caller with their own grant (none to a caller who has not connected). Adapters with `endpoints` only.",
  });

/** RFC 8693 §3 token type identifiers the gateway can send (its callers' tokens are JWT access tokens). */
export const TOKEN_TYPES = {
  access_token: 'urn:ietf:params:oauth:token-type:access_token',
  jwt: 'urn:ietf:params:oauth:token-type:jwt',
} as const;

const TokenType = z.enum([TOKEN_TYPES.access_token, TOKEN_TYPES.jwt], {
  error: `must be "${TOKEN_TYPES.access_token}" or "${TOKEN_TYPES.jwt}"`,
});

const TokenExchange = z
  .strictObject({
    type: z.literal('token-exchange'),
    tokenUrl: TokenUrl.optional().openapi({
      description:
        "The authorization server's token endpoint; absent, the `token_endpoint` of the gateway's OIDC issuer (`MCP_GATEWAY_AUTH=oidc` only).",
    }),
    clientId: z
      .string()
      .min(1, 'must not be empty')
      .max(256, 'must be at most 256 characters')
      .regex(/^[\x20-\x7e]+$/, 'must be printable ASCII'),
    clientSecret: SecretReference,
    audience: z
      .string()
      .min(1, 'must not be empty')
      .max(2048, 'must be at most 2048 characters')
      .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces')
      .optional()
      .openapi({
        description: 'RFC 8693 `audience`: the logical name of the upstream at the authorization server.',
      }),
    resource: TokenUrl.optional().openapi({
      description:
        'RFC 8693 / RFC 8707 `resource`: the upstream URL. Neither `audience` nor `resource` given, the first endpoint URL.',
      example: 'https://mcp.example.com/mcp',
    }),
    scopes: z.array(Scope).max(64, 'must list at most 64 scopes').optional(),
    subjectTokenType: TokenType.optional().openapi({
      description: `Type of the caller's token sent as \`subject_token\`; default \`${TOKEN_TYPES.access_token}\`.`,
    }),
    requestedTokenType: TokenType.optional().openapi({
      description:
        'RFC 8693 `requested_token_type`; absent, the authorization server picks (an access token).',
    }),
  })
  .openapi('UpstreamAuthTokenExchange', {
    description:
      "Sends `Authorization: Bearer <exchanged token>`: the caller's own verified bearer token exchanged (RFC 8693) at `tokenUrl` for one meant for the upstream (client authenticated with HTTP Basic: `clientId` and the value of secret `clientSecret`), reused per caller until shortly before it expires. The caller's token itself never goes upstream. With `federate: true` the tool router lists the adapter's tools to each caller with their own exchanged token and calls them with it (the router itself has no token to exchange, so the adapter is in no shared list). `oidc` and `jwt` authentication modes only; not with transport `sse`.",
  });

/** The `upstreamAuth` field of an adapter or tool body. */
export const UpstreamAuth = z
  .discriminatedUnion('type', [Bearer, Header, OAuthClientCredentials, OAuthUser, TokenExchange], {
    error: (issue) =>
      issue.code === 'invalid_union'
        ? 'type must be "bearer", "header", "oauth-client-credentials", "oauth-user" or "token-exchange"'
        : 'must be an object',
  })
  .openapi('UpstreamAuth', {
    description:
      "The gateway's own credential for the upstream, sent on the data plane, by federation and by the tool router; added after the caller's headers are filtered, so a caller can neither set nor read it. Readers who may not write the resource see only `type`.",
  });
export type UpstreamAuth = z.infer<typeof UpstreamAuth>;

/** `upstreamAuth` as the API shows it: the secret's name to writers, only `type` to readers. */
export const UpstreamAuthView = z
  .object({
    type: z.enum(['bearer', 'header', 'oauth-client-credentials', 'oauth-user', 'token-exchange']),
    name: z.string().optional(),
    secret: z
      .string()
      .optional()
      .openapi({ description: "The secret's name (never its value); writers only." }),
    prefix: z.string().optional(),
    tokenUrl: z.string().optional(),
    clientId: z.string().optional(),
    clientSecret: z
      .string()
      .optional()
      .openapi({ description: "The client secret's name under `/secrets` (never its value); writers only." }),
    scopes: z.array(z.string()).optional(),
    audience: z.string().optional(),
    resource: z.string().optional(),
    subjectTokenType: z.string().optional(),
    requestedTokenType: z.string().optional(),
  })
  .openapi('UpstreamAuthView');
