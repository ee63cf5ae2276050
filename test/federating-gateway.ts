/**
 * @module federating-gateway: the gateway the resource e2e tests share: dev auth, a tool router, and a policy by
 * which only `ops` may use an `*__admin_panel` tool (so an app view linked from it is hidden from the others);
 * upstreams and toolsets registered through the control plane as an admin, and a wait for their listing.
 */
import { devAuth } from '../src/auth/index.js';
import { toolPolicyFrom } from '../src/toolrouter/policy/index.js';
import { until } from './polling.js';
import { startTestGateway } from './test-gateway.js';
import type { TestGateway, TestGatewayOptions } from './test-gateway.js';

const ADMIN = { 'x-dev-userid': 'admin', 'x-dev-roles': 'mcp.admin' };

/** Starts the gateway, with `toolRouter` settings (all defaults where not given). */
export function startFederatingGateway(
  toolRouter: TestGatewayOptions['toolRouter'] = {},
): Promise<TestGateway> {
  return startTestGateway({
    authenticate: devAuth(),
    toolRouter,
    policy: toolPolicyFrom(
      {
        default: 'allow',
        rules: [
          {
            name: 'panel-for-ops',
            tools: ['*__admin_panel'],
            when: '!("ops" in caller.roles)',
            effect: 'deny',
          },
        ],
      },
      'test policy',
    ),
  });
}

/** Registers the upstream at `url` as a federated adapter `name` that callers with any of `roles` may use. */
export async function federate(
  gateway: TestGateway,
  name: string,
  url: string,
  roles = ['team'],
): Promise<void> {
  await created(gateway, '/adapters', { name, endpoints: [url], federate: true, requiredRoles: roles });
}

/** Registers a toolset `name` of the tools matching `tools`, for callers with the role `team`. */
export async function addToolset(
  gateway: TestGateway,
  name: string,
  tools: readonly string[],
): Promise<void> {
  await created(gateway, '/toolsets', { name, tools, requiredRoles: ['team'] });
}

async function created(gateway: TestGateway, path: string, body: object): Promise<void> {
  const res = await fetch(`${gateway.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...ADMIN },
    body: JSON.stringify(body),
  });
  if (res.status !== 201) throw new Error(`POST ${path}: ${res.status} ${await res.text()}`);
}

/** Waits until each federated adapter is listed (the router lists in the background), at most `timeoutMs` each. */
export async function federationListed(
  gateway: TestGateway,
  adapters: readonly string[],
  timeoutMs = 60_000,
): Promise<void> {
  for (const adapter of adapters) {
    await until(
      () => gateway.toolRouter?.federationStatus(adapter),
      (status) => status?.state === 'listed',
      `${adapter} to be listed`,
      timeoutMs,
      20,
    );
  }
}
