/** @module trace-id: the trace id of a W3C `traceparent` header, for log lines (the audit log). */

// version "00", 32 hex trace id, 16 hex parent id, 2 hex flags (W3C Trace Context §3.2).
const TRACEPARENT = /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/;

/** The trace id of `traceparent`, or undefined when there is none or it is malformed. */
export const traceIdOf = (traceparent: string | null | undefined): string | undefined =>
  traceparent ? TRACEPARENT.exec(traceparent.trim())?.[1] : undefined;
