/** @module TokenVerifier: the port that turns a bearer token into a principal, and its two failure kinds. */
import type { Principal } from '../core/index.js';

/** Per-request verification input. */
export interface VerifyTokenOptions {
  /**
   * Canonical URL of the resource being called (RFC 8707). A token whose `aud` names it is accepted in
   * addition to the configured audiences, so a token obtained for one MCP endpoint works there and only there.
   */
  readonly resource?: string;
}

/** A token that passed every check. */
export interface VerifiedToken {
  readonly principal: Principal;
  /** The verified claims; never log them whole (they identify the user). */
  readonly claims: Readonly<Record<string, unknown>>;
}

/** Verifies bearer tokens. */
export interface TokenVerifier {
  /**
   * Resolves the caller or rejects with {@link InvalidTokenError} (the token is bad: 401) or
   * {@link TokenVerifierUnavailableError} (keys cannot be obtained right now: 503).
   */
  verify(token: string, options?: VerifyTokenOptions): Promise<VerifiedToken>;
  /** Fetches discovery documents and keys ahead of the first request; rejects when they cannot be had. */
  warmUp(): Promise<void>;
}

/** The token is not acceptable. The message is safe to return to the caller; it never contains the token. */
export class InvalidTokenError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'InvalidTokenError';
  }
}

/** Verification could not be attempted (issuer or JWKS unreachable, bad key material): not the caller's fault. */
export class TokenVerifierUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TokenVerifierUnavailableError';
  }
}
