/**
 * @module score-server: a sample tool server for the tool router — the HTTP shape of a registered tool. It takes
 * the tool's arguments as a JSON body on `POST /score` and answers JSON, which the router turns into
 * `structuredContent` (checked against the tool's `outputSchema`) plus a text copy. It scores the sentiment of a
 * text with a tiny word list: enough to see a real answer, not a model.
 *
 *   npx tsx scripts/samples/score-server.ts --port 8100        # or PORT=8100
 *
 * Then register it (README, "Tool router"): `POST /tools` with `endpoints: ["http://127.0.0.1:8100/score"]` and
 * the definition in `scripts/samples/score-tool.json`.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';

/** The MCP tool definition of this server (also in `score-tool.json`). */
export const SCORE_TOOL = {
  name: 'score',
  title: 'Score sentiment',
  description: 'Scores the sentiment of a text from -1 (negative) to 1 (positive).',
  inputSchema: {
    type: 'object',
    properties: { text: { type: 'string', description: 'The text to score.' } },
    required: ['text'],
  },
  outputSchema: {
    type: 'object',
    properties: {
      score: { type: 'number', minimum: -1, maximum: 1 },
      label: { type: 'string', enum: ['negative', 'neutral', 'positive'] },
      words: { type: 'integer', minimum: 0 },
    },
    required: ['score', 'label', 'words'],
  },
  annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
} as const;

const POSITIVE = new Set([
  'good',
  'great',
  'love',
  'excellent',
  'happy',
  'nice',
  'fast',
  'fine',
  'wonderful',
]);
const NEGATIVE = new Set(['bad', 'awful', 'hate', 'terrible', 'sad', 'slow', 'broken', 'poor', 'wrong']);

/** The scoring itself. */
export function score(text: string): {
  score: number;
  label: 'negative' | 'neutral' | 'positive';
  words: number;
} {
  const words = text.toLowerCase().match(/[a-z']+/g) ?? [];
  let sum = 0;
  for (const word of words) sum += POSITIVE.has(word) ? 1 : NEGATIVE.has(word) ? -1 : 0;
  const value = words.length === 0 ? 0 : Math.max(-1, Math.min(1, sum / Math.sqrt(words.length)));
  const rounded = Math.round(value * 1000) / 1000;
  return {
    score: rounded,
    label: rounded > 0.1 ? 'positive' : rounded < -0.1 ? 'negative' : 'neutral',
    words: words.length,
  };
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method === 'GET' && req.url === '/healthz') return reply(res, 200, { ok: true });
  if (req.url !== '/score') return reply(res, 404, { error: 'not found: POST /score' });
  if (req.method !== 'POST') return reply(res, 405, { error: 'use POST' });
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  let args: unknown;
  try {
    args = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    return reply(res, 400, { error: 'the body must be JSON' });
  }
  const text = (args as { text?: unknown } | null)?.text;
  if (typeof text !== 'string') return reply(res, 400, { error: '"text" (a string) is required' });
  reply(res, 200, score(text));
}

/** A running score server. */
export interface ScoreServer {
  /** `http://127.0.0.1:PORT/score`: the URL to register as the tool's endpoint. */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/** Starts the server on 127.0.0.1 (`port` 0: any free port). */
export async function startScoreServer(port = 0): Promise<ScoreServer> {
  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => reply(res, 500, { error: 'internal error' }));
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const actual = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${actual}/score`,
    port: actual,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const flag = process.argv.indexOf('--port');
  const port = Number(flag >= 0 ? process.argv[flag + 1] : (process.env.PORT ?? 8100));
  const running = await startScoreServer(port);
  console.log(`score tool server: POST ${running.url}`);
  const stop = () => void running.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
