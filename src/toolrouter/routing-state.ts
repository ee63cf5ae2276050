/**
 * @module routing-state: what the tool router hands a caller in place of an upstream's multi-round-trip
 * `requestState` (2026-07-28, SEP-2322) and in place of an upstream's task id (Tasks extension, SEP-2663), so the
 * caller's follow-up reaches the very upstream replica that holds the work, from any gateway instance, without a
 * state store — the way a legacy session id does (`dataplane/session-seal.ts`, whose sealing this reuses).
 *
 * A sealed value names (adapter, its incarnation, replica, caller) and carries the upstream's own value, which
 * the caller never sees. It is AES-256-GCM with a key of its own (HKDF over the gateway secret with a label
 * distinct from session ids', so a session id is never accepted as routing state or the other way round), and
 * a kind tag inside (`mrtr` for a request state, `task` for a task id) so one is never accepted as the other.
 * A tampered value, another caller's, another adapter's (or an earlier adapter of the same name), or an expired
 * one is refused; the caller is told no more than that.
 *
 * A request state is bound to the tool it was issued for too: replaying it on another tool of the same adapter
 * is refused. Task ids are `{adapter}.{sealed}`: the adapter name says which key's additional data to try (the
 * seal authenticates it; nothing is trusted before it opens).
 */
import { createSessionSealer } from '../dataplane/index.js';
import type { OpenFailureReason } from '../dataplane/index.js';
import type { Principal } from '../auth/index.js';
import type { Registered } from '../registry/index.js';

/** How long a sealed request state is accepted: a round trip waits for a person at most this long. */
export const REQUEST_STATE_MAX_AGE_MS = 60 * 60 * 1000;
/** How long a sealed task id is accepted (a task's own TTL is the upstream's to enforce). */
export const TASK_ID_MAX_AGE_MS = 7 * 24 * 60 * 60 * 1000;

/** Why a sealed value was refused: the sealer's reasons, and `wrong-kind`/`wrong-tool` of this module. */
export type RoutingStateRefusal = OpenFailureReason | 'wrong-kind' | 'wrong-tool' | 'unknown-adapter';

/** A request state that opened: where the retry goes and what the upstream gets back. */
export interface OpenedRequestState {
  readonly ok: true;
  readonly replica: string;
  /** The upstream's own `requestState`; undefined when it sent none. */
  readonly upstreamState: string | undefined;
}

/** A task id that opened. */
export interface OpenedTaskId {
  readonly ok: true;
  readonly adapter: string;
  readonly replica: string;
  /** The upstream's task id. */
  readonly upstreamTaskId: string;
}

export type Refused = { readonly ok: false; readonly reason: RoutingStateRefusal };

/** Seals and opens the router's routing state. */
export interface RoutingStateSealer {
  sealRequestState(
    adapter: Registered<'adapter'>,
    replica: string,
    principal: Principal,
    tool: string,
    upstreamState: string | undefined,
  ): Promise<string>;
  openRequestState(
    sealed: string,
    adapter: Registered<'adapter'>,
    principal: Principal,
    tool: string,
  ): Promise<OpenedRequestState | Refused>;
  sealTaskId(
    adapter: Registered<'adapter'>,
    replica: string,
    principal: Principal,
    upstreamTaskId: string,
  ): Promise<string>;
  /** `adapterOf` finds the adapter a task id names (undefined: none of that name). */
  openTaskId(
    taskId: string,
    principal: Principal,
    adapterOf: (name: string) => Promise<Registered<'adapter'> | undefined>,
  ): Promise<OpenedTaskId | Refused>;
}

/** Options for {@link createRoutingStateSealer}. */
export interface RoutingStateSealerOptions {
  /** The gateway secret (at least 32 characters), shared by every gateway instance. */
  readonly secret: string;
  readonly previousSecrets?: readonly string[];
  readonly clock?: () => Date;
}

