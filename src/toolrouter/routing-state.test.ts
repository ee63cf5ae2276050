import { describe, expect, it } from 'vitest';
import { createSessionSealer } from '../dataplane/index.js';
import type { Registered } from '../registry/index.js';
import { createRoutingStateSealer } from './routing-state.js';

const SECRET = 'routing-state-test-secret-0123456789abcdef';
const adapter = (name: string, uid = `${name}-uid`) =>
  ({ kind: 'adapter', name, uid, createdAt: new Date(0) }) as unknown as Registered<'adapter'>;
const alice = { userId: 'alice', roles: [] };
const bob = { userId: 'bob', roles: [] };

describe('routing state', () => {
  it('opens a request state for its caller, adapter and tool only', async () => {
    const sealer = await createRoutingStateSealer({ secret: SECRET });
    const weather = adapter('weather');
    const sealed = await sealer.sealRequestState(weather, 'r-2', alice, 'weather__ask', 'upstream-state');
    expect(sealed).not.toContain('upstream-state');
    expect(await sealer.openRequestState(sealed, weather, alice, 'weather__ask')).toEqual({
      ok: true,
      replica: 'r-2',
      upstreamState: 'upstream-state',
    });
    expect(await sealer.openRequestState(sealed, weather, bob, 'weather__ask')).toMatchObject({
      reason: 'wrong-principal',
    });
    expect(await sealer.openRequestState(sealed, weather, alice, 'weather__other')).toMatchObject({
      reason: 'wrong-tool',
    });
    expect(await sealer.openRequestState(sealed, adapter('mail'), alice, 'weather__ask')).toMatchObject({
      ok: false,
    });
    // The adapter deleted and created again under the same name: its old state opens no more.
    expect(
      await sealer.openRequestState(sealed, adapter('weather', 'new-uid'), alice, 'weather__ask'),
    ).toMatchObject({ reason: 'wrong-incarnation' });
  });

  it('never takes a task id for a request state, nor a data-plane session id for either', async () => {
    const sealer = await createRoutingStateSealer({ secret: SECRET });
    const weather = adapter('weather');
    const taskId = await sealer.sealTaskId(weather, 'r-1', alice, 'task-1');
    expect(taskId.startsWith('weather.')).toBe(true);
    const sealedPart = taskId.slice('weather.'.length);
    expect(await sealer.openRequestState(sealedPart, weather, alice, 'weather__ask')).toMatchObject({
      ok: false,
    });

    const sessions = await createSessionSealer({ secret: SECRET });
    const sessionId = await sessions.seal({
      adapter: 'weather',
      incarnation: 'weather-uid',
      replica: 'r-1',
      upstreamSessionId: JSON.stringify({ k: 'task', v: 'task-1' }),
      principal: 'alice',
    });
    const lookup = async (name: string) => (name === 'weather' ? weather : undefined);
    expect(await sealer.openTaskId(`weather.${sessionId}`, alice, lookup)).toMatchObject({
      reason: 'tampered',
    });
    expect(await sealer.openTaskId(taskId, alice, lookup)).toEqual({
      ok: true,
      adapter: 'weather',
      replica: 'r-1',
      upstreamTaskId: 'task-1',
    });
    expect(await sealer.openTaskId('nothing-here', alice, lookup)).toMatchObject({ reason: 'malformed' });
    expect(await sealer.openTaskId(`mail.${sealedPart}`, alice, lookup)).toMatchObject({
      reason: 'unknown-adapter',
    });
  });
});
