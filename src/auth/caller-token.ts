/**
 * @module caller-token: the verified bearer token a principal came with, kept beside the principal rather than
 * on it, so that nothing which logs, serializes or copies a principal can carry the token along. Read only by
 * `upstreamAuth` `token-exchange`, which sends it to the authorization server (never upstream); elsewhere only
 * its hash is handed out ({@link callerTokenDigest}), to keep what is made with one token apart from another's.
 */
import type { Principal } from '../core/index.js';

const tokens = new WeakMap<object, string>();

/** Records that `principal` was established by `token` (the bearer middleware, after verification). */
export function bindCallerToken(principal: Principal, token: string): void {
  tokens.set(principal, token);
}

/** The verified token `caller` came with, or undefined (dev modes, the gateway's own listing principal). */
export function callerTokenOf(caller: object): string | undefined {
  return tokens.get(caller);
}

/**
 * A digest of the token `caller` came with (`hash` of it, base 36), or '' when it came with none: for keys of
 * things made with that token (the tool router's pooled clients of `token-exchange` adapters). Never the token.
 */
export function callerTokenDigest(caller: object, hash: (value: string) => bigint): string {
  const token = tokens.get(caller);
  return token === undefined ? '' : hash(token).toString(36);
}
