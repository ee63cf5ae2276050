/**
 * @module challenge: `WWW-Authenticate: Bearer …` challenges (RFC 6750 §3, RFC 9728 §5.1) and the 401/403
 * errors that carry them.
 */
import { HttpError } from '../http/index.js';

/** The parameters of a Bearer challenge; absent ones are left out. */
export interface BearerChallenge {
  /** RFC 9728: where the protected-resource metadata of the requested resource is. */
  readonly resourceMetadata?: string;
  /** Space-separated scopes the resource expects (MCP: SHOULD be given). */
  readonly scope?: string;
  /** `invalid_request`, `invalid_token` or `insufficient_scope`; absent when no credentials were sent. */
  readonly error?: 'invalid_request' | 'invalid_token' | 'insufficient_scope';
  readonly errorDescription?: string;
}

// RFC 6750 §3: error_description and scope use %x20-21 / %x23-5B / %x5D-7E only (no `"` or `\`).
function quoted(value: string): string {
  return `"${value.replace(/[^\x20\x21\x23-\x5b\x5d-\x7e]/g, '')}"`;
}

/** Formats a challenge, e.g. `Bearer resource_metadata="…", error="invalid_token"`. */
export function formatBearerChallenge(challenge: BearerChallenge): string {
  const params: string[] = [];
  if (challenge.resourceMetadata !== undefined)
    params.push(`resource_metadata=${quoted(challenge.resourceMetadata)}`);
  if (challenge.scope) params.push(`scope=${quoted(challenge.scope)}`);
  if (challenge.error !== undefined) params.push(`error=${quoted(challenge.error)}`);
  if (challenge.errorDescription) params.push(`error_description=${quoted(challenge.errorDescription)}`);
  return params.length > 0 ? `Bearer ${params.join(', ')}` : 'Bearer';
}

/**
 * 401 with a Bearer challenge. The JSON body's code is the RFC 6750 error (`invalid_token`, …) or
 * `unauthorized` when no credentials came at all.
 */
export function unauthorized(message: string, challenge: BearerChallenge): HttpError {
  return new HttpError(401, challenge.error ?? 'unauthorized', message, {
    headers: { 'WWW-Authenticate': formatBearerChallenge(challenge) },
  });
}

/** Options for {@link insufficientRole}. */
export interface InsufficientRoleOptions {
  /** RFC 9728 metadata URL of the resource, so a client can find where to get a better token. */
  readonly resourceMetadata?: string;
  /** Scopes that would help, when the missing permission is a scope; roles are not scopes and stay out. */
  readonly scope?: string;
}

/**
 * 403 for a caller who is authenticated but lacks a role or scope: the body code stays `forbidden` (the
 * control plane's code) and the challenge says `error="insufficient_scope"` (RFC 6750 §3.1, MCP step-up).
 */
export function insufficientRole(message: string, options: InsufficientRoleOptions = {}): HttpError {
  return new HttpError(403, 'forbidden', message, {
    headers: {
      'WWW-Authenticate': formatBearerChallenge({
        ...(options.resourceMetadata !== undefined && { resourceMetadata: options.resourceMetadata }),
        ...(options.scope !== undefined && { scope: options.scope }),
        error: 'insufficient_scope',
        errorDescription: message,
      }),
    },
  });
}
