/** @module env: shared pieces for parsing environment variables with zod, failing with every problem named. */
import { z } from 'zod';

/** Thrown when the environment does not describe a valid configuration; the message names each variable. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** An integer variable within bounds, with a default. */
export const integerVar = (min: number, max: number, fallback: number) =>
  z
    .string()
    .trim()
    .regex(/^\d+$/, `must be an integer from ${min} to ${max}`)
    .transform(Number)
    .pipe(z.number().int().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`))
    .default(fallback);

/** A true/false variable (also 1/0), with a default. */
export const booleanVar = (fallback: boolean) =>
  z
    .string()
    .trim()
    .toLowerCase()
    .pipe(z.enum(['true', 'false', '1', '0'], { error: 'must be true or false' }))
    .transform((v) => v === 'true' || v === '1')
    .default(fallback);

/** A comma-separated list; blanks dropped. */
export const listVar = () =>
  z.string().transform((v) =>
    v
      .split(',')
      .map((item) => item.trim())
      .filter(Boolean),
  );

/** ` (got "…")` for a message, unless the variable may hold a secret. */
export function describeValue(
  key: string,
  env: Record<string, string | undefined>,
  unechoed: ReadonlySet<string>,
): string {
  if (unechoed.has(key)) return '';
  const value = env[key];
  return value === undefined ? '' : ` (got ${JSON.stringify(value)})`;
}

/**
 * Parses the variables `schema` knows. An empty variable (`PORT=`) means "use the default", as most shells and
 * .env files intend. Throws {@link ConfigError} naming every bad variable; values in `unechoed` are never shown.
 */
export function parseEnv<S extends z.ZodObject>(
  schema: S,
  env: Record<string, string | undefined>,
  unechoed: ReadonlySet<string> = new Set(),
): z.infer<S> {
  const present: Record<string, string> = {};
  for (const key of Object.keys(schema.shape)) {
    const value = env[key];
    if (value !== undefined && value.trim() !== '') present[key] = value;
  }
  const result = schema.safeParse(present);
  if (result.success) return result.data;
  throw new ConfigError(
    result.error.issues.map((issue) => {
      const key = String(issue.path[0] ?? 'environment');
      return `${key} ${issue.message}${describeValue(key, env, unechoed)}`;
    }),
  );
}
