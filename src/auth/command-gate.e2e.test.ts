/**
 * Issue #12 end to end: a whole gateway with the process deployer and the reconciler, `jwt` mode with real
 * tokens. A user without a command role who POSTs a `command` adapter gets 403 and nothing is stored, reconciled
 * or started; an admin's runs; a reader sees its status `image` with the arguments masked.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAuthConfig } from '../config/auth-config.js';
import type { ReplicaEndpoint, ResourceRef, RuntimeStatus } from '../deploy/index.js';
import { ProcessDeployer } from '../deploy/process/index.js';
import { STDIO_SERVER } from '../../test/process-fixtures.js';
import { startTestGateway } from '../../test/test-gateway.js';
import type { TestGateway } from '../../test/test-gateway.js';
import { startTokenIssuer } from '../../test/token-issuer.js';
import type { TokenIssuer } from '../../test/token-issuer.js';
import { createAuthenticator } from './authenticator.js';

const PUBLIC_URL = 'https://gw.example.com';

let issuer: TokenIssuer;
let gateway: TestGateway;
let processes: ProcessDeployer;
const tokens: Record<'nobody' | 'admin' | 'reader', string> = { nobody: '', admin: '', reader: '' };
/** Every (ref, endpoints) the process deployer announced. */
const announced: { ref: ResourceRef; endpoints: readonly ReplicaEndpoint[] }[] = [];

beforeAll(async () => {
  issuer = await startTokenIssuer({ audience: PUBLIC_URL });
  tokens.nobody = await issuer.mint({ sub: 'eve', roles: [] });
  tokens.admin = await issuer.mint({ sub: 'root', roles: ['mcp.admin'] });
  tokens.reader = await issuer.mint({ sub: 'rita', roles: ['team.read'] });
  const auth = await createAuthenticator(
    parseAuthConfig(
      {
        MCP_GATEWAY_AUTH: 'jwt',
        MCP_GATEWAY_JWKS_URL: issuer.jwksUri,
        MCP_GATEWAY_JWT_ISSUER: issuer.issuer,
      },
      { host: '127.0.0.1', publicUrl: PUBLIC_URL },
    ),
  );
  gateway = await startTestGateway({
    processDeployer: true,
    authenticate: auth.authenticate,
    authorize: auth.authorizeCreate,
    commandGate: auth.commandGate,
  });
  const found = gateway.deployers?.deployers.find((d) => d instanceof ProcessDeployer);
  if (!(found instanceof ProcessDeployer)) throw new Error('the test gateway runs no process deployer');
  processes = found;
  processes.onEndpointsChange((ref, endpoints) => announced.push({ ref, endpoints }));
});

afterAll(async () => {
  await gateway?.close();
  await issuer?.close();
});

const post = (path: string, token: string, body: unknown) =>
  fetch(`${gateway.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });

/** Resolves once the process deployer has a ready replica of `name`. */
function readyReplica(name: string): Promise<void> {
  return new Promise((resolve) => {
    const ready = () => processes.endpoints({ kind: 'adapter', name }).length > 0;
    if (ready()) return resolve();
    const off = processes.onEndpointsChange(() => {
      if (!ready()) return;
      off();
      resolve();
    });
  });
}

describe('a command adapter in jwt mode (process deployer)', () => {
  it('the roleless caller gets 403 and nothing runs; the admin, registering the same, has it running', async () => {
    const adapter = (name: string) => ({
      name,
      command: process.execPath,
      args: [STDIO_SERVER, '--api-key=s3cret'],
      requiredRoles: ['team.read'],
    });
    const refused = await post('/adapters', tokens.nobody, adapter('pwned'));
    expect(refused.status).toBe(403);
    expect(refused.headers.get('www-authenticate')).toMatch(/error="insufficient_scope"/);
    expect(((await refused.json()) as { error: { message: string } }).error.message).toContain(
      'MCP_GATEWAY_COMMAND_ROLES',
    );

    const allowed = await post('/adapters', tokens.admin, adapter('admins'));
    expect(allowed.status).toBe(201);
    await readyReplica('admins');

    // By the time the admin's adapter runs, the refused one was never stored, reconciled nor started.
    expect(await gateway.store.get('adapter', 'pwned')).toBeUndefined();
    expect(await processes.list()).toEqual([{ kind: 'adapter', name: 'admins' }]);
    expect(announced.map((a) => a.ref.name)).not.toContain('pwned');
    expect(processes.endpoints({ kind: 'adapter', name: 'pwned' })).toEqual([]);

    // The process deployer reports the command line as `image`; a reader sees the program, not its arguments.
    const status = async (token: string) =>
      (await (
        await fetch(`${gateway.url}/adapters/admins/status`, {
          headers: { authorization: `Bearer ${token}` },
        })
      ).json()) as RuntimeStatus;
    expect((await status(tokens.admin)).image).toBe(`${process.execPath} ${STDIO_SERVER} --api-key=s3cret`);
    const seen = await status(tokens.reader);
    expect(seen.runtime).toBe('command');
    expect(seen.image).toBe(`${process.execPath} *** ***`);
    expect(JSON.stringify(seen)).not.toContain('s3cret');
  });
});
