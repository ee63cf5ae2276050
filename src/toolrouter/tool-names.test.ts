/** Tests of federated tool names: plain names, deterministic aliases, the separator rule. */
import { beforeAll, describe, expect, it } from 'vitest';
import { createXxh64Hash } from '../routing/index.js';
import type { Hash64 } from '../routing/index.js';
import { TOOL_NAME_ALPHABET, separatorProblem } from '../config/index.js';
import { createToolNamer } from './tool-names.js';

let hash: Hash64;
beforeAll(async () => {
  hash = await createXxh64Hash();
});

describe('createToolNamer', () => {
  it('joins adapter and tool with the separator when the result is valid and short enough', () => {
    const name = createToolNamer({ separator: '__', maxLength: 64, hash });
    expect(name('weather', 'get_forecast')).toBe('weather__get_forecast');
    expect(name('a', 'x.y-z')).toBe('a__x.y-z');
    expect(createToolNamer({ separator: '.', maxLength: 64, hash })('weather', 'now')).toBe('weather.now');
  });

  it('aliases a name over the limit: deterministic, within the limit and the alphabet, distinct per tool', () => {
    const name = createToolNamer({ separator: '__', maxLength: 64, hash });
    const long = 'summarise_the_quarterly_financial_statements_for_the_board';
    const alias = name('accounting-assistant', long);
    expect(alias).toHaveLength(64);
    expect(alias).toMatch(TOOL_NAME_ALPHABET);
    expect(alias.startsWith('accounting-assistant__summarise_the_quarterly')).toBe(true);
    expect(name('accounting-assistant', long)).toBe(alias);
    expect(name('accounting-assistant', `${long}_v2`)).not.toBe(alias);
    expect(name('other-assistant', long)).not.toBe(alias);
  });

  it('aliases names with characters outside the alphabet, so look-alikes never collide', () => {
    const name = createToolNamer({ separator: '__', maxLength: 64, hash });
    const spaced = name('files', 'read file');
    const slashed = name('files', 'read/file');
    expect(spaced).toMatch(/^files__read_file_[0-9a-f]{10}$/);
    expect(slashed).toMatch(/^files__read_file_[0-9a-f]{10}$/);
    expect(spaced).not.toBe(slashed);
    expect(name('files', 'read_file')).toBe('files__read_file');
    expect(name('i18n', 'übersetzen')).toMatch(TOOL_NAME_ALPHABET);
  });

  it('honours a longer limit (the specification allows 128)', () => {
    const name = createToolNamer({ separator: '__', maxLength: 128, hash });
    const tool = 'x'.repeat(100);
    expect(name('adapter', tool)).toBe(`adapter__${tool}`);
  });

  it('refuses bad options', () => {
    expect(() => createToolNamer({ separator: '-', maxLength: 64, hash })).toThrow(/must contain/);
    expect(() => createToolNamer({ separator: '__', maxLength: 8, hash })).toThrow(RangeError);
  });
});

describe('separatorProblem', () => {
  it('accepts separators that cannot occur in adapter names', () => {
    expect(separatorProblem('__')).toBeUndefined();
    expect(separatorProblem('.')).toBeUndefined();
    expect(separatorProblem('_-_')).toBeUndefined();
  });
  it('refuses empty, long, foreign and DNS-label-only separators', () => {
    expect(separatorProblem('')).toMatch(/1–8/);
    expect(separatorProblem('_________')).toMatch(/1–8/);
    expect(separatorProblem('::')).toMatch(/1–8/);
    expect(separatorProblem('--')).toMatch(/must contain/);
    expect(separatorProblem('x')).toMatch(/must contain/);
  });
});
