import { describe, expect, it } from 'vitest';
import { classifyRequest, isRejection } from './era-classification.js';
import type { ForwardOutcome } from './forwarder.js';
import { modernToolCallBody, modernToolCallHeaders } from '../../test/modern-requests.js';
import { NO_AUDIT_LOG } from '../observability/audit-log.js';
import { createDataPlaneObservation } from './data-plane-observer.js';
import { NO_METRICS } from '../observability/metrics.js';

/** One observed `tools/call` of adapter `a` that ended with `outcome`; returns the metric calls it made. */
function observed(outcome: ForwardOutcome): string[] {
  const calls: string[] = [];
  const metrics = {
    ...NO_METRICS,
    placed: (adapter: string, replica: string, kind: string) =>
      calls.push(`placed ${adapter} ${replica} ${kind}`),
    upstreamError: (adapter: string, kind: string) => calls.push(`upstreamError ${adapter} ${kind}`),
  };
  const headers = new Headers(modernToolCallHeaders('echo'));
  const classified = classifyRequest('POST', headers, JSON.parse(modernToolCallBody('echo')));
  if (isRejection(classified)) throw new Error('the test request must classify');
  const watched = createDataPlaneObservation({ metrics, audit: NO_AUDIT_LOG }).watch({});
  watched.adapter('a');
  watched.classified(classified);
  watched.forwarded('r1', outcome);
  return calls;
}

describe('data-plane observation of an upstream attempt', () => {
  it('counts a placement for an answer, an upstream error for a failure, and nothing for a client that left', () => {
    const answered: ForwardOutcome = { ok: true, status: 200, response: new Response(null) };
    expect(observed(answered)).toEqual(['placed a r1 request']);
    expect(observed({ ok: false, failure: 'refused', message: 'connection refused' })).toEqual([
      'upstreamError a refused',
    ]);
    expect(observed({ ok: false, failure: 'abandoned', message: 'the client went away' })).toEqual([]);
  });
});
