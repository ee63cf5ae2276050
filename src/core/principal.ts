/** @module Principal: who is calling, as every router sees it. */

/** The authenticated caller. */
export interface Principal {
  readonly userId: string;
  readonly roles: readonly string[];
  /**
   * OAuth scopes granted to the token (`scope` / `scp`), when the caller came with one. Kept apart from roles:
   * a scope says what the client may do for the user, a role says what the user may do.
   */
  readonly scopes?: readonly string[];
  /**
   * The verified token's claims, when the caller came with one (none in the dev modes). Read by tool-policy rules
   * (`caller.claims`); never sent upstream or logged.
   */
  readonly claims?: Readonly<Record<string, unknown>>;
}

/** The role that may read and write everything. */
export const ADMIN_ROLE = 'mcp.admin';
