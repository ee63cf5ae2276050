/**
 * @module pinning-gate: tool-definition pinning of federated tools (trust on first use, `MCP_GATEWAY_TOOL_PINNING`).
 * The one place the router consults about a federated tool's definition: every fresh listing of an adapter is
 * {@link PinningGate.review}ed before the catalog serves it — a tool seen for the first time is pinned (its hash
 * and definition stored in the registry, first writer wins across instances), a tool whose definition hashes
 * differently from its pin is a change, reported once (audit line and metric, by whichever instance records it
 * first). The catalog then asks {@link PinningGate.heldReason} per tool: under `enforce` a changed tool is held
 * back (not listed, its calls refused) until an admin {@link PinningGate.approve}s the new definition.
 *
 * Registered tools (`/tools`) are not pinned: their definitions are written by the control plane itself, by
 * callers it authorised, so a change is already an audited write.
 */
import { ProtocolError, ProtocolErrorCode } from '@modelcontextprotocol/server';
import type { Tool } from '@modelcontextprotocol/server';
import { canRead } from '../auth/index.js';
import type { Principal } from '../auth/index.js';
import type { ToolPinningMode } from '../config/index.js';
import type { Logger } from '../observability/index.js';
import type { Registered, ToolPin, ToolPinStore } from '../registry/index.js';
import { definitionDiff, fingerprintOf } from './tool-definition-hash.js';
import type { DefinitionFieldChange, ToolFingerprint } from './tool-definition-hash.js';

/** Who a pin made on first sight is recorded as pinned by. */
export const FIRST_USE = 'first-use';

/** A changed definition seen (once per change), or a change approved. */
export interface ToolDefinitionEvent {
  readonly kind: 'changed' | 'approved';
  readonly adapter: string;
  /** The upstream tool name. */
  readonly tool: string;
  /** The pin's hash before; the changed (or approved) definition's hash. */
  readonly oldHash: string;
  readonly newHash: string;
  readonly mode: ToolPinningMode;
  /** The approving admin, or the router's listing identity for a change. */
  readonly principal: string;
}

/** One pinned tool of an adapter, as the approval API shows it. */
export interface PinnedToolDefinition {
  readonly tool: string;
  /** `changed`: the adapter now lists a definition that differs from the pin. */
  readonly state: 'pinned' | 'changed';
  /** Whether the adapter's last listing on this instance holds the tool. */
  readonly listed: boolean;
  /** Under `enforce`, a changed tool is hidden from `tools/list` and its calls refused. */
  readonly held: boolean;
  readonly pin: ToolPin;
  /** The definition listed now, when it differs from the pin. */
  readonly current?: ToolFingerprint;
  /** The fields that differ, when changed. */
  readonly diff?: readonly DefinitionFieldChange[];
}

/** Why an approval was refused. */
export type ApprovalRefusal =
  | { readonly refused: 'unknown'; readonly message: string }
  | { readonly refused: 'conflict'; readonly message: string };

/** Options for {@link createPinningGate}. */
export interface PinningGateOptions {
  readonly mode: ToolPinningMode;
  readonly store: ToolPinStore;
  readonly logger: Logger;
  /** Told of every change seen first here and every approval made here; must not throw. */
  readonly onEvent?: (event: ToolDefinitionEvent) => void;
  /**
   * While tools are held, their pins are read again this often, so an approval made through another gateway
   * instance releases them here too. Default 5 s.
   */
  readonly heldRecheckMs?: number;
  /** The principal named in change events (the router's listing identity). */
  readonly listingPrincipal: string;
}

/** The tool router's pinning of federated tool definitions. */
export interface PinningGate {
  readonly mode: ToolPinningMode;
  /**
   * Checks a fresh listing of `adapter` against its pins before it is served: pins what is new, reports what
   * changed. Under `enforce` it rejects when the pins cannot be read (the listing then counts as failed: nothing
   * unchecked is served); otherwise a registry failure is logged and the listing served.
   */
  review(
    adapter: Registered<'adapter'>,
    tools: readonly Tool[],
    options?: {
      /**
       * One caller's listing of an `oauth-user` adapter: its tools are added to the adapter's last listing
       * here (each name keeping the definition seen last) instead of replacing it, as callers' lists may differ.
       */
      readonly partial?: boolean;
    },
  ): Promise<void>;
  /** Why `upstream` (as last reviewed) is held back, or undefined when it is served. */
  heldReason(adapter: string, upstream: Tool): string | undefined;
  /** How many tools of the adapter's last listing here are held back. */
  heldCount(adapter: string): number;
  /** The adapter's pins with their state against its last listing here, by tool name. */
  definitions(adapter: string): Promise<PinnedToolDefinition[]>;
  /**
   * Re-pins `tool` to the definition the adapter lists now; `expectedHash`, when given, must be that
   * definition's hash (the admin approves exactly what they reviewed).
   */
  approve(
    adapter: string,
    tool: string,
    approver: Principal,
    expectedHash?: string,
  ): Promise<PinnedToolDefinition | ApprovalRefusal>;
  /** Told when a held tool is released (an approval here or elsewhere): the served list changed. */
  onRelease(listener: () => void): () => void;
  /** Forgets a removed or changed adapter's listing. */
  forget(adapter: string): void;
  close(): void;
}

