/**
 * @module Unit tests of the process deployer's small parts: backoff, child environment, line splitting, the
 * log ring buffer, `/proc` parsing and the session event store.
 */
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { DEFAULT_BACKOFF, backoffDelay } from './backoff.js';
import { DEFAULT_INHERITED_VARIABLES, childEnvironment } from './child-env.js';
import { LineSplitter } from './line-splitter.js';
import { LogBuffer } from './log-buffer.js';
import { parseStat, treeOf } from './process-table.js';
import type { ProcessEntry } from './process-table.js';
import { SessionEventStore } from './session-event-store.js';

describe('backoffDelay', () => {
  it('doubles from initialMs up to maxMs, with ±20 % jitter', () => {
    const policy = { initialMs: 100, maxMs: 1_000, resetAfterMs: 0 };
    const mid = () => 0.5;
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffDelay(policy, n, mid))).toEqual([
      100, 200, 400, 800, 1000, 1000,
    ]);
    expect(backoffDelay(policy, 1, () => 0)).toBe(80);
    expect(backoffDelay(policy, 1, () => 0.999999)).toBe(120);
    expect(backoffDelay(policy, 10_000, mid)).toBe(1_000);
    expect(DEFAULT_BACKOFF).toEqual({ initialMs: 500, maxMs: 30_000, resetAfterMs: 30_000 });
  });
});

describe('childEnvironment', () => {
  it('copies only the safe base from the parent; own variables override it; forced ones override all', () => {
    const parent = {
      PATH: '/bin',
      HOME: '/home/gw',
      LANG: 'C.UTF-8',
      DATABASE_URL: 'postgres://secret',
      MCP_GATEWAY_SECRET: 's3cret',
      NODE_OPTIONS: '--inspect',
    };
    const env = childEnvironment({ parent, own: { HOME: '/srv', PORT: '1' }, forced: { PORT: '4100' } });
    expect(env).toEqual({ PATH: '/bin', HOME: '/srv', LANG: 'C.UTF-8', PORT: '4100' });
    expect(DEFAULT_INHERITED_VARIABLES).toEqual(['PATH', 'HOME', 'TMPDIR', 'LANG']);
    expect(childEnvironment({ parent, inherited: [], own: {} })).toEqual({});
  });
});

describe('LineSplitter', () => {
  const split = (chunks: (string | Buffer)[], maxLineBytes = 100) => {
    const lines: string[] = [];
    const overflows: string[] = [];
    const s = new LineSplitter({
      maxLineBytes,
      onLine: (l) => lines.push(l),
      onOverflow: (p) => void overflows.push(p),
    });
    for (const c of chunks) s.push(Buffer.isBuffer(c) ? c : Buffer.from(c));
    s.end();
    return { lines, overflows };
  };

  it('splits across chunks, strips \\r, keeps a UTF-8 character cut in two, flushes the tail', () => {
    const euro = Buffer.from('€');
    expect(
      split(['a\nb', 'c\r\n', euro.subarray(0, 1), Buffer.concat([euro.subarray(1), Buffer.from('\nlast')])])
        .lines,
    ).toEqual(['a', 'bc', '€', 'last']);
  });

  it('bounds a line: keeps a prefix, drops the rest up to the next newline', () => {
    const { lines, overflows } = split(['0123456789', 'abcdef\nnext\n'], 8);
    expect(lines).toEqual(['01234567', 'next']);
    expect(overflows).toEqual(['01234567']);
  });
});

