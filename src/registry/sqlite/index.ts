/** @module The SQLite registry dialect: the only entry other folders import. */
export { SqliteRegistryStore, SQLITE_MEMORY } from './sqlite-registry-store.js';
