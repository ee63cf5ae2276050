/** @module app: the console's frame — header, navigation — and which page each path under `/ui/` shows. */
import { Suspense, lazy, useEffect } from 'react';
import { ResourceForm } from './pages/resource-form.js';
import { ResourceList } from './pages/resource-list.js';
import { ResourcePage } from './pages/resource-page.js';
import { SecretsPage } from './pages/secrets-page.js';
import { Link, navigate, useLocation } from './router.js';
import type { Kind } from './api.js';

// The MCP SDK is most of the bundle: only the test console needs it, so it loads with that page.
const TestConsole = lazy(() => import('./pages/test-console.js').then((m) => ({ default: m.TestConsole })));

const NAV: readonly (readonly [string, string])[] = [
  ['/adapters', 'Adapters'],
  ['/tools', 'Tools'],
  ['/secrets', 'Secrets'],
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

/** The whole app. */
export function App() {
  const { path, query } = useLocation();
  useEffect(() => {
    if (path === '/') navigate('/adapters', true);
  }, [path]);
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
        <span className="who" title="No sign-in: the gateway acts as its local user">
          Local user
        </span>
        <a href="/docs" className="docs-link">
          API docs
        </a>
      </header>
      <main id="main" tabIndex={-1}>
        {path !== '/' && <Page path={path} query={query} />}
      </main>
    </>
  );
}
