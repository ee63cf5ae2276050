/**
 * @module secret-matcher: compares presented secrets (bearer tokens) with the expected one in constant time,
 * with Web Crypto only, so it runs on every runtime the gateway does.
 */

const encoder = new TextEncoder();

const digest = async (value: string): Promise<Uint8Array> =>
  new Uint8Array(await crypto.subtle.digest('SHA-256', encoder.encode(value)));

/**
 * A comparer against `expected`: resolves true when `presented` equals it. Both sides are hashed first, so the
 * time taken does not depend on how long a guess is or how much of it is right, and the digests are compared
 * byte by byte without an early exit. Equal digests mean equal strings (SHA-256 is collision resistant).
 */
export function createSecretMatcher(expected: string): (presented: string) => Promise<boolean> {
  if (expected === '') throw new TypeError('createSecretMatcher: the expected secret must not be empty');
  const wanted = digest(expected);
  return async function matchesSecret(presented) {
    const [a, b] = await Promise.all([wanted, digest(presented)]);
    let difference = 0;
    for (let i = 0; i < a.length; i++) difference |= (a[i] ?? 0) ^ (b[i] ?? 0);
    return difference === 0;
  };
}
