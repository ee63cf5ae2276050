/** @module drizzle-kit settings for the SQLite registry: `npm run db:generate` writes `migrations/sqlite`. */
import { defineConfig } from 'drizzle-kit';

export default defineConfig({
  dialect: 'sqlite',
  schema: './src/registry/sqlite/schema.ts',
  out: './migrations/sqlite',
});
