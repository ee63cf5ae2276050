/** The router's schema checks on their own: dialects, unusable schemas (never a crash, logged once), messages. */
import { describe, expect, it } from 'vitest';
import { createLogger } from '../observability/index.js';
import { checkedOutput, createToolSchemas } from './tool-schemas.js';

function schemasWithLog() {
  const lines: { msg: string; tool?: string; err?: string }[] = [];
  const logger = createLogger({
    level: 'warn',
    destination: { write: (line: string) => void lines.push(JSON.parse(line) as (typeof lines)[number]) },
  });
  return { schemas: createToolSchemas(logger, 'arguments'), lines };
}

describe('tool schemas', () => {
  it('reads $schema in its http and https spellings, with or without the trailing #', () => {
    const { schemas, lines } = schemasWithLog();
    for (const $schema of [
      'http://json-schema.org/draft-07/schema#',
      'https://json-schema.org/draft-07/schema',
      'https://json-schema.org/draft/2020-12/schema',
      'http://json-schema.org/draft/2020-12/schema#',
    ]) {
      const check = schemas.checkOf('t', { $schema, type: 'object', properties: { a: { type: 'string' } } });
      expect(check?.({ a: 1 })).toMatch(/^arguments\/a: Instance type "number" is invalid/);
    }
    expect(lines).toEqual([]);
  });

  it.each([
    [
      'an unknown $schema',
      { $schema: 'https://example.com/my-dialect', type: 'object' },
      /unsupported "\$schema"/,
    ],
    [
      'a pattern JavaScript cannot compile',
      { type: 'object', properties: { a: { pattern: '(?<' } } },
      /pattern/,
    ],
    ['an unknown type', { type: 'object', properties: { a: { type: 'text' } } }, /unknown type "text"/],
    ['required that is not a list', { type: 'object', required: 'a' }, /required is not a list/],
    [
      'a subschema that is not one',
      { type: 'object', properties: { a: 5 } },
      /#\/properties\/a is not a schema/,
    ],
  ])('skips the check of a schema with %s, logged once, never throwing', (_what, schema, reason) => {
    const { schemas, lines } = schemasWithLog();
    expect(schemas.checkOf('odd', schema)).toBeUndefined();
    expect(schemas.checkOf('odd', schema)).toBeUndefined();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ tool: 'odd', err: expect.stringMatching(reason) });
  });

  it('gives up on a schema whose $ref resolves nowhere when a call first reaches it, logged once', () => {
    const { schemas, lines } = schemasWithLog();
    const schema = { type: 'object', properties: { a: { $ref: '#/$defs/missing' } } };
    const check = schemas.checkOf('dangling', schema);
    expect(check?.({})).toBeUndefined();
    expect(check?.({ a: 1 })).toBeUndefined();
    expect(schemas.checkOf('dangling', schema)?.({ a: 1 })).toBeUndefined();
    expect(lines).toHaveLength(1);
    expect(lines[0]?.err).toMatch(/Unresolved \$ref/);
  });

  it('compiles a schema once, also when a rebuilt catalog hands over an equal copy', () => {
    const { schemas, lines } = schemasWithLog();
    const schema = { type: 'object', properties: { a: { type: 'string', pattern: '(?i)x' } } };
    expect(schemas.checkOf('odd', schema)).toBeUndefined();
    expect(schemas.checkOf('odd', structuredClone(schema))).toBeUndefined();
    expect(lines).toHaveLength(1);
    const good = { type: 'object', properties: { a: { type: 'string' } } };
    expect(schemas.checkOf('t', structuredClone(good))).toBe(schemas.checkOf('t', good));
    // A changed schema is a new one.
    const changed = { ...good, required: ['a'] };
    expect(schemas.checkOf('t', changed)?.({})).toMatch(/required property "a"/);
    expect(schemas.checkOf('t', good)?.({})).toBeUndefined();
  });

  it('keeps messages short when a caller sends an enormous property name', () => {
    const { schemas } = schemasWithLog();
    const check = schemas.checkOf('t', { type: 'object', additionalProperties: false });
    const problem = check?.({ ['k'.repeat(10_000)]: 1 }) ?? '';
    expect(problem.length).toBeLessThan(700);
    expect(problem).toMatch(/…/);
  });

  it('lets error results through unchecked, and checks everything else', () => {
    const schemas = createToolSchemas(createLogger({ level: 'silent' }), 'structuredContent');
    const schema = { type: 'object', properties: { n: { type: 'number' } }, required: ['n'] };
    const failed = { isError: true, content: [{ type: 'text' as const, text: 'upstream broke' }] };
    expect(checkedOutput('t', schema, schemas, failed)).toBe(failed);
    const fine = { content: [], structuredContent: { n: 1 } };
    expect(checkedOutput('t', schema, schemas, fine)).toBe(fine);
    expect(checkedOutput('t', undefined, schemas, { content: [] })).toEqual({ content: [] });
    expect(checkedOutput('t', schema, schemas, { content: [], structuredContent: {} })).toMatchObject({
      isError: true,
      content: [
        { text: expect.stringContaining('structuredContent: Instance does not have required property "n"') },
      ],
    });
  });
});
