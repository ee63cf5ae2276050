import { describe, expect, it } from 'vitest';
import { formatBearerChallenge, insufficientRole, unauthorized } from './challenge.js';

describe('formatBearerChallenge', () => {
  it('formats RFC 6750 / RFC 9728 parameters in a stable order', () => {
    expect(formatBearerChallenge({})).toBe('Bearer');
    expect(
      formatBearerChallenge({ resourceMetadata: 'https://gw/.well-known/oauth-protected-resource/mcp' }),
    ).toBe('Bearer resource_metadata="https://gw/.well-known/oauth-protected-resource/mcp"');
    expect(
      formatBearerChallenge({
        resourceMetadata: 'https://gw/m',
        scope: 'mcp a',
        error: 'invalid_token',
        errorDescription: 'The token has expired.',
      }),
    ).toBe(
      'Bearer resource_metadata="https://gw/m", scope="mcp a", error="invalid_token", error_description="The token has expired."',
    );
  });

  it('cannot be broken out of: quotes, backslashes, CR/LF and non-ASCII are dropped', () => {
    expect(formatBearerChallenge({ errorDescription: 'a"b\\c\r\nd’e' })).toBe(
      'Bearer error_description="abcde"',
    );
  });
});

describe('401 and 403 errors', () => {
  it('401: code from the RFC 6750 error, or unauthorized without one', () => {
    const none = unauthorized('Sign in.', { resourceMetadata: 'https://gw/m' });
    expect(none.status).toBe(401);
    expect(none.toBody()).toEqual({ error: { code: 'unauthorized', message: 'Sign in.' } });
    expect(none.headers['WWW-Authenticate']).toBe('Bearer resource_metadata="https://gw/m"');
    expect(unauthorized('x', { error: 'invalid_token' }).code).toBe('invalid_token');
  });

  it('403: insufficient_scope in the challenge, forbidden in the body', () => {
    const err = insufficientRole('Creating adapters requires mcp.engineer.', {
      resourceMetadata: 'https://gw/m',
    });
    expect(err.status).toBe(403);
    expect(err.code).toBe('forbidden');
    expect(err.headers['WWW-Authenticate']).toBe(
      'Bearer resource_metadata="https://gw/m", error="insufficient_scope", error_description="Creating adapters requires mcp.engineer."',
    );
  });
});
