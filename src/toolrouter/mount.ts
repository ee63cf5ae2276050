/**
 * @module mount: puts the tool router at `/mcp` and each toolset's endpoint at `/toolsets/{name}/mcp`, behind the
 * data plane's origin guard (DNS-rebinding protection, CORS for allowed browser origins), the gateway's
 * authentication and, when configured, the per-(caller, tool) rate limit. Registered ahead of the control plane's
 * middleware, like the data plane, so MCP requests skip its request-id and access-log work.
 */
import type { Hono, MiddlewareHandler } from 'hono';
import { MODERN_PROTOCOL_VERSION, originGuard, toolCallsOf } from '../dataplane/index.js';
import type { OriginGuardOptions } from '../dataplane/index.js';
import { firstRefusal } from '../http/index.js';
import type { AppEnv, RateLimitAnswer } from '../http/index.js';
import { requestSpan } from '../observability/index.js';
import { CALL_TOOL } from './discovery-tools.js';
import type { ToolNames, ToolRouter } from './tool-router.js';
import { smallBodyOf } from './request-body.js';

/** The router and the origin policy of the MCP endpoints (the data plane's). */
export interface ToolRouterMount {
  readonly router: ToolRouter;
  readonly guard: OriginGuardOptions;
  /** The per-(caller, tool) limit: a 429 to answer a `tools/call` with, or undefined to go ahead; none by default. */
  readonly limitTool?: (userId: string, tool: string) => RateLimitAnswer;
}

/** The path of the tool router. */
export const TOOL_ROUTER_PATH = '/mcp';

/** The path of a toolset's endpoint, as Hono routes it. */
export const TOOLSET_MCP_PATH = '/toolsets/:name/mcp';

const parsedOrUndefined = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
};

/** Registers `/mcp` and the toolset endpoints on `app`; call before middleware that must not run on MCP requests. */
export function mountToolRouter(
  app: Hono<AppEnv>,
  authenticate: MiddlewareHandler<AppEnv>,
  mount: ToolRouterMount,
): void {
  const { router, limitTool } = mount;
  /** `/mcp`'s names: as called, `call_tool` in search mode. */
  const everything: ToolNames = { searchMode: router.settings.discovery === 'search', realName: (n) => n };
  /** The tool a call names: in search mode, `call_tool` is limited as the tool it calls. */
  const toolOf = ({ searchMode, realName }: ToolNames, name: string, args: unknown): string => {
    if (!searchMode || name !== CALL_TOOL || typeof args !== 'object' || args === null) return realName(name);
    const through = (args as { name?: unknown }).name;
    return realName(typeof through === 'string' ? through : name);
  };

  async function limited(request: Request, userId: string, names: ToolNames): Promise<RateLimitAnswer> {
    const { searchMode } = names;
    const { headers } = request;
    // A 2026-07-28 request names its method and tool in headers the SDK refuses (400) unless the body agrees, so
    // they can be trusted without reading the body; older clients' mirrored headers are not checked, so not trusted.
    if (headers.get('mcp-protocol-version') === MODERN_PROTOCOL_VERSION) {
      const method = headers.get('mcp-method');
      if (method !== null && method !== 'tools/call') return undefined;
      const name = headers.get('mcp-name');
      if (method !== null && name !== null && !(searchMode && name === CALL_TOOL)) {
        return limitTool!(userId, names.realName(name));
      }
    }
    const text = await smallBodyOf(request, router.settings.maxBodyBytes);
    if (text === undefined) return undefined;
    const calls = toolCallsOf(parsedOrUndefined(text));
    if (calls.length === 0) return undefined;
    return firstRefusal(calls.map((c) => () => limitTool!(userId, toolOf(names, c.name, c.arguments))));
  }

  app.all(TOOL_ROUTER_PATH, originGuard(mount.guard), authenticate, async function toolRouterHandler(c) {
    const principal = c.get('principal');
    // Only a configured tool limit reads the body here; without one, requests go straight to the router.
    if (limitTool && c.req.method === 'POST') {
      const refusal = await limited(c.req.raw, principal.userId, everything);
      if (refusal) return refusal;
    }
    return router.fetch(c.req.raw, principal, requestSpan(c));
  });
  app.all(TOOLSET_MCP_PATH, originGuard(mount.guard), authenticate, async function toolsetEndpointHandler(c) {
    const principal = c.get('principal');
    const name = c.req.param('name');
    // The same per-(caller, tool) bucket as `/mcp`: a toolset's renamed tool is limited as the tool it stands for.
    if (limitTool && c.req.method === 'POST') {
      // An unknown toolset has no names to limit: the router answers it (404).
      const names = await router.toolsetNames(name);
      const refusal = names && (await limited(c.req.raw, principal.userId, names));
      if (refusal) return refusal;
    }
    return router.fetchToolset(name, c.req.raw, principal, requestSpan(c));
  });
}
