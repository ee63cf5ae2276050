/**
 * @module AppEnv: the Hono environment shared by every router (per-request variables). A feature that needs a
 * variable of its own type adds it by augmenting {@link AppVariables} in its own folder (the data plane's
 * exchange observer does), so this leaf imports nothing of the project.
 */
import type { Principal } from './principal.js';

/** Variables set by middleware for the rest of the request. */
export interface AppVariables {
  /** Id of this request, echoed as `X-Request-Id` and written in every log line about it. */
  requestId: string;
  /** Who is calling; set by the authentication middleware. */
  principal: Principal;
  /** An allowed browser origin on an MCP endpoint; its answer carries CORS headers. */
  corsOrigin?: string;
  /** The resource a control-plane create names, set once its body is valid (for the audit log). */
  resourceName?: string;
}

/** The Hono `Env` type of the gateway app. */
export interface AppEnv {
  Variables: AppVariables;
}
