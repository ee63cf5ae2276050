/**
 * @module audit-log: one structured line per control-plane write and per `tools/call` (data plane and tool router) — who, what,
 * outcome. Lines carry `audit: true` so they can be filtered from the rest of the log; they never carry request
 * bodies, tool arguments or environment values.
 */
import type { Logger } from './logger.js';

/** How a request ended, from its HTTP status. */
export type AuditOutcome = 'success' | 'denied' | 'rejected' | 'failed';

/** A control-plane write: create, update (for a secret: rotate) or delete of an adapter, tool, toolset or secret. */
export interface ControlWriteAudit {
  readonly action: 'create' | 'update' | 'delete';
  readonly kind: 'adapter' | 'tool' | 'toolset' | 'secret';
  /** The resource name; absent when the request was refused before it named one (e.g. an invalid body). */
  readonly name: string | undefined;
  /** The caller's user id; null when authentication failed. */
  readonly principal: string | null;
  readonly status: number;
  readonly requestId: string | undefined;
}

/** A `tools/call` through `/adapters/{name}/mcp`. */
export interface ToolCallAudit {
  readonly action: 'tools/call';
  readonly adapter: string;
  /** The tool name from the classified request (`params.name` / `Mcp-Name`). */
  readonly tool: string | undefined;
  readonly principal: string;
  /** The HTTP status of the answer head (a tool error inside a 200 JSON-RPC answer is not inspected). */
  readonly status: number;
  /** The W3C trace id of the caller's `traceparent`, when it sent one. */
  readonly traceId: string | undefined;
}

/** A `tools/call` through the tool router at `/mcp`. */
export interface RouterToolCallAudit {
  readonly action: 'tools/call';
  readonly via: 'tool-router';
  /** The name the caller called. */
  readonly tool: string;
  /** What served it (`tool` or `adapter`) and its registered name; absent for an unknown tool. */
  readonly kind: 'tool' | 'adapter' | undefined;
  readonly name: string | undefined;
  readonly principal: string;
  /** The router answers inside JSON-RPC, so the outcome is the call's own, not an HTTP status. */
  readonly outcome: AuditOutcome;
  readonly traceId: string | undefined;
  /** A call the tool policy refused (`outcome: denied`): the decision and the rule that made it. */
  readonly policy?: { readonly decision: 'deny'; readonly rule: string };
}

/**
 * A federated tool's definition and its pin: `tool-definition/changed` when the router first sees a definition
 * that differs from the pinned one (once per change), `tool-definition/approved` when an admin re-pins it (or
 * tries to and is refused: `outcome` `denied` or `rejected`).
 */
export interface ToolDefinitionAudit {
  readonly action: 'tool-definition/changed' | 'tool-definition/approved';
  readonly adapter: string;
  /** The tool's upstream name. */
  readonly tool: string;
  /**
   * SHA-256 of the pinned definition before, and of the new (changed, or now approved) one; absent on a refused
   * approval that got no further than the check that refused it (`newHash` is then the hash the admin named).
   */
  readonly oldHash?: string;
  readonly newHash?: string;
  /** `MCP_GATEWAY_TOOL_PINNING` when it happened: under `enforce` a changed tool is hidden until approved. */
  readonly mode: 'off' | 'warn' | 'enforce';
  /** The approving admin; the router's own identity for a change it saw. */
  readonly principal: string;
  readonly outcome: AuditOutcome;
}

/**
 * A sealed value the tool router refused: a multi-round-trip `requestState` on `tools/call`, or a task id on
 * `tasks/*` (tampered, expired, another caller's, another adapter's). The value itself is never written.
 */
export interface RoutingRefusalAudit {
  readonly action: 'routing-state/refused';
  readonly via: 'tool-router';
  /** The method it came with (`tools/call`, `tasks/get`, …). */
  readonly method: string;
  readonly stateKind: 'request-state' | 'task';
  /** The adapter it was presented for; absent when it named none this gateway has. */
  readonly adapter: string | undefined;
  readonly principal: string;
  /** Which check refused it (for operators; the caller is told only that it is invalid). */
  readonly reason: string;
  readonly outcome: 'denied';
}

/** Writes audit lines. */
export interface AuditLog {
  /** False when lines would be dropped (audit off, or the log level above `info`): callers skip building them. */
  enabled(): boolean;
  write(
    entry:
      ControlWriteAudit | ToolCallAudit | RouterToolCallAudit | ToolDefinitionAudit | RoutingRefusalAudit,
  ): void;
}

/** Maps a status to an outcome: 401/403 are `denied`, other 4xx `rejected`, 5xx `failed`. */
export function auditOutcome(status: number): AuditOutcome {
  if (status < 400) return 'success';
  if (status === 401 || status === 403) return 'denied';
  return status < 500 ? 'rejected' : 'failed';
}

/** Audit lines at `info` through a child of `logger` bound to `audit: true`. */
export function createAuditLog(logger: Logger): AuditLog {
  const audit = logger.child({ audit: true });
  return {
    enabled: () => audit.isLevelEnabled('info'),
    write(entry) {
      audit.info('outcome' in entry ? entry : { ...entry, outcome: auditOutcome(entry.status) }, 'audit');
    },
  };
}

/** Writes nothing (`MCP_GATEWAY_AUDIT_LOG=false`). */
export const NO_AUDIT_LOG: AuditLog = { enabled: () => false, write: () => undefined };
