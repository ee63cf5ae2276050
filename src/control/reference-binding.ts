/**
 * @module reference-binding: request bodies bound the way the reference gateway (ASP.NET, System.Text.Json with
 * its web defaults) binds them, so that its clients work unchanged. ASP.NET matches JSON keys to a contract's
 * properties case-insensitively (`{"Name": …, "ImageName": …}` is a valid `AdapterData`) and reads `null` for an
 * optional property as "not given". It does so at every level that is a typed contract (`toolDefinition`, its
 * `tool`, the tool's `annotations`), never inside free-form maps, whose keys are data (`environmentVariables`,
 * `inputSchema`, `_meta`): those are left exactly as sent.
 */
import { z } from '@hono/zod-openapi';

/**
 * ASCII-only case folding, as .NET's ordinal case-insensitive comparison (which System.Text.Json uses) matches
 * our ASCII field names: `toLowerCase()` would also fold look-alikes such as the Kelvin sign `K` into `k`.
 */
function foldCase(key: string): string {
  return key.replace(/[A-Z]/g, (ch) => ch.toLowerCase());
}

/**
 * Wraps an object schema so that, before it validates:
 * - every key that names one of its fields in another casing is renamed to that field (`Name` → `name`);
 * - two keys naming the same field (`name` and `Name`) are a 400 naming the field, rather than one silently
 *   winning;
 * - `null` for an optional field is dropped, as if the field were absent.
 *
 * Keys naming no field are left as sent: a strict object refuses them by name, a loose one keeps them. Only this
 * level is rewritten; a nested contract is bound by wrapping its own schema. The OpenAPI document shows the
 * wrapped schema unchanged (a preprocess is documented as its output schema).
 */
export function bindLikeReference<
  Shape extends z.core.$ZodLooseShape,
  Config extends z.core.$ZodObjectConfig,
>(schema: z.ZodObject<Shape, Config>) {
  const shape: Readonly<Record<string, z.ZodType>> = schema.shape;
  const fieldOf = new Map(Object.keys(shape).map((field) => [foldCase(field), field]));
  const optional = new Set(Object.keys(shape).filter((field) => shape[field]?.isOptional()));
  return z.preprocess((input, ctx) => {
    if (typeof input !== 'object' || input === null || Array.isArray(input)) return input;
    const sentAs = new Map<string, string>();
    const entries: [string, unknown][] = [];
    for (const [key, value] of Object.entries(input)) {
      const field = fieldOf.get(foldCase(key)) ?? key;
      const earlier = sentAs.get(field);
      if (earlier !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: [field],
          message: `is given twice, as "${earlier}" and as "${key}" (keys are matched without regard to case)`,
        });
        continue;
      }
      sentAs.set(field, key);
      if (value === null && optional.has(field)) continue;
      entries.push([field, value]);
    }
    // fromEntries defines each key as an own property, so even a key "__proto__" stays data.
    return Object.fromEntries(entries);
  }, schema);
}
