/**
 * @module Drizzle tables of the D1 registry. D1 is SQLite, so these are the SQLite tables themselves: one
 * definition, one set of migrations (`migrations/sqlite`), and a D1 export opens as a SQLite registry file.
 */
export { registryRevision, resources, secrets, settings, toolPins } from '../sqlite/schema.js';
