/** @module drizzle-kit settings for the Postgres registry: `npm run db:generate` writes `migrations/postgres`. */
import { defineConfig } from 'drizzle-kit';

export default defineConfig({
  dialect: 'postgresql',
  schema: './src/registry/postgres/schema.ts',
  out: './migrations/postgres',
});
