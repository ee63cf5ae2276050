/**
 * What checking `tools/call` arguments against `inputSchema` costs the tool router (not a test). In one process,
 * the same loop prepares a call as the router does before anything goes upstream — parse the JSON-RPC body, find
 * the tool, serialise the arguments for the tool server — once without and once with the router's schema check
 * (`src/toolrouter/tool-schemas.ts`, cached per definition as in the router), for the sample `score` tool and for
 * a larger schema; prints CPU µs per call for each, the difference and the ratio. The first compile of each
 * schema is timed on its own.
 *
 *   npx tsx scripts/bench/tool-validation.ts        # CALLS=200000 ROUNDS=5
 */
import { SCORE_TOOL } from '../samples/score-server.js';
import { createSilentLogger } from '../../src/observability/index.js';
import { createToolSchemas } from '../../src/toolrouter/tool-schemas.js';

const CALLS = Number(process.env.CALLS ?? 200_000);
const ROUNDS = Number(process.env.ROUNDS ?? 5);

/** A schema of the size real tools declare: a dozen typed, bounded, nested properties. */
const LARGE_SCHEMA = {
  type: 'object',
  properties: {
    query: { type: 'string', minLength: 1, maxLength: 500 },
    limit: { type: 'integer', minimum: 1, maximum: 100 },
    offset: { type: 'integer', minimum: 0 },
    sort: { type: 'string', enum: ['relevance', 'date', 'name'] },
    filters: {
      type: 'object',
      properties: {
        tags: { type: 'array', items: { type: 'string', pattern: '^[a-z0-9-]+$' }, maxItems: 20 },
        after: { type: 'string', format: 'date-time' },
        owner: { type: 'string' },
      },
      additionalProperties: false,
    },
    fields: { type: 'array', items: { type: 'string' } },
    includeArchived: { type: 'boolean' },
    locale: { type: 'string', pattern: '^[a-z]{2}(-[A-Z]{2})?$' },
  },
  required: ['query'],
  additionalProperties: false,
};
const LARGE_ARGS = {
  query: 'quarterly report',
  limit: 20,
  offset: 40,
  sort: 'date',
  filters: { tags: ['finance', 'q3-2026'], after: '2026-07-01T00:00:00Z', owner: 'alice' },
  fields: ['title', 'url', 'summary'],
  includeArchived: false,
  locale: 'en-GB',
};

interface Case {
  readonly name: string;
  readonly schema: object;
  readonly args: Record<string, unknown>;
}

const CASES: readonly Case[] = [
  { name: 'score (1 property)', schema: SCORE_TOOL.inputSchema, args: { text: 'a great and wonderful day' } },
  { name: 'search (12 properties, nested)', schema: LARGE_SCHEMA, args: LARGE_ARGS },
];

/** CPU µs (user + system) that `run` takes. */
function cpuMicros(run: () => void): number {
  const before = process.cpuUsage();
  run();
  const used = process.cpuUsage(before);
  return used.user + used.system;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

let sink = 0;

for (const { name, schema, args } of CASES) {
  const definition = { name: 'tool', inputSchema: schema };
  const catalog = new Map([[definition.name, definition]]);
  const body = JSON.stringify({
    jsonrpc: '2.0',
    id: 1,
    method: 'tools/call',
    params: { name: 'tool', arguments: args },
  });

  const compileMicros = cpuMicros(() => {
    const check = createToolSchemas(createSilentLogger(), 'arguments').checkOf(
      'tool',
      definition.inputSchema,
    );
    if (check?.(args) !== undefined) throw new Error(`${name}: the sample arguments do not match the schema`);
  });
  const schemas = createToolSchemas(createSilentLogger(), 'arguments');

  /** What the router does for a call before it is sent; `validate` adds the schema check. */
  const prepare = (validate: boolean) => {
    const request = JSON.parse(body) as { params: { name: string; arguments: Record<string, unknown> } };
    const tool = catalog.get(request.params.name)!;
    if (validate) {
      const problem = schemas.checkOf(tool.name, tool.inputSchema)?.(request.params.arguments);
      if (problem !== undefined) throw new Error(problem);
    }
    sink += JSON.stringify(request.params.arguments).length;
  };
  const loop = (validate: boolean) => () => {
    for (let i = 0; i < CALLS; i++) prepare(validate);
  };
  // Warm both paths up, then alternate rounds so drift hits both alike.
  loop(false)();
  loop(true)();
  const plain: number[] = [];
  const checked: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    plain.push(cpuMicros(loop(false)) / CALLS);
    checked.push(cpuMicros(loop(true)) / CALLS);
  }
  const without = median(plain);
  const withCheck = median(checked);
  console.log(
    `${name}: unvalidated ${without.toFixed(2)} µs/call, validated ${withCheck.toFixed(2)} µs/call, ` +
      `+${(withCheck - without).toFixed(2)} µs (${(withCheck / without).toFixed(2)}×); first compile ${compileMicros} µs`,
  );
}
if (sink === 0) console.log('');
