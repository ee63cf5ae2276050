/**
 * @module tool-router-observer: metrics and the audit line for each `tools/call` through the tool router, and for
 * each changed (or approved) federated tool definition.
 */
import type { ToolDefinitionEvent } from './pinning-gate.js';
import type { RoutingRefusal } from './mrtr.js';
import type { RouterToolCall } from './tool-router.js';
import type { AuditLog } from '../observability/audit-log.js';
import type { GatewayMetrics } from '../observability/metrics.js';

/** Options for {@link toolRouterObserver}. */
export interface ToolRouterObserverOptions {
  readonly metrics: GatewayMetrics;
  readonly audit: AuditLog;
}

/** The router's `onToolCall`: counts and times the call, and writes its audit line (never the arguments). */
export function toolRouterObserver(options: ToolRouterObserverOptions): (call: RouterToolCall) => void {
  const { metrics, audit } = options;
  return function observeToolCall(call) {
    metrics.toolRouterCall(call.resource?.kind ?? '', call.resource?.name ?? '', call.outcome, call.seconds);
    if (!audit.enabled()) return;
    audit.write({
      action: 'tools/call',
      via: 'tool-router',
      tool: call.tool,
      kind: call.resource?.kind,
      name: call.resource?.name,
      principal: call.principal,
      outcome: call.outcome,
      traceId: call.traceId,
      ...(call.policyRule !== undefined && { policy: { decision: 'deny' as const, rule: call.policyRule } }),
    });
  };
}

/**
 * The router's `onToolDefinition`: a changed federated tool definition (seen first by this instance) is counted
 * and audited with both hashes; an approval is audited with the approving admin.
 */
export function toolDefinitionObserver(
  options: ToolRouterObserverOptions,
): (event: ToolDefinitionEvent) => void {
  const { metrics, audit } = options;
  return function observeToolDefinition(event) {
    if (event.kind === 'changed') metrics.toolDefinitionChanged(event.adapter, event.mode);
    if (!audit.enabled()) return;
    audit.write({
      action: event.kind === 'changed' ? 'tool-definition/changed' : 'tool-definition/approved',
      adapter: event.adapter,
      tool: event.tool,
      oldHash: event.oldHash,
      newHash: event.newHash,
      mode: event.mode,
      principal: event.principal,
      outcome: 'success',
    });
  };
}

/**
 * The router's `onRoutingRefused`: a refused multi-round-trip `requestState` or task id (tampered, expired, another
 * caller's or another adapter's) is audited as a denied access, with the reason (never the value presented).
 */
export function routingRefusalObserver(audit: AuditLog): (refusal: RoutingRefusal) => void {
  return function observeRoutingRefusal(refusal) {
    if (!audit.enabled()) return;
    audit.write({
      action: 'routing-state/refused',
      via: 'tool-router',
      method: refusal.method,
      stateKind: refusal.kind,
      adapter: refusal.adapter,
      principal: refusal.principal,
      reason: refusal.reason,
      outcome: 'denied',
    });
  };
}
