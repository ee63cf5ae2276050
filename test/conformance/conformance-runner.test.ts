/** The comparison of two conformance runs, on hand-made results (no CLI, no Node 22 needed). */
import { describe, expect, it } from 'vitest';
import { checkStatuses, compareConformance, formatComparison } from './conformance-runner.js';
import type { ConformanceCheck, ConformanceRun } from './conformance-runner.js';

function run(scenarios: Record<string, ConformanceCheck[]>): ConformanceRun {
  return {
    url: 'http://127.0.0.1:1/mcp',
    scenarios: Object.entries(scenarios).map(([scenario, checks]) => ({ scenario, checks })),
    exitCode: 1,
    durationMs: 0,
    output: '',
  };
}

describe('compareConformance', () => {
  it('reduces repeated check ids to their worst status and leaves out checks that are only informational', () => {
    const statuses = checkStatuses(
      run({
        polling: [
          { id: 'event', status: 'INFO' },
          { id: 'event', status: 'FAILURE' },
          { id: 'event', status: 'SUCCESS' },
          { id: 'request', status: 'INFO' },
        ],
      }),
    );
    expect(statuses.get('polling event')).toBe('FAILURE');
    expect(statuses.get('polling request')).toBe('INFO');

    const same = compareConformance(
      run({ polling: [{ id: 'request', status: 'INFO' }] }),
      run({ polling: [{ id: 'request', status: 'INFO' }] }),
    );
    expect(same.rows).toEqual([]);
  });

  it('names what passes only directly (a regression) and what passes only through the gateway', () => {
    const direct = run({
      ping: [{ id: 'ping', status: 'SUCCESS' }],
      tools: [{ id: 'call', status: 'SUCCESS' }],
      rebinding: [{ id: 'rejected', status: 'FAILURE' }],
      gone: [{ id: 'gone', status: 'SUCCESS' }],
    });
    const gateway = run({
      ping: [{ id: 'ping', status: 'SUCCESS' }],
      tools: [{ id: 'call', status: 'WARNING' }],
      rebinding: [{ id: 'rejected', status: 'SUCCESS' }],
    });
    const comparison = compareConformance(direct, gateway);

    expect(comparison.regressions.map((r) => `${r.scenario} ${r.check} ${r.gateway}`)).toEqual([
      'gone gone absent',
      'tools call WARNING',
    ]);
    expect(comparison.gains.map((r) => `${r.scenario} ${r.check}`)).toEqual(['rebinding rejected']);

    const table = formatComparison('example', comparison);
    expect(table).toMatch(
      /^example: 3 checks pass directly, 2 through the gateway; 2 regressions, 1 gateway-only/,
    );
    expect(table).toMatch(/\| tools +\| call +\| SUCCESS \| WARNING \| ≠ \|/);
    expect(table).toMatch(/\| rebinding +\| rejected +\| FAILURE \| SUCCESS \| \+ \|/);
  });
});
