/** @module app: the console's frame — header, navigation — and which page each path under `/ui/` shows. */
import { Suspense, lazy, useEffect, useState } from 'react';
import { beginSignIn, completeSignIn, loadConsoleConfig, signOut, signedIn, whenSignedOut } from './auth.js';
import type { SignInConfig } from './auth.js';
import { ConnectionsPage } from './pages/connections-page.js';
import { ResourceForm } from './pages/resource-form.js';
import { ResourceList } from './pages/resource-list.js';
import { ResourcePage } from './pages/resource-page.js';
import { SecretsPage } from './pages/secrets-page.js';
import { BASE, Link, navigate, useLocation } from './router.js';
import { ErrorMessage } from './widgets.js';
import type { Kind } from './api.js';

// The MCP SDK is most of the bundle: only the test console needs it, so it loads with that page.
const TestConsole = lazy(() => import('./pages/test-console.js').then((m) => ({ default: m.TestConsole })));

const NAV: readonly (readonly [string, string])[] = [
  ['/adapters', 'Adapters'],
  ['/tools', 'Tools'],
  ['/secrets', 'Secrets'],
  ['/connections', 'Connections'],
  ['/console', 'Test console'],
];

function Page({ path, query }: { path: string; query: URLSearchParams }) {
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  const [first, name, action] = parts;
  if (first === 'adapters' || first === 'tools') {
    const kind: Kind = first;
    if (name === undefined) return <ResourceList kind={kind} />;
    if (name === 'new' && action === undefined) return <ResourceForm kind={kind} />;
    if (action === 'edit') return <ResourceForm kind={kind} name={name} />;
    if (action === undefined) return <ResourcePage kind={kind} name={name} />;
  }
  if (first === 'secrets' && parts.length === 1) return <SecretsPage />;
  if (first === 'connections' && parts.length === 1) return <ConnectionsPage />;
  if (first === 'console' && parts.length === 1)
    return (
      <Suspense fallback={<p>Loading the test console…</p>}>
        <TestConsole target={query.get('target') ?? ''} />
      </Suspense>
    );
  return (
    <section>
      <h1>Not found</h1>
      <p>
        The console has no page at <code>{path}</code>. <Link to="/adapters">Go to adapters</Link>.
      </p>
    </section>
  );
}

/** Where the console stands with the gateway's authentication. */
type Session =
  | { readonly state: 'loading' }
  | { readonly state: 'open' }
  | { readonly state: 'signed-out' | 'signed-in'; readonly config: SignInConfig }
  | { readonly state: 'failed'; readonly error: unknown; readonly config?: SignInConfig };

/** Reads `/ui/config.json`, and finishes a sign-in when the page is the authorization server's callback. */
function useSession(): Session {
  const [session, setSession] = useState<Session>({ state: 'loading' });
  useEffect(() => {
    let config: SignInConfig | undefined;
    (async () => {
      const loaded = await loadConsoleConfig();
      if (!loaded) return setSession({ state: 'open' });
      config = loaded;
      whenSignedOut(() => setSession({ state: 'signed-out', config: loaded }));
      if (location.pathname === `${BASE}/callback`) {
        const back = await completeSignIn(loaded, new URLSearchParams(location.search));
        navigate(back.slice(BASE.length), true);
      }
      setSession({ state: signedIn() ? 'signed-in' : 'signed-out', config: loaded });
    })().catch((error: unknown) => {
      if (location.pathname === `${BASE}/callback`) navigate('/adapters', true);
      setSession({ state: 'failed', error, config });
    });
  }, []);
  return session;
}

function SignInPage({ config, error }: { config: SignInConfig; error?: unknown }) {
  // `/ui/connections?connect=…`: where the gateway sent a browser that opened a connect link without a token.
  const connecting = useLocation().query.get('connect');
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<unknown>(error);
  const start = () => {
    setBusy(true);
    beginSignIn(config).catch((err: unknown) => {
      setFailure(err);
      setBusy(false);
    });
  };
  return (
    <section aria-labelledby="sign-in-title" className="card sign-in">
      <h1 id="sign-in-title">Sign in</h1>
      <p>
        This gateway needs a token. Sign in at <code>{new URL(config.issuer).host}</code>; the console keeps
        the token in this tab’s memory only.
      </p>
      {connecting && (
        <p>
          Then the console connects your account to adapter <code>{connecting}</code>.
        </p>
      )}
      <ErrorMessage error={failure} />
      <button type="button" onClick={start} disabled={busy}>
        {busy ? 'Redirecting…' : 'Sign in'}
      </button>
    </section>
  );
}

/** The whole app. */
export function App() {
  const { path, query } = useLocation();
  const session = useSession();
  const ready = session.state === 'open' || session.state === 'signed-in';
  useEffect(() => {
    if (ready && path === '/') navigate('/adapters', true);
  }, [path, ready]);
  const section = `/${path.split('/')[1] ?? ''}`;
  return (
    <>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="top">
        <Link to="/adapters" className="brand">
          MCP Gateway
        </Link>
        <nav aria-label="Main">
          <ul>
            {NAV.map(([to, label]) => (
              <li key={to}>
                <Link to={to} aria-current={section === to ? 'page' : undefined}>
                  {label}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        {session.state === 'signed-in' ? (
          <span className="who">
            Signed in{' '}
            <button type="button" className="link-button" onClick={signOut}>
              Sign out
            </button>
          </span>
        ) : (
          <span className="who" title="No sign-in: the gateway acts as its local user">
            {session.state === 'open' ? 'Local user' : ''}
          </span>
        )}
        <a href="/docs" className="docs-link">
          API docs
        </a>
      </header>
      <main id="main" tabIndex={-1}>
        {session.state === 'loading' && <p>Loading…</p>}
        {session.state === 'failed' && !session.config && <ErrorMessage error={session.error} />}
        {session.state === 'failed' && session.config && (
          <SignInPage config={session.config} error={session.error} />
        )}
        {session.state === 'signed-out' && <SignInPage config={session.config} />}
        {ready && path !== '/' && <Page path={path} query={query} />}
      </main>
    </>
  );
}
