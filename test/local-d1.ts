/**
 * @module local-d1: a real D1 database for Node tests. wrangler's local runtime runs `d1-sql-worker.ts` with a
 * D1 binding; the object returned here has the binding's shape (`prepare`/`bind`/`run`/`all`/`raw`, `batch`) and
 * sends each statement to that worker, so Drizzle's D1 driver and the D1 store run unchanged against D1's own
 * SQLite. (wrangler's `getPlatformProxy` offers the same binding but makes several round trips per statement,
 * too slow for the contract suite's 2,500 writes.)
 *
 * The hop to the worker is not D1 and must not fail like it. On a busy machine the local runtime drops
 * connections: Node sees "other side closed", or the runtime's proxy answers HTTP 500 with the text
 * "Error: Network connection lost." (which an unchecked `response.json()` turned into a SyntaxError). So at most
 * {@link MAX_IN_FLIGHT} commands are in flight, an answer is used only when it is the worker's own JSON, and a
 * command whose answer was lost is sent again under the same id: the worker answers a repeated id with its first
 * answer, so a write is never run twice. D1's own errors (the worker's `{ ok: false }`) are answers, not retried.
 */
import type { D1DatabaseBinding } from '../src/registry/index.js';
import { stageProject, startLocalWorker } from './wrangler-worker.js';

const CONFIG = `name = "mcpgw-d1-sql"
main = "test/d1-sql-worker.ts"
compatibility_date = "2026-04-01"

[[d1_databases]]
binding = "DB"
database_name = "mcpgw-test"
database_id = "00000000-0000-0000-0000-00000000d1d1"
`;

/**
 * Commands sent at once, so a burst (the contract suite creates 250 at a time) does not open hundreds of
 * connections to the runtime. 2,500 creates on a loaded 2-core machine took 19-22 s at 16, 15-18 s at 64 and
 * 13-16 s unbounded.
 */
const MAX_IN_FLIGHT = 64;
/** Attempts per command before the harness gives up with the last transport problem. */
const ATTEMPTS = 6;
/** Longest wait for one attempt's answer: hundreds of times a loaded machine's (20-60 ms), so only a lost one ends. */
const ATTEMPT_TIMEOUT_MS = 20_000;
/** First pause before a repeat, doubled per attempt up to {@link MAX_RETRY_DELAY_MS}. */
const FIRST_RETRY_DELAY_MS = 50;
const MAX_RETRY_DELAY_MS = 2_000;

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

type Command = Record<string, unknown> & { readonly op: string };

/** The worker's answer to a command. */
type Answer =
  { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly message: string };

/**
 * One attempt's outcome: the worker's answer; `pending` when the worker is still executing an earlier attempt of
 * the same command; or why there is no answer (worth another attempt).
 */
type Attempt = { readonly answer: Answer } | { readonly pending: true } | { readonly problem: string };

function isAnswer(value: unknown): value is Answer {
  if (typeof value !== 'object' || value === null) return false;
  const { ok, message } = value as { ok?: unknown; message?: unknown };
  return ok === true || (ok === false && typeof message === 'string');
}

/** An error and its causes in one line (undici puts the socket's reason in `cause`). */
function describe(err: unknown): string {
  const parts: string[] = [];
  for (let current = err, depth = 0; current !== undefined && depth < 4; depth++) {
    if (!(current instanceof Error)) {
      parts.push(String(current));
      break;
    }
    const code = (current as { code?: unknown }).code;
    parts.push(`${current.name}: ${current.message}${typeof code === 'string' ? ` (${code})` : ''}`);
    current = current.cause;
  }
  return parts.join(' <- ');
}

/** The start of a body, for an error message. */
const excerpt = (text: string) => JSON.stringify(text.length > 200 ? `${text.slice(0, 200)}…` : text);

/** Bounds how many commands run at once. */
function slots(limit: number): <T>(task: () => Promise<T>) => Promise<T> {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async (task) => {
    if (active >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
    active += 1;
    try {
      return await task();
    } finally {
      active -= 1;
      waiting.shift()?.();
    }
  };
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
  const inFlight = slots(MAX_IN_FLIGHT);
  let sequence = 0;

  /** One POST of the command; never throws. */
  async function attempt(body: string): Promise<Attempt> {
    let response: Response;
    let text: string;
    try {
      response = await fetch(url, { method: 'POST', body, signal: AbortSignal.timeout(ATTEMPT_TIMEOUT_MS) });
      text = await response.text();
    } catch (err) {
      return { problem: `no answer from the worker: ${describe(err)}` };
    }
    if (response.status === 409) return { pending: true };
    if (response.status !== 200) return { problem: `HTTP ${response.status}: ${excerpt(text)}` };
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return { problem: `HTTP 200 with a body that is not JSON: ${excerpt(text)}` };
    }
    return isAnswer(parsed) ? { answer: parsed } : { problem: `an unexpected answer: ${excerpt(text)}` };
  }

  async function send(command: Command): Promise<unknown> {
    const body = JSON.stringify({ id: `${process.pid}-${++sequence}`, command });
    const answer = await inFlight(async () => {
      let failed = 0;
      let pendingSince: number | undefined;
      for (let asked = 1; ; asked++) {
        const outcome = await attempt(body);
        if ('answer' in outcome) return outcome.answer;
        if ('pending' in outcome) {
          // Not a lost answer: the worker is running the command and will remember the result.
          pendingSince ??= Date.now();
          if (Date.now() - pendingSince > ATTEMPT_TIMEOUT_MS) {
            throw new Error(`local D1: ${command.op} still running after ${ATTEMPT_TIMEOUT_MS} ms`);
          }
        } else {
          failed += 1;
          if (failed === ATTEMPTS) {
            throw new Error(
              `local D1: ${command.op} got no answer in ${ATTEMPTS} attempts; the last: ${outcome.problem}`,
            );
          }
          // Said once per repeat, so a slow CI run shows why it was slow.
          process.stderr.write(
            `local D1: ${command.op} attempt ${failed} got no answer (${outcome.problem}); sending it again\n`,
          );
        }
        const delay = Math.min(MAX_RETRY_DELAY_MS, FIRST_RETRY_DELAY_MS * 2 ** Math.min(asked - 1, 6));
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    });
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
