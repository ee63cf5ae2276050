import { describe, expect, it } from 'vitest';
import { SseEventParser } from './sse-event-parser.js';
import type { SseEvent } from './sse-event-parser.js';

function parse(chunks: string[]): SseEvent[] {
  const events: SseEvent[] = [];
  const parser = new SseEventParser((e) => events.push(e));
  for (const chunk of chunks) parser.push(chunk);
  return events;
}

describe('SseEventParser', () => {
  it('reads the 2024-11-05 flow: an endpoint event, then message events', () => {
    expect(
      parse([
        'event: endpoint\ndata: /messages?sessionId=1\n\n',
        'event: message\ndata: {"jsonrpc":"2.0"}\n\n',
      ]),
    ).toEqual([
      { event: 'endpoint', data: '/messages?sessionId=1' },
      { event: 'message', data: '{"jsonrpc":"2.0"}' },
    ]);
  });

  it('handles any line ending, split anywhere, and joins data lines', () => {
    const text =
      'event:endpoint\r\ndata: /m\r\n\r\n: keep-alive\n\ndata: a\rdata:b\r\rid: 7\nretry: 10\ndata: c\n\n';
    const whole = parse([text]);
    expect(whole).toEqual([
      { event: 'endpoint', data: '/m' },
      { event: 'message', data: 'a\nb' },
      { event: 'message', data: 'c' },
    ]);
    // Every split point, a `\r\n` cut in two included, gives the same events.
    for (let i = 1; i < text.length; i++) expect(parse([text.slice(0, i), text.slice(i)])).toEqual(whole);
  });

  it('dispatches nothing for an event without data, or one not finished by a blank line', () => {
    expect(parse(['event: endpoint\n\n', 'data: half'])).toEqual([]);
  });
});
