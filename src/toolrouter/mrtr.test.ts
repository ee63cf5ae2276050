import { describe, expect, it } from 'vitest';
import { askCaller } from './mrtr.js';
import type { CallerChannel, RelayCapabilities } from './server-request-relay.js';

function channel(capabilities: Partial<RelayCapabilities>) {
  const sent: string[] = [];
  const c: CallerChannel = {
    capabilities: { elicitation: false, sampling: false, samplingTools: false, ...capabilities },
    request(method) {
      sent.push(method);
      return Promise.resolve({ action: 'accept', content: { who: 'x' } });
    },
  };
  return { c, sent };
}

const elicit = {
  method: 'elicitation/create',
  params: { message: 'who?', requestedSchema: { type: 'object' } },
};
const sample = { method: 'sampling/createMessage', params: { messages: [], maxTokens: 1, tools: [] } };
const signal = new AbortController().signal;

describe('askCaller: a 2025 caller is asked only what it declared', () => {
  it('asks a caller that declared elicitation over its channel', async () => {
    const { c, sent } = channel({ elicitation: true });
    expect(await askCaller(c, { who: elicit }, signal)).toEqual({
      answers: { who: { action: 'accept', content: { who: 'x' } } },
    });
    expect(sent).toEqual(['elicitation/create']);
  });

  it('sends nothing and names what is missing when the caller did not declare it', async () => {
    const { c, sent } = channel({ sampling: true });
    expect(await askCaller(c, { who: elicit, s: sample }, signal)).toEqual({
      missing: ['elicitation/create', 'sampling/createMessage with tools'],
    });
    expect(sent).toEqual([]);
    expect(await askCaller(undefined, { who: elicit }, signal)).toEqual({ missing: ['elicitation/create'] });
  });

  it('never bridges URL-mode elicitation or roots/list', async () => {
    const { c, sent } = channel({ elicitation: true, sampling: true, samplingTools: true });
    const url = { method: 'elicitation/create', params: { mode: 'url', url: 'https://x', message: 'm' } };
    const result = await askCaller(c, { u: url, r: { method: 'roots/list' } }, signal);
    expect(result).toEqual({
      missing: [
        'elicitation/create in URL mode (not bridged by the tool router)',
        'roots/list (not bridged by the tool router)',
      ],
    });
    expect(sent).toEqual([]);
  });
});
