/**
 * @module console-oidc: what the console's browser tests and the screenshot script share for an `oidc` gateway —
 * a port to name in the public URL before the gateway starts, and the console registered as a public client.
 */
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';

/** A port nothing listens on now, so the gateway's public URL (and redirect URIs) can name it before it starts. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * Registers the console at the authorization server as an operator would: a public client (no secret, PKCE)
 * whose redirect URI is the gateway's `/ui/callback`. Returns its client id, for `MCP_GATEWAY_UI_CLIENT_ID`.
 */
export async function registerConsoleClient(issuer: string, gatewayPort: number): Promise<string> {
  const discovery = (await (await fetch(`${issuer}/.well-known/openid-configuration`)).json()) as {
    registration_endpoint: string;
  };
  const registered = await fetch(discovery.registration_endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      client_name: 'MCP Gateway console',
      redirect_uris: [`http://127.0.0.1:${gatewayPort}/ui/callback`],
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code'],
      response_types: ['code'],
    }),
  });
  if (registered.status !== 201)
    throw new Error(`client registration: ${registered.status} ${await registered.text()}`);
  return ((await registered.json()) as { client_id: string }).client_id;
}