/** Pins and the last listing of one adapter, as this instance knows them. */
interface AdapterPins {
  /** The stored pins last read or written, by tool name. */
  readonly pins: Map<string, ToolPin>;
  /** The last reviewed listing, by tool name. */
  listed: Map<string, Tool>;
}

const shortHash = (hash: string) => hash.slice(0, 12);

/** Builds the gate; `off` gives one that pins nothing and holds nothing. */
export function createPinningGate(options: PinningGateOptions): PinningGate {
  const { mode, store, logger } = options;
  const fingerprints = new WeakMap<Tool, ToolFingerprint>();
  const adapters = new Map<string, AdapterPins>();
  const listeners = new Set<() => void>();
  const recheckMs = options.heldRecheckMs ?? 5000;
  let recheckTimer: ReturnType<typeof setTimeout> | undefined;
  let closed = false;

  function emit(event: ToolDefinitionEvent) {
    try {
      options.onEvent?.(event);
    } catch (error) {
      logger.error({ err: error }, 'tool definition event listener failed');
    }
  }

  function released() {
    for (const listener of [...listeners]) listener();
  }

  async function fingerprint(tool: Tool): Promise<ToolFingerprint> {
    let found = fingerprints.get(tool);
    if (!found) {
      found = await fingerprintOf(tool);
      fingerprints.set(tool, found);
    }
    return found;
  }

  function stateOf(adapter: string): AdapterPins {
    let state = adapters.get(adapter);
    if (!state) {
      state = { pins: new Map(), listed: new Map() };
      adapters.set(adapter, state);
    }
    return state;
  }

  /**
   * Pins what is new of a listing (one multi-row insert-if-absent) and reads the pins of tools whose definition
   * differs from the pin this instance knows (approved elsewhere since?); nothing is read when all match.
   */
  async function pinListing(adapter: string, state: AdapterPins, tools: readonly Tool[]): Promise<void> {
    const prints = await Promise.all(tools.map(fingerprint));
    const unsettled = tools.filter((tool, i) => state.pins.get(tool.name)?.hash !== prints[i]!.hash);
    if (unsettled.length === 0) return;
    const read = async () => {
      for (const pin of await store.listToolPins(adapter)) state.pins.set(pin.tool, pin);
    };
    await read();
    const missing = unsettled.filter((tool) => !state.pins.has(tool.name));
    if (missing.length > 0) {
      await store.pinToolsIfAbsent(
        missing.map((tool) => {
          const { hash, definition } = fingerprints.get(tool)!;
          return { adapter, tool: tool.name, hash, definition, pinnedBy: FIRST_USE };
        }),
      );
      await read();
    }
    await Promise.all(unsettled.map((tool) => reportIfChanged(adapter, state, tool)));
  }

  /** Reports `tool`'s change from its pin, once across instances (the store records who was first). */
  async function reportIfChanged(adapter: string, state: AdapterPins, tool: Tool): Promise<void> {
    const { hash } = fingerprints.get(tool)!;
    const pin = state.pins.get(tool.name);
    if (!pin || pin.hash === hash || pin.reportedHash === hash) return;
    const first = await store.reportToolChange(adapter, tool.name, pin.hash, hash);
    state.pins.set(tool.name, { ...pin, reportedHash: hash });
    if (!first) return;
    logger.warn(
      { adapter, tool: tool.name, pinned: shortHash(pin.hash), listed: shortHash(hash), mode },
      mode === 'enforce'
        ? 'federated tool definition changed: held back until an admin approves it'
        : 'federated tool definition changed',
    );
    emit({
      kind: 'changed',
      adapter,
      tool: tool.name,
      oldHash: pin.hash,
      newHash: hash,
      mode,
      principal: options.listingPrincipal,
    });
  }

  /** True when some reviewed tool is held: then its pin is read again now and then. */
  function anyHeld(): boolean {
    if (mode !== 'enforce') return false;
    for (const [adapter, state] of adapters) {
      for (const tool of state.listed.values()) if (heldReason(adapter, tool) !== undefined) return true;
    }
    return false;
  }

  function scheduleRecheck() {
    if (closed || recheckTimer || !anyHeld()) return;
    recheckTimer = setTimeout(() => {
      recheckTimer = undefined;
      void recheckHeld().finally(scheduleRecheck);
    }, recheckMs);
    (recheckTimer as { unref?: () => void }).unref?.();
  }

  /** Reads the pins of adapters with held tools again; tells the listeners when one was released. */
  async function recheckHeld(): Promise<void> {
    let release = false;
    for (const [adapter, state] of adapters) {
      const held = [...state.listed.values()].filter((tool) => heldReason(adapter, tool) !== undefined);
      if (held.length === 0) continue;
      try {
        for (const pin of await store.listToolPins(adapter)) state.pins.set(pin.tool, pin);
      } catch (error) {
        logger.debug({ adapter, err: error instanceof Error ? error.message : String(error) }, 'pin recheck');
        continue;
      }
      if (held.some((tool) => heldReason(adapter, tool) === undefined)) release = true;
    }
    if (release) released();
  }

  function heldReason(adapter: string, upstream: Tool): string | undefined {
    if (mode !== 'enforce') return undefined;
    const fingerprint = fingerprints.get(upstream);
    const pin = adapters.get(adapter)?.pins.get(upstream.name);
    // Never reviewed (cannot happen for a served listing): held rather than served unchecked.
    if (!fingerprint || !pin) {
      return `The definition of tool '${upstream.name}' of adapter '${adapter}' has not been checked against its pin yet; try again shortly.`;
    }
    if (pin.hash === fingerprint.hash) return undefined;
    return `The definition of tool '${upstream.name}' of adapter '${adapter}' changed since it was pinned (pinned sha256 ${shortHash(pin.hash)}…, now ${shortHash(fingerprint.hash)}…); it is held back until an admin approves the new definition (POST /adapters/${adapter}/tools/${upstream.name}/approve).`;
  }

  async function viewOf(
    adapter: string,
    pin: ToolPin,
    listed: Tool | undefined,
  ): Promise<PinnedToolDefinition> {
    const current = listed && (await fingerprint(listed));
    const changed = current !== undefined && current.hash !== pin.hash;
    return {
      tool: pin.tool,
      state: changed ? 'changed' : 'pinned',
      listed: listed !== undefined,
      held: changed && mode === 'enforce',
      pin,
      ...(changed && { current, diff: definitionDiff(pin.definition, current.definition) }),
    };
  }

  return {
    mode,

    async review(adapter, tools, reviewOptions) {
      const state = stateOf(adapter.name);
      if (mode !== 'off') {
        try {
          await pinListing(adapter.name, state, tools);
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          if (mode === 'enforce')
            throw new Error(`its tool pins could not be checked: ${message}`, { cause: error });
          logger.warn({ adapter: adapter.name, err: message }, 'tool pins could not be checked');
        }
      }
      if (reviewOptions?.partial) for (const tool of tools) state.listed.set(tool.name, tool);
      else state.listed = new Map(tools.map((tool) => [tool.name, tool]));
      scheduleRecheck();
    },

    heldReason,

    heldCount(adapter) {
      if (mode !== 'enforce') return 0;
      let count = 0;
      for (const tool of adapters.get(adapter)?.listed.values() ?? []) {
        if (heldReason(adapter, tool) !== undefined) count++;
      }
      return count;
    },

    async definitions(adapter) {
      const listed = adapters.get(adapter)?.listed ?? new Map<string, Tool>();
      const pins = await store.listToolPins(adapter);
      return Promise.all(pins.map((pin) => viewOf(adapter, pin, listed.get(pin.tool))));
    },

    async approve(adapter, tool, approver, expectedHash) {
      const pin = await store.getToolPin(adapter, tool);
      if (!pin) {
        return { refused: 'unknown', message: `Adapter '${adapter}' has no pinned tool '${tool}'.` };
      }
      const listed = adapters.get(adapter)?.listed.get(tool);
      if (!listed) {
        return {
          refused: 'conflict',
          message: `Adapter '${adapter}' does not list tool '${tool}' now: there is no definition to approve.`,
        };
      }
      const current = await fingerprint(listed);
      if (current.hash === pin.hash) {
        return {
          refused: 'conflict',
          message: `Tool '${tool}' of adapter '${adapter}' lists its pinned definition: nothing awaits approval.`,
        };
      }
      if (expectedHash !== undefined && expectedHash !== current.hash) {
        return {
          refused: 'conflict',
          message: `Tool '${tool}' of adapter '${adapter}' now lists the definition with hash ${current.hash}, not ${expectedHash}: review it again.`,
        };
      }
      const repinned = await store.repinTool(
        { adapter, tool, hash: current.hash, definition: current.definition, pinnedBy: approver.userId },
        pin.hash,
      );
      if (!repinned) {
        return {
          refused: 'conflict',
          message: `The pin of tool '${tool}' of adapter '${adapter}' changed meanwhile (approved by someone else?): review it again.`,
        };
      }
      stateOf(adapter).pins.set(tool, repinned);
      emit({
        kind: 'approved',
        adapter,
        tool,
        oldHash: pin.hash,
        newHash: current.hash,
        mode,
        principal: approver.userId,
      });
      released();
      return viewOf(adapter, repinned, listed);
    },

    onRelease(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },

    forget(adapter) {
      adapters.delete(adapter);
    },

    close() {
      closed = true;
      clearTimeout(recheckTimer);
      listeners.clear();
    },
  };
}

/**
 * The refusal of a `tools/call` of a held tool, or undefined when `name` is not held (or not the caller's to see:
 * they are told the tool is unknown, as for any tool they may not use).
 */
export function heldToolRefusal(
  held: ReadonlyMap<string, { readonly owner: Registered; readonly reason: string }> | undefined,
  name: string,
  principal: Principal,
): ProtocolError | undefined {
  const tool = held?.get(name);
  if (!tool || !canRead(principal, tool.owner)) return undefined;
  return new ProtocolError(ProtocolErrorCode.InvalidParams, tool.reason);
}
