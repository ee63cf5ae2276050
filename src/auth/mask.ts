/** @module mask: what a reader (not a writer) may see of a resource — environment variable values hidden. */

/** The value every environment variable shows to readers. */
export const MASKED_VALUE = '***';

/**
 * Returns the resource as a reader sees it: `environmentVariables` keeps its keys, every value becomes
 * {@link MASKED_VALUE}. Writers (`canWrite`) see it unchanged. Pure; the input is not modified.
 */
export function maskForReader<T>(resource: T, canWrite: boolean): T {
  if (canWrite || typeof resource !== 'object' || resource === null) return resource;
  const vars = (resource as { environmentVariables?: unknown }).environmentVariables;
  if (typeof vars !== 'object' || vars === null) return resource;
  const masked = Object.fromEntries(Object.keys(vars).map((key) => [key, MASKED_VALUE]));
  return { ...resource, environmentVariables: masked };
}
