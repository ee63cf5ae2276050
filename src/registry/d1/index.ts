/** @module The D1 registry dialect (Cloudflare Workers): the only entry other folders import. */
export { D1RegistryStore } from './d1-registry-store.js';
export type { D1DatabaseBinding, D1RegistryStoreOptions } from './d1-registry-store.js';
export { d1Migrations } from './d1-migrations.js';
export type { D1Migration, MigrationJournal } from './d1-migrations.js';
