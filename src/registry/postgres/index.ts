/** @module The Postgres registry dialect: the only entry other folders import. */
export { PostgresRegistryStore } from './postgres-registry-store.js';
