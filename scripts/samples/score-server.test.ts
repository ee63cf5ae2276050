/** The sample tool server: its scoring, its HTTP shape, and the registration file the README uses. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SCORE_TOOL, score, startScoreServer } from './score-server.js';

describe('score sample', () => {
  it('scores text', () => {
    expect(score('I love this, it is great')).toMatchObject({ label: 'positive', words: 6 });
    expect(score('awful and broken')).toMatchObject({ label: 'negative', score: expect.any(Number) });
    expect(score('')).toEqual({ score: 0, label: 'neutral', words: 0 });
  });

  it('answers POST /score with JSON and refuses anything else', async () => {
    const server = await startScoreServer();
    try {
      const ok = await fetch(server.url, { method: 'POST', body: JSON.stringify({ text: 'nice' }) });
      expect(ok.status).toBe(200);
      expect(await ok.json()).toEqual(score('nice'));
      expect((await fetch(server.url, { method: 'POST', body: '{}' })).status).toBe(400);
      expect((await fetch(server.url, { method: 'POST', body: 'x' })).status).toBe(400);
      expect((await fetch(server.url)).status).toBe(405);
    } finally {
      await server.close();
    }
  });

  it('score-tool.json registers the same definition', () => {
    const file = JSON.parse(readFileSync(new URL('./score-tool.json', import.meta.url), 'utf8')) as {
      toolDefinition: { tool: unknown };
    };
    expect(file.toolDefinition.tool).toEqual(SCORE_TOOL);
  });
});
