/** Tests of what a relayed call hands back: progress in order before the result, results without foreign envelopes. */
import { describe, expect, it } from 'vitest';
import type { ServerContext } from '@modelcontextprotocol/server';
import { progressRelay, withoutEnvelope } from './progress-relay.js';

function contextWith(
  progressToken: string | number | undefined,
  sent: unknown[],
  delayMs = 0,
): ServerContext {
  return {
    mcpReq: {
      ...(progressToken !== undefined && { _meta: { progressToken } }),
      notify: (notification: unknown) =>
        new Promise<void>((resolve) =>
          setTimeout(() => {
            sent.push(notification);
            resolve();
          }, delayMs),
        ),
    },
  } as unknown as ServerContext;
}

describe('progressRelay', () => {
  it('relays nothing without a progress token', async () => {
    const sent: unknown[] = [];
    const relay = progressRelay(contextWith(undefined, sent));
    expect(relay.onProgress).toBeUndefined();
    await relay.flush();
    expect(sent).toEqual([]);
  });

  it('relays under the client’s token, in order, all of them by the time flush resolves', async () => {
    const sent: unknown[] = [];
    const relay = progressRelay(contextWith('client-token', sent, 5));
    relay.onProgress?.({ progress: 1, total: 3 });
    relay.onProgress?.({ progress: 2, total: 3, message: 'half' });
    relay.onProgress?.({ progress: 3, total: 3 });
    await relay.flush();
    expect(sent).toEqual(
      [1, 2, 3].map((progress) => ({
        method: 'notifications/progress',
        params: expect.objectContaining({ progress, progressToken: 'client-token' }),
      })),
    );
  });
});

describe('withoutEnvelope', () => {
  it('drops another server’s envelope keys and keeps the rest', () => {
    const upstream = {
      content: [],
      _meta: { 'io.modelcontextprotocol/serverInfo': { name: 'up' }, trace: 't' },
    };
    expect(withoutEnvelope(upstream)).toEqual({ content: [], _meta: { trace: 't' } });
    expect(withoutEnvelope({ content: [], _meta: { 'io.modelcontextprotocol/serverInfo': {} } })).toEqual({
      content: [],
    });
    const plain: { content: never[]; _meta?: Record<string, unknown> } = { content: [] };
    expect(withoutEnvelope(plain)).toBe(plain);
  });
});
