/** @module auth: principals, how a request gets one, and what it may do. */
export { ADMIN_ROLE } from './principal.js';
export type { Principal } from './principal.js';
export { LOCAL_PRINCIPAL, localPrincipal } from './local-principal.js';
export type { LocalPrincipalOptions } from './local-principal.js';
export { canRead, canWrite, isAdmin } from './permissions.js';
export type { OwnedResource } from './permissions.js';
