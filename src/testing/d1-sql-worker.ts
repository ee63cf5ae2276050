/**
 * @module d1-sql-worker: a worker, run by wrangler's local runtime in tests, that executes the statements it is
 * sent against its real D1 binding. `local-d1.ts` turns it into a D1 binding for Node, so the registry contract
 * suite runs under vitest against D1 itself, one HTTP round trip per statement.
 */

/** The D1 API this worker uses (typed here: the Workers globals clash with Node's in one program). */
interface D1Statement {
  bind(...values: unknown[]): D1Statement;
  run(): Promise<unknown>;
  all(): Promise<unknown>;
  raw(): Promise<unknown>;
}
interface D1 {
  prepare(query: string): D1Statement;
  batch(statements: D1Statement[]): Promise<unknown[]>;
}

/** One statement as `local-d1.ts` sends it. */
interface Statement {
  readonly sql: string;
  readonly params: unknown[];
}

/** A request body. */
type Command =
  | ({ readonly op: 'run' | 'all' | 'raw' } & Statement)
  | { readonly op: 'batch'; readonly statements: Statement[] }
  | { readonly op: 'reset' };

async function execute(db: D1, command: Command): Promise<unknown> {
  switch (command.op) {
    case 'run':
    case 'all':
    case 'raw': {
      const statement = db.prepare(command.sql).bind(...command.params);
      return statement[command.op]();
    }
    case 'batch':
      return db.batch(command.statements.map((s) => db.prepare(s.sql).bind(...s.params)));
    case 'reset': {
      // Drops what the gateway created (tables, and with them their triggers), keeping D1's own `_cf_` tables.
      const { results } = (await db
        .prepare(
          "select name from sqlite_master where type = 'table' and name not like '\\_cf\\_%' escape '\\'",
        )
        .all()) as { results: { name: string }[] };
      const tables = results.map((r) => r.name).filter((name) => !name.startsWith('sqlite_'));
      if (tables.length > 0) {
        await db.batch(
          tables.map((name) => db.prepare(`drop table if exists "${name.replaceAll('"', '""')}"`)),
        );
      }
      return tables;
    }
  }
}

export default {
  async fetch(request: Request, env: { DB: D1 }): Promise<Response> {
    const command = (await request.json()) as Command;
    try {
      return Response.json({ ok: true, value: await execute(env.DB, command) });
    } catch (err) {
      return Response.json({ ok: false, message: err instanceof Error ? err.message : String(err) });
    }
  },
};
