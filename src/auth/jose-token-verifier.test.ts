import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTokenIssuer } from '../../test/token-issuer.js';
import type { TokenIssuer } from '../../test/token-issuer.js';
import { createJoseTokenVerifier } from './jose-token-verifier.js';
import { localJwksKeySource } from './key-sources.js';
import { InvalidTokenError } from './token-verifier.js';

let issuer: TokenIssuer;
beforeAll(async () => {
  issuer = await startTokenIssuer({ audience: 'https://gw.example.com' });
});
afterAll(() => issuer.close());

function verifierAt(clock: () => Date, extra: { cacheSize?: number } = {}) {
  return createJoseTokenVerifier({
    issuer: issuer.issuer,
    keys: localJwksKeySource(issuer.jwks()),
    audiences: ['https://gw.example.com'],
    algorithms: ['ES256'],
    clockToleranceSeconds: 30,
    userClaim: 'sub',
    rolesClaim: 'roles',
    clock,
    ...extra,
  });
}

describe('createJoseTokenVerifier', () => {
  it('refuses none and HMAC in its options', () => {
    const base = {
      issuer: 'i',
      keys: localJwksKeySource({ keys: [] }),
      audiences: ['a'],
      clockToleranceSeconds: 0,
      userClaim: 'sub',
      rolesClaim: 'roles',
    };
    expect(() => createJoseTokenVerifier({ ...base, algorithms: ['none'] })).toThrow(/never accepted/);
    expect(() => createJoseTokenVerifier({ ...base, algorithms: ['RS256', 'HS256'] })).toThrow(/HS256/);
    expect(() => createJoseTokenVerifier({ ...base, algorithms: [], audiences: ['a'] })).toThrow(/algorithm/);
    expect(() => createJoseTokenVerifier({ ...base, algorithms: ['ES256'], audiences: [] })).toThrow(
      /audience/,
    );
  });

  it('the verified-token cache never extends a token past its expiry', async () => {
    let now = new Date();
    const verifier = verifierAt(() => now);
    const token = await issuer.mint({}, { expiresIn: 60, now });
    await expect(verifier.verify(token)).resolves.toMatchObject({ principal: { userId: 'alice' } });
    now = new Date(now.getTime() + 50_000);
    await expect(verifier.verify(token)).resolves.toBeDefined();
    now = new Date(now.getTime() + 41_000); // 91 s: past exp + 30 s tolerance
    await expect(verifier.verify(token)).rejects.toThrow(/expired/);
  });

  it('checks the audience on every call, also for a cached token', async () => {
    const now = new Date();
    const verifier = verifierAt(() => now);
    const token = await issuer.mint({}, { audience: 'https://gw.example.com/adapters/a/mcp', now });
    await expect(
      verifier.verify(token, { resource: 'https://gw.example.com/adapters/a/mcp' }),
    ).resolves.toBeDefined();
    await expect(
      verifier.verify(token, { resource: 'https://gw.example.com/adapters/b/mcp' }),
    ).rejects.toThrow(InvalidTokenError);
    await expect(verifier.verify(token)).rejects.toThrow(/another audience/);
  });

  it('treats one trailing slash on an audience as the same resource', async () => {
    const now = new Date();
    const verifier = verifierAt(() => now);
    await expect(
      verifier.verify(await issuer.mint({}, { audience: 'https://gw.example.com/', now })),
    ).resolves.toBeDefined();
    await expect(
      verifier.verify(
        await issuer.mint({}, { audience: ['https://x.example.com', 'https://gw.example.com'], now }),
      ),
    ).resolves.toBeDefined();
  });

  it('refuses oversized tokens before parsing', async () => {
    const verifier = verifierAt(() => new Date(), { cacheSize: 0 });
    await expect(verifier.verify('a'.repeat(20_000))).rejects.toThrow(/malformed/);
  });
});
