/** @module validation: turns zod issues into one 400 that names every bad field. */
import type { Context } from 'hono';
import type { ZodError } from 'zod';
import { badRequest } from '../http/index.js';
import type { ErrorDetail } from '../http/index.js';

function pathOf(path: readonly PropertyKey[]): string {
  return path.map(String).join('.') || '(body)';
}

function article(type: string): string {
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

/** One detail per problem; unknown keys are listed one by one so each is named. */
export function detailsOf(error: ZodError): ErrorDetail[] {
  const details: ErrorDetail[] = [];
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys)
        details.push({ path: pathOf([...issue.path, key]), message: 'is not a known field' });
    } else if (issue.code === 'invalid_type') {
      // zod does not echo the input, but says "received undefined" when the field is absent.
      const absent = /received undefined/.test(issue.message);
      const generic = issue.message.startsWith('Invalid input');
      const message = absent ? 'is required' : generic ? `must be ${article(issue.expected)}` : issue.message;
      details.push({ path: pathOf(issue.path), message });
    } else {
      details.push({ path: pathOf(issue.path), message: issue.message });
    }
  }
  return details;
}

/** The `defaultHook` of every control-plane router: a 400 `{ error: { code, message, details } }`. */
export function validationHook(
  result: { readonly success: true } | { readonly success: false; readonly error: ZodError },
  _c: Context,
): void {
  if (result.success) return;
  const details = detailsOf(result.error);
  throw badRequest(details.map((d) => `${d.path}: ${d.message}`).join('; '), details);
}
