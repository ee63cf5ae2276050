/**
 * @module mask: what a reader (not a writer) may see of a resource — environment variable values and process
 * arguments hidden, since both often carry keys.
 */

/** The value every environment variable and every process argument shows to readers. */
export const MASKED_VALUE = '***';

/**
 * Returns the resource as a reader sees it: `environmentVariables` keeps its keys, every value becomes
 * {@link MASKED_VALUE}; `args` keeps its length (so the shape stays), every element becomes
 * {@link MASKED_VALUE}; `upstreamAuth` keeps only its `type`. Writers (`canWrite`) see it unchanged. Pure; the input is not modified.
 */
export function maskForReader<T>(resource: T, canWrite: boolean): T {
  if (canWrite || typeof resource !== 'object' || resource === null) return resource;
  const {
    environmentVariables: vars,
    args,
    upstreamAuth,
  } = resource as { environmentVariables?: unknown; args?: unknown; upstreamAuth?: { type?: unknown } };
  const hasVars = typeof vars === 'object' && vars !== null;
  const hasAuth = typeof upstreamAuth === 'object' && upstreamAuth !== null;
  if (!hasVars && !Array.isArray(args) && !hasAuth) return resource;
  return {
    ...resource,
    // Which secret, and in which header, is the writer's business: a reader learns only that there is one.
    ...(hasAuth && { upstreamAuth: { type: upstreamAuth.type } }),
    ...(hasVars && {
      environmentVariables: Object.fromEntries(Object.keys(vars).map((key) => [key, MASKED_VALUE])),
    }),
    ...(Array.isArray(args) && { args: args.map(() => MASKED_VALUE) }),
  };
}

/**
 * A process command line as a reader sees it (the status `image` of the process runtime): the program, then
 * {@link MASKED_VALUE} for each argument.
 */
export function maskedCommandLine(command: string, args: readonly string[]): string {
  return [command, ...args.map(() => MASKED_VALUE)].join(' ');
}
