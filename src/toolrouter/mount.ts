/**
 * @module mount: puts the tool router at `/mcp` and each toolset's endpoint at `/toolsets/{name}/mcp`, behind the data plane's origin guard (DNS-rebinding protection,
 * CORS for allowed browser origins) and the gateway's authentication. Registered ahead of the control plane's
 * middleware, like the data plane, so MCP requests skip its request-id and access-log work.
 */
import type { Hono, MiddlewareHandler } from 'hono';
import { originGuard } from '../dataplane/index.js';
import type { OriginGuardOptions } from '../dataplane/index.js';
import type { AppEnv } from '../http/index.js';
import { requestSpan } from '../observability/index.js';
import type { ToolRouter } from './tool-router.js';

/** The router and the origin policy of the MCP endpoints (the data plane's). */
export interface ToolRouterMount {
  readonly router: ToolRouter;
  readonly guard: OriginGuardOptions;
}

/** The path of the tool router. */
export const TOOL_ROUTER_PATH = '/mcp';

/** The path of a toolset's endpoint, as Hono routes it. */
export const TOOLSET_MCP_PATH = '/toolsets/:name/mcp';

/** Registers `/mcp` and the toolset endpoints on `app`; call before middleware that must not run on MCP requests. */
export function mountToolRouter(
  app: Hono<AppEnv>,
  authenticate: MiddlewareHandler<AppEnv>,
  mount: ToolRouterMount,
): void {
  const { router } = mount;
  app.all(TOOL_ROUTER_PATH, originGuard(mount.guard), authenticate, function toolRouterHandler(c) {
    return router.fetch(c.req.raw, c.get('principal'), requestSpan(c));
  });
  app.all(TOOLSET_MCP_PATH, originGuard(mount.guard), authenticate, function toolsetEndpointHandler(c) {
    return router.fetchToolset(c.req.param('name'), c.req.raw, c.get('principal'), requestSpan(c));
  });
}
