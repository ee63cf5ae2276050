/** Tests of the null objects: tracing off costs nothing and reads nothing. */
import { describe, expect, it } from 'vitest';
import { NO_SPAN, NO_TRACING } from './tracing.js';
import type { TraceContextHeaders } from './tracing.js';

/** Headers that fail the test if read. */
const untouchable: TraceContextHeaders = Object.defineProperties(
  {},
  {
    traceparent: { get: () => expect.unreachable('traceparent read') },
    tracestate: { get: () => expect.unreachable('tracestate read') },
  },
);

describe('NO_TRACING', () => {
  it('is off and hands out the one shared null span without reading the headers', () => {
    expect(NO_TRACING.enabled).toBe(false);
    const span = NO_TRACING.startServer('GET /', untouchable, { a: 1 });
    expect(span).toBe(NO_SPAN);
    expect(NO_TRACING.startServer('POST /', untouchable)).toBe(span);
  });

  it('allocates nothing per call: children, headers and shutdown are shared objects', async () => {
    expect(NO_SPAN.startClient('attempt', { b: 2 })).toBe(NO_SPAN);
    expect(NO_SPAN.propagationHeaders()).toEqual({});
    expect(NO_SPAN.propagationHeaders()).toBe(NO_SPAN.propagationHeaders());
    expect(NO_TRACING.shutdown()).toBe(NO_TRACING.shutdown());
    await expect(NO_TRACING.shutdown()).resolves.toBeUndefined();
  });

  it('has no trace id and ignores everything', () => {
    expect(NO_SPAN.traceId).toBe('');
    expect(() => {
      NO_SPAN.setAttributes({ c: 'x' });
      NO_SPAN.end({ status: 500, error: 'boom' });
      NO_SPAN.end();
    }).not.toThrow();
  });

  it('cannot be altered by a caller: the shared headers object is frozen', () => {
    const headers = NO_SPAN.propagationHeaders() as Record<string, string>;
    expect(() => {
      headers.traceparent = 'x';
    }).toThrow(TypeError);
    expect(Object.isFrozen(NO_SPAN)).toBe(true);
    expect(Object.isFrozen(NO_TRACING)).toBe(true);
  });
});
