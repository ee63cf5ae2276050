/**
 * @module child-env: the environment of a child process. A child gets the resource's own
 * `environmentVariables` on top of a few harmless variables copied from the gateway — never the gateway's whole
 * environment, which holds `DATABASE_URL`, `MCP_GATEWAY_SECRET` and whatever else its operator set.
 */

/**
 * Variables copied from the gateway's environment when set: `PATH` (so `npx`, `uvx` and friends resolve),
 * `HOME` (package-manager caches and config), `TMPDIR` (scratch files) and `LANG` (text encoding).
 */
export const DEFAULT_INHERITED_VARIABLES: readonly string[] = Object.freeze([
  'PATH',
  'HOME',
  'TMPDIR',
  'LANG',
]);

/** Options for {@link childEnvironment}. */
export interface ChildEnvironmentOptions {
  /** The gateway's environment to copy the inherited variables from. */
  readonly parent: Readonly<Record<string, string | undefined>>;
  /** Which parent variables to copy (default {@link DEFAULT_INHERITED_VARIABLES}). */
  readonly inherited?: readonly string[];
  /** The resource's `environmentVariables`; they override inherited ones. */
  readonly own: Readonly<Record<string, string>>;
  /** Set by the deployer itself (e.g. `PORT`); they override everything, so a user cannot misdirect the probe. */
  readonly forced?: Readonly<Record<string, string>>;
}

/** Builds the complete environment of one child; nothing else is passed. */
export function childEnvironment(options: ChildEnvironmentOptions): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of options.inherited ?? DEFAULT_INHERITED_VARIABLES) {
    const value = options.parent[name];
    if (value !== undefined) env[name] = value;
  }
  Object.assign(env, options.own, options.forced ?? {});
  return env;
}