/** Kept apart from session ids' key: the sealer's HKDF runs over this derived input. */
const keyInput = (secret: string) => `${secret}\u0000mcp-gateway tool-router routing-state v1`;

interface Payload {
  readonly k: 'mrtr' | 'task';
  /** The tool a request state was issued for. */
  readonly t?: string;
  /** The upstream's value (request state or task id). */
  readonly v?: string;
}

function payloadOf(raw: string): Payload | undefined {
  try {
    const parsed = JSON.parse(raw) as unknown;
    if (typeof parsed !== 'object' || parsed === null) return undefined;
    const { k, t, v } = parsed as Record<string, unknown>;
    if (k !== 'mrtr' && k !== 'task') return undefined;
    if ((t !== undefined && typeof t !== 'string') || (v !== undefined && typeof v !== 'string')) {
      return undefined;
    }
    return { k, ...(t !== undefined && { t }), ...(v !== undefined && { v }) };
  } catch {
    return undefined;
  }
}

/** Builds the sealer; the keys are derived once. */
export async function createRoutingStateSealer(
  options: RoutingStateSealerOptions,
): Promise<RoutingStateSealer> {
  const common = {
    secret: keyInput(options.secret),
    previousSecrets: (options.previousSecrets ?? []).map(keyInput),
    ...(options.clock && { clock: options.clock }),
  };
  const states = await createSessionSealer({ ...common, maxAgeMs: REQUEST_STATE_MAX_AGE_MS });
  const tasks = await createSessionSealer({ ...common, maxAgeMs: TASK_ID_MAX_AGE_MS });
  const expectation = (adapter: Registered<'adapter'>, principal: Principal) => ({
    adapter: adapter.name,
    incarnation: adapter.uid,
    createdAt: adapter.createdAt,
    principal: principal.userId,
  });

  return {
    sealRequestState(adapter, replica, principal, tool, upstreamState) {
      const payload: Payload = {
        k: 'mrtr',
        t: tool,
        ...(upstreamState !== undefined && { v: upstreamState }),
      };
      return states.seal({
        adapter: adapter.name,
        incarnation: adapter.uid,
        replica,
        upstreamSessionId: JSON.stringify(payload),
        principal: principal.userId,
      });
    },

    async openRequestState(sealed, adapter, principal, tool) {
      const opened = await states.open(sealed, expectation(adapter, principal));
      if (!opened.ok) return opened;
      const payload = payloadOf(opened.claims.upstreamSessionId);
      if (payload?.k !== 'mrtr') return { ok: false, reason: 'wrong-kind' };
      if (payload.t !== tool) return { ok: false, reason: 'wrong-tool' };
      return { ok: true, replica: opened.claims.replica, upstreamState: payload.v };
    },

    async sealTaskId(adapter, replica, principal, upstreamTaskId) {
      const payload: Payload = { k: 'task', v: upstreamTaskId };
      const sealed = await tasks.seal({
        adapter: adapter.name,
        incarnation: adapter.uid,
        replica,
        upstreamSessionId: JSON.stringify(payload),
        principal: principal.userId,
      });
      return `${adapter.name}.${sealed}`;
    },

    async openTaskId(taskId, principal, adapterOf) {
      const dot = taskId.indexOf('.');
      if (dot <= 0) return { ok: false, reason: 'malformed' };
      const adapter = await adapterOf(taskId.slice(0, dot));
      if (!adapter) return { ok: false, reason: 'unknown-adapter' };
      const opened = await tasks.open(taskId.slice(dot + 1), expectation(adapter, principal));
      if (!opened.ok) return opened;
      const payload = payloadOf(opened.claims.upstreamSessionId);
      if (payload?.k !== 'task' || payload.v === undefined) return { ok: false, reason: 'wrong-kind' };
      return { ok: true, adapter: adapter.name, replica: opened.claims.replica, upstreamTaskId: payload.v };
    },
  };
}
