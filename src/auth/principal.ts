/** @module Principal: who is calling, as every router sees it. */

/** The authenticated caller. */
export interface Principal {
  readonly userId: string;
  readonly roles: readonly string[];
}

/** The role that may read and write everything. */
export const ADMIN_ROLE = 'mcp.admin';
