/**
 * @module worker-stub: what the edge bundle holds in place of the Node-only modules the shared code loads on
 * demand (the SQLite and Postgres registries, the process and Kubernetes deployers; `[alias]` in
 * wrangler.toml). The worker never loads them; if something did, it fails with this message instead of
 * pulling better-sqlite3, postgres, node:child_process or @kubernetes/client-node into the bundle.
 */
throw new Error(
  'this module is Node-only and not part of the edge build: the worker serves a D1 registry and the endpoints runtime',
);
