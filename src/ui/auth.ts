/**
 * @module auth: signing the console in on a gateway that wants tokens — OAuth 2.0 authorization code with PKCE
 * (S256) as a public client, at the authorization server `/ui/config.json` names, asking for a token whose
 * audience is the gateway (RFC 8707 `resource`). The access token lives in this module's memory only: never in
 * storage, so a reload signs in again (quickly, while the authorization server's own session lasts). Only the
 * PKCE verifier, the `state` and the page to return to wait in sessionStorage during the redirect.
 */

/** How to sign in, as the gateway serves it at `/ui/config.json`. */
export interface SignInConfig {
  readonly issuer: string;
  readonly clientId: string;
  readonly scopes: readonly string[];
  readonly resource: string;
}

interface PendingSignIn {
  readonly state: string;
  readonly verifier: string;
  readonly returnTo: string;
}

/** Where the authorization server sends the browser back; a client route of the console. */
export const CALLBACK_PATH = '/ui/callback';
const PENDING_KEY = 'mcp-gateway.sign-in';

let accessToken: string | undefined;
let onSignedOut: (() => void) | undefined;

/** The `Authorization` header for gateway calls, or none when the console is not signed in. */
export function authHeaders(): Record<string, string> {
  return accessToken ? { authorization: `Bearer ${accessToken}` } : {};
}

/** True once a token is held. */
export const signedIn = (): boolean => accessToken !== undefined;

/** Told when the gateway refused the token (expired): the app shows its sign-in page again. */
export function whenSignedOut(listener: () => void): void {
  onSignedOut = listener;
}

/** Forgets the token (a 401 from the gateway, or the user signing out). */
export function signOut(): void {
  accessToken = undefined;
  onSignedOut?.();
}

/** The gateway's console configuration. */
export async function loadConsoleConfig(): Promise<SignInConfig | null> {
  const res = await fetch('/ui/config.json', { headers: { accept: 'application/json' } });
  if (!res.ok) throw new Error(`/ui/config.json: ${res.status}`);
  return ((await res.json()) as { signIn: SignInConfig | null }).signIn;
}

interface Endpoints {
  authorization_endpoint: string;
  token_endpoint: string;
}

async function discover(issuer: string): Promise<Endpoints> {
  const res = await fetch(`${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`);
  if (!res.ok) throw new Error(`The authorization server's discovery document answered ${res.status}.`);
  return (await res.json()) as Endpoints;
}

const base64url = (bytes: Uint8Array) =>
  btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');

const randomString = () => base64url(crypto.getRandomValues(new Uint8Array(32)));

const redirectUri = () => `${location.origin}${CALLBACK_PATH}`;

/** Sends the browser to the authorization server; it comes back to {@link CALLBACK_PATH}. */
export async function beginSignIn(config: SignInConfig): Promise<void> {
  const endpoints = await discover(config.issuer);
  const verifier = randomString();
  const challenge = base64url(
    new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))),
  );
  const pending: PendingSignIn = {
    state: randomString(),
    verifier,
    returnTo: `${location.pathname}${location.search}`,
  };
  sessionStorage.setItem(PENDING_KEY, JSON.stringify(pending));
  const url = new URL(endpoints.authorization_endpoint);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: config.clientId,
    redirect_uri: redirectUri(),
    scope: config.scopes.join(' '),
    state: pending.state,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    resource: config.resource,
  }).toString();
  location.assign(url.href);
}

/**
 * Completes a sign-in at the callback: checks `state`, exchanges the code (with the verifier) for a token, and
 * says which console page to go back to.
 */
export async function completeSignIn(config: SignInConfig, query: URLSearchParams): Promise<string> {
  const saved = sessionStorage.getItem(PENDING_KEY);
  sessionStorage.removeItem(PENDING_KEY);
  const pending = saved ? (JSON.parse(saved) as PendingSignIn) : undefined;
  const error = query.get('error');
  if (error) throw new Error(`Sign-in refused: ${query.get('error_description') ?? error}`);
  if (!pending || query.get('state') !== pending.state)
    throw new Error('This sign-in answer does not belong to a sign-in started here; sign in again.');
  const code = query.get('code');
  if (!code) throw new Error('The authorization server sent no code.');
  const endpoints = await discover(config.issuer);
  const res = await fetch(endpoints.token_endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: redirectUri(),
      client_id: config.clientId,
      code_verifier: pending.verifier,
      resource: config.resource,
    }),
  });
  const body = (await res.json().catch(() => ({}))) as {
    access_token?: string;
    error?: string;
    error_description?: string;
  };
  if (!res.ok || !body.access_token)
    throw new Error(`The token request failed: ${body.error_description ?? body.error ?? res.status}`);
  accessToken = body.access_token;
  const back = pending.returnTo.startsWith('/ui/') && !pending.returnTo.startsWith(CALLBACK_PATH);
  return back ? pending.returnTo : '/ui/adapters';
}