describe('LogBuffer', () => {
  it('keeps the last lines within both bounds', () => {
    const byLines = new LogBuffer({ maxLines: 3 });
    for (let i = 0; i < 10; i += 1) byLines.append(`line ${i}`);
    expect(byLines.tail(100)).toEqual(['line 7', 'line 8', 'line 9']);
    expect(byLines.text(2)).toBe('line 8\nline 9\n');
    expect(new LogBuffer().text(5)).toBe('');

    const byBytes = new LogBuffer({ maxLines: 100, maxBytes: 20 });
    for (const l of ['aaaa', 'bbbb', 'cccc', 'dddd', 'eeee']) byBytes.append(l);
    expect(byBytes.tail(100)).toEqual(['bbbb', 'cccc', 'dddd', 'eeee']);
    byBytes.append('x'.repeat(50));
    expect(byBytes.tail(100)).toEqual(['x'.repeat(50)]);
  });

  it('follows: the tail first, then new lines; ends on abort or close', async () => {
    const buffer = new LogBuffer();
    buffer.append('old 1');
    buffer.append('old 2');
    const abort = new AbortController();
    const reader = buffer.follow(1, abort.signal).getReader();
    const decode = async () => new TextDecoder().decode((await reader.read()).value);
    expect(await decode()).toBe('old 2\n');
    buffer.append('new');
    expect(await decode()).toBe('new\n');
    abort.abort();
    expect((await reader.read()).done).toBe(true);

    const second = buffer.follow(0).getReader();
    buffer.close();
    expect((await second.read()).done).toBe(true);
    buffer.append('ignored after close');
    expect(buffer.tail(1)).toEqual(['new']);
  });

  it('ends a follower that falls too far behind instead of queueing without bound', async () => {
    const buffer = new LogBuffer({ maxBytes: 1024 });
    const reader = buffer.follow(0).getReader();
    for (let i = 0; i < 2_000; i += 1) buffer.append('y'.repeat(100));
    let text = '';
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    expect(text).toContain('log reader too slow');
    expect(text.length).toBeLessThan(64 * 1024 + 4 * 1024);
  });
});

describe('process table', () => {
  it('parses /proc/<pid>/stat, command names with spaces and parentheses included', () => {
    const line = '4242 (my (odd) name) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 10';
    expect(parseStat(line)).toEqual({ pid: 4242, ppid: 1, pgrp: 4242, state: 'S', startTime: '987654' });
    expect(parseStat('garbage')).toBeUndefined();
  });

  it('finds the group and every descendant, skipping zombies and the gateway', () => {
    const e = (pid: number, ppid: number, pgrp: number, state = 'S'): ProcessEntry => ({
      pid,
      ppid,
      pgrp,
      state,
      startTime: String(pid),
    });
    const table = [
      e(1, 0, 1),
      e(50, 1, 50),
      e(100, 50, 100),
      e(101, 100, 100),
      e(102, 101, 102),
      e(103, 100, 100, 'Z'),
      e(7, 1, 100),
    ];
    expect(
      treeOf(table, 100, 50)
        .map((p) => p.pid)
        .sort((a, b) => a - b),
    ).toEqual([7, 100, 101, 102]);
  });
});

describe('SessionEventStore', () => {
  const msg = (id: number) => ({ jsonrpc: '2.0', id, result: {} }) as JSONRPCMessage;

  it('replays the events of one stream after an id, never priming events or other streams', async () => {
    const store = new SessionEventStore(10);
    const prime = await store.storeEvent('s1', {} as JSONRPCMessage);
    await store.storeEvent('s1', msg(1));
    await store.storeEvent('s2', msg(2));
    const third = await store.storeEvent('s1', msg(3));
    expect(await store.getStreamIdForEventId(prime)).toBe('s1');
    const replayed: [string, JSONRPCMessage][] = [];
    expect(await store.replayEventsAfter(prime, { send: async (id, m) => void replayed.push([id, m]) })).toBe(
      's1',
    );
    expect(replayed.map(([, m]) => (m as { id: number }).id)).toEqual([1, 3]);
    expect(replayed[1]![0]).toBe(third);
  });

  it('forgets the oldest events beyond its bound', async () => {
    const store = new SessionEventStore(2);
    const first = await store.storeEvent('s', msg(1));
    await store.storeEvent('s', msg(2));
    const last = await store.storeEvent('s', msg(3));
    expect(await store.getStreamIdForEventId(first)).toBeUndefined();
    expect(await store.getStreamIdForEventId(last)).toBe('s');
    expect(await store.getStreamIdForEventId('nonsense')).toBeUndefined();
  });
});
