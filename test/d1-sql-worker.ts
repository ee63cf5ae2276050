/**
 * @module d1-sql-worker: a worker, run by wrangler's local runtime in tests, that executes the statements it is
 * sent against its real D1 binding. `local-d1.ts` turns it into a D1 binding for Node, so the registry contract
 * suite runs under vitest against D1 itself, one HTTP round trip per statement.
 *
 * Every command carries an id, and the worker remembers the answer of the last {@link REMEMBERED} ones: under
 * load the local runtime loses connections ("Network connection lost", "other side closed"), and the client
 * cannot tell whether the statement ran. Sent again under the same id, a command gets the first answer (or 409
 * while the first attempt still runs) instead of running a write twice.
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

/** What to execute. */
type Command =
  | ({ readonly op: 'run' | 'all' | 'raw' } & Statement)
  | { readonly op: 'batch'; readonly statements: Statement[] }
  | { readonly op: 'reset' };

/** A request body: the command and the client's id for it (the same on every attempt). */
interface Envelope {
  readonly id: string;
  readonly command: Command;
}

/** The answer to a command: its value, or D1's error message. */
type Answer =
  { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly message: string };

/** The part of the Workers `ExecutionContext` used here. */
interface Context {
  waitUntil(promise: Promise<unknown>): void;
}

/** Answers kept for repeated ids; a client repeats within seconds, far fewer commands than this apart. */
const REMEMBERED = 5_000;
const answered = new Map<string, Answer>();
/** Ids whose first attempt is still executing. */
const running = new Set<string>();

function remember(id: string, answer: Answer): void {
  answered.set(id, answer);
  if (answered.size > REMEMBERED) answered.delete(answered.keys().next().value!);
}

async function answer(db: D1, command: Command): Promise<Answer> {
  try {
    return { ok: true, value: await execute(db, command) };
  } catch (err) {
    return { ok: false, message: err instanceof Error ? err.message : String(err) };
  }
}

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
  async fetch(request: Request, env: { DB: D1 }, ctx: Context): Promise<Response> {
    const { id, command } = (await request.json()) as Envelope;
    const earlier = answered.get(id);
    if (earlier) return Response.json(earlier);
    // The first attempt is still executing: the client asks again shortly.
    if (running.has(id)) return Response.json({ pending: true }, { status: 409 });
    running.add(id);
    const done = answer(env.DB, command).then((result) => {
      remember(id, result);
      running.delete(id);
      return result;
    });
    // Runs to the end even when this request's connection is lost, so a repeat finds the answer.
    ctx.waitUntil(done);
    return Response.json(await done);
  },
};
