/** @module tool-router-observer: metrics and the audit line for each `tools/call` through the tool router. */
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
