/** @module AppEnv: the Hono environment shared by every router (per-request variables). */
import type { Principal } from '../auth/index.js';
import type { ExchangeObserver } from '../dataplane/proxy-observer.js';

/** Variables set by middleware for the rest of the request. */
export interface AppVariables {
  /** Id of this request, echoed as `X-Request-Id` and written in every log line about it. */
  requestId: string;
  /** Who is calling; set by the authentication middleware. */
  principal: Principal;
  /** An allowed browser origin on an MCP endpoint; its answer carries CORS headers. */
  corsOrigin?: string;
  /** Follows an `/adapters/{name}/mcp` request for metrics, audit and tracing, when those are on. */
  exchange?: ExchangeObserver;
  /** The resource a control-plane create names, set once its body is valid (for the audit log). */
  resourceName?: string;
}

/** The Hono `Env` type of the gateway app. */
export interface AppEnv {
  Variables: AppVariables;
}
