/** @module localPrincipal: until real authentication exists, every request acts as one local user. */
import { identifyingMiddleware } from './identify.js';
import type { IdentifyingMiddleware } from './identify.js';
import type { Principal } from '../core/index.js';
import { ADMIN_ROLE } from '../core/index.js';

/** The single user every request acts as while the gateway runs without authentication. */
export const LOCAL_PRINCIPAL: Principal = Object.freeze({
  userId: 'dev',
  roles: Object.freeze([ADMIN_ROLE]),
});

/** Options for {@link localPrincipal}. */
export interface LocalPrincipalOptions {
  readonly principal?: Principal;
}

/** Sets the same principal on every request. */
export function localPrincipal(options: LocalPrincipalOptions = {}): IdentifyingMiddleware {
  const principal = options.principal ?? LOCAL_PRINCIPAL;
  return identifyingMiddleware(() => principal);
}
