/**
 * @module local-d1: a real D1 database for Node tests. wrangler's local runtime runs `d1-sql-worker.ts` with a
 * D1 binding; the object returned here has the binding's shape (`prepare`/`bind`/`run`/`all`/`raw`, `batch`) and
 * sends each statement to that worker, so Drizzle's D1 driver and the D1 store run unchanged against D1's own
 * SQLite. (wrangler's `getPlatformProxy` offers the same binding but makes several round trips per statement,
 * too slow for the contract suite's 2,500 writes.)
 */
import type { D1DatabaseBinding } from '../registry/index.js';
import { stageProject, startLocalWorker } from './wrangler-worker.js';

const CONFIG = `name = "mcpgw-d1-sql"
main = "src/testing/d1-sql-worker.ts"
compatibility_date = "2026-04-01"

[[d1_databases]]
binding = "DB"
database_name = "mcpgw-test"
database_id = "00000000-0000-0000-0000-00000000d1d1"
`;

/** A D1 database in wrangler's local runtime. */
export interface LocalD1 {
  /** The database, as a worker's `env.DB` would be. */
  readonly binding: D1DatabaseBinding;
  /** Drops every table the tests created (a fresh, empty database). */
  reset(): Promise<void>;
  close(): Promise<void>;
}

interface Statement {
  readonly sql: string;
  readonly params: unknown[];
}

/** Starts the SQL worker and returns its database. */
export async function startLocalD1(): Promise<LocalD1> {
  const project = stageProject({ 'd1-sql-worker.toml': CONFIG });
  let worker;
  try {
    worker = await startLocalWorker({ config: project.path('d1-sql-worker.toml') });
  } catch (err) {
    project.remove();
    throw err;
  }
  const url = worker.url;

  async function send(command: Record<string, unknown>): Promise<unknown> {
    const response = await fetch(url, { method: 'POST', body: JSON.stringify(command) });
    const answer = (await response.json()) as { ok: boolean; value?: unknown; message?: string };
    // D1 errors reach the store as plain Errors with D1's message, as they do on the edge.
    if (!answer.ok) throw new Error(answer.message);
    return answer.value;
  }

  function statement(sql: string, params: unknown[]) {
    const own: Statement = { sql, params };
    return {
      ...own,
      bind: (...values: unknown[]) => statement(sql, values),
      run: () => send({ op: 'run', ...own }),
      all: () => send({ op: 'all', ...own }),
      raw: () => send({ op: 'raw', ...own }),
    };
  }

  const binding: D1DatabaseBinding = {
    prepare: (sql) => statement(sql, []),
    batch: async (statements) =>
      (await send({
        op: 'batch',
        statements: (statements as Statement[]).map(({ sql, params }) => ({ sql, params })),
      })) as unknown[],
  };
  return {
    binding,
    reset: async () => void (await send({ op: 'reset' })),
    close: async () => {
      await worker.dispose();
      project.remove();
    },
  };
}
